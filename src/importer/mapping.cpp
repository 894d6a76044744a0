#include "importer/mapping.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/validate.h"

namespace kehu::importer {
namespace {

struct TargetName {
  Target target;
  const char* name;
};
constexpr TargetName kTargetNames[] = {
    {Target::kIgnore, "ignore"},
    {Target::kExtra, "extra"},
    {Target::kCode, "code"},
    {Target::kName, "name"},
    {Target::kPhones, "phones"},
    {Target::kEmails, "emails"},
    {Target::kCompany, "company"},
    {Target::kTitle, "title"},
    {Target::kGender, "gender"},
    {Target::kProvince, "province"},
    {Target::kCity, "city"},
    {Target::kDistrict, "district"},
    {Target::kAddress, "address"},
    {Target::kSource, "source"},
    {Target::kStage, "stage"},
    {Target::kTags, "tags"},
    {Target::kNotes, "notes"},
    {Target::kIdNumber, "id_number"},
    {Target::kCreditCode, "credit_code"},
    {Target::kOwner, "owner"},
};

std::string LowerAscii(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// Header key for matching: half-width, lower-case, without spaces, punctuation, a trailing
// required-mark or bracketed remark ("手机号码（必填）*" -> "手机号码") or trailing digits
// ("电话2" -> "电话").
std::string HeaderKey(std::string_view header) {
  std::string s = LowerAscii(core::Trim(core::ToHalfWidth(header)));
  // Drop a bracketed remark at the end: (…) […] 【…】.
  for (;;) {
    while (!s.empty() && (s.back() == '*' || s.back() == ' ' || s.back() == ':')) s.pop_back();
    std::size_t open = std::string::npos;
    if (s.ends_with(")")) open = s.rfind('(');
    if (s.ends_with("]")) open = s.rfind('[');
    if (s.ends_with("\xe3\x80\x91")) open = s.rfind("\xe3\x80\x90");  // 【 】
    if (open == std::string::npos || open == 0) break;
    s.resize(open);
  }
  std::string out;
  for (char c : s) {
    if (c == ' ' || c == '_' || c == '-' || c == '.' || c == '\t' || c == '/' || c == '*') continue;
    out.push_back(c);
  }
  while (!out.empty() && out.back() >= '0' && out.back() <= '9' && out.size() > 1) out.pop_back();
  return out;
}

struct Guess {
  Target target;
  const char* label;
};

const std::map<std::string, Guess>& Dictionary() {
  static const std::map<std::string, Guess> kDict = [] {
    std::map<std::string, Guess> d;
    auto add = [&](Target t, const char* label, std::initializer_list<const char*> keys) {
      for (const char* k : keys) d[k] = Guess{t, label};
    };
    add(Target::kIgnore, "",
        {"序号", "行号", "no", "#", "id", "version", "masked", "createdby", "updatedby",
         "deletedat"});
    add(Target::kCode, "",
        {"客户编号", "编号", "客户编码", "客户代码", "编码", "客户号", "客户id", "会员编号", "code",
         "customercode", "customerno", "customernumber", "customerid", "clientid", "clientcode",
         "accountnumber"});
    add(Target::kName, "",
        {"姓名", "客户名称", "客户姓名", "客户名", "联系人", "联系人姓名", "名称", "名字", "称呼",
         "name", "fullname", "contact", "contactname", "customername", "clientname"});
    add(Target::kPhones, "手机",
        {"手机", "手机号", "手机号码", "移动电话", "联系人手机", "mobile", "cell", "cellphone",
         "mobilephone", "mobileno", "mobilenumber"});
    add(Target::kPhones, "办公",
        {"座机", "固话", "固定电话", "办公电话", "公司电话", "单位电话", "工作电话", "座机号码",
         "officephone", "workphone", "businessphone", "officetel"});
    add(Target::kPhones, "家庭", {"家庭电话", "住宅电话", "家里电话", "homephone"});
    add(Target::kPhones, "传真", {"传真", "传真号码", "fax", "faxnumber"});
    add(Target::kPhones, "",
        {"电话", "联系电话", "电话号码", "联系方式", "联系号码", "联系人电话", "phone", "phones",
         "telephone", "tel", "phonenumber", "contactnumber"});
    add(Target::kEmails, "",
        {"邮箱", "电子邮件", "电子邮箱", "邮件", "邮箱地址", "邮件地址", "email", "mail",
         "emailaddress", "emails"});
    add(Target::kEmails, "工作", {"工作邮箱", "公司邮箱", "workemail"});
    add(Target::kEmails, "个人", {"个人邮箱", "私人邮箱", "personalemail"});
    add(Target::kCompany, "",
        {"公司", "单位", "公司名称", "单位名称", "工作单位", "所属公司", "企业名称", "企业", "机构",
         "company", "companyname", "organization", "organisation", "org", "account", "accountname",
         "employer"});
    add(Target::kTitle, "",
        {"职位", "职务", "头衔", "岗位", "title", "jobtitle", "position", "role"});
    add(Target::kGender, "", {"性别", "gender", "sex"});
    add(Target::kProvince, "",
        {"省份", "省", "所在省份", "所在省", "省直辖市", "province", "state"});
    add(Target::kCity, "", {"城市", "市", "所在城市", "所在地市", "地市", "city"});
    add(Target::kDistrict, "", {"区县", "区", "县", "所在区县", "district", "county"});
    add(Target::kAddress, "",
        {"地址", "详细地址", "联系地址", "通讯地址", "街道地址", "公司地址", "办公地址", "address",
         "street", "streetaddress", "mailingaddress"});
    add(Target::kSource, "",
        {"来源", "客户来源", "渠道", "来源渠道", "获客渠道", "source", "leadsource", "channel"});
    add(Target::kStage, "",
        {"阶段", "客户阶段", "客户状态", "生命周期", "状态", "stage", "status", "lifecyclestage"});
    add(Target::kTags, "", {"标签", "客户标签", "tags", "tag", "labels"});
    add(Target::kNotes, "",
        {"备注", "说明", "描述", "备注信息", "附注", "notes", "note", "remarks", "remark",
         "comment", "comments", "description", "memo"});
    add(Target::kIdNumber, "",
        {"身份证", "身份证号", "身份证号码", "证件号码", "居民身份证号", "idnumber", "idcard",
         "idcardnumber"});
    add(Target::kCreditCode, "",
        {"统一社会信用代码", "信用代码", "社会信用代码", "统一信用代码", "creditcode", "uscc"});
    add(Target::kOwner, "",
        {"负责人", "所属销售", "归属人", "客户经理", "跟进人", "销售", "业务员", "所有者", "owner",
         "salesrep", "accountowner", "ownername"});
    return d;
  }();
  return kDict;
}

}  // namespace

std::string TargetText(const ColumnMap& m) {
  if (m.target == Target::kCustom) return "custom." + m.custom;
  for (const auto& t : kTargetNames) {
    if (t.target == m.target) {
      std::string out = t.name;
      if ((m.target == Target::kPhones || m.target == Target::kEmails) && !m.label.empty()) {
        out += ":" + m.label;
      }
      return out;
    }
  }
  return "extra";
}

core::Result<ColumnMap> ParseTarget(std::string_view text,
                                    const std::vector<field::FieldDef>& fields,
                                    const std::string& field_name) {
  ColumnMap m;
  m.automatic = false;
  std::string t = core::Trim(text);
  if (t.empty()) t = "ignore";
  if (t.starts_with("custom.")) {
    std::string name = t.substr(7);
    bool known = std::any_of(fields.begin(), fields.end(),
                             [&](const field::FieldDef& f) { return f.name == name; });
    if (!known) {
      return std::unexpected(
          core::Error::InvalidField(field_name, "invalid_choice", "no custom field " + name));
    }
    m.target = Target::kCustom;
    m.custom = name;
    return m;
  }
  std::string base = t, label;
  if (auto colon = t.find(':'); colon != std::string::npos) {
    base = t.substr(0, colon);
    label = core::Trim(t.substr(colon + 1));
  }
  if (base == "phone") base = "phones";
  if (base == "email") base = "emails";
  for (const auto& tn : kTargetNames) {
    if (base == tn.name) {
      m.target = tn.target;
      if (!label.empty() && m.target != Target::kPhones && m.target != Target::kEmails) break;
      if (label.size() > 60) break;
      m.label = label;
      return m;
    }
  }
  return std::unexpected(core::Error::InvalidField(
      field_name, "invalid_choice",
      "unknown target " + t +
          " (code, name, phones[:label], emails[:label], company, title, gender, province, city, "
          "district, address, source, stage, tags, notes, id_number, credit_code, owner, "
          "custom.<field>, extra, ignore)"));
}

ColumnMap GuessColumn(int column, const std::string& header,
                      const std::vector<field::FieldDef>& fields) {
  ColumnMap m;
  m.column = column;
  m.header = header;
  m.automatic = true;
  const std::string key = HeaderKey(header);
  if (key.empty()) {
    m.target = Target::kExtra;
    return m;
  }
  // Custom fields first: an admin's label names exactly this column.
  for (const field::FieldDef& f : fields) {
    if (HeaderKey(f.label) == key || LowerAscii(f.name) == key) {
      m.target = Target::kCustom;
      m.custom = f.name;
      return m;
    }
  }
  const auto& dict = Dictionary();
  auto it = dict.find(key);
  if (it == dict.end()) {
    m.target = Target::kExtra;
    return m;
  }
  m.target = it->second.target;
  m.label = it->second.label;
  return m;
}

core::Result<Mapping> BuildMapping(const std::vector<std::string>& headers,
                                   const nlohmann::json& spec,
                                   const std::vector<field::FieldDef>& fields) {
  Mapping out;
  for (std::size_t i = 0; i < headers.size(); ++i) {
    out.push_back(GuessColumn(static_cast<int>(i), headers[i], fields));
  }
  if (spec.is_null()) return out;
  if (!spec.is_object()) {
    return std::unexpected(core::Error::InvalidField(
        "mapping", "wrong_type", "mapping must be an object {\"column\": \"field\"}"));
  }
  std::vector<core::FieldError> errs;
  // Entries by header first, then by position ("#N"), so a column's own choice wins over a
  // template's choice for its header.
  std::vector<std::pair<std::string, const nlohmann::json*>> entries;
  for (int positional = 0; positional < 2; ++positional) {
    for (const auto& [key, value] : spec.items()) {
      const bool is_pos = key.size() > 1 && key[0] == '#' &&
                          key.find_first_not_of("0123456789", 1) == std::string::npos;
      if (is_pos == (positional == 1)) entries.emplace_back(key, &value);
    }
  }
  for (const auto& [key, value_ptr] : entries) {
    const nlohmann::json& value = *value_ptr;
    const std::string f = "mapping." + key;
    if (!value.is_string()) {
      errs.push_back({f, "wrong_type", "must be a target such as name, phones:手机, ignore"});
      continue;
    }
    auto target = ParseTarget(value.get<std::string>(), fields, f);
    if (!target) {
      for (const auto& d : target.error().details()) errs.push_back(d);
      continue;
    }
    bool matched = false;
    if (key.size() > 1 && key[0] == '#' &&
        key.find_first_not_of("0123456789", 1) == std::string::npos) {
      std::size_t n = std::stoul(key.substr(1));
      if (n >= 1 && n <= out.size()) {
        ColumnMap& m = out[n - 1];
        m = ColumnMap{m.column, m.header, target->target, target->label, target->custom, false};
        matched = true;
      }
    } else {
      for (ColumnMap& m : out) {
        if (m.header == key || core::Trim(m.header) == core::Trim(key)) {
          m = ColumnMap{m.column, m.header, target->target, target->label, target->custom, false};
          matched = true;
        }
      }
    }
    if (!matched) errs.push_back({f, "unknown_field", "the file has no column " + key});
  }
  if (!errs.empty()) return std::unexpected(core::Error::InvalidFields(std::move(errs)));
  return out;
}

nlohmann::json MappingToSpec(const Mapping& m) {
  nlohmann::json j = nlohmann::json::object();
  std::map<std::string, int> seen;
  for (const ColumnMap& c : m) {
    if (++seen[c.header] > 1) {
      j["#" + std::to_string(c.column + 1)] = TargetText(c);
    } else {
      j[c.header] = TargetText(c);
    }
  }
  return j;
}

namespace {

// Splits on any of the given separators (ASCII characters or UTF-8 strings).
std::vector<std::string> SplitOn(std::string_view cell,
                                 std::initializer_list<std::string_view> seps) {
  std::vector<std::string> out;
  std::size_t start = 0, i = 0;
  auto flush = [&](std::size_t end) {
    std::string piece = core::Trim(cell.substr(start, end - start));
    if (!piece.empty()) out.push_back(std::move(piece));
  };
  while (i < cell.size()) {
    std::size_t len = 0;
    for (std::string_view s : seps) {
      if (cell.substr(i, s.size()) == s) {
        len = s.size();
        break;
      }
    }
    if (len) {
      flush(i);
      i += len;
      start = i;
    } else {
      ++i;
    }
  }
  flush(cell.size());
  return out;
}

std::string DigitsOf(std::string_view s) {
  std::string d;
  for (char c : s) {
    if (c >= '0' && c <= '9') d.push_back(c);
  }
  return d;
}

// A token that is a whole number on its own: an 11-digit mobile, a 0-prefixed fixed line of
// 10-12 digits, or an international number.
bool WholeNumber(std::string_view token) {
  std::string d = DigitsOf(token);
  bool only = std::all_of(token.begin(), token.end(), [](char c) {
    return (c >= '0' && c <= '9') || c == '-' || c == '(' || c == ')' || c == '+';
  });
  if (!only) return false;
  if (token.starts_with("+")) return d.size() >= 8;
  if (d.size() == 11 && d[0] == '1') return true;
  return d.size() >= 10 && d.size() <= 12 && d[0] == '0';
}

}  // namespace

std::vector<std::string> SplitPhones(std::string_view cell) {
  std::string half = core::ToHalfWidth(cell);
  std::vector<std::string> pieces =
      SplitOn(half, {"/", "\xe3\x80\x81", ";", ",", "|", "\n", "\r", "\\", " or ", "\xe6\x88\x96"});
  std::vector<std::string> out;
  for (std::string& p : pieces) {
    // "13800138000 13900139000": spaces between whole numbers.
    std::vector<std::string> tokens = SplitOn(p, {" ", "\t"});
    if (tokens.size() > 1 && std::all_of(tokens.begin(), tokens.end(), WholeNumber)) {
      for (auto& t : tokens) out.push_back(std::move(t));
      continue;
    }
    // "0335-3051234/8001": a short run of digits after a fixed line is its extension.
    std::string d = DigitsOf(p);
    const std::string prev = out.empty() ? "" : DigitsOf(out.back());
    const bool fixed_line =
        !out.empty() && (prev.starts_with("0") ||
                         (out.back().starts_with("+86") && prev.size() > 2 && prev[2] != '1'));
    if (!out.empty() && d.size() <= 5 && d.size() == p.size() && fixed_line &&
        out.back().find("\xe8\xbd\xac") == std::string::npos) {
      out.back() += " \xe8\xbd\xac " + p;  // 转
      continue;
    }
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<std::string> SplitEmails(std::string_view cell) {
  std::string half = core::ToHalfWidth(cell);
  return SplitOn(half, {";", ",", "\xe3\x80\x81", "/", " ", "\t", "\n", "\r"});
}

std::vector<std::string> SplitTags(std::string_view cell) {
  std::vector<std::string> parts =
      SplitOn(cell, {";", "\xef\xbc\x9b", ",", "\xef\xbc\x8c", "\xe3\x80\x81", "|", "\n", "\r"});
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (auto& p : parts) {
    if (seen.insert(p).second) out.push_back(std::move(p));
  }
  return out;
}

std::string NormalizeGender(std::string_view v) {
  std::string s = LowerAscii(core::Trim(core::ToHalfWidth(v)));
  static const std::map<std::string, std::string> kMap = {
      {"男", "male"},         {"男性", "male"},    {"先生", "male"},    {"m", "male"},
      {"male", "male"},       {"man", "male"},     {"女", "female"},    {"女性", "female"},
      {"女士", "female"},     {"小姐", "female"},  {"f", "female"},     {"female", "female"},
      {"woman", "female"},    {"未知", "unknown"}, {"保密", "unknown"}, {"不详", "unknown"},
      {"unknown", "unknown"}, {"", "unknown"},     {"-", "unknown"}};
  auto it = kMap.find(s);
  return it == kMap.end() ? std::string(core::Trim(v)) : it->second;
}

std::string NormalizeStage(std::string_view v) {
  std::string s = LowerAscii(core::Trim(core::ToHalfWidth(v)));
  static const std::map<std::string, std::string> kMap = {
      {"潜在", "potential"},      {"潜在客户", "potential"}, {"线索", "potential"},
      {"potential", "potential"}, {"lead", "potential"},     {"意向", "intent"},
      {"意向客户", "intent"},     {"intent", "intent"},      {"成交", "won"},
      {"已成交", "won"},          {"成交客户", "won"},       {"won", "won"},
      {"活跃", "active"},         {"活跃客户", "active"},    {"active", "active"},
      {"沉睡", "dormant"},        {"沉睡客户", "dormant"},   {"休眠", "dormant"},
      {"dormant", "dormant"},     {"流失", "churned"},       {"已流失", "churned"},
      {"流失客户", "churned"},    {"churned", "churned"},    {"", ""}};
  auto it = kMap.find(s);
  return it == kMap.end() ? std::string(core::Trim(v)) : it->second;
}

}  // namespace kehu::importer
