#include "importer/xlsx.h"

#include <expat.h>
#include <zip.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <string_view>

namespace kehu::importer {
namespace {

constexpr std::size_t kMaxColumns = 1024;
constexpr int64_t kMaxSharedStringBytes = 512LL << 20;

core::Error BadFile(const std::string& why) {
  return core::Error::InvalidField("file", "invalid_format", "not a readable .xlsx file: " + why);
}

// Element and attribute names without their namespace prefix ("x:row" -> "row").
std::string_view Local(const XML_Char* name) {
  std::string_view n(name);
  auto colon = n.rfind(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

const XML_Char* Attr(const XML_Char** atts, std::string_view local) {
  for (int i = 0; atts[i]; i += 2) {
    if (Local(atts[i]) == local) return atts[i + 1];
  }
  return nullptr;
}

// A SAX parse with member-function-like callbacks.
struct Sax {
  std::function<void(std::string_view, const XML_Char**)> start;
  std::function<void(std::string_view)> end;
  std::function<void(std::string_view)> text;
  XML_Parser parser = nullptr;

  Sax() {
    parser = XML_ParserCreate("UTF-8");
    XML_SetUserData(parser, this);
    XML_SetElementHandler(
        parser,
        [](void* ud, const XML_Char* name, const XML_Char** atts) {
          auto* s = static_cast<Sax*>(ud);
          if (s->start) s->start(Local(name), atts);
        },
        [](void* ud, const XML_Char* name) {
          auto* s = static_cast<Sax*>(ud);
          if (s->end) s->end(Local(name));
        });
    XML_SetCharacterDataHandler(parser, [](void* ud, const XML_Char* data, int len) {
      auto* s = static_cast<Sax*>(ud);
      if (s->text) s->text(std::string_view(data, static_cast<std::size_t>(len)));
    });
  }
  ~Sax() { XML_ParserFree(parser); }
  Sax(const Sax&) = delete;
  Sax& operator=(const Sax&) = delete;

  bool Parse(const char* data, std::size_t len, bool last, std::string& error) {
    if (XML_Parse(parser, data, static_cast<int>(len), last) == XML_STATUS_ERROR) {
      error = std::string(XML_ErrorString(XML_GetErrorCode(parser))) + " at line " +
              std::to_string(XML_GetCurrentLineNumber(parser));
      return false;
    }
    return true;
  }
};

// Reads a whole zip entry through `sax`; kInvalid on a zip or XML error.
core::Result<void> ParseEntry(zip_t* zip, const std::string& name, Sax& sax, bool optional,
                              int64_t max_bytes = -1) {
  zip_int64_t index = zip_name_locate(zip, name.c_str(), ZIP_FL_NOCASE);
  if (index < 0) {
    if (optional) return core::Ok();
    return std::unexpected(BadFile(name + " is missing"));
  }
  zip_file_t* f = zip_fopen_index(zip, static_cast<zip_uint64_t>(index), 0);
  if (!f) return std::unexpected(BadFile("cannot open " + name));
  std::vector<char> buf(1 << 16);
  std::string error;
  int64_t total = 0;
  for (;;) {
    zip_int64_t n = zip_fread(f, buf.data(), buf.size());
    if (n < 0) {
      zip_fclose(f);
      return std::unexpected(BadFile("cannot read " + name));
    }
    total += n;
    if (max_bytes >= 0 && total > max_bytes) {
      zip_fclose(f);
      return std::unexpected(BadFile(name + " is too large"));
    }
    if (!sax.Parse(buf.data(), static_cast<std::size_t>(n), n == 0, error)) {
      zip_fclose(f);
      return std::unexpected(BadFile(name + ": " + error));
    }
    if (n == 0) break;
  }
  zip_fclose(f);
  return core::Ok();
}

// "xl/" + target, or the absolute target without its leading '/'; "./" and "../" resolved.
std::string ResolveTarget(const std::string& base_dir, const std::string& target) {
  std::string path = target.starts_with("/") ? target.substr(1) : base_dir + target;
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    std::string part = path.substr(start, slash - start);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    start = slash + 1;
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

// Column index (0-based) of a cell reference "B12"; -1 when it has no letters.
int ColumnOf(const char* ref) {
  int col = 0;
  int letters = 0;
  for (const char* p = ref; *p; ++p) {
    char c = *p;
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c < 'A' || c > 'Z') break;
    col = col * 26 + (c - 'A' + 1);
    if (++letters > 3) return -1;
  }
  return letters ? col - 1 : -1;
}

// Whether a number format shows a date or time.
bool IsDateFormat(int id, const std::map<int, std::string>& custom) {
  // Built-in date/time formats, including the CJK ones (27-36, 50-58).
  if ((id >= 14 && id <= 22) || (id >= 27 && id <= 36) || (id >= 45 && id <= 47) ||
      (id >= 50 && id <= 58)) {
    return true;
  }
  auto it = custom.find(id);
  if (it == custom.end()) return false;
  const std::string& f = it->second;
  bool in_quote = false, in_bracket = false;
  for (std::size_t i = 0; i < f.size(); ++i) {
    char c = f[i];
    if (in_quote) {
      in_quote = c != '"';
      continue;
    }
    if (in_bracket) {
      // [h] [mm] [ss] are elapsed times; [Red], [$-804] are not.
      if (c == ']') in_bracket = false;
      continue;
    }
    if (c == '"') {
      in_quote = true;
    } else if (c == '[') {
      in_bracket = true;
      if (i + 1 < f.size() && (f[i + 1] == 'h' || f[i + 1] == 'H' || f[i + 1] == 's' ||
                               f[i + 1] == 'S' || f[i + 1] == 'm' || f[i + 1] == 'M')) {
        return true;
      }
    } else if (c == '\\' || c == '_' || c == '*') {
      ++i;  // the next character is literal / padding
    } else if (c == 'y' || c == 'Y' || c == 'd' || c == 'D' || c == 'h' || c == 'H' || c == 's' ||
               c == 'S' || c == 'e' || c == 'E') {
      return true;
    } else if (c == '@') {
      return false;
    }
  }
  return false;
}

struct SheetRef {
  std::string name;
  std::string path;  // inside the zip
};

}  // namespace

std::string ExcelNumberText(const std::string& stored) {
  double v = 0;
  const char* first = stored.data();
  const char* last = stored.data() + stored.size();
  auto [p, ec] = std::from_chars(first, last, v);
  if (ec != std::errc() || p != last || !std::isfinite(v)) return stored;
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
    return buf;
  }
  // 15 significant digits: what Excel shows, without binary noise (0.30000000000000004).
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

std::string ExcelSerialToIso(double serial, bool date1904) {
  if (!std::isfinite(serial) || serial < 0 || serial > 2958466)
    return ExcelNumberText(std::to_string(serial));
  double days = std::floor(serial);
  // Seconds of the day, rounded to the second (Excel stores times as fractions of a day).
  auto secs = static_cast<int64_t>(std::llround((serial - days) * 86400.0));
  if (secs >= 86400) {
    days += 1;
    secs -= 86400;
  }
  int64_t d = static_cast<int64_t>(days);
  // Days from 1970-01-01 (civil). 1900 system: serial 1 = 1900-01-01, and Excel counts a
  // 1900-02-29 that never was (serial 60); 25569 = 1970-01-01.
  int64_t unix_days;
  if (date1904) {
    unix_days = d - 24107;  // serial 0 = 1904-01-01
  } else {
    unix_days = d >= 61 ? d - 25569 : d - 25568;
  }
  char out[80];
  std::string date;
  if (d > 0 || date1904) {
    // Howard Hinnant's civil_from_days.
    int64_t z = unix_days + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    const int64_t dd = doy - (153 * mp + 2) / 5 + 1;
    const int64_t mm = mp < 10 ? mp + 3 : mp - 9;
    y += mm <= 2;
    if (!date1904 && d == 60) {
      std::snprintf(out, sizeof out, "1900-02-29");
    } else {
      std::snprintf(out, sizeof out, "%04d-%02d-%02d", static_cast<int>(y), static_cast<int>(mm),
                    static_cast<int>(dd));
    }
    date = out;
  }
  if (secs == 0 && !date.empty()) return date;
  std::snprintf(out, sizeof out, "%02d:%02d:%02d", static_cast<int>(secs / 3600),
                static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60));
  return date.empty() ? std::string(out) : date + " " + out;
}

struct XlsxReader::Impl {
  zip_t* zip = nullptr;
  std::vector<SheetRef> sheet_refs;
  std::vector<std::string> sheet_names;
  std::vector<std::string> shared;
  std::vector<bool> xf_is_date;  // per cellXfs index
  bool date1904 = false;
  int selected = -1;

