// Exports of customer lists: the formats, the options of one export and what it did.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "customer/model.h"

namespace kehu::exports {

enum class Format { kCsv, kXlsx, kJson };
// Text encoding of a CSV file: UTF-8 with a byte order mark (Excel then reads it right), or
// GBK for old software; XLSX and JSON are always UTF-8.
enum class Encoding { kUtf8, kGbk };
// Language of the column headers and of the gender and stage values (CSV and XLSX).
enum class Lang { kZh, kEn };

struct Options {
  Format format = Format::kCsv;
  Encoding encoding = Encoding::kUtf8;
  Lang lang = Lang::kZh;
  // Clear phones, emails, ID numbers and addresses instead of masked ones: needs phone.reveal,
  // and counts one reveal per customer against the role's daily quota.
  bool reveal = false;
  // The filters and sort of the customer list (limit and cursor are ignored).
  customer::ListQuery filter;
};

// What an export wrote.
struct Summary {
  int64_t rows = 0;
  // CSV in GBK: characters GBK has no code for, each written as '?'.
  int64_t replaced = 0;
  bool clear = false;
  // False when it stopped early: the reader went away or an error cut it short.
  bool complete = false;
};

// Before anything is written: how many customers an export of `filter` would hold, and whether
// the actor may ask for clear values (and how many reveals are left today).
struct Preview {
  int64_t count = 0;
  bool reveal_allowed = false;
  int reveal_quota = 0;   // 0 = unlimited
  int reveals_today = 0;  // used so far today
};

// Parsing and naming: "csv" | "xlsx" | "json", "utf8" | "gbk" (also "utf-8"), "zh" | "en".
bool ParseFormat(std::string_view s, Format& out);
bool ParseEncoding(std::string_view s, Encoding& out);
bool ParseLang(std::string_view s, Lang& out);
std::string_view FormatName(Format f);
std::string_view EncodingName(Encoding e);
std::string_view LangName(Lang l);
// "text/csv; charset=utf-8", "text/csv; charset=gbk", the XLSX type, "application/json".
std::string ContentType(Format f, Encoding e);
// The file name for an export made at `now_ms`, in Asia/Shanghai time: "客户-20261122-1530.csv"
// (Chinese) or "customers-20261122-1530.csv" (English).
std::string FileName(Format f, Lang l, int64_t now_ms);

}  // namespace kehu::exports
