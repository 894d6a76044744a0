#include "export/table.h"

#include <algorithm>
#include <chrono>

#include "core/text.h"

namespace kehu::exports {
namespace {

using Kind = Cell::Kind;

constexpr int64_t kShanghaiOffsetMs = 8LL * 3600 * 1000;

struct Builtin {
  const char* zh;
  const char* en;
  double width;
  Kind kind;
};

// In the order of Cells().
constexpr Builtin kLeading[] = {
    {"客户编号", "Code", 14, Kind::kText}, {"姓名", "Name", 12, Kind::kText},
    {"性别", "Gender", 6, Kind::kText},    {"公司", "Company", 30, Kind::kText},
    {"职位", "Title", 14, Kind::kText},    {"手机", "Mobile", 18, Kind::kPhone},
    {"电话", "Phone", 24, Kind::kPhone},   {"邮箱", "Email", 28, Kind::kText},
    {"省份", "Province", 10, Kind::kText}, {"城市", "City", 10, Kind::kText},
    {"区县", "District", 10, Kind::kText}, {"地址", "Address", 36, Kind::kText},
    {"来源", "Source", 10, Kind::kText},   {"负责人", "Owner", 10, Kind::kText},
    {"阶段", "Stage", 8, Kind::kText},     {"备注", "Notes", 30, Kind::kText},
};
constexpr Builtin kTrailing[] = {
    {"创建时间", "Created at", 20, Kind::kTime},
    {"更新时间", "Updated at", 20, Kind::kTime},
};

const char* GenderText(const std::string& g, Lang lang) {
  if (g == "male") return lang == Lang::kZh ? "男" : "Male";
  if (g == "female") return lang == Lang::kZh ? "女" : "Female";
  return "";
}

const char* StageText(const std::string& s, Lang lang) {
  static constexpr const char* kZh[][2] = {{"potential", "潜在"}, {"intent", "意向"},
                                           {"won", "成交"},       {"active", "活跃"},
                                           {"dormant", "沉睡"},   {"churned", "流失"}};
  static constexpr const char* kEn[][2] = {
      {"potential", "Potential"}, {"intent", "Intent"},   {"won", "Won"},
      {"active", "Active"},       {"dormant", "Dormant"}, {"churned", "Churned"}};
  for (const auto& p : lang == Lang::kZh ? kZh : kEn) {
    if (s == p[0]) return p[1];
  }
  return "";
}

void SetText(Cell& cell, const std::string& v, Kind kind = Kind::kText) {
  if (v.empty()) {
    cell.kind = Kind::kEmpty;
    cell.text.clear();
    return;
  }
  cell.kind = kind;
  cell.text.assign(v);
}

// A number as people read it: the display form, else E.164, else what was typed.
const std::string& Shown(const customer::Phone& p) {
  if (!p.info.display.empty()) return p.info.display;
  if (!p.info.e164.empty()) return p.info.e164;
  return p.info.raw;
}

// A custom value as cell text: lists joined by "; ", numbers and booleans as JSON writes them.
void CustomCell(const nlohmann::json& v, field::Type type, Cell& cell) {
  cell.text.clear();
  if (v.is_null()) {
    cell.kind = Kind::kEmpty;
    return;
  }
  if (type == field::Type::kNumber && v.is_number()) {
    cell.kind = Kind::kNumber;
    cell.number = v.get<double>();
    cell.text = v.dump();
    return;
  }
  cell.kind = Kind::kText;
  if (v.is_string()) {
    cell.text = v.get<std::string>();
  } else if (v.is_array()) {
    for (const auto& item : v) {
      if (!cell.text.empty()) cell.text += "; ";
      cell.text += item.is_string() ? item.get<std::string>() : item.dump();
    }
  } else {
    cell.text = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  if (cell.text.empty()) cell.kind = Kind::kEmpty;
}

}  // namespace

void LocalTime(int64_t epoch_ms, char (&out)[19]) {
  using namespace std::chrono;
  const sys_seconds t{floor<seconds>(milliseconds{epoch_ms + kShanghaiOffsetMs})};
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  auto put = [&out](int at, int width, long long v) {
    for (int i = at + width - 1; i >= at; --i, v /= 10) out[i] = static_cast<char>('0' + v % 10);
  };
  put(0, 4, static_cast<int>(ymd.year()));
  out[4] = '-';
  put(5, 2, static_cast<unsigned>(ymd.month()));
  out[7] = '-';
  put(8, 2, static_cast<unsigned>(ymd.day()));
  out[10] = ' ';
  put(11, 2, hms.hours().count());
  out[13] = ':';
  put(14, 2, hms.minutes().count());
  out[16] = ':';
  put(17, 2, hms.seconds().count());
}

std::string LocalTime(int64_t epoch_ms) {
  char buf[19];
  LocalTime(epoch_ms, buf);
  return std::string(buf, sizeof buf);
}

CustomerTable::CustomerTable(Lang lang, std::vector<field::FieldDef> custom)
    : lang_(lang), custom_(std::move(custom)) {
  for (const Builtin& b : kLeading) {
    columns_.push_back({lang == Lang::kZh ? b.zh : b.en, b.width, b.kind});
  }
  for (const field::FieldDef& d : custom_) {
    const double width =
        std::clamp(static_cast<double>(core::Utf8Length(d.label)) * 2 + 2, 10.0, 30.0);
    columns_.push_back(
        {d.label, width, d.type == field::Type::kNumber ? Kind::kNumber : Kind::kText});
  }
  for (const Builtin& b : kTrailing) {
    columns_.push_back({lang == Lang::kZh ? b.zh : b.en, b.width, b.kind});
  }
}

void CustomerTable::Cells(const customer::Customer& c, std::vector<Cell>& out) const {
  out.resize(columns_.size());
  std::size_t i = 0;
  SetText(out[i++], c.code);
  SetText(out[i++], c.name);
  SetText(out[i++], GenderText(c.gender, lang_));
  SetText(out[i++], c.company);
  SetText(out[i++], c.title);
  Cell& mobile = out[i++];
  Cell& other = out[i++];
  mobile.text.clear();
  other.text.clear();
  for (const customer::Phone& p : c.phones) {
    std::string& to = p.info.type == "mobile" ? mobile.text : other.text;
    if (!to.empty()) to += "; ";
    to += Shown(p);
  }
  mobile.kind = mobile.text.empty() ? Kind::kEmpty : Kind::kPhone;
  other.kind = other.text.empty() ? Kind::kEmpty : Kind::kPhone;
  Cell& email = out[i++];
  email.text.clear();
  for (const customer::Email& e : c.emails) {
    if (!email.text.empty()) email.text += "; ";
    email.text += e.address;
  }
  email.kind = email.text.empty() ? Kind::kEmpty : Kind::kText;
  SetText(out[i++], c.province);
  SetText(out[i++], c.city);
  SetText(out[i++], c.district);
  SetText(out[i++], c.address);
  SetText(out[i++], c.source);
  SetText(out[i++], c.owner_id ? c.owner_name : std::string());
  SetText(out[i++], StageText(c.stage, lang_));
  SetText(out[i++], c.notes);
  for (const field::FieldDef& d : custom_) {
    auto it = c.custom.find(d.name);
    CustomCell(it == c.custom.end() ? nlohmann::json() : *it, d.type, out[i++]);
  }
  for (int64_t t : {c.created_at, c.updated_at}) {
    Cell& cell = out[i++];
    cell.kind = Kind::kTime;
    cell.time_ms = t;
    cell.text.clear();
  }
}

}  // namespace kehu::exports