  // Streaming the selected sheet.
  zip_file_t* file = nullptr;
  std::unique_ptr<Sax> sax;
  std::vector<char> buf = std::vector<char>(1 << 16);
  bool finished = false;
  int64_t done = 0, total = 0;
  std::deque<std::pair<int64_t, std::vector<std::string>>> ready;
  // Parse state.
  int64_t row = 0;
  std::vector<std::string> cells;
  int col = -1;
  std::string type;
  int style = 0;
  std::string value;
  bool in_value = false, in_inline = false, in_phonetic = false;
  std::string error;

  ~Impl() {
    if (file) zip_fclose(file);
    if (zip) zip_close(zip);
  }

  std::string CellText() const {
    if (type == "s") {
      std::size_t idx = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), idx);
      if (ec != std::errc() || idx >= shared.size()) return "";
      return shared[idx];
    }
    if (type == "inlineStr" || type == "str" || type == "e" || type == "d") return value;
    if (type == "b") return value == "1" ? "TRUE" : value == "0" ? "FALSE" : value;
    if (value.empty()) return "";
    const bool is_date = style >= 0 && static_cast<std::size_t>(style) < xf_is_date.size() &&
                         xf_is_date[static_cast<std::size_t>(style)];
    if (is_date) {
      double v = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec == std::errc() && p == value.data() + value.size()) {
        return ExcelSerialToIso(v, date1904);
      }
    }
    return ExcelNumberText(value);
  }

  void SetupSheetSax() {
    sax = std::make_unique<Sax>();
    sax->start = [this](std::string_view name, const XML_Char** atts) {
      if (name == "row") {
        const char* r = Attr(atts, "r");
        row = r ? std::atoll(r) : row + 1;
        cells.clear();
        col = -1;
      } else if (name == "c") {
        const char* r = Attr(atts, "r");
        int c = r ? ColumnOf(r) : -1;
        col = c >= 0 ? c : col + 1;
        const char* t = Attr(atts, "t");
        type = t ? t : "n";
        const char* s = Attr(atts, "s");
        style = s ? std::atoi(s) : 0;
        value.clear();
      } else if (name == "v") {
        in_value = true;
      } else if (name == "is") {
        in_inline = true;
      } else if (name == "t" && in_inline) {
        in_value = true;
      } else if (name == "rPh") {
        in_phonetic = true;
      }
    };
    sax->end = [this](std::string_view name) {
      if (name == "v" || name == "t") {
        in_value = false;
      } else if (name == "is") {
        in_inline = false;
      } else if (name == "rPh") {
        in_phonetic = false;
      } else if (name == "c") {
        if (col >= 0 && static_cast<std::size_t>(col) < kMaxColumns) {
          std::string text = CellText();
          if (!text.empty()) {
            if (cells.size() <= static_cast<std::size_t>(col)) cells.resize(col + 1);
            cells[col] = std::move(text);
          }
        }
      } else if (name == "row") {
        if (!cells.empty()) ready.emplace_back(row, std::move(cells));
        cells.clear();
      }
    };
    sax->text = [this](std::string_view t) {
      if (in_value && !in_phonetic) value.append(t);
    };
  }
};

