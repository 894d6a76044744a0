#include "export/model.h"

#include <fmt/format.h>

#include "export/table.h"

namespace kehu::exports {

bool ParseFormat(std::string_view s, Format& out) {
  if (s == "csv") {
    out = Format::kCsv;
  } else if (s == "xlsx") {
    out = Format::kXlsx;
  } else if (s == "json") {
    out = Format::kJson;
  } else {
    return false;
  }
  return true;
}

bool ParseEncoding(std::string_view s, Encoding& out) {
  if (s == "utf8" || s == "utf-8") {
    out = Encoding::kUtf8;
  } else if (s == "gbk") {
    out = Encoding::kGbk;
  } else {
    return false;
  }
  return true;
}

bool ParseLang(std::string_view s, Lang& out) {
  if (s == "zh" || s == "zh-CN") {
    out = Lang::kZh;
  } else if (s == "en") {
    out = Lang::kEn;
  } else {
    return false;
  }
  return true;
}

std::string_view FormatName(Format f) {
  switch (f) {
    case Format::kCsv:
      return "csv";
    case Format::kXlsx:
      return "xlsx";
    case Format::kJson:
      return "json";
  }
  return "csv";
}

std::string_view EncodingName(Encoding e) { return e == Encoding::kGbk ? "gbk" : "utf8"; }

std::string_view LangName(Lang l) { return l == Lang::kEn ? "en" : "zh"; }

std::string ContentType(Format f, Encoding e) {
  switch (f) {
    case Format::kCsv:
      return e == Encoding::kGbk ? "text/csv; charset=gbk" : "text/csv; charset=utf-8";
    case Format::kXlsx:
      return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    case Format::kJson:
      return "application/json";
  }
  return "application/octet-stream";
}

std::string FileName(Format f, Lang l, int64_t now_ms) {
  const std::string t = LocalTime(now_ms);  // "2026-11-22 15:30:00"
  const std::string stamp =
      t.substr(0, 4) + t.substr(5, 2) + t.substr(8, 2) + "-" + t.substr(11, 2) + t.substr(14, 2);
  return fmt::format("{}-{}.{}", l == Lang::kZh ? "客户" : "customers", stamp, FormatName(f));
}

}  // namespace kehu::exports
