#include "importer/service.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "core/text.h"
#include "core/time.h"
#include "core/validate.h"
#include "importer/xlsx.h"

namespace kehu::importer {
namespace {

using customer::CustomerInput;
using customer::QualityIssue;
using Draft = customer::CustomerService::ImportDraft;
using ImportOutcome = customer::CustomerService::ImportOutcome;
using nlohmann::json;

constexpr const char* kProblemCtx = "import.problem";
constexpr std::size_t kChunkRows = 500;  // rows a drafting thread takes at a time
// Chunks drafted and waiting are committed together, up to this many rows a transaction:
// every commit rewrites each index page it touched (WAL and checkpoint), and the blind-index
// keys are random, so a 500-row transaction wrote nearly one page per contact point.
constexpr std::size_t kCommitRows = 4000;
constexpr int kMaxInFlight = 16;  // chunks read but not committed
constexpr std::size_t kMaxFilename = 200;

std::string Hex(const unsigned char* p, std::size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[p[i] >> 4]);
    out.push_back(kDigits[p[i] & 15]);
  }
  return out;
}

std::string Sha256(std::string_view bytes) {
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return Hex(h, sizeof h);
}

core::Result<std::string> Sha256File(const std::string& path, int64_t& size) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return std::unexpected(core::Error::InvalidField("file", "not_found", "cannot read " + path));
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  std::vector<char> buf(1 << 16);
  size = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    auto n = in.gcount();
    if (n <= 0) break;
    size += n;
    crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(buf.data()),
                              static_cast<unsigned long long>(n));
  }
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&st, h);
  return Hex(h, sizeof h);
}

// A display name for a file: its base name, valid UTF-8, at most kMaxFilename bytes.
std::string CleanFilename(const std::string& name) {
  std::string base = std::filesystem::path(name).filename().string();
  if (!core::IsValidUtf8(base)) base = "upload";
  std::string out;
  for (char c : base) {
    if (static_cast<unsigned char>(c) >= 0x20) out.push_back(c);
  }
  while (out.size() > kMaxFilename) {
    out.pop_back();
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
    if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
  }
  return out.empty() ? "upload" : out;
}

// "2024/3/5", "2024.3.5", "2024年3月5日", "2024-03-05 08:00:00" -> "2024-03-05"; else "".
std::string NormalizeDate(std::string_view v) {
  std::string s = core::Trim(core::ToHalfWidth(v));
  int parts[3] = {0, 0, 0};
  int n = 0;
  std::size_t i = 0;
  while (i < s.size() && n < 3) {
    std::size_t j = i;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
    if (j == i || j - i > 4) return "";
    parts[n++] = std::atoi(s.substr(i, j - i).c_str());
    i = j;
    if (n == 3) break;
    // one separator: - / . or 年 月 (3 bytes each)
    if (i < s.size() && (s[i] == '-' || s[i] == '/' || s[i] == '.')) {
      ++i;
    } else if (s.compare(i, 3, "\xe5\xb9\xb4") == 0 || s.compare(i, 3, "\xe6\x9c\x88") == 0) {
      i += 3;
    } else {
      return "";
    }
  }
  if (n != 3) return "";
  std::string rest = s.substr(i);
  if (rest.starts_with("\xe6\x97\xa5")) rest = rest.substr(3);  // 日
  rest = core::Trim(rest);
  if (!rest.empty() && rest.find(':') == std::string::npos && !rest.starts_with("T")) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", parts[0] % 10000, parts[1] % 100,
                parts[2] % 100);
  return core::IsValidDate(buf) ? buf : "";
}

// A number cell: "1,234.5", "  42 " -> a JSON number; nullopt when it is not one.
std::optional<json> ParseNumber(std::string_view v) {
  std::string s;
  for (char c : core::Trim(core::ToHalfWidth(v))) {
    if (c != ',' && c != ' ') s.push_back(c);
  }
  if (s.empty()) return std::nullopt;
  int64_t i = 0;
  auto [pi, ei] = std::from_chars(s.data(), s.data() + s.size(), i);
  if (ei == std::errc() && pi == s.data() + s.size()) return json(i);
  double d = 0;
  auto [pd, ed] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ed == std::errc() && pd == s.data() + s.size() && std::isfinite(d)) return json(d);
  return std::nullopt;
}

// "1.38001E+10": what a spreadsheet shows (and writes to CSV) for a long number in a
// General-formatted column; the digits after the sixth are gone.
bool LooksScientific(std::string_view s) {
  std::size_t i = 0;
  auto digits = [&] {
    std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  if (!digits()) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i >= s.size() || (s[i] != 'E' && s[i] != 'e')) return false;
  ++i;
  if (i < s.size() && s[i] == '+') ++i;
  return digits() && i == s.size();
}

// One row turned into a customer write, with where each value came from.
struct Converted {
  CustomerInput in;
  std::vector<QualityIssue> pre;                  // found before validation
  std::vector<int> phone_columns, email_columns;  // per in.phones / in.emails entry
  std::map<std::string, int> field_columns;       // scalar field / custom.x -> column
  std::string row_text;                           // identifies the row (row key)
  std::string reject_code, reject_message;        // set when the row cannot be imported
};

// Turns rows into customer writes with a mapping. Thread-safe after construction.
class Converter {
 public:
  Converter(const Mapping& mapping, const std::vector<field::FieldDef>& fields,
            const std::map<std::string, std::pair<int64_t, std::string>>& owners,
            const core::Actor& actor, std::optional<int64_t> default_owner)
      : mapping_(mapping), owners_(owners), actor_(actor), default_owner_(default_owner) {
    for (const field::FieldDef& f : fields) fields_[f.name] = f;
  }