XlsxReader::XlsxReader() : impl_(std::make_unique<Impl>()) {}
XlsxReader::~XlsxReader() = default;

core::Result<std::unique_ptr<XlsxReader>> XlsxReader::Open(const std::string& path) {
  std::unique_ptr<XlsxReader> r(new XlsxReader());
  Impl& m = *r->impl_;
  int err = 0;
  m.zip = zip_open(path.c_str(), ZIP_RDONLY, &err);
  if (!m.zip) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, err);
    std::string why = zip_error_strerror(&ze);
    zip_error_fini(&ze);
    return std::unexpected(BadFile(why));
  }
  // Relationships of the workbook: id -> target.
  std::map<std::string, std::string> rels;
  std::string shared_path = "xl/sharedStrings.xml";
  std::string styles_path = "xl/styles.xml";
  {
    Sax sax;
    sax.start = [&](std::string_view name, const XML_Char** atts) {
      if (name != "Relationship") return;
      const char* id = Attr(atts, "Id");
      const char* target = Attr(atts, "Target");
      const char* type = Attr(atts, "Type");
      if (!id || !target) return;
      std::string resolved = ResolveTarget("xl/", target);
      rels[id] = resolved;
      std::string_view t = type ? type : "";
      if (t.ends_with("/sharedStrings")) shared_path = resolved;
      if (t.ends_with("/styles")) styles_path = resolved;
    };
    if (auto ok = ParseEntry(m.zip, "xl/_rels/workbook.xml.rels", sax, true); !ok) {
      return std::unexpected(ok.error());
    }
  }
  {
    Sax sax;
    sax.start = [&](std::string_view name, const XML_Char** atts) {
      if (name == "workbookPr") {
        const char* d = Attr(atts, "date1904");
        m.date1904 = d && (std::string_view(d) == "1" || std::string_view(d) == "true");
      } else if (name == "sheet") {
        const char* n = Attr(atts, "name");
        const char* id = Attr(atts, "id");
        const char* sheet_id = Attr(atts, "sheetId");
        SheetRef s;
        s.name = n ? n : "";
        if (id && rels.contains(id)) {
          s.path = rels[id];
        } else if (sheet_id) {
          s.path = std::string("xl/worksheets/sheet") + sheet_id + ".xml";
        }
        m.sheet_refs.push_back(s);
        m.sheet_names.push_back(s.name);
      }
    };
    if (auto ok = ParseEntry(m.zip, "xl/workbook.xml", sax, false); !ok) {
      return std::unexpected(ok.error());
    }
  }
  if (m.sheet_refs.empty()) return std::unexpected(BadFile("the workbook has no sheets"));
  {
    Sax sax;
    bool in_si = false, in_t = false, in_rph = false;
    std::string current;
    int64_t bytes = 0;
    sax.start = [&](std::string_view name, const XML_Char**) {
      if (name == "si") {
        in_si = true;
        current.clear();
      } else if (name == "t" && in_si) {
        in_t = true;
      } else if (name == "rPh") {
        in_rph = true;
      }
    };
    sax.end = [&](std::string_view name) {
      if (name == "si") {
        in_si = false;
        bytes += static_cast<int64_t>(current.size());
        m.shared.push_back(std::move(current));
        current.clear();
      } else if (name == "t") {
        in_t = false;
      } else if (name == "rPh") {
        in_rph = false;
      }
    };
    sax.text = [&](std::string_view t) {
      if (in_t && !in_rph) current.append(t);
    };
    if (auto ok = ParseEntry(m.zip, shared_path, sax, true, kMaxSharedStringBytes * 4); !ok) {
      return std::unexpected(ok.error());
    }
    if (bytes > kMaxSharedStringBytes) {
      return std::unexpected(BadFile("its shared strings take more than 512 MB"));
    }
  }
  {
    Sax sax;
    std::map<int, std::string> formats;
    std::vector<int> xf_formats;
    bool in_cell_xfs = false;
    sax.start = [&](std::string_view name, const XML_Char** atts) {
      if (name == "numFmt") {
        const char* id = Attr(atts, "numFmtId");
        const char* code = Attr(atts, "formatCode");
        if (id && code) formats[std::atoi(id)] = code;
      } else if (name == "cellXfs") {
        in_cell_xfs = true;
      } else if (name == "xf" && in_cell_xfs) {
        const char* id = Attr(atts, "numFmtId");
        xf_formats.push_back(id ? std::atoi(id) : 0);
      }
    };
    sax.end = [&](std::string_view name) {
      if (name == "cellXfs") in_cell_xfs = false;
    };
    if (auto ok = ParseEntry(m.zip, styles_path, sax, true); !ok) {
      return std::unexpected(ok.error());
    }
    for (int id : xf_formats) m.xf_is_date.push_back(IsDateFormat(id, formats));
  }
  return r;
}

