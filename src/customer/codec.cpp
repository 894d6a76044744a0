#include "customer/codec.h"

#include <map>
#include <set>
#include <utility>

#include "core/json_text.h"
#include "core/time.h"

namespace kehu::customer {
namespace {

using nlohmann::json;

const std::set<std::string>& TextFields() {
  static const std::set<std::string> k = {
      "code",     "name", "gender",   "company", "title",  "id_number", "credit_code",
      "province", "city", "district", "address", "source", "stage",     "notes"};
  return k;
}

json NullIfEmpty(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

}  // namespace

const std::optional<std::string>* TextMember(const CustomerInput& in, const std::string& k) {
  static const std::map<std::string, std::optional<std::string> CustomerInput::*> kMembers = {
      {"code", &CustomerInput::code},
      {"name", &CustomerInput::name},
      {"gender", &CustomerInput::gender},
      {"company", &CustomerInput::company},
      {"title", &CustomerInput::title},
      {"id_number", &CustomerInput::id_number},
      {"credit_code", &CustomerInput::credit_code},
      {"province", &CustomerInput::province},
      {"city", &CustomerInput::city},
      {"district", &CustomerInput::district},
      {"address", &CustomerInput::address},
      {"source", &CustomerInput::source},
      {"stage", &CustomerInput::stage},
      {"notes", &CustomerInput::notes}};
  auto it = kMembers.find(k);
  return it == kMembers.end() ? nullptr : &(in.*(it->second));
}

std::optional<std::string>* TextMember(CustomerInput& in, const std::string& k) {
  return const_cast<std::optional<std::string>*>(TextMember(std::as_const(in), k));
}

core::Result<CustomerInput> ParseInput(const json& body) {
  CustomerInput in;
  std::vector<core::FieldError> errs;
  auto wrong = [&](const std::string& f, const char* want) {
    errs.push_back({f, "wrong_type", std::string("must be ") + want});
  };
  for (const auto& [key, v] : body.items()) {
    if (TextFields().contains(key)) {
      if (v.is_null()) {
        *TextMember(in, key) = std::string();
      } else if (v.is_string()) {
        *TextMember(in, key) = v.get<std::string>();
      } else {
        wrong(key, "a string");
      }
    } else if (key == "owner_id") {
      if (v.is_null()) {
        in.owner_id = std::optional<int64_t>();
      } else if (v.is_number_integer()) {
        in.owner_id = std::optional<int64_t>(v.get<int64_t>());
      } else {
        wrong(key, "an integer user id");
      }
    } else if (key == "phones") {
      if (!v.is_array() && !v.is_null()) {
        wrong(key, "a list of {number, label, primary}");
        continue;
      }
      std::vector<PhoneInput> phones;
      for (std::size_t i = 0; v.is_array() && i < v.size(); ++i) {
        std::string f = "phones[" + std::to_string(i) + "]";
        const json& p = v[i];
        if (p.is_string()) {  // a bare number is accepted as {number}
          phones.push_back({p.get<std::string>(), "", false});
          continue;
        }
        if (!p.is_object()) {
          wrong(f, "an object {number, label, primary}");
          continue;
        }
        PhoneInput pi;
        for (const auto& [pk, pv] : p.items()) {
          if (pk == "number") {
            if (pv.is_string())
              pi.number = pv.get<std::string>();
            else
              wrong(f + ".number", "a string");
          } else if (pk == "label") {
            if (pv.is_string())
              pi.label = pv.get<std::string>();
            else if (!pv.is_null())
              wrong(f + ".label", "a string");
          } else if (pk == "primary") {
            if (pv.is_boolean())
              pi.primary = pv.get<bool>();
            else if (!pv.is_null())
              wrong(f + ".primary", "true or false");
          } else if (pk == "e164" || pk == "extension" || pk == "type" || pk == "region" ||
                     pk == "carrier" || pk == "display" || pk == "valid" || pk == "region_code") {
            // Computed members sent back from a GET are ignored (recomputed from number).
          } else {
            errs.push_back({f + "." + pk, "unknown_field", "unknown field " + pk});
          }
        }
        phones.push_back(std::move(pi));
      }
      in.phones = std::move(phones);
    } else if (key == "emails") {
      if (!v.is_array() && !v.is_null()) {
        wrong(key, "a list of {address, label}");
        continue;
      }
      std::vector<EmailInput> emails;
      for (std::size_t i = 0; v.is_array() && i < v.size(); ++i) {
        std::string f = "emails[" + std::to_string(i) + "]";
        const json& e = v[i];
        if (e.is_string()) {
          emails.push_back({e.get<std::string>(), ""});
          continue;
        }
        if (!e.is_object()) {
          wrong(f, "an object {address, label}");
          continue;
        }
        EmailInput ei;
        for (const auto& [ek, ev] : e.items()) {
          if (ek == "address") {
            if (ev.is_string())
              ei.address = ev.get<std::string>();
            else
              wrong(f + ".address", "a string");
          } else if (ek == "label") {
            if (ev.is_string())
              ei.label = ev.get<std::string>();
            else if (!ev.is_null())
              wrong(f + ".label", "a string");
          } else {
            errs.push_back({f + "." + ek, "unknown_field", "unknown field " + ek});
          }
        }
        emails.push_back(std::move(ei));
      }
      in.emails = std::move(emails);
    } else if (key == "tags") {
      if (v.is_null()) {
        in.tags = std::vector<std::string>();
      } else if (!v.is_array()) {
        wrong(key, "a list of strings");
      } else {
        std::vector<std::string> tags;
        for (std::size_t i = 0; i < v.size(); ++i) {
          if (v[i].is_string()) {
            tags.push_back(v[i].get<std::string>());
          } else {
            wrong("tags[" + std::to_string(i) + "]", "a string");
          }
        }
        in.tags = std::move(tags);
      }
    } else if (key == "quality_issues") {
      // [] or null: the open data-quality issues are dealt with. Anything else is the list
      // echoed back from a GET and is ignored (issues are raised by imports only).
      if (v.is_null() || (v.is_array() && v.empty())) {
        in.clear_quality_issues = true;
      } else if (!v.is_array()) {
        wrong(key, "[] (to clear the issues)");
      }
    } else if (key == "custom") {
      if (v.is_null()) {
        in.custom = json::object();
      } else if (v.is_object()) {
        in.custom = v;
      } else {
        wrong(key, "an object");
      }
    } else if (key == "id" || key == "version" || key == "created_at" || key == "created_by" ||
               key == "updated_at" || key == "updated_by" || key == "deleted_at" ||
               key == "owner_name" || key == "masked" || key == "merged_into") {
      // Read-only members echoed back from a GET are ignored.
    } else {
      errs.push_back({key, "unknown_field", "unknown field " + key});
    }
  }
  if (!errs.empty()) {
    return std::unexpected(core::Error::InvalidFields(std::move(errs)));
  }
  return in;
}

json PhoneToJson(const Phone& p) {
  const phone::PhoneInfo& i = p.info;
  return {{"number", i.raw},    {"label", p.label},         {"primary", p.primary},
          {"e164", i.e164},     {"extension", i.extension}, {"type", i.type},
          {"region", i.region}, {"carrier", i.carrier},     {"display", i.display},
          {"valid", i.valid}};
}

json QualityToJson(const QualityIssue& q) {
  return {{"field", q.field},
          {"code", q.code},
          {"message", q.message},
          {"raw", q.raw},
          {"column", NullIfEmpty(q.column)},
          {"at", core::FormatTime(q.at)}};
}

json ToJson(const Customer& c) {
  json issues = json::array();
  for (const QualityIssue& q : c.quality_issues) issues.push_back(QualityToJson(q));
  json phones = json::array();
  for (const Phone& p : c.phones) phones.push_back(PhoneToJson(p));
  json emails = json::array();
  for (const Email& e : c.emails) emails.push_back({{"address", e.address}, {"label", e.label}});
  json out = {{"id", c.id},
              {"code", NullIfEmpty(c.code)},
              {"name", c.name},
              {"gender", c.gender},
              {"company", NullIfEmpty(c.company)},
              {"title", NullIfEmpty(c.title)},
              {"phones", phones},
              {"emails", emails},
              {"id_number", NullIfEmpty(c.id_number)},
              {"credit_code", NullIfEmpty(c.credit_code)},
              {"province", NullIfEmpty(c.province)},
              {"city", NullIfEmpty(c.city)},
              {"district", NullIfEmpty(c.district)},
              {"address", NullIfEmpty(c.address)},
              {"source", NullIfEmpty(c.source)},
              {"owner_id", c.owner_id ? json(*c.owner_id) : json(nullptr)},
              {"owner_name", c.owner_id ? json(c.owner_name) : json(nullptr)},
              {"stage", c.stage},
              {"notes", NullIfEmpty(c.notes)},
              {"custom", c.custom},
              {"tags", c.tags},
              {"quality_issues", issues},
              {"created_by", c.created_by},
              {"created_at", core::FormatTime(c.created_at)},
              {"updated_by", c.updated_by},
              {"updated_at", core::FormatTime(c.updated_at)},
              {"version", c.version},
              {"deleted_at", c.deleted_at ? json(core::FormatTime(*c.deleted_at)) : json(nullptr)},
              {"masked", c.masked}};
  if (c.merged_into) out["merged_into"] = *c.merged_into;
  return out;
}

json LookupToJson(const LookupResult& r) {
  json items = json::array();
  for (const LookupHit& h : r.items) {
    items.push_back({{"id", h.id},
                     {"name", h.name},
                     {"company", NullIfEmpty(h.company)},
                     {"code", NullIfEmpty(h.code)},
                     {"owner_id", h.owner_id ? json(*h.owner_id) : json(nullptr)},
                     {"phone_label", h.phone_label}});
  }
  return {{"number",
           {{"e164", r.number.e164},
            {"extension", r.number.extension},
            {"display", r.number.display},
            {"valid", r.number.valid},
            {"region", r.number.region},
            {"type", r.number.type}}},
          {"items", items}};
}

std::string LookupToJsonText(const LookupResult& r) {
  using core::AppendJsonString;
  std::string out;
  out.reserve(256 + 160 * r.items.size());
  out += "{\"items\":[";
  for (std::size_t i = 0; i < r.items.size(); ++i) {
    const LookupHit& h = r.items[i];
    out += i ? ",{\"code\":" : "{\"code\":";
    core::AppendJsonStringOrNull(out, h.code);
    out += ",\"company\":";
    core::AppendJsonStringOrNull(out, h.company);
    out += ",\"id\":";
    core::AppendJsonInt(out, h.id);
    out += ",\"name\":";
    AppendJsonString(out, h.name);
    out += ",\"owner_id\":";
    if (h.owner_id) {
      core::AppendJsonInt(out, *h.owner_id);
    } else {
      out += "null";
    }
    out += ",\"phone_label\":";
    AppendJsonString(out, h.phone_label);
    out += '}';
  }
  out += "],\"number\":{\"display\":";
  AppendJsonString(out, r.number.display);
  out += ",\"e164\":";
  AppendJsonString(out, r.number.e164);
  out += ",\"extension\":";
  AppendJsonString(out, r.number.extension);
  out += ",\"region\":";
  AppendJsonString(out, r.number.region);
  out += ",\"type\":";
  AppendJsonString(out, r.number.type);
  out += r.number.valid ? ",\"valid\":true}}" : ",\"valid\":false}}";
  return out;
}

}  // namespace kehu::customer