  Converted Convert(const std::vector<std::string>& cells) const {
    Converted c;
    CustomerInput& in = c.in;
    std::vector<std::string> extras;  // "header: value" lines for notes
    std::vector<std::string> notes;
    std::vector<customer::PhoneInput> phones;
    std::vector<customer::EmailInput> emails;
    std::vector<std::string> tags;
    json custom = json::object();
    std::string owner_name;
    int owner_column = -1;
    auto set_text = [&](std::optional<std::string>& dst, const char* field, const ColumnMap& m,
                        const std::string& v) {
      if (!dst || dst->empty()) {
        dst = v;
        c.field_columns[field] = m.column;
      } else if (*dst != v) {
        extras.push_back(m.header + ": " + v);
      }
    };
    for (const ColumnMap& m : mapping_) {
      if (m.target == Target::kIgnore) continue;
      const std::string v =
          m.column < static_cast<int>(cells.size()) ? core::Trim(cells[m.column]) : "";
      c.row_text += v;
      c.row_text.push_back('\x1f');
      // Where a missing required value would have been.
      if (m.target == Target::kCustom) c.field_columns.emplace("custom." + m.custom, m.column);
      if (m.target == Target::kName) c.field_columns.emplace("name", m.column);
      if (v.empty()) continue;
      switch (m.target) {
        case Target::kIgnore:
          break;
        case Target::kExtra:
          extras.push_back((m.header.empty() ? "#" + std::to_string(m.column + 1) : m.header) +
                           ": " + v);
          break;
        case Target::kCode:
          set_text(in.code, "code", m, v);
          break;
        case Target::kName:
          set_text(in.name, "name", m, v);
          break;
        case Target::kCompany:
          set_text(in.company, "company", m, v);
          break;
        case Target::kTitle:
          set_text(in.title, "title", m, v);
          break;
        case Target::kProvince:
          set_text(in.province, "province", m, v);
          break;
        case Target::kCity:
          set_text(in.city, "city", m, v);
          break;
        case Target::kDistrict:
          set_text(in.district, "district", m, v);
          break;
        case Target::kAddress:
          set_text(in.address, "address", m, v);
          break;
        case Target::kSource:
          set_text(in.source, "source", m, v);
          break;
        case Target::kIdNumber:
          set_text(in.id_number, "id_number", m, v);
          break;
        case Target::kCreditCode:
          set_text(in.credit_code, "credit_code", m, v);
          break;
        case Target::kGender:
          set_text(in.gender, "gender", m, NormalizeGender(v));
          break;
        case Target::kStage:
          set_text(in.stage, "stage", m, NormalizeStage(v));
          break;
        case Target::kNotes:
          notes.push_back(v);
          c.field_columns.emplace("notes", m.column);
          break;
        case Target::kPhones:
          for (std::string& p : SplitPhones(v)) {
            if (LooksScientific(p)) {
              c.pre.push_back(QualityIssue{
                  "phones", "scientific_notation",
                  "a spreadsheet wrote this number in scientific notation and lost its last "
                  "digits; export it again with the column formatted as text",
                  p, m.header, 0});
              continue;
            }
            phones.push_back({std::move(p), m.label, false});
            c.phone_columns.push_back(m.column);
          }
          break;
        case Target::kEmails:
          for (std::string& e : SplitEmails(v)) {
            emails.push_back({std::move(e), m.label});
            c.email_columns.push_back(m.column);
          }
          break;
        case Target::kTags:
          for (std::string& t : SplitTags(v)) tags.push_back(std::move(t));
          c.field_columns.emplace("tags", m.column);
          break;
        case Target::kOwner:
          if (owner_name.empty()) {
            owner_name = v;
            owner_column = m.column;
          } else if (owner_name != v) {
            extras.push_back(m.header + ": " + v);
          }
          break;
        case Target::kCustom: {
          auto def = fields_.find(m.custom);
          if (def == fields_.end()) break;
          c.field_columns["custom." + m.custom] = m.column;
          custom[m.custom] = CustomValue(def->second, v);
          break;
        }
      }
    }
    const bool has_contact = !phones.empty() || !emails.empty();
    if (!in.name || in.name->empty()) {
      if (!has_contact) {
        c.reject_code = "no_name_or_contact";
        c.reject_message = "the row has neither a name nor a phone number or email address";
        return c;
      }
      const bool company = in.company && !in.company->empty();
      in.name =
          company ? *in.company : std::string("\xe6\x9c\xaa\xe5\x91\xbd\xe5\x90\x8d");  // 未命名
      c.pre.push_back(QualityIssue{"name", "required",
                                   company ? "the row has no name; the company was used instead"
                                           : "the row has no name; it was saved as 未命名",
                                   "", "", 0});
    }
    if (!notes.empty() || !extras.empty()) {
      std::string text;
      for (const std::string& n : notes) text += (text.empty() ? "" : "\n") + n;
      for (const std::string& e : extras) text += (text.empty() ? "" : "\n") + e;
      in.notes = std::move(text);
    }
    if (!phones.empty()) in.phones = std::move(phones);
    if (!emails.empty()) in.emails = std::move(emails);
    if (!tags.empty()) in.tags = std::move(tags);
    if (!custom.empty()) in.custom = std::move(custom);
    if (!owner_name.empty()) {
      auto it = owners_.find(LowerAscii(owner_name));
      if (it == owners_.end()) {
        c.pre.push_back(
            QualityIssue{"owner_id", "unknown_owner", "no user with this name", owner_name, "", 0});
        c.field_columns["owner_id"] = owner_column;
      } else if (!actor_.InScope(it->second.first)) {
        c.pre.push_back(QualityIssue{
            "owner_id", "out_of_scope",
            "you may only give customers to yourself or, with team scope, to your team", owner_name,
            "", 0});
        c.field_columns["owner_id"] = owner_column;
      } else {
        in.owner_id = std::optional<int64_t>(it->second.first);
      }
    }
    if (!in.owner_id && default_owner_) in.owner_id = std::optional<int64_t>(*default_owner_);
    return c;
  }

  static std::string LowerAscii(std::string s) {
    for (char& ch : s) {
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    }
    return s;
  }

 private:
  static json CustomValue(const field::FieldDef& d, const std::string& v) {
    switch (d.type) {
      case field::Type::kNumber:
        if (auto n = ParseNumber(v)) return *n;
        return v;  // flagged as not a number, kept raw
      case field::Type::kDate: {
        std::string iso = NormalizeDate(v);
        return iso.empty() ? json(v) : json(iso);
      }
      case field::Type::kMultiselect: {
        json arr = json::array();
        for (std::string& t : SplitTags(v)) arr.push_back(std::move(t));
        return arr;
      }
      case field::Type::kText:
      case field::Type::kSelect:
        return v;
    }
    return v;
  }

  const Mapping& mapping_;
  std::map<std::string, field::FieldDef> fields_;
  const std::map<std::string, std::pair<int64_t, std::string>>& owners_;
  const core::Actor& actor_;
  const std::optional<int64_t> default_owner_;
};