const std::vector<std::string>& XlsxReader::sheets() const { return impl_->sheet_names; }

const std::string& XlsxReader::sheet() const {
  static const std::string kNone;
  return impl_->selected >= 0 ? impl_->sheet_names[impl_->selected] : kNone;
}

core::Result<void> XlsxReader::SelectSheet(const std::string& which) {
  Impl& m = *impl_;
  int index = -1;
  if (which.empty()) {
    index = 0;
  } else {
    bool digits = which.find_first_not_of("0123456789") == std::string::npos;
    if (digits) {
      int n = std::atoi(which.c_str());
      if (n >= 1 && static_cast<std::size_t>(n) <= m.sheet_refs.size()) index = n - 1;
    }
    for (std::size_t i = 0; index < 0 && i < m.sheet_names.size(); ++i) {
      if (m.sheet_names[i] == which) index = static_cast<int>(i);
    }
  }
  if (index < 0) {
    std::string names;
    for (const auto& n : m.sheet_names) names += (names.empty() ? "" : ", ") + n;
    return std::unexpected(core::Error::InvalidField(
        "sheet", "invalid_choice", "no sheet " + which + " (the workbook has: " + names + ")"));
  }
  if (m.file) zip_fclose(m.file);
  m.file = nullptr;
  m.selected = index;
  const std::string& path = m.sheet_refs[index].path;
  zip_int64_t zi = zip_name_locate(m.zip, path.c_str(), ZIP_FL_NOCASE);
  if (zi < 0) return std::unexpected(BadFile(path + " is missing"));
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(m.zip, static_cast<zip_uint64_t>(zi), 0, &st) == 0 &&
      (st.valid & ZIP_STAT_SIZE)) {
    m.total = static_cast<int64_t>(st.size);
  }
  m.file = zip_fopen_index(m.zip, static_cast<zip_uint64_t>(zi), 0);
  if (!m.file) return std::unexpected(BadFile("cannot open " + path));
  m.done = 0;
  m.finished = false;
  m.ready.clear();
  m.row = 0;
  m.SetupSheetSax();
  return core::Ok();
}

core::Result<bool> XlsxReader::Next(int64_t& row_number, std::vector<std::string>& cells) {
  Impl& m = *impl_;
  if (m.selected < 0) {
    if (auto ok = SelectSheet(""); !ok) return std::unexpected(ok.error());
  }
  while (m.ready.empty() && !m.finished) {
    zip_int64_t n = zip_fread(m.file, m.buf.data(), m.buf.size());
    if (n < 0) return std::unexpected(BadFile("cannot read the sheet"));
    m.done += n;
    if (!m.sax->Parse(m.buf.data(), static_cast<std::size_t>(n), n == 0, m.error)) {
      return std::unexpected(BadFile("sheet " + sheet() + ": " + m.error));
    }
    if (n == 0) m.finished = true;
  }
  if (m.ready.empty()) return false;
  row_number = m.ready.front().first;
  cells = std::move(m.ready.front().second);
  m.ready.pop_front();
  return true;
}

int64_t XlsxReader::bytes_done() const { return impl_->done; }
int64_t XlsxReader::bytes_total() const { return impl_->total; }

}  // namespace kehu::importer