// The header of the column a flagged value came from.
std::string ColumnOf(const Converted& c, const Mapping& mapping, const QualityIssue& q) {
  auto header = [&](int column) -> std::string {
    for (const ColumnMap& m : mapping) {
      if (m.column == column) return m.header;
    }
    return "";
  };
  if (q.field == "phones" && q.index >= 0 && q.index < static_cast<int>(c.phone_columns.size())) {
    return header(c.phone_columns[q.index]);
  }
  if (q.field == "emails" && q.index >= 0 && q.index < static_cast<int>(c.email_columns.size())) {
    return header(c.email_columns[q.index]);
  }
  auto it = c.field_columns.find(q.field);
  if (it != c.field_columns.end()) return header(it->second);
  return "";
}

// A row that could not be imported, as report lines.
std::vector<Problem> Rejection(int64_t row, const Converted& c, const Mapping& mapping,
                               const core::Error* error) {
  std::vector<Problem> out;
  if (!c.reject_code.empty()) {
    Problem p;
    p.row = row;
    p.code = c.reject_code;
    p.message = c.reject_message;
    p.outcome = Outcome::kNotImported;
    out.push_back(std::move(p));
    return out;
  }
  if (error) {
    for (const core::FieldError& d : error->details()) {
      Problem p;
      p.row = row;
      std::string base = d.field.substr(0, d.field.find('['));
      QualityIssue q{base, d.code, d.message, "", "", 0};
      p.column = ColumnOf(c, mapping, q);
      p.field = base;
      p.code = d.code;
      p.message = d.message;
      p.outcome = Outcome::kNotImported;
      out.push_back(std::move(p));
    }
    if (out.empty()) {
      Problem p;
      p.row = row;
      p.code = "not_imported";
      p.message = error->message();
      p.outcome = Outcome::kNotImported;
      out.push_back(std::move(p));
    }
  }
  return out;
}

// What a drafting worker made of one row.
struct RowResult {
  int64_t row = 0;
  std::optional<Draft> draft;
  std::vector<Problem> rejection;
};

struct Chunk {
  int64_t seq = 0;
  std::vector<std::pair<int64_t, std::vector<std::string>>> rows;
  std::vector<RowResult> results;
  int64_t bytes_done = 0;
};

// Localised texts of the problem report.
struct ReportText {
  const char* header;
  std::map<std::string, std::string> codes;
  std::map<std::string, std::string> outcomes;
};

const ReportText& ReportTexts(bool english) {
  static const ReportText kZh{
      "\xe8\xa1\x8c\xe5\x8f\xb7,\xe5\x88\x97,\xe5\xad\x97\xe6\xae\xb5,\xe5\x8e\x9f\xe5\x80\xbc,"
      "\xe9\x97\xae\xe9\xa2\x98\xe4\xbb\xa3\xe7\xa0\x81,\xe9\x97\xae\xe9\xa2\x98,"
      "\xe8\xaf\xa6\xe7\xbb\x86\xe8\xaf\xb4\xe6\x98\x8e,\xe5\xa4\x84\xe7\x90\x86\xe7\xbb\x93\xe6"
      "\x9e\x9c,\xe5\xae\xa2\xe6\x88\xb7ID",  // 行号,列,字段,原值,问题代码,问题,详细说明,处理结果,客户ID
      {{"not_a_number", "不是电话号码"},
       {"too_short", "号码位数太少"},
       {"too_long", "太长"},
       {"invalid_country_code", "国家代码无效"},
       {"invalid_number", "号码无效（没有这个号段）"},
       {"invalid_email", "邮箱格式不对"},
       {"invalid_format", "格式不对"},
       {"invalid_checksum", "校验位不对"},
       {"invalid_choice", "不是可选的值"},
       {"wrong_type", "类型不对"},
       {"masked", "号码已打码"},
       {"too_many", "超过数量上限"},
       {"not_unique", "已被其他客户使用"},
       {"required", "缺少必填项"},
       {"unknown_owner", "找不到这个负责人"},
       {"out_of_scope", "超出你的数据范围"},
       {"duplicate", "重复客户"},
       {"scientific_notation", "被表格软件写成了科学计数法，后几位数字已丢失"},
       {"no_name_or_contact", "既没有姓名也没有电话或邮箱"},
       {"file", "文件问题"}},
      {{"flagged", "已导入，该值已标记待处理"},
       {"not_imported", "未导入"},
       {"skipped", "已跳过（重复）"}}};
  static const ReportText kEn{
      "row,column,field,value,code,problem,detail,outcome,customer_id",
      {{"not_a_number", "not a phone number"},
       {"too_short", "too few digits"},
       {"too_long", "too long"},
       {"invalid_country_code", "invalid country code"},
       {"invalid_number", "invalid number (no such prefix)"},
       {"invalid_email", "not a valid email address"},
       {"invalid_format", "wrong format"},
       {"invalid_checksum", "wrong check digit"},
       {"invalid_choice", "not one of the allowed values"},
       {"wrong_type", "wrong type"},
       {"masked", "masked number"},
       {"too_many", "over the limit"},
       {"not_unique", "already used by another customer"},
       {"required", "required value missing"},
       {"unknown_owner", "no such user"},
       {"out_of_scope", "outside your data scope"},
       {"duplicate", "duplicate customer"},
       {"scientific_notation", "written in scientific notation, digits lost"},
       {"no_name_or_contact", "no name and no phone or email"},
       {"file", "file problem"}},
      {{"flagged", "imported, value flagged"},
       {"not_imported", "not imported"},
       {"skipped", "skipped (duplicate)"}}};
  return english ? kEn : kZh;
}

std::string CsvCell(std::string_view v) {
  std::string s(v);
  if (!s.empty() && std::string_view("=+-@\t\r").find(s.front()) != std::string_view::npos) {
    s.insert(s.begin(), '\'');
  }
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace

std::string_view OnDuplicateName(OnDuplicate d) {
  switch (d) {
    case OnDuplicate::kSkip:
      return "skip";
    case OnDuplicate::kMerge:
      return "merge";
    case OnDuplicate::kCreate:
      return "create";
  }
  return "skip";
}

std::optional<OnDuplicate> ParseOnDuplicate(std::string_view s) {
  for (OnDuplicate d : {OnDuplicate::kSkip, OnDuplicate::kMerge, OnDuplicate::kCreate}) {
    if (OnDuplicateName(d) == s) return d;
  }
  return std::nullopt;
}

json RunOptions::ToJson() const {
  json j = {{"encoding", encoding.empty() ? json(nullptr) : json(encoding)},
            {"sheet", sheet.empty() ? json(nullptr) : json(sheet)},
            {"mapping", mapping},
            {"on_duplicate", OnDuplicateName(on_duplicate)},
            {"dry_run", dry_run}};
  if (default_owner) j["default_owner"] = *default_owner;
  return j;
}

core::Result<RunOptions> RunOptions::FromJson(const json& j) {
  RunOptions o;
  if (j.is_null()) return o;
  if (!j.is_object()) {
    return std::unexpected(core::Error::Invalid("the options must be a JSON object"));
  }
  std::vector<core::FieldError> errs;
  for (const auto& [k, v] : j.items()) {
    if (k == "encoding") {
      if (v.is_string()) {
        o.encoding = v.get<std::string>();
      } else if (!v.is_null()) {
        errs.push_back({k, "wrong_type", "must be a string such as GB18030"});
      }
    } else if (k == "sheet") {
      if (v.is_string()) {
        o.sheet = v.get<std::string>();
      } else if (v.is_number_integer()) {
        o.sheet = std::to_string(v.get<int64_t>());
      } else if (!v.is_null()) {
        errs.push_back({k, "wrong_type", "must be a sheet name or number"});
      }
    } else if (k == "mapping") {
      if (v.is_object() || v.is_null()) {
        o.mapping = v;
      } else {
        errs.push_back({k, "wrong_type", "must be an object {\"column\": \"field\"}"});
      }
    } else if (k == "on_duplicate") {
      auto d = v.is_string() ? ParseOnDuplicate(v.get<std::string>()) : std::nullopt;
      if (!d) {
        errs.push_back({k, "invalid_choice", "on_duplicate is skip, merge or create"});
      } else {
        o.on_duplicate = *d;
      }
    } else if (k == "dry_run") {
      if (!v.is_boolean()) {
        errs.push_back({k, "wrong_type", "must be true or false"});
      } else {
        o.dry_run = v.get<bool>();
      }
    } else if (k == "default_owner") {
      if (v.is_number_integer()) o.default_owner = v.get<int64_t>();
    } else if (k == "template") {
      // resolved by the route before
    } else {
      errs.push_back({k, "unknown_field", "unknown field " + k});
    }
  }
  if (!errs.empty()) return std::unexpected(core::Error::InvalidFields(std::move(errs)));
  return o;
}

json Totals::ToJson() const {
  return {{"read", read},         {"created", created},       {"merged", merged},
          {"skipped", skipped},   {"rejected", rejected},     {"flagged", flagged},
          {"problems", problems}, {"elapsed_ms", elapsed_ms}, {"warnings", warnings}};
}

Totals Totals::FromJson(const json& j) {
  Totals t;
  if (!j.is_object()) return t;
  t.read = j.value("read", int64_t{0});
  t.created = j.value("created", int64_t{0});
  t.merged = j.value("merged", int64_t{0});
  t.skipped = j.value("skipped", int64_t{0});
  t.rejected = j.value("rejected", int64_t{0});
  t.flagged = j.value("flagged", int64_t{0});
  t.problems = j.value("problems", int64_t{0});
  t.elapsed_ms = j.value("elapsed_ms", int64_t{0});
  if (j.contains("warnings") && j["warnings"].is_array()) {
    for (const auto& w : j["warnings"]) {
      if (w.is_string()) t.warnings.push_back(w.get<std::string>());
    }
  }
  return t;
}

ImportService::ImportService(ImportStore& store, jobs::JobStore& jobs,
                             customer::CustomerService& customers, field::FieldService& fields,
                             user::UserService& users, audit::AuditLog& audit,
                             const crypto::FieldCipher& cipher, std::string data_dir,
                             std::string node)
    : store_(store),
      jobs_(jobs),
      customers_(customers),
      fields_(fields),
      users_(users),
      audit_(audit),
      cipher_(cipher),
      data_dir_(std::move(data_dir)),
      node_(std::move(node)) {}

core::Result<void> ImportService::MayImport(const core::Actor& actor) const {
  if (actor.Can(core::Perm::kCustomerImport)) return core::Ok();
  return std::unexpected(core::Error::Forbidden("importing customers needs customer.import"));
}

bool ImportService::MaySee(const core::Actor& actor, int64_t created_by) const {
  return actor.user_id == created_by || actor.is_admin();
}

std::string ImportService::PathOf(const ImportFile& f) const {
  std::filesystem::path p(f.path);
  return p.is_absolute() ? p.string() : (std::filesystem::path(data_dir_) / p).string();
}

core::Result<core::Actor> ImportService::ActorFor(int64_t user_id) {
  if (user_id == 0) return core::Actor::LocalAdmin();
  return users_.ActorFor(user_id);
}

core::Result<ImportFile> ImportService::Upload(const core::Actor& actor,
                                               const std::string& filename,
                                               std::string_view bytes) {
  if (auto ok = MayImport(actor); !ok) return std::unexpected(ok.error());
  if (bytes.empty()) {
    return std::unexpected(core::Error::InvalidField("file", "required", "the file is empty"));
  }
  const std::string format = SniffFormat(std::string(bytes.substr(0, 8)));
  if (format == "xls") {
    return std::unexpected(core::Error::InvalidField(
        "file", "unsupported_format",
        "this is an old Excel .xls file; save it as .xlsx or CSV and upload that"));
  }
  if (format == "csv") {
    // Text files have no NUL bytes (except UTF-16, which starts with a byte order mark).
    const std::string_view head = bytes.substr(0, 4096);
    const bool utf16 = head.starts_with("\xFF\xFE") || head.starts_with("\xFE\xFF");
    if (!utf16 && head.find('\0') != std::string_view::npos) {
      return std::unexpected(core::Error::InvalidField(
          "file", "unsupported_format", "this is neither a CSV text file nor an .xlsx workbook"));
    }
  }
  std::error_code ec;
  const std::filesystem::path dir = std::filesystem::path(data_dir_) / "imports";
  std::filesystem::create_directories(dir, ec);
  const std::string name = crypto::RandomToken(12) + (format == "xlsx" ? ".xlsx" : ".csv");
  const std::filesystem::path full = dir / name;
  {
    std::ofstream out(full, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      return std::unexpected(core::Error(core::Code::kUnavailable, "cannot store the upload"));
    }
  }
  std::filesystem::permissions(
      full, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
  ImportFile f;
  f.created_by = actor.user_id;
  f.created_at = core::NowMs();
  f.filename = CleanFilename(filename.empty() ? name : filename);
  f.format = format;
  f.size = static_cast<int64_t>(bytes.size());
  f.sha256 = Sha256(bytes);
  f.path = (std::filesystem::path("imports") / name).string();
  f.node = node_;
  if (format == "xlsx") {
    // Check now that it opens, so a broken workbook is a 422 and not a failed job.
    auto probe = XlsxReader::Open(full.string());
    if (!probe) {
      std::filesystem::remove(full, ec);
      return std::unexpected(probe.error());
    }
  }
  auto saved = store_.Insert(f);
  if (!saved) std::filesystem::remove(full, ec);
  return saved;
}

core::Result<ImportFile> ImportService::Register(const core::Actor& actor,
                                                 const std::string& path) {
  if (auto ok = MayImport(actor); !ok) return std::unexpected(ok.error());
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(path, ec);
  if (ec || !std::filesystem::is_regular_file(abs, ec)) {
    return std::unexpected(core::Error::InvalidField("file", "not_found", "no file " + path));
  }
  int64_t size = 0;
  auto sha = Sha256File(abs.string(), size);
  if (!sha) return std::unexpected(sha.error());
  std::string head(8, '\0');
  {
    std::ifstream in(abs, std::ios::binary);
    in.read(head.data(), 8);
    head.resize(static_cast<std::size_t>(in.gcount()));
  }
  const std::string format = SniffFormat(head);
  if (format == "xls") {
    return std::unexpected(core::Error::InvalidField(
        "file", "unsupported_format",
        "this is an old Excel .xls file; save it as .xlsx or CSV and import that"));
  }
  auto same = store_.FindSame(abs.string(), *sha, node_);
  if (!same) return std::unexpected(same.error());
  if (*same) return **same;
  ImportFile f;
  f.created_by = actor.user_id;
  f.created_at = core::NowMs();
  f.filename = CleanFilename(abs.filename().string());
  f.format = format;
  f.size = size;
  f.sha256 = *sha;
  f.path = abs.string();
  f.node = node_;
  return store_.Insert(f);
}

core::Result<ImportFile> ImportService::Get(const core::Actor& actor, int64_t import_id) {
  if (auto ok = MayImport(actor); !ok) return std::unexpected(ok.error());
  auto f = store_.Get(import_id);
  if (!f) return std::unexpected(f.error());
  if (!*f || !MaySee(actor, (*f)->created_by)) {
    return std::unexpected(core::Error::NotFound("no import " + std::to_string(import_id)));
  }
  return **f;
}

core::Result<std::vector<ImportFile>> ImportService::List(const core::Actor& actor, int limit) {
  if (auto ok = MayImport(actor); !ok) return std::unexpected(ok.error());
  return store_.List(actor.is_admin() ? std::nullopt : std::optional<int64_t>(actor.user_id),
                     limit);
}

core::Result<std::unique_ptr<RowSource>> ImportService::Open(const ImportFile& f,
                                                             const RunOptions& o,
                                                             std::vector<std::string>& headers,
                                                             int64_t& header_row) {
  if (f.node != node_) {
    return std::unexpected(
        core::Error(core::Code::kUnavailable, "the file of import " + std::to_string(f.id) +
                                                  " is kept by another server (" + f.node + ")"));
  }
  auto src =
      OpenSource(PathOf(f), f.format == "csv" ? o.encoding : "", f.format == "xlsx" ? o.sheet : "");
  if (!src) return std::unexpected(src.error());
  headers.clear();
  header_row = 0;
  auto more = (*src)->Next(header_row, headers);
  if (!more) return std::unexpected(more.error());
  if (!*more) {
    return std::unexpected(
        core::Error::InvalidField("file", "required", "the file has no rows (no header row)"));
  }
  for (std::string& h : headers) h = core::Trim(h);
  return std::move(*src);
}

core::Result<Preview> ImportService::Analyse(const core::Actor& actor, int64_t import_id,
                                             const RunOptions& options, int sample) {
  auto f = Get(actor, import_id);
  if (!f) return std::unexpected(f.error());
  Preview p;
  p.file = *f;
  auto src = Open(*f, options, p.headers, p.header_row);
  if (!src) return std::unexpected(src.error());
  p.source = (*src)->info();
  auto defs = fields_.List(actor, "customer");
  if (!defs) return std::unexpected(defs.error());
  auto mapping = BuildMapping(p.headers, options.mapping, *defs);
  if (!mapping) return std::unexpected(mapping.error());
  p.mapping = *mapping;
  std::map<std::string, std::pair<int64_t, std::string>> owners;
  const bool has_owner = std::any_of(p.mapping.begin(), p.mapping.end(),
                                     [](const ColumnMap& m) { return m.target == Target::kOwner; });
  if (has_owner) {
    auto users = users_.List(actor);
    if (!users) return std::unexpected(users.error());
    for (const auto& u : *users) {
      if (!u.active) continue;
      owners[Converter::LowerAscii(u.username)] = {u.id, u.display_name};
      owners.emplace(Converter::LowerAscii(u.display_name), std::make_pair(u.id, u.display_name));
    }
  }
  Converter conv(p.mapping, *defs, owners, actor, options.default_owner);
  for (int i = 0; i < sample; ++i) {
    PreviewRow row;
    auto more = (*src)->Next(row.row, row.cells);
    if (!more) return std::unexpected(more.error());
    if (!*more) break;
    Converted c = conv.Convert(row.cells);
    auto column_index = [&](const std::string& header) {
      for (const ColumnMap& m : p.mapping) {
        if (m.header == header) return m.column;
      }
      return -1;
    };
    if (!c.reject_code.empty()) {
      row.rejected = true;
      row.problems.push_back({-1, "", c.reject_code, c.reject_message, ""});
    } else {
      auto draft =
          customers_.DraftImport(actor, c.in, c.pre, c.row_text,
                                 [&](const QualityIssue& q) { return ColumnOf(c, p.mapping, q); });
      if (!draft) {
        row.rejected = true;
        for (const Problem& pr : Rejection(row.row, c, p.mapping, &draft.error())) {
          row.problems.push_back({column_index(pr.column), pr.field, pr.code, pr.message, ""});
        }
      } else {
        for (const QualityIssue& q : draft->customer.quality_issues) {
          row.problems.push_back({column_index(q.column), q.field, q.code, q.message, q.raw});
        }
      }
    }
    p.rows.push_back(std::move(row));
  }
  p.warnings = (*src)->warnings();
  return p;
}

core::Result<jobs::Job> ImportService::Start(const core::Actor& actor, int64_t import_id,
                                             const RunOptions& options, const std::string& runner) {
  auto f = Get(actor, import_id);
  if (!f) return std::unexpected(f.error());
  if (options.on_duplicate == OnDuplicate::kMerge && !options.dry_run &&
      !actor.Can(core::Perm::kCustomerUpdate)) {
    return std::unexpected(
        core::Error::Forbidden("merging imported rows into customers needs customer.update"));
  }
  // Check the options now: a bad encoding, sheet or mapping is the caller's mistake.
  std::vector<std::string> headers;
  int64_t header_row = 0;
  auto src = Open(*f, options, headers, header_row);
  if (!src) return std::unexpected(src.error());
  auto defs = fields_.List(actor, "customer");
  if (!defs) return std::unexpected(defs.error());
  if (auto m = BuildMapping(headers, options.mapping, *defs); !m) {
    return std::unexpected(m.error());
  }
  jobs::Job j;
  j.kind = kJobKind;
  j.runner = runner;
  j.created_by = actor.user_id;
  j.created_at = core::NowMs();
  j.params = {{"import_id", f->id}, {"options", options.ToJson()}};
  j.result = Totals{}.ToJson();
  auto job = jobs_.Create(j);
  if (!job) return std::unexpected(job.error());
  if (auto ok = store_.SetJob(f->id, job->id); !ok) return std::unexpected(ok.error());
  return job;
}

core::Result<std::optional<jobs::Job>> ImportService::Unfinished(const core::Actor& actor,
                                                                 int64_t import_id,
                                                                 const RunOptions& options) {
  auto f = Get(actor, import_id);
  if (!f) return std::unexpected(f.error());
  if (!f->job_id) return std::optional<jobs::Job>();
  auto j = jobs_.Get(*f->job_id);
  if (!j) return std::unexpected(j.error());
  if (!*j) return std::optional<jobs::Job>();
  const jobs::Job& job = **j;
  const bool open = job.state == jobs::State::kQueued || job.state == jobs::State::kRunning;
  if (!open || !job.runner.starts_with("cli:") ||
      job.params.value("options", json()) != options.ToJson()) {
    return std::optional<jobs::Job>();
  }
  return std::optional<jobs::Job>(job);
}

core::Result<jobs::Job> ImportService::Job(const core::Actor& actor, int64_t job_id) {
  if (auto ok = MayImport(actor); !ok) return std::unexpected(ok.error());
  auto j = jobs_.Get(job_id);
  if (!j) return std::unexpected(j.error());
  if (!*j || (*j)->kind != kJobKind || !MaySee(actor, (*j)->created_by)) {
    return std::unexpected(core::Error::NotFound("no import run " + std::to_string(job_id)));
  }
  return **j;
}

core::Result<void> ImportService::Report(const core::Actor& actor, int64_t job_id, bool english,
                                         const std::function<void(std::string_view)>& write) {
  auto job = Job(actor, job_id);
  if (!job) return std::unexpected(job.error());
  const ReportText& t = ReportTexts(english);
  std::string out = "\xEF\xBB\xBF";
  out += t.header;
  out += "\r\n";
  auto text_of = [](const std::map<std::string, std::string>& m, const std::string& k) {
    auto it = m.find(k);
    return it == m.end() ? k : it->second;
  };
  auto scanned = store_.ScanProblems(job_id, [&](const Problem& p) {
    std::string value;
    if (!p.value.empty()) {
      auto plain = cipher_.Decrypt(p.value, kProblemCtx);
      value = plain ? *plain : "(unreadable: its key was retired)";
    }
    out += (p.row > 0 ? std::to_string(p.row) : std::string()) + "," + CsvCell(p.column) + "," +
           CsvCell(p.field) + "," + CsvCell(value) + "," + CsvCell(p.code) + "," +
           CsvCell(text_of(t.codes, p.code)) + "," + CsvCell(p.message) + "," +
           CsvCell(text_of(t.outcomes, std::string(OutcomeName(p.outcome)))) + "," +
           (p.customer_id ? std::to_string(*p.customer_id) : std::string()) + "\r\n";
    if (out.size() > (64 << 10)) {
      write(out);
      out.clear();
    }
    return true;
  });
  if (!scanned) return std::unexpected(scanned.error());
  if (!out.empty()) write(out);
  return core::Ok();
}

core::Result<std::vector<Template>> ImportService::Templates(const core::Actor& actor) {
  if (auto ok = MayImport(actor); !ok) return std::unexpected(ok.error());
  return store_.ListTemplates();
}

core::Result<Template> ImportService::SaveTemplate(const core::Actor& actor,
                                                   const std::string& name, const json& mapping) {
  if (auto ok = MayImport(actor); !ok) return std::unexpected(ok.error());
  std::vector<core::FieldError> errs;
  const std::string n = core::Trim(name);
  if (n.empty()) errs.push_back({"name", "required", "a template needs a name"});
  if (core::Utf8Length(n) > 100) errs.push_back({"name", "too_long", "at most 100 characters"});
  if (!mapping.is_object() || mapping.empty()) {
    errs.push_back({"mapping", "required", "mapping must be a non-empty object"});
  } else {
    auto defs = fields_.List(actor, "customer");
    if (!defs) return std::unexpected(defs.error());
    for (const auto& [k, v] : mapping.items()) {
      if (!v.is_string()) {
        errs.push_back({"mapping." + k, "wrong_type", "must be a target such as name"});
      } else if (auto t = ParseTarget(v.get<std::string>(), *defs, "mapping." + k); !t) {
        for (const auto& d : t.error().details()) errs.push_back(d);
      }
    }
  }
  if (!errs.empty()) return std::unexpected(core::Error::InvalidFields(std::move(errs)));
  Template t;
  t.name = n;
  t.mapping = mapping;
  t.created_by = actor.user_id;
  t.updated_at = core::NowMs();
  auto saved = store_.SaveTemplate(t);
  if (saved) {
    auto r = audit_.Record(
        actor, {"settings.import_template", "import_template", n, {{"columns", mapping.size()}}});
    if (!r) spdlog::error("audit trail: {}", r.error().message());
  }
  return saved;
}

core::Result<void> ImportService::DeleteTemplate(const core::Actor& actor, int64_t id) {
  if (auto ok = MayImport(actor); !ok) return std::unexpected(ok.error());
  auto done = store_.DeleteTemplate(id);
  if (!done) return std::unexpected(done.error());
  if (!*done) return std::unexpected(core::Error::NotFound("no template " + std::to_string(id)));
  return core::Ok();
}

// --- the run ------------------------------------------------------------------------------

core::Result<json> ImportService::Run(jobs::JobContext& ctx) {
  const jobs::Job& job = ctx.job();
  const auto started = std::chrono::steady_clock::now();
  auto options = RunOptions::FromJson(job.params.value("options", json::object()));
  if (!options) return std::unexpected(options.error());
  const int64_t import_id = job.params.value("import_id", int64_t{0});
  auto actor = ActorFor(job.created_by);
  if (!actor) return std::unexpected(actor.error());
  auto file = store_.Get(import_id);
  if (!file) return std::unexpected(file.error());
  if (!*file) return std::unexpected(core::Error::NotFound("the import's file record is gone"));
  std::vector<std::string> headers;
  int64_t header_row = 0;
  auto src = Open(**file, *options, headers, header_row);
  if (!src) return std::unexpected(src.error());
  RowSource& source = **src;
  auto defs = fields_.List(*actor, "customer");
  if (!defs) return std::unexpected(defs.error());
  auto mapping = BuildMapping(headers, options->mapping, *defs);
  if (!mapping) return std::unexpected(mapping.error());
  std::map<std::string, std::pair<int64_t, std::string>> owners;
  if (std::any_of(mapping->begin(), mapping->end(),
                  [](const ColumnMap& m) { return m.target == Target::kOwner; })) {
    auto users = users_.List(*actor);
    if (!users) return std::unexpected(users.error());
    for (const auto& u : *users) {
      if (!u.active) continue;
      owners[Converter::LowerAscii(u.username)] = {u.id, u.display_name};
      owners.emplace(Converter::LowerAscii(u.display_name), std::make_pair(u.id, u.display_name));
    }
  }
  const Converter conv(*mapping, *defs, owners, *actor, options->default_owner);

  int64_t cursor = job.cursor;
  Totals totals = Totals::FromJson(job.result);
  if (options->dry_run && cursor > 0) {
    // A dry run writes only its report: start it again rather than keep half of one.
    cursor = 0;
    totals = Totals{};
    if (auto ok = store_.ClearProblems(job.id); !ok) return std::unexpected(ok.error());
  }
  const int64_t elapsed_before = totals.elapsed_ms;
  const int64_t bytes_total = source.bytes_total();

  // Pipeline: a reader thread cuts rows into chunks, drafting threads validate and encrypt
  // them (libphonenumber is the costly part), and this thread commits them in order.
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::shared_ptr<Chunk>> to_draft;
  std::map<int64_t, std::shared_ptr<Chunk>> drafted;
  int in_flight = 0;
  int64_t chunks_read = 0;
  bool reader_done = false, stop = false;
  std::optional<core::Error> failure;

  std::thread reader([&] {
    int64_t seq = 0;
    bool ended = false;
    while (!ended) {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return in_flight < kMaxInFlight || stop; });
        if (stop) break;
      }
      auto chunk = std::make_shared<Chunk>();
      chunk->seq = seq;
      while (chunk->rows.size() < kChunkRows) {
        int64_t number = 0;
        std::vector<std::string> cells;
        auto more = source.Next(number, cells);
        if (!more) {
          std::lock_guard lock(mu);
          failure = more.error();
          stop = true;
          ended = true;
          break;
        }
        if (!*more) {
          ended = true;
          break;
        }
        if (number <= cursor) continue;
        chunk->rows.emplace_back(number, std::move(cells));
      }
      chunk->bytes_done = source.bytes_done();
      if (chunk->rows.empty() && ended) break;
      std::lock_guard lock(mu);
      if (stop) break;
      to_draft.push_back(std::move(chunk));
      ++in_flight;
      ++seq;
      cv.notify_all();
    }
    std::lock_guard lock(mu);
    reader_done = true;
    chunks_read = seq;
    cv.notify_all();
  });

  const Mapping& map = *mapping;
  // Drafts every row of a chunk; an error other than a row's own problems stops the run.
  auto draft_chunk = [&](Chunk& chunk) -> std::optional<core::Error> {
    chunk.results.resize(chunk.rows.size());
    for (std::size_t i = 0; i < chunk.rows.size(); ++i) {
      RowResult& r = chunk.results[i];
      r.row = chunk.rows[i].first;
      Converted c = conv.Convert(chunk.rows[i].second);
      if (!c.reject_code.empty()) {
        r.rejection = Rejection(r.row, c, map, nullptr);
        continue;
      }
      auto d = customers_.DraftImport(*actor, c.in, std::move(c.pre), c.row_text,
                                      [&](const QualityIssue& q) { return ColumnOf(c, map, q); });
      if (!d) {
        if (d.error().code() != core::Code::kInvalid) return d.error();
        r.rejection = Rejection(r.row, c, map, &d.error());
        continue;
      }
      r.draft = std::move(*d);
    }
    chunk.rows.clear();
    return std::nullopt;
  };

  const unsigned workers = std::max(1u, std::min(4u, std::thread::hardware_concurrency()));
  std::vector<std::thread> drafters;
  for (unsigned w = 0; w < workers; ++w) {
    drafters.emplace_back([&] {
      for (;;) {
        std::shared_ptr<Chunk> chunk;
        {
          std::unique_lock lock(mu);
          cv.wait(lock, [&] { return !to_draft.empty() || reader_done || stop; });
          if (stop || to_draft.empty()) return;
          chunk = std::move(to_draft.front());
          to_draft.pop_front();
        }
        std::optional<core::Error> e = draft_chunk(*chunk);
        std::lock_guard lock(mu);
        if (e) {
          failure = std::move(*e);
          stop = true;
        } else {
          drafted[chunk->seq] = std::move(chunk);
        }
        cv.notify_all();
      }
    });
  }

  std::string code_header;
  for (const ColumnMap& m : map) {
    if (m.target == Target::kCode) {
      code_header = m.header;
      break;
    }
  }
  // Dry runs store nothing, so duplicates within the file are found here.
  std::unordered_map<std::string, int64_t> seen;
  const db::Database::BulkScope bulk =
      options->dry_run ? db::Database::BulkScope() : store_.BulkWrites();
  core::Result<json> outcome = json::object();
  for (int64_t seq = 0;; ++seq) {
    std::shared_ptr<Chunk> chunk;
    int taken = 1;  // chunks in this transaction
    {
      std::unique_lock lock(mu);
      cv.wait(lock,
              [&] { return drafted.contains(seq) || stop || (reader_done && seq >= chunks_read); });
      if (stop || !drafted.contains(seq)) break;
      chunk = std::move(drafted[seq]);
      drafted.erase(seq);
      // The next chunks already drafted join this transaction (never waited for).
      while (chunk->results.size() < kCommitRows && drafted.contains(seq + 1)) {
        auto more = std::move(drafted[seq + 1]);
        drafted.erase(++seq);
        ++taken;
        std::move(more->results.begin(), more->results.end(), std::back_inserter(chunk->results));
        chunk->bytes_done = more->bytes_done;
      }
    }
    std::vector<Draft> drafts;
    std::vector<std::size_t> draft_of;  // result index of each draft
    for (std::size_t i = 0; i < chunk->results.size(); ++i) {
      if (chunk->results[i].draft) {
        drafts.push_back(std::move(*chunk->results[i].draft));
        draft_of.push_back(i);
      }
    }
    Totals next = totals;
    std::vector<Problem> problems;
    auto account = [&](const std::vector<ImportOutcome>& outs) {
      next = totals;
      problems.clear();
      std::size_t d = 0;
      for (std::size_t i = 0; i < chunk->results.size(); ++i) {
        RowResult& r = chunk->results[i];
        ++next.read;
        int seq_in_row = 0;
        auto add = [&](Problem p) {
          p.job_id = job.id;
          p.row = r.row;
          p.seq = seq_in_row++;
          if (!p.value.empty()) p.value = cipher_.Encrypt(p.value, kProblemCtx);
          problems.push_back(std::move(p));
        };
        if (d >= draft_of.size() || draft_of[d] != i) {
          ++next.rejected;
          for (Problem p : r.rejection) add(std::move(p));
          continue;
        }
        const Draft& draft = drafts[d];
        const ImportOutcome& o = outs[d];
        ++d;
        if (o.kind == ImportOutcome::Kind::kSkipped) {
          ++next.skipped;
          Problem p;
          p.field = o.via;
          if (o.via == "code") {
            p.value = draft.customer.code;
            p.column = code_header;
          } else if (o.via == "phone" && !draft.customer.phones.empty()) {
            p.value = draft.customer.phones.front().info.raw;
          } else if (o.via == "email" && !draft.customer.emails.empty()) {
            p.value = draft.customer.emails.front().address;
          }
          p.code = "duplicate";
          p.message = o.reason + (o.customer_id ? " of customer " + std::to_string(o.customer_id)
                                                : std::string());
          p.outcome = Outcome::kSkipped;
          if (o.customer_id) p.customer_id = o.customer_id;
          add(std::move(p));
          continue;
        }
        (o.kind == ImportOutcome::Kind::kCreated ? next.created : next.merged)++;
        if (!draft.customer.quality_issues.empty()) ++next.flagged;
        for (const QualityIssue& q : draft.customer.quality_issues) {
          Problem p;
          p.column = q.column;
          p.field = q.field;
          p.value = q.raw;
          p.code = q.code;
          p.message = q.message;
          p.outcome = Outcome::kFlagged;
          if (o.customer_id) p.customer_id = o.customer_id;
          add(std::move(p));
        }
      }
      next.problems += static_cast<int64_t>(problems.size());
      next.warnings = source.warnings();
      next.elapsed_ms = elapsed_before + std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::steady_clock::now() - started)
                                             .count();
    };
    const int64_t last_row = chunk->results.empty() ? cursor : chunk->results.back().row;
    auto committed = customers_.CommitImport(
        *actor, drafts, options->on_duplicate, options->dry_run,
        [&](soci::session& sql, const std::vector<ImportOutcome>& outs) {
          account(outs);
          store_.AddProblems(sql, problems);
          ctx.Checkpoint(sql, last_row, chunk->bytes_done, bytes_total, next.ToJson());
        });
    if (!committed) {
      outcome = std::unexpected(committed.error());
      break;
    }
    if (options->dry_run) {
      std::vector<ImportOutcome>& outs = *committed;
      if (options->on_duplicate != OnDuplicate::kCreate) {
        for (std::size_t k = 0; k < drafts.size(); ++k) {
          if (outs[k].kind != ImportOutcome::Kind::kCreated) continue;
          const Draft& dr = drafts[k];
          std::vector<std::pair<std::string, const char*>> keys;
          if (!dr.customer.code.empty()) keys.emplace_back("code:" + dr.customer.code, "code");
          for (const auto& key : dr.phone_keys) keys.emplace_back(key, "phone");
          for (const auto& key : dr.email_keys) keys.emplace_back(key, "email");
          for (const auto& key : dr.row_keys) keys.emplace_back(key, "row");
          const int64_t row = chunk->results[draft_of[k]].row;
          for (const auto& [key, via] : keys) {
            auto it = seen.find(key);
            if (it != seen.end() && outs[k].kind == ImportOutcome::Kind::kCreated) {
              outs[k].kind = ImportOutcome::Kind::kSkipped;
              outs[k].via = via;
              outs[k].reason =
                  "duplicate (same " + std::string(via) + ") of row " + std::to_string(it->second);
            }
          }
          if (outs[k].kind == ImportOutcome::Kind::kCreated) {
            for (const auto& [key, via] : keys) seen.emplace(key, row);
          }
        }
      }
      account(outs);
      auto saved = store_.Write([&](soci::session& sql) {
        store_.AddProblems(sql, problems);
        ctx.Checkpoint(sql, last_row, chunk->bytes_done, bytes_total, next.ToJson());
      });
      if (!saved) {
        outcome = std::unexpected(saved.error());
        break;
      }
    }
    totals = next;
    cursor = last_row;
    {
      std::lock_guard lock(mu);
      in_flight -= taken;
      cv.notify_all();
    }
    if (ctx.ShouldStop()) {
      outcome = std::unexpected(core::Error(core::Code::kUnavailable, "stopped; resumes later"));
      break;
    }
  }
  {
    std::lock_guard lock(mu);
    stop = true;
    cv.notify_all();
  }
  reader.join();
  for (auto& t : drafters) t.join();
  if (!outcome) return outcome;
  if (failure) return std::unexpected(*failure);
  totals.warnings = source.warnings();
  totals.elapsed_ms = elapsed_before + std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::steady_clock::now() - started)
                                           .count();
  if (!options->dry_run) {
    json details = totals.ToJson();
    details.erase("warnings");
    details["job"] = job.id;
    details["format"] = (*file)->format;
    details["on_duplicate"] = OnDuplicateName(options->on_duplicate);
    auto r =
        audit_.Record(*actor, {"customer.import", "import", std::to_string(import_id), details});
    if (!r)
      spdlog::error("audit trail: cannot record import {}: {}", import_id, r.error().message());
  }
  return totals.ToJson();
}

}  // namespace kehu::importer
