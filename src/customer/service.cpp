#include "customer/service.h"

#include "customer/mask.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <limits>
#include <set>
#include <system_error>

#include "core/text.h"
#include "core/time.h"
#include "core/validate.h"
#include "customer/codec.h"

namespace kehu::customer {
namespace {

using nlohmann::json;

constexpr const char* kPhonesCtx = "customer.phones";
constexpr const char* kEmailsCtx = "customer.emails";
constexpr const char* kIdNumberCtx = "customer.id_number";
constexpr const char* kAddressCtx = "customer.address";
constexpr const char* kQualityCtx = "customer.quality";
constexpr std::size_t kMaxContacts = 20;

template <std::size_t N>
bool OneOf(const std::string& v, const char* const (&set)[N]) {
  return std::find_if(std::begin(set), std::end(set), [&](const char* s) { return v == s; }) !=
         std::end(set);
}

std::string LowerAscii(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

std::string EscapeLike(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string EncodeCursor(SortKey k, const Customer& last) {
  json j = json::array({static_cast<int>(k), last.id});
  switch (k) {
    case SortKey::kCreatedAt:
      j.push_back(last.created_at);
      break;
    case SortKey::kUpdatedAt:
      j.push_back(last.updated_at);
      break;
    case SortKey::kName:
      j.push_back(core::PinyinKey(last.name));
      break;
    case SortKey::kCode:
      j.push_back(last.code);
      break;
  }
  std::string b64 = crypto::Base64Encode(j.dump());
  for (char& c : b64) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return b64;
}

core::Result<After> DecodeCursor(SortKey k, std::string text) {
  auto bad = [] { return std::unexpected(core::Error::BadRequest("invalid cursor")); };
  for (char& c : text) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (text.size() % 4) text.push_back('=');
  auto raw = crypto::Base64Decode(text);
  if (!raw) return bad();
  json j = json::parse(*raw, nullptr, false);
  if (!j.is_array() || j.size() != 3 || !j[0].is_number_integer() ||
      j[0].get<int>() != static_cast<int>(k) || !j[1].is_number_integer()) {
    return bad();
  }
  After a;
  a.id = j[1].get<int64_t>();
  if (k == SortKey::kName || k == SortKey::kCode) {
    if (!j[2].is_string()) return bad();
    a.text = j[2].get<std::string>();
  } else {
    if (!j[2].is_number_integer()) return bad();
    a.number = j[2].get<int64_t>();
  }
  return a;
}

// Whether a write sets the field a data-quality issue is about.
bool Touches(const CustomerInput& in, const std::string& field) {
  if (field.starts_with("custom.")) {
    return in.custom && in.custom->is_object() && in.custom->contains(field.substr(7));
  }
  if (const auto* text = TextMember(in, field)) return text->has_value();
  if (field == "phones") return in.phones.has_value();
  if (field == "emails") return in.emails.has_value();
  if (field == "tags") return in.tags.has_value();
  if (field == "owner_id") return in.owner_id.has_value();
  return false;
}

// Reads a stored phone or email list, as written by ToRow: a JSON array of flat objects whose
// members are strings without escapes or booleans. Every customer read decodes these, so this
// reads them straight into Items without a JSON tree; `set(item, key, value)` (value a
// string_view or a bool) returns false for a value of the wrong type. False, with `out` as it
// was, for any other text (escapes included): the caller then parses it as JSON.
template <typename Item, typename Set>
bool ReadFlatList(std::string_view t, std::vector<Item>& out, Set set) {
  const std::size_t before = out.size();
  std::size_t i = 0;
  auto fail = [&] {
    out.resize(before);
    return false;
  };
  auto ws = [&] {
    while (i < t.size() && (t[i] == ' ' || t[i] == '\n' || t[i] == '\r' || t[i] == '\t')) ++i;
  };
  auto is = [&](char c) {
    ws();
    if (i < t.size() && t[i] == c) {
      ++i;
      return true;
    }
    return false;
  };
  auto text = [&](std::string_view& v) {
    ws();
    if (i >= t.size() || t[i] != '"') return false;
    std::size_t end = i + 1;  // a loop, not find_first_of (one memchr call per character)
    while (end < t.size() && t[end] != '"' && t[end] != '\\') ++end;
    if (end == t.size() || t[end] != '"') return false;
    v = t.substr(i + 1, end - i - 1);
    i = end + 1;
    return true;
  };
  if (!is('[')) return fail();
  if (!is(']')) {
    do {
      if (!is('{')) return fail();
      out.emplace_back();
      if (!is('}')) {
        do {
          std::string_view k, v;
          if (!text(k) || !is(':')) return fail();
          ws();
          bool ok = false;
          if (i < t.size() && t[i] == '"') {
            ok = text(v) && set(out.back(), k, v);
          } else if (t.substr(i, 4) == "true") {
            i += 4;
            ok = set(out.back(), k, true);
          } else if (t.substr(i, 5) == "false") {
            i += 5;
            ok = set(out.back(), k, false);
          }
          if (!ok) return fail();
        } while (is(','));
        if (!is('}')) return fail();
      }
    } while (is(','));
    if (!is(']')) return fail();
  }
  ws();
  return i == t.size() ? true : fail();
}

// Assigns a string member; false for a boolean.
template <typename V>
bool SetText(std::string& member, V v) {
  if constexpr (std::is_same_v<V, std::string_view>) {
    member.assign(v);
    return true;
  } else {
    return false;
  }
}

template <typename V>
bool SetFlag(bool& member, V v) {
  if constexpr (std::is_same_v<V, bool>) {
    member = v;
    return true;
  } else {
    return false;
  }
}

}  // namespace

std::set<std::string> BuiltinFieldNames() {
  return {"id",       "code",       "name",       "gender",         "company",    "title",
          "phones",   "emails",     "id_number",  "credit_code",    "province",   "city",
          "district", "address",    "source",     "owner_id",       "owner_name", "stage",
          "notes",    "custom",     "created_by", "created_at",     "updated_by", "updated_at",
          "version",  "deleted_at", "tags",       "quality_issues", "masked"};
}

CustomerService::CustomerService(CustomerStore& store, field::FieldService& fields,
                                 user::UserService& users, access::AccessService& access,
                                 audit::AuditLog& audit, const phone::Normalizer& phones,
                                 const crypto::FieldCipher& cipher, const crypto::BlindIndex& bidx)
    : store_(store),
      fields_(fields),
      users_(users),
      access_(access),
      audit_(audit),
      phones_(phones),
      cipher_(cipher),
      bidx_(bidx) {}

core::Result<void> CustomerService::Apply(const core::Actor& actor, const CustomerInput& in,
                                          Customer& c, bool creating,
                                          std::vector<QualityIssue>* flag) {
  std::vector<core::FieldError> errs;
  // A bad value: an error (API writes), or kept raw and flagged (imports, when `flag`).
  auto bad = [&](std::string field, std::string code, std::string message, std::string raw,
                 int index = -1) {
    if (flag) {
      std::string base = field.substr(0, field.find('['));
      flag->push_back(QualityIssue{std::move(base), std::move(code), std::move(message),
                                   std::move(raw), "", 0, index});
    } else {
      errs.push_back({std::move(field), std::move(code), std::move(message)});
    }
  };
  // Plain text members: trimmed, length-checked (in characters).
  struct TextRule {
    const char* field;
    const std::optional<std::string>* value;
    std::string* target;
    std::size_t max;
  };
  const TextRule rules[] = {
      {"code", &in.code, &c.code, 64},
      {"name", &in.name, &c.name, 100},
      {"company", &in.company, &c.company, 200},
      {"title", &in.title, &c.title, 100},
      {"province", &in.province, &c.province, 50},
      {"city", &in.city, &c.city, 50},
      {"district", &in.district, &c.district, 50},
      {"address", &in.address, &c.address, 500},
      {"source", &in.source, &c.source, 50},
      {"notes", &in.notes, &c.notes, 10000},
  };
  for (const TextRule& r : rules) {
    if (!*r.value) continue;
    std::string v = core::Trim(**r.value);
    // The masked street address sent back unchanged keeps the stored one.
    if (r.target == &c.address && !creating && v == "****" && !c.address.empty()) continue;
    if (core::Utf8Length(v) > r.max) {
      bad(r.field, "too_long",
          std::string(r.field) + " has at most " + std::to_string(r.max) + " characters", v);
      continue;
    }
    *r.target = std::move(v);
  }
  if (c.name.empty()) errs.push_back({"name", "required", "name is required"});
  if (in.gender) {
    std::string g = in.gender->empty() ? "unknown" : *in.gender;
    if (!OneOf(g, kGenders)) {
      bad("gender", "invalid_choice", "gender is male, female or unknown", *in.gender);
    } else {
      c.gender = g;
    }
  }
  if (in.stage) {
    std::string s = in.stage->empty() ? "potential" : *in.stage;
    if (!OneOf(s, kStages)) {
      bad("stage", "invalid_choice",
          "stage is one of potential, intent, won, active, dormant, churned", *in.stage);
    } else {
      c.stage = s;
    }
  }
  if (in.id_number && !creating && !c.id_number.empty() &&
      core::Trim(*in.id_number) == MaskIdNumber(c.id_number)) {
    // sent back masked and unchanged: keep it
  } else if (in.id_number) {
    if (core::Trim(*in.id_number).empty()) {
      c.id_number.clear();
    } else if (auto v = core::NormalizeResidentId(*in.id_number, "id_number")) {
      c.id_number = *v;
    } else {
      for (const auto& d : v.error().details()) bad(d.field, d.code, d.message, *in.id_number);
    }
  }
  if (in.credit_code) {
    if (core::Trim(*in.credit_code).empty()) {
      c.credit_code.clear();
    } else if (auto v = core::NormalizeCreditCode(*in.credit_code, "credit_code")) {
      c.credit_code = *v;
    } else {
      for (const auto& d : v.error().details()) bad(d.field, d.code, d.message, *in.credit_code);
    }
  }
  if (in.phones) {
    if (in.phones->size() > kMaxContacts && !flag) {
      errs.push_back({"phones", "too_long", "at most 20 phone numbers"});
    } else {
      std::vector<Phone> phones;
      int primaries = 0;
      std::set<std::string> seen;
      for (std::size_t i = 0; i < in.phones->size(); ++i) {
        const PhoneInput& p = (*in.phones)[i];
        const int index = static_cast<int>(i);
        std::string f = "phones[" + std::to_string(i) + "]";
        if (core::Trim(p.number).empty()) {
          if (!flag) errs.push_back({f + ".number", "required", "the phone number is missing"});
          continue;
        }
        if (p.number.find('*') != std::string::npos) {
          // A masked number sent back unchanged keeps the stored number it stands for: the first
          // one with this mask not kept already (two numbers can share a mask: 138****8000).
          auto kept = std::find_if(c.phones.begin(), c.phones.end(), [&](const Phone& old) {
            return IsMaskOf(p.number, old.info) &&
                   !seen.contains(old.info.e164 + "#" + old.info.extension);
          });
          if (creating || kept == c.phones.end()) {
            bad(f + ".number", "masked",
                "this number is masked; reveal the customer's numbers to change it", p.number,
                index);
            continue;
          }
          std::string label = core::Trim(p.label);
          primaries += p.primary;
          seen.insert(kept->info.e164 + "#" + kept->info.extension);
          phones.push_back(Phone{label, p.primary, kept->info});
          continue;
        }
        auto info = phones_.Normalize(p.number, f + ".number");
        if (!info) {
          for (const auto& d : info.error().details()) {
            bad(d.field, d.code, d.message, p.number, index);
          }
          continue;
        }
        if (!seen.insert(info->e164 + "#" + info->extension).second) {
          // Imports: the same number twice in a row is one number (nothing is lost).
          if (!flag) errs.push_back({f + ".number", "duplicate", "this number is listed twice"});
          continue;
        }
        if (phones.size() >= kMaxContacts) {
          bad(f + ".number", "too_many", "a customer has at most 20 phone numbers", p.number,
              index);
          continue;
        }
        std::string label = core::Trim(p.label);
        if (core::Utf8Length(label) > 20) {
          bad(f + ".label", "too_long", "a label has at most 20 characters", p.number, index);
          if (flag) continue;
        }
        primaries += p.primary;
        phones.push_back(Phone{label, p.primary, std::move(*info)});
      }
      if (primaries > 1) {
        if (flag) {
          bool first = true;
          for (Phone& ph : phones) {
            if (ph.primary && !first) ph.primary = false;
            if (ph.primary) first = false;
          }
        } else {
          errs.push_back({"phones", "invalid_choice", "only one phone is primary"});
        }
      }
      if (primaries == 0 && !phones.empty()) phones.front().primary = true;
      c.phones = std::move(phones);
    }
  }
  if (in.emails) {
    if (in.emails->size() > kMaxContacts && !flag) {
      errs.push_back({"emails", "too_long", "at most 20 email addresses"});
    } else {
      std::vector<Email> emails;
      std::set<std::string> seen;
      for (std::size_t i = 0; i < in.emails->size(); ++i) {
        const EmailInput& e = (*in.emails)[i];
        const int index = static_cast<int>(i);
        std::string f = "emails[" + std::to_string(i) + "]";
        if (core::Trim(e.address).empty()) {
          if (!flag) errs.push_back({f + ".address", "required", "the address is missing"});
          continue;
        }
        if (e.address.find("***@") != std::string::npos) {
          auto kept = std::find_if(c.emails.begin(), c.emails.end(), [&](const Email& old) {
            return MaskEmail(old.address) == core::Trim(e.address) &&
                   !seen.contains(LowerAscii(old.address));
          });
          if (creating || kept == c.emails.end()) {
            bad(f + ".address", "masked",
                "this address is masked; reveal the customer's details to change it", e.address,
                index);
            continue;
          }
          seen.insert(LowerAscii(kept->address));
          emails.push_back(Email{kept->address, core::Trim(e.label)});
          continue;
        }
        auto addr = core::NormalizeEmail(e.address, f + ".address");
        if (!addr) {
          for (const auto& d : addr.error().details()) {
            bad(d.field, d.code, d.message, e.address, index);
          }
          continue;
        }
        if (!seen.insert(LowerAscii(*addr)).second) {
          if (!flag) errs.push_back({f + ".address", "duplicate", "this address is listed twice"});
          continue;
        }
        if (emails.size() >= kMaxContacts) {
          bad(f + ".address", "too_many", "a customer has at most 20 email addresses", e.address,
              index);
          continue;
        }
        std::string label = core::Trim(e.label);
        if (core::Utf8Length(label) > 20) {
          bad(f + ".label", "too_long", "a label has at most 20 characters", e.address, index);
          if (flag) continue;
        }
        emails.push_back(Email{*addr, label});
      }
      c.emails = std::move(emails);
    }
  }
  if (in.tags) {
    std::vector<std::string> tags;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < in.tags->size(); ++i) {
      std::string t = core::Trim((*in.tags)[i]);
      if (t.empty() || seen.contains(t)) continue;
      std::string f = "tags[" + std::to_string(i) + "]";
      if (core::Utf8Length(t) > kMaxTagLength) {
        bad(f, "too_long", "a tag has at most 30 characters", t);
        continue;
      }
      if (tags.size() >= kMaxTags) {
        bad(f, "too_many", "a customer has at most 50 tags", t);
        continue;
      }
      seen.insert(t);
      tags.push_back(std::move(t));
    }
    c.tags = std::move(tags);
  }
  if (in.owner_id) {
    const std::string raw = *in.owner_id ? std::to_string(**in.owner_id) : "";
    if (!*in.owner_id) {
      if (actor.scope != core::Scope::kAll) {
        bad("owner_id", "out_of_scope",
            "only users who see all customers may leave a customer without owner", raw);
      } else {
        c.owner_id.reset();
      }
    } else if (auto u = users_.Get(actor, **in.owner_id); !u) {
      bad("owner_id", "invalid_choice", "no user with this id", raw);
    } else if (!actor.InScope(u->id)) {
      bad("owner_id", "out_of_scope",
          "you may only give customers to yourself or, with team scope, to your team", raw);
    } else {
      c.owner_id = u->id;
      c.owner_name = u->display_name;
    }
  }
  if (creating && !c.owner_id && actor.user_id != 0 && (!in.owner_id || flag)) {
    c.owner_id = actor.user_id;
    c.owner_name = actor.display_name;
  }
  // Custom values: validated as a whole (required fields are checked on every write). An
  // import keeps a bad value flagged and validates the rest again; a required field that is
  // missing cannot be flagged.
  json custom = in.custom ? *in.custom : c.custom;
  for (int pass = 0; pass < 3; ++pass) {
    auto checked = fields_.Validate("customer", custom);
    if (checked) {
      c.custom = std::move(*checked);
      break;
    }
    bool dropped = false, fatal = false;
    for (const auto& d : checked.error().details()) {
      auto it = d.field.starts_with("custom.") ? custom.find(d.field.substr(7)) : custom.end();
      if (!flag || d.code == "required" || it == custom.end()) {
        errs.push_back(d);
        fatal = true;
        continue;
      }
      bad(d.field, d.code, d.message, it->is_string() ? it->get<std::string>() : it->dump());
      custom.erase(it);
      dropped = true;
    }
    if (fatal || !dropped) break;
  }
  if (!errs.empty()) {
    return std::unexpected(core::Error::InvalidFields(std::move(errs)));
  }
  if (!creating && !flag) {
    // An edit of a field settles its data-quality issues; `quality_issues: []` all of them.
    if (in.clear_quality_issues) {
      c.quality_issues.clear();
    } else {
      std::erase_if(c.quality_issues, [&](const QualityIssue& q) { return Touches(in, q.field); });
    }
  }
  return core::Ok();
}

Row CustomerService::ToRow(const Customer& c) const {
  Row r;
  r.id = c.id;
  r.code = c.code;
  r.name = c.name;
  r.name_key = core::PinyinKey(c.name);
  r.gender = c.gender;
  r.company = c.company;
  r.title = c.title;
  json phones = json::array();
  for (const Phone& p : c.phones) {
    json j = PhoneToJson(p);
    j["region_code"] = p.info.region_code;
    phones.push_back(std::move(j));
  }
  r.phones_enc = c.phones.empty() ? "" : cipher_.Encrypt(phones.dump(), kPhonesCtx);
  json emails = json::array();
  for (const Email& e : c.emails) emails.push_back({{"address", e.address}, {"label", e.label}});
  r.emails_enc = c.emails.empty() ? "" : cipher_.Encrypt(emails.dump(), kEmailsCtx);
  r.id_number_enc = c.id_number.empty() ? "" : cipher_.Encrypt(c.id_number, kIdNumberCtx);
  r.id_number_bidx = c.id_number.empty() ? "" : bidx_.Compute("id_number", c.id_number);
  r.credit_code = c.credit_code;
  r.province = c.province;
  r.city = c.city;
  r.district = c.district;
  r.address_enc = c.address.empty() ? "" : cipher_.Encrypt(c.address, kAddressCtx);
  r.source = c.source;
  r.owner_id = c.owner_id;
  r.stage = c.stage;
  r.notes = c.notes;
  r.custom_json = c.custom.dump();
  r.tags_json = json(c.tags).dump();
  json issues = json::array();
  for (const QualityIssue& q : c.quality_issues) {
    issues.push_back({{"field", q.field},
                      {"code", q.code},
                      {"message", q.message},
                      {"raw", q.raw},
                      {"column", q.column},
                      {"at", q.at}});
  }
  r.quality_enc = c.quality_issues.empty() ? "" : cipher_.Encrypt(issues.dump(), kQualityCtx);
  r.quality_open = static_cast<int64_t>(c.quality_issues.size());
  r.created_by = c.created_by;
  r.created_at = c.created_at;
  r.updated_by = c.updated_by;
  r.updated_at = c.updated_at;
  r.version = c.version;
  return r;
}

std::vector<IndexEntry> CustomerService::IndexOf(const Customer& c) const {
  std::vector<IndexEntry> out;
  for (const Phone& p : c.phones) {
    const std::string& e = p.info.e164;
    out.push_back(
        {"phone", bidx_.Compute("phone", e), e.size() >= 4 ? e.substr(e.size() - 4) : e, p.label});
  }
  for (const Email& e : c.emails) {
    out.push_back({"email", bidx_.Compute("email", LowerAscii(e.address)), "", e.label});
  }
  return out;
}

core::Result<Customer> CustomerService::FromRow(const Row& r) const {
  Customer c;
  c.id = r.id;
  c.code = r.code;
  c.name = r.name;
  c.gender = r.gender;
  c.company = r.company;
  c.title = r.title;
  if (!r.phones_enc.empty()) {
    auto plain = cipher_.Decrypt(r.phones_enc, kPhonesCtx);
    if (!plain) return std::unexpected(plain.error());
    auto set_phone = [](Phone& p, std::string_view k, auto v) {
      if (k == "label") return SetText(p.label, v);
      if (k == "primary") return SetFlag(p.primary, v);
      if (k == "number") return SetText(p.info.raw, v);
      if (k == "e164") return SetText(p.info.e164, v);
      if (k == "extension") return SetText(p.info.extension, v);
      if (k == "type") return SetText(p.info.type, v);
      if (k == "region") return SetText(p.info.region, v);
      if (k == "region_code") return SetText(p.info.region_code, v);
      if (k == "carrier") return SetText(p.info.carrier, v);
      if (k == "display") return SetText(p.info.display, v);
      if (k == "valid") return SetFlag(p.info.valid, v);
      return true;  // other members are ignored
    };
    struct NewPhone : Phone {
      NewPhone() { info.type = "unknown"; }
    };
    std::vector<NewPhone> read;
    if (ReadFlatList(*plain, read, set_phone)) {
      c.phones.assign(std::make_move_iterator(read.begin()), std::make_move_iterator(read.end()));
    } else {
      for (const json& j : json::parse(*plain, nullptr, false)) {
        Phone p;
        p.label = j.value("label", "");
        p.primary = j.value("primary", false);
        p.info.raw = j.value("number", "");
        p.info.e164 = j.value("e164", "");
        p.info.extension = j.value("extension", "");
        p.info.type = j.value("type", "unknown");
        p.info.region = j.value("region", "");
        p.info.region_code = j.value("region_code", "");
        p.info.carrier = j.value("carrier", "");
        p.info.display = j.value("display", "");
        p.info.valid = j.value("valid", false);
        c.phones.push_back(std::move(p));
      }
    }
  }
  if (!r.emails_enc.empty()) {
    auto plain = cipher_.Decrypt(r.emails_enc, kEmailsCtx);
    if (!plain) return std::unexpected(plain.error());
    auto set_email = [](Email& e, std::string_view k, auto v) {
      if (k == "address") return SetText(e.address, v);
      if (k == "label") return SetText(e.label, v);
      return true;
    };
    if (!ReadFlatList(*plain, c.emails, set_email)) {
      for (const json& j : json::parse(*plain, nullptr, false)) {
        c.emails.push_back(Email{j.value("address", ""), j.value("label", "")});
      }
    }
  }
  if (!r.id_number_enc.empty()) {
    auto plain = cipher_.Decrypt(r.id_number_enc, kIdNumberCtx);
    if (!plain) return std::unexpected(plain.error());
    c.id_number = *plain;
  }
  if (!r.address_enc.empty()) {
    auto plain = cipher_.Decrypt(r.address_enc, kAddressCtx);
    if (!plain) return std::unexpected(plain.error());
    c.address = *plain;
  }
  c.credit_code = r.credit_code;
  c.province = r.province;
  c.city = r.city;
  c.district = r.district;
  c.source = r.source;
  c.owner_id = r.owner_id;
  c.owner_name = r.owner_name;
  c.stage = r.stage;
  c.notes = r.notes;
  c.custom = fields_.Visible("customer", json::parse(r.custom_json, nullptr, false));
  for (const json& t : json::parse(r.tags_json, nullptr, false)) {
    if (t.is_string()) c.tags.push_back(t.get<std::string>());
  }
  if (!r.quality_enc.empty()) {
    auto plain = cipher_.Decrypt(r.quality_enc, kQualityCtx);
    if (!plain) return std::unexpected(plain.error());
    for (const json& j : json::parse(*plain, nullptr, false)) {
      if (!j.is_object()) continue;
      c.quality_issues.push_back(QualityIssue{j.value("field", ""), j.value("code", ""),
                                              j.value("message", ""), j.value("raw", ""),
                                              j.value("column", ""), j.value("at", int64_t{0})});
    }
  }
  c.created_by = r.created_by;
  c.created_at = r.created_at;
  c.updated_by = r.updated_by;
  c.updated_at = r.updated_at;
  c.version = r.version;
  c.deleted_at = r.deleted_at;
  return c;
}

namespace {

// Names of the fields whose values differ (never the values: they may be personal data).
std::vector<std::string> ChangedFields(const Customer& a, const Customer& b) {
  std::vector<std::string> out;
  auto diff = [&](const char* name, bool changed) {
    if (changed) out.emplace_back(name);
  };
  diff("code", a.code != b.code);
  diff("name", a.name != b.name);
  diff("gender", a.gender != b.gender);
  diff("company", a.company != b.company);
  diff("title", a.title != b.title);
  auto phone_key = [](const Customer& c) {
    std::string k;
    for (const Phone& p : c.phones)
      k += p.info.e164 + "#" + p.info.extension + "|" + p.label + "|" + (p.primary ? "1" : "0") +
           ";";
    return k;
  };
  diff("phones", phone_key(a) != phone_key(b));
  auto email_key = [](const Customer& c) {
    std::string k;
    for (const Email& e : c.emails) k += e.address + "|" + e.label + ";";
    return k;
  };
  diff("emails", email_key(a) != email_key(b));
  diff("id_number", a.id_number != b.id_number);
  diff("credit_code", a.credit_code != b.credit_code);
  diff("province", a.province != b.province);
  diff("city", a.city != b.city);
  diff("district", a.district != b.district);
  diff("address", a.address != b.address);
  diff("source", a.source != b.source);
  diff("owner_id", a.owner_id != b.owner_id);
  diff("stage", a.stage != b.stage);
  diff("notes", a.notes != b.notes);
  diff("custom", a.custom != b.custom);
  diff("tags", a.tags != b.tags);
  diff("quality_issues", a.quality_issues.size() != b.quality_issues.size());
  return out;
}

core::Result<void> Need(const core::Actor& actor, core::Perm p, const char* what) {
  if (actor.Can(p)) return core::Ok();
  return std::unexpected(
      core::Error::Forbidden(std::string(what) + " needs " + std::string(core::PermName(p))));
}

core::Error NoCustomer(int64_t id) {
  return core::Error::NotFound("no customer " + std::to_string(id));
}

}  // namespace

void CustomerService::Audit(const core::Actor& actor, const char* action, int64_t id,
                            nlohmann::json details) {
  auto r = audit_.Record(actor, {action, "customer", std::to_string(id), std::move(details)});
  if (!r)
    spdlog::error("audit trail: cannot record {} of customer {}: {}", action, id,
                  r.error().message());
}

core::Result<Customer> CustomerService::Load(const core::Actor& actor, int64_t id) {
  auto row = store_.Get(id, false);
  if (!row) return std::unexpected(row.error());
  if (!*row || !actor.InScope((*row)->owner_id)) return std::unexpected(NoCustomer(id));
  return FromRow(**row);
}

core::Result<Customer> CustomerService::Create(const core::Actor& actor, const CustomerInput& in,
                                               const WriteOptions& options) {
  if (auto ok = Need(actor, core::Perm::kCustomerCreate, "adding customers"); !ok) {
    return std::unexpected(ok.error());
  }
  Customer c;
  if (auto ok = Apply(actor, in, c, true); !ok) return std::unexpected(ok.error());
  const bool check = options.duplicates == DuplicatePolicy::kCheck && duplicate_hook_;
  int64_t now = core::NowMs();
  c.created_by = c.updated_by = actor.user_id;
  c.created_at = c.updated_at = now;
  c.version = 1;
  // The audit entry commits with the customer, in the same transaction.
  auto audit = audit_.Within(actor, {"customer.create", "customer", "",
                                     options.duplicates == DuplicatePolicy::kConfirmed
                                         ? json{{"duplicate_confirmed", true}}
                                         : json::object()});
  if (!audit) return std::unexpected(audit.error());
  const Row row = ToRow(c);
  const std::vector<IndexEntry> index = IndexOf(c);
  if (check) {
    // Inserted only if no live customer holds one of its contact points, checked in the
    // write transaction itself (so two creates of one number cannot both pass). When one is
    // held, the duplicate check decides: a 409 naming the holders, or (the same number with
    // another extension) no duplicate after all.
    auto id = store_.InsertIfFree(row, index, KeysOf(c, nullptr).keys, *audit);
    if (!id) return std::unexpected(id.error());
    if (*id) {
      c.id = **id;
      MaskCustomer(c);
      return c;
    }
    if (auto ok = duplicate_hook_->CheckDuplicates(actor, c, nullptr); !ok) {
      return std::unexpected(ok.error());
    }
  }
  auto id = store_.Insert(row, index, *audit);
  if (!id) return std::unexpected(id.error());
  c.id = *id;
  MaskCustomer(c);
  return c;
}

core::Result<Customer> CustomerService::Get(const core::Actor& actor, int64_t id) {
  if (auto ok = Need(actor, core::Perm::kCustomerRead, "reading customers"); !ok) {
    return std::unexpected(ok.error());
  }
  auto c = Load(actor, id);
  if (c) MaskCustomer(*c);
  if (!c && c.error().code() == core::Code::kNotFound && merge_hook_) {
    // A customer merged into another: say where it went (when the actor may see it).
    auto row = store_.Get(id, true);
    if (row && *row && (*row)->deleted_at && actor.InScope((*row)->owner_id)) {
      if (auto into = merge_hook_->MergedInto(id)) {
        core::Error e = core::Error::NotFound("customer " + std::to_string(id) +
                                              " was merged into customer " + std::to_string(*into));
        e.WithExtensions(std::make_shared<const json>(json{{"merged_into", *into}}));
        return std::unexpected(std::move(e));
      }
    }
  }
  return c;
}

core::Result<CustomerService::Revealed> CustomerService::Reveal(const core::Actor& actor,
                                                                int64_t id) {
  if (auto ok = Need(actor, core::Perm::kCustomerRead, "reading customers"); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = Need(actor, core::Perm::kPhoneReveal, "revealing numbers"); !ok) {
    return std::unexpected(ok.error());
  }
  auto c = Load(actor, id);
  if (!c) return std::unexpected(c.error());
  auto charge = access_.ChargeReveal(actor);
  if (!charge) {
    if (charge.error().code() == core::Code::kRateLimited) {
      Audit(actor, "customer.reveal_refused", id, {{"reason", "daily quota used up"}});
    }
    return std::unexpected(charge.error());
  }
  Audit(actor, "customer.reveal", id, {{"reveals_today", charge->used}, {"quota", charge->quota}});
  if (charge->quota_now_reached) {
    // Admins see alert.* entries on their dashboard.
    auto r = audit_.Record(
        actor,
        {"alert.reveal_quota", "user", std::to_string(actor.user_id), {{"quota", charge->quota}}});
    if (!r) spdlog::error("audit trail: cannot record a quota alert: {}", r.error().message());
    spdlog::warn("user {} used up the daily reveal quota of {}", actor.username, charge->quota);
  }
  return Revealed{std::move(*c), *charge};
}

core::Result<Customer> CustomerService::Update(const core::Actor& actor, int64_t id,
                                               int64_t expected_version, const CustomerInput& in,
                                               const WriteOptions& options) {
  if (auto ok = Need(actor, core::Perm::kCustomerUpdate, "changing customers"); !ok) {
    return std::unexpected(ok.error());
  }
  auto current = Load(actor, id);
  if (!current) return std::unexpected(current.error());
  if (current->version != expected_version) {
    return std::unexpected(core::Error(
        core::Code::kPreconditionFailed,
        "customer " + std::to_string(id) + " is at version " + std::to_string(current->version) +
            ", not " + std::to_string(expected_version) + "; reload and apply your change again"));
  }
  Customer c = *current;
  if (auto ok = Apply(actor, in, c, false); !ok) return std::unexpected(ok.error());
  c.updated_by = actor.user_id;
  c.updated_at = core::NowMs();
  const Row row = ToRow(c);
  const std::vector<IndexEntry> index = IndexOf(c);
  // The audit entry commits with the change, in the same transaction.
  json details = {{"fields", ChangedFields(*current, c)}};
  if (options.duplicates == DuplicatePolicy::kConfirmed) details["duplicate_confirmed"] = true;
  auto audit =
      audit_.Within(actor, {"customer.update", "customer", std::to_string(id), std::move(details)});
  if (!audit) return std::unexpected(audit.error());
  std::optional<core::Result<UpdateOutcome>> outcome;
  if (options.duplicates == DuplicatePolicy::kCheck && duplicate_hook_) {
    // As on create: the contact points the edit adds are looked up in the write transaction
    // itself, so an edit and a create (or two edits) adding one number cannot both pass; only
    // when one is held does the full duplicate check decide.
    const auto added = KeysOf(c, &*current).keys;
    if (!added.empty()) {
      auto guarded = store_.UpdateIfFree(row, expected_version, index, added, *audit);
      if (!guarded) return std::unexpected(guarded.error());
      if (*guarded) {
        outcome = **guarded;
      } else if (auto ok = duplicate_hook_->CheckDuplicates(actor, c, &*current); !ok) {
        return std::unexpected(ok.error());
      }
    }
  }
  if (!outcome) outcome = store_.Update(row, expected_version, index, *audit);
  if (!*outcome) return std::unexpected(outcome->error());
  switch (**outcome) {
    case UpdateOutcome::kNotFound:
      return std::unexpected(core::Error::NotFound("no customer " + std::to_string(id)));
    case UpdateOutcome::kStale:
      return std::unexpected(core::Error(
          core::Code::kPreconditionFailed,
          "customer " + std::to_string(id) + " was changed meanwhile; reload and try again"));
    case UpdateOutcome::kOk:
      break;
  }
  c.version = expected_version + 1;
  MaskCustomer(c);
  return c;
}

core::Result<void> CustomerService::Delete(const core::Actor& actor, int64_t id) {
  if (auto ok = Need(actor, core::Perm::kCustomerDelete, "deleting customers"); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto c = Load(actor, id); !c) return std::unexpected(c.error());
  auto audit = audit_.Within(actor, {"customer.delete", "customer", std::to_string(id), {}});
  if (!audit) return std::unexpected(audit.error());
  auto done = store_.SetDeleted(id, true, actor.user_id, core::NowMs(), *audit);
  if (!done) return std::unexpected(done.error());
  if (!*done) return std::unexpected(core::Error::NotFound("no customer " + std::to_string(id)));
  return core::Ok();
}

core::Result<Customer> CustomerService::Restore(const core::Actor& actor, int64_t id) {
  if (auto ok = Need(actor, core::Perm::kCustomerDelete, "restoring customers"); !ok) {
    return std::unexpected(ok.error());
  }
  auto row = store_.Get(id, true);
  if (!row) return std::unexpected(row.error());
  if (*row && !actor.InScope((*row)->owner_id)) {
    return std::unexpected(
        core::Error::NotFound("customer " + std::to_string(id) + " is not in the recycle bin"));
  }
  if (*row && merge_hook_) {
    if (auto into = merge_hook_->MergedInto(id)) {
      return std::unexpected(core::Error::Conflict(
          "customer " + std::to_string(id) + " was merged into customer " + std::to_string(*into) +
          "; undo that merge (合并记录) to get it back"));
    }
  }
  auto audit = audit_.Within(actor, {"customer.restore", "customer", std::to_string(id), {}});
  if (!audit) return std::unexpected(audit.error());
  auto done = store_.SetDeleted(id, false, actor.user_id, core::NowMs(), *audit);
  if (!done) return std::unexpected(done.error());
  if (!*done) {
    return std::unexpected(
        core::Error::NotFound("customer " + std::to_string(id) + " is not in the recycle bin"));
  }
  return Get(actor, id);
}

core::Result<CustomerService::Prepared> CustomerService::Prepare(const core::Actor& actor,
                                                                 const ListQuery& query) const {
  Prepared p;
  ListQuery& q = p.q;
  q = query;
  q.scoped = actor.scope != core::Scope::kAll;
  q.owner_in = q.scoped ? actor.scope_user_ids : std::vector<int64_t>{};
  if (!q.cursor.empty()) {
    auto a = DecodeCursor(q.sort, q.cursor);
    if (!a) return std::unexpected(a.error());
    p.after = *a;
  }
  Search& s = p.s;
  std::string term = core::Trim(core::ToHalfWidth(q.q));
  if (!term.empty()) {
    if (core::Utf8Length(term) > 100) {
      return std::unexpected(core::Error::BadRequest("the search text has over 100 characters"));
    }
    s.like = "%" + EscapeLike(term) + "%";
    std::string digits;
    bool phone_like = true;
    for (char ch : term) {
      if (ch >= '0' && ch <= '9') {
        digits.push_back(ch);
      } else if (!std::string_view(" -+().").contains(ch)) {
        phone_like = false;
      }
    }
    if (phone_like && digits.size() == 4) s.last4 = digits;
    if (phone_like && digits.size() >= 7) {
      if (auto ph = phones_.Parse(term)) s.phone_bidx = bidx_.ComputeAll("phone", ph->e164);
    }
    if (term.find('@') != std::string::npos) {
      if (auto e = core::NormalizeEmail(term))
        s.email_bidx = bidx_.ComputeAll("email", LowerAscii(*e));
    }
    // Latin letters may be pinyin: "zhang wei" / "zhangw" find 张伟 through the name key.
    bool latin = std::all_of(term.begin(), term.end(),
                             [](unsigned char ch) { return std::isalpha(ch) || ch == ' '; });
    if (latin) s.key_like = "%" + EscapeLike(core::PinyinKey(term)) + "%";
  }
  return p;
}

core::Result<Page> CustomerService::List(const core::Actor& actor, const ListQuery& query) {
  if (auto ok = Need(actor, core::Perm::kCustomerRead, "listing customers"); !ok) {
    return std::unexpected(ok.error());
  }
  auto p = Prepare(actor, query);
  if (!p) return std::unexpected(p.error());
  int limit = std::clamp(p->q.limit, 1, 200);
  auto rows = store_.List(p->q, p->s, p->after, limit + 1);
  if (!rows) return std::unexpected(rows.error());
  Page page;
  for (std::size_t i = 0; i < rows->size() && i < static_cast<std::size_t>(limit); ++i) {
    auto c = FromRow((*rows)[i]);
    if (!c) return std::unexpected(c.error());
    MaskCustomer(*c);
    page.items.push_back(std::move(*c));
  }
  if (p->q.deleted && merge_hook_ && !page.items.empty()) {
    // The recycle bin says which customers went there by a merge (restoring those is refused:
    // the merge is undone instead).
    std::vector<int64_t> ids;
    for (const Customer& c : page.items) ids.push_back(c.id);
    const std::map<int64_t, int64_t> into = merge_hook_->MergedIntoMany(ids);
    for (Customer& c : page.items) {
      if (auto it = into.find(c.id); it != into.end()) c.merged_into = it->second;
    }
  }
  if (rows->size() > static_cast<std::size_t>(limit)) {
    page.next_cursor = EncodeCursor(p->q.sort, page.items.back());
  }
  return page;
}

core::Result<int64_t> CustomerService::Count(const core::Actor& actor, const ListQuery& query) {
  if (auto ok = Need(actor, core::Perm::kCustomerRead, "counting customers"); !ok) {
    return std::unexpected(ok.error());
  }
  auto p = Prepare(actor, query);
  if (!p) return std::unexpected(p.error());
  return store_.Count(p->q, p->s);
}

core::Result<int64_t> CustomerService::Scan(const core::Actor& actor, const ListQuery& query,
                                            const ScanOptions& o, const ScanSink& sink) {
  if (auto ok = Need(actor, core::Perm::kCustomerRead, "exporting customers"); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = Need(actor, core::Perm::kCustomerExport, "exporting customers"); !ok) {
    return std::unexpected(ok.error());
  }
  if (o.clear) {
    if (auto ok = Need(actor, core::Perm::kPhoneReveal, "exporting clear values"); !ok) {
      return std::unexpected(ok.error());
    }
  }
  ListQuery unpaged = query;
  unpaged.cursor.clear();
  auto p = Prepare(actor, unpaged);
  if (!p) return std::unexpected(p.error());
  const int batch = std::clamp(o.batch, 1, 1000);
  const int64_t max_rows = o.max_rows.value_or(std::numeric_limits<int64_t>::max());
  // The position after a page's last row, from the stored sort key (no recomputation).
  const SortKey sort = p->q.sort;
  auto after_of = [sort](const Row& r) {
    After a;
    a.id = r.id;
    switch (sort) {
      case SortKey::kCreatedAt:
        a.number = r.created_at;
        break;
      case SortKey::kUpdatedAt:
        a.number = r.updated_at;
        break;
      case SortKey::kName:
        a.text = r.name_key;
        break;
      case SortKey::kCode:
        a.text = r.code;
        break;
    }
    return a;
  };
  // Decodes rows [from, to) of a page into `out`.
  auto decode = [this, clear = o.clear](const std::vector<Row>& rows, std::size_t from,
                                        std::size_t to,
                                        std::vector<Customer>& out) -> core::Result<void> {
    for (std::size_t i = from; i < to; ++i) {
      auto c = FromRow(rows[i]);
      if (!c) return std::unexpected(c.error());
      if (!clear) MaskCustomer(*c);
      out.push_back(std::move(*c));
    }
    return core::Ok();
  };
  // One page as read on the helper thread, with the first `head` rows already decoded there.
  struct Fetched {
    core::Result<std::vector<Row>> rows = std::vector<Row>{};
    std::vector<Customer> head;
    core::Result<void> decoded = core::Ok();
  };
  auto fetch = [this, p = *p, batch, decode](std::optional<After> after, double share) {
    Fetched f;
    f.rows = store_.List(p.q, p.s, after, batch);
    if (f.rows) {
      const auto n = static_cast<std::size_t>(share * static_cast<double>(f.rows->size()));
      f.head.reserve(f.rows->size());
      f.decoded = decode(*f.rows, 0, n, f.head);
    }
    return f;
  };
  // Both cores work: the helper reads the next page and decodes the first part of it while
  // this thread decodes the rest of the current page and hands it over. The helper's share
  // adapts to keep either from waiting on the other.
  double share = 0.3;
  Fetched cur = fetch(std::nullopt, 0);
  int64_t handed = 0;
  while (true) {
    if (!cur.rows) return std::unexpected(cur.rows.error());
    if (!cur.decoded) return std::unexpected(cur.decoded.error());
    const std::vector<Row>& rows = *cur.rows;
    if (rows.empty()) break;
    const bool last = rows.size() < static_cast<std::size_t>(batch) ||
                      handed + static_cast<int64_t>(rows.size()) >= max_rows;
    std::future<Fetched> next;
    std::optional<After> later;  // no thread to be had: read the next page afterwards
    if (!last) {
      try {
        next = std::async(std::launch::async, fetch, after_of(rows.back()), share);
      } catch (const std::system_error&) {
        later = after_of(rows.back());
      }
    }
    std::vector<Customer>& customers = cur.head;
    const std::size_t take = static_cast<std::size_t>(
        std::min<int64_t>(static_cast<int64_t>(rows.size()), max_rows - handed));
    customers.resize(std::min(customers.size(), take));
    auto done = decode(rows, customers.size(), take, customers);
    const bool go_on = done && sink(customers);
    handed += static_cast<int64_t>(customers.size());
    if (next.valid()) {
      const bool helper_done = next.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
      share = std::clamp(share + (helper_done ? 0.05 : -0.05), 0.0, 0.9);
    }
    if (!done) {
      if (next.valid()) next.wait();
      return std::unexpected(done.error());
    }
    if (!go_on || last) {
      if (next.valid()) next.wait();
      break;
    }
    cur = next.valid() ? next.get() : fetch(later, 0);
  }
  return handed;
}

core::Result<LookupResult> CustomerService::LookupPhone(const core::Actor& actor,
                                                        std::string_view number) {
  if (auto ok = Need(actor, core::Perm::kCustomerRead, "caller ID"); !ok) {
    return std::unexpected(ok.error());
  }
  auto info = phones_.Parse(number, "number");
  if (!info) {
    const auto& d = info.error().details();
    return std::unexpected(core::Error::BadRequest(
        "not a phone number: " + (d.empty() ? info.error().message() : d.front().message)));
  }
  // Under every key version: rows not re-indexed yet during a rotation are found too.
  std::vector<LookupHit> found;
  for (const std::string& b : bidx_.ComputeAll("phone", info->e164)) {
    // Scoped callers ask for their customers only, so that many holders of a shared number
    // outside their scope cannot push theirs past the limit.
    auto part = actor.scope == core::Scope::kAll
                    ? store_.LookupPhone(b, 50)
                    : store_.LookupPhoneOwnedBy(b, 50, actor.scope_user_ids);
    if (!part) return std::unexpected(part.error());
    for (LookupHit& h : *part) {
      if (std::none_of(found.begin(), found.end(),
                       [&](const LookupHit& f) { return f.id == h.id; })) {
        found.push_back(std::move(h));
      }
    }
  }
  std::sort(found.begin(), found.end(),
            [](const LookupHit& a, const LookupHit& b) { return a.id < b.id; });
  // Hits outside the actor's scope are left out (again: the store's owner list is the same
  // scope). The answer names customers, not their numbers; the normalised form of the number
  // the caller sent is not masked (they typed it).
  std::erase_if(found, [&](const LookupHit& h) { return !actor.InScope(h.owner_id); });
  return LookupResult{std::move(*info), std::move(found)};
}

core::Result<CustomerService::RotationStep> CustomerService::Reencrypt(const core::Actor& actor,
                                                                       int64_t after_id,
                                                                       int limit) {
  if (!actor.Can(core::Perm::kSettingsAdmin)) {
    return std::unexpected(core::Error::Forbidden("re-encrypting needs settings.admin"));
  }
  const uint32_t current = cipher_.current_version();
  auto rows = store_.RowsNotOnKey(current, after_id, limit);
  if (!rows) return std::unexpected(rows.error());
  RotationStep step;
  step.last_id = after_id;
  for (const Row& row : *rows) {
    step.last_id = row.id;
    auto c = FromRow(row);
    if (!c) return std::unexpected(c.error());
    Row fresh = ToRow(*c);
    fresh.id = row.id;
    auto done = store_.Reencrypt(fresh, row.version, IndexOf(*c));
    if (!done) return std::unexpected(done.error());
    (*done ? step.rewritten : step.skipped)++;
  }
  step.done = rows->size() < static_cast<std::size_t>(limit);
  return step;
}

bool CustomerService::UsesKey(const Row& r, uint32_t version) const {
  const uint32_t current = cipher_.current_version();
  for (const std::string* text :
       {&r.phones_enc, &r.emails_enc, &r.id_number_enc, &r.address_enc, &r.quality_enc}) {
    if (text->empty()) continue;
    const uint32_t v = crypto::FieldCipher::VersionOf(*text);
    if (version ? v == version : v != current) return true;
  }
  return false;
}

core::Result<Row> CustomerService::OnCurrentKey(const Row& r) const {
  auto c = FromRow(r);
  if (!c) return std::unexpected(c.error());
  const Row fresh = ToRow(*c);
  Row out = r;
  out.phones_enc = fresh.phones_enc;
  out.emails_enc = fresh.emails_enc;
  out.id_number_enc = fresh.id_number_enc;
  out.id_number_bidx = fresh.id_number_bidx;
  out.address_enc = fresh.address_enc;
  out.quality_enc = fresh.quality_enc;
  return out;
}

core::Result<int64_t> CustomerService::RowsNotOnCurrentKey() {
  return store_.CountNotOnKey(cipher_.current_version());
}

core::Result<int64_t> CustomerService::RowsOnKey(uint32_t version) {
  return store_.CountOnKey(version);
}

core::Result<void> CustomerService::ScanAll(
    const core::Actor& actor, int page, const std::function<void(std::vector<ScanRecord>&&)>& fn) {
  if (auto ok = Need(actor, core::Perm::kCustomerRead, "reading customers"); !ok) {
    return std::unexpected(ok.error());
  }
  const std::vector<int64_t>* owner_in =
      actor.scope == core::Scope::kAll ? nullptr : &actor.scope_user_ids;
  int64_t after = 0;
  for (;;) {
    auto rows = store_.ScanPage(after, page, owner_in);
    if (!rows) return std::unexpected(rows.error());
    if (rows->empty()) return core::Ok();
    after = rows->back().id;
    const bool last = rows->size() < static_cast<std::size_t>(page);
    fn(std::move(*rows));
    if (last) return core::Ok();
  }
}

core::Result<std::vector<Customer>> CustomerService::GetUnmasked(const core::Actor& actor,
                                                                 const std::vector<int64_t>& ids) {
  if (auto ok = Need(actor, core::Perm::kCustomerRead, "reading customers"); !ok) {
    return std::unexpected(ok.error());
  }
  auto rows = store_.GetMany(ids);
  if (!rows) return std::unexpected(rows.error());
  std::vector<Customer> out;
  out.reserve(rows->size());
  for (const Row& r : *rows) {
    if (!actor.InScope(r.owner_id)) continue;
    auto c = FromRow(r);
    if (!c) return std::unexpected(c.error());
    out.push_back(std::move(*c));
  }
  return out;
}

core::Result<Customer> CustomerService::CommitMerge(
    const core::Actor& actor, Customer survivor, int64_t survivor_version,
    const std::vector<std::pair<int64_t, int64_t>>& losers, const MergeRecorder& also) {
  if (auto ok = Need(actor, core::Perm::kCustomerMerge, "merging customers"); !ok) {
    return std::unexpected(ok.error());
  }
  auto stale = [](int64_t id, int64_t have, int64_t want) {
    return db::Abort{core::Error(core::Code::kPreconditionFailed,
                                 "customer " + std::to_string(id) + " is at version " +
                                     std::to_string(have) + ", not " + std::to_string(want) +
                                     "; reload and merge again")};
  };
  auto load = [&](ImportTx& tx, int64_t id, int64_t version) {
    auto row = tx.Get(id);
    if (!row || row->deleted_at || !actor.InScope(row->owner_id)) throw db::Abort{NoCustomer(id)};
    if (row->version != version) throw stale(id, row->version, version);
    return *row;
  };
  const int64_t now = core::NowMs();
  survivor.updated_by = actor.user_id;
  survivor.updated_at = now;
  Row after;
  auto done = store_.ImportBatch(true, [&](ImportTx& tx) {
    Row before = load(tx, survivor.id, survivor_version);
    std::vector<Row> losers_before;
    for (const auto& [id, version] : losers) losers_before.push_back(load(tx, id, version));
    after = ToRow(survivor);
    after.id = survivor.id;
    after.code = before.code;  // codes stay with their customer
    after.created_by = before.created_by;
    after.created_at = before.created_at;
    if (tx.Update(after, survivor_version, IndexOf(survivor)) != UpdateOutcome::kOk) {
      throw stale(survivor.id, -1, survivor_version);
    }
    after.version = survivor_version + 1;
    for (const Row& l : losers_before) {
      if (tx.SetDeleted(l.id, l.version, actor.user_id, now) != UpdateOutcome::kOk) {
        throw stale(l.id, -1, l.version);
      }
    }
    if (also) also(tx.session(), before, losers_before, after);
  });
  if (!done) return std::unexpected(done.error());
  survivor.version = after.version;
  survivor.code = after.code;
  return survivor;
}

core::Result<void> CustomerService::CommitUnmerge(const core::Actor& actor,
                                                  const Row& survivor_before,
                                                  int64_t survivor_version,
                                                  const std::vector<Row>& losers_before,
                                                  const std::function<void(soci::session&)>& also) {
  if (auto ok = Need(actor, core::Perm::kCustomerMerge, "undoing merges"); !ok) {
    return std::unexpected(ok.error());
  }
  // The index is recomputed from the clear values (the blind-index key may have rotated).
  auto index_of = [&](const Row& r) {
    auto c = FromRow(r);
    if (!c) throw db::Abort{c.error()};
    return IndexOf(*c);
  };
  const int64_t now = core::NowMs();
  auto done = store_.ImportBatch(true, [&](ImportTx& tx) {
    Row s = survivor_before;
    s.updated_at = now;
    switch (tx.Update(s, survivor_version, index_of(s))) {
      case UpdateOutcome::kOk:
        break;
      case UpdateOutcome::kNotFound:
        throw db::Abort{core::Error::Conflict(
            "customer " + std::to_string(s.id) +
            " (the survivor) is no longer live (deleted or merged again); the merge cannot be "
            "undone")};
      case UpdateOutcome::kStale:
        throw db::Abort{core::Error::Conflict(
            "customer " + std::to_string(s.id) +
            " (the survivor) was changed after the merge; undoing it would lose those changes, "
            "so the merge cannot be undone (edit the customers by hand instead)")};
    }
    for (const Row& l : losers_before) {
      Row r = l;
      r.updated_at = now;
      // Merging moved it to the bin: one version later.
      if (tx.Restore(r, l.version + 1, index_of(r)) != UpdateOutcome::kOk) {
        throw db::Abort{core::Error::Conflict(
            "customer " + std::to_string(l.id) +
            " is no longer in the recycle bin as the merge left it; the merge cannot be undone")};
      }
    }
    if (also) also(tx.session());
  });
  if (!done) return std::unexpected(done.error());
  return core::Ok();
}

core::Result<std::optional<Row>> CustomerService::StoredRow(int64_t id) {
  return store_.Get(id, true);
}

CustomerService::ContactKeys CustomerService::KeysOf(const Customer& c,
                                                     const Customer* before) const {
  // The contact points to look up: all on create, those the edit adds on an edit.
  ContactKeys out;
  auto phone_key = [](const Phone& p) { return p.info.e164 + "#" + p.info.extension; };
  for (std::size_t i = 0; i < c.phones.size(); ++i) {
    const std::string key = phone_key(c.phones[i]);
    if (before && std::any_of(before->phones.begin(), before->phones.end(),
                              [&](const Phone& p) { return phone_key(p) == key; })) {
      continue;
    }
    out.wanted.push_back({"phones[" + std::to_string(i) + "].number", "phone", key});
  }
  for (std::size_t i = 0; i < c.emails.size(); ++i) {
    const std::string key = LowerAscii(c.emails[i].address);
    if (before && std::any_of(before->emails.begin(), before->emails.end(),
                              [&](const Email& e) { return LowerAscii(e.address) == key; })) {
      continue;
    }
    out.wanted.push_back({"emails[" + std::to_string(i) + "].address", "email", key});
  }
  // Every blind index of every wanted value (several while a key rotation is under way).
  for (const ContactKeys::Wanted& w : out.wanted) {
    out.first_key.push_back(out.keys.size());
    const std::string indexed =
        w.kind == "phone" ? w.value.substr(0, w.value.find('#')) : w.value;  // E.164 only
    for (std::string& b : bidx_.ComputeAll(w.kind, indexed)) out.keys.emplace_back(w.kind, b);
  }
  out.first_key.push_back(out.keys.size());
  return out;
}

core::Result<std::vector<ContactMatch>> CustomerService::ContactMatches(const Customer& c,
                                                                        const Customer* before) {
  auto phone_key = [](const Phone& p) { return p.info.e164 + "#" + p.info.extension; };
  const ContactKeys ck = KeysOf(c, before);
  const auto& wanted = ck.wanted;
  const auto& keys = ck.keys;
  const auto& first_key = ck.first_key;
  std::vector<std::vector<LookupHit>> held_by;
  if (!keys.empty()) {
    auto got = store_.HoldersOf(keys, 50);
    if (!got) return std::unexpected(got.error());
    held_by = std::move(*got);
  }
  std::vector<ContactMatch> out;
  for (std::size_t wi = 0; wi < wanted.size(); ++wi) {
    const ContactKeys::Wanted& w = wanted[wi];
    std::vector<LookupHit> hits;
    for (std::size_t k = first_key[wi]; k < first_key[wi + 1]; ++k) {
      for (LookupHit& h : held_by[k]) {
        if (h.id == c.id) continue;
        if (std::none_of(hits.begin(), hits.end(),
                         [&](const LookupHit& x) { return x.id == h.id; }))
          hits.push_back(std::move(h));
      }
    }
    if (hits.empty()) continue;
    if (w.kind == "phone") {
      // The index holds the number without its extension: 0335-3051234 转 12 and 转 13 are
      // two desks, not one number. Compare the stored numbers.
      std::vector<int64_t> ids;
      for (const LookupHit& h : hits) ids.push_back(h.id);
      auto rows = store_.GetMany(ids);
      if (!rows) return std::unexpected(rows.error());
      for (const Row& r : *rows) {
        auto held = FromRow(r);
        if (!held) return std::unexpected(held.error());
        if (std::any_of(held->phones.begin(), held->phones.end(),
                        [&](const Phone& p) { return phone_key(p) == w.value; })) {
          out.push_back({w.field, w.kind, r.id, r.owner_id});
        }
      }
    } else {
      for (const LookupHit& h : hits) out.push_back({w.field, w.kind, h.id, h.owner_id});
    }
  }
  return out;
}

// --- imports ------------------------------------------------------------------------------

core::Result<CustomerService::ImportDraft> CustomerService::DraftImport(
    const core::Actor& actor, const CustomerInput& in, std::vector<QualityIssue> issues,
    std::string_view row_text, const std::function<std::string(const QualityIssue&)>& column_of) {
  if (auto ok = Need(actor, core::Perm::kCustomerImport, "importing customers"); !ok) {
    return std::unexpected(ok.error());
  }
  ImportDraft d;
  Customer& c = d.customer;
  std::vector<QualityIssue> flagged;
  if (auto ok = Apply(actor, in, c, true, &flagged); !ok) return std::unexpected(ok.error());
  const int64_t now = core::NowMs();
  for (QualityIssue& q : issues) flagged.insert(flagged.begin(), std::move(q));
  for (QualityIssue& q : flagged) {
    q.at = now;
    if (q.column.empty() && column_of) q.column = column_of(q);
  }
  c.quality_issues = std::move(flagged);
  c.created_by = c.updated_by = actor.user_id;
  c.created_at = c.updated_at = now;
  c.version = 1;
  d.row = ToRow(c);
  d.index = IndexOf(c);
  for (const Phone& p : c.phones) {
    for (auto& k : bidx_.ComputeAll("phone", p.info.e164)) d.phone_keys.push_back(std::move(k));
  }
  for (const Email& e : c.emails) {
    for (auto& k : bidx_.ComputeAll("email", LowerAscii(e.address))) {
      d.email_keys.push_back(std::move(k));
    }
  }
  // A row with a code, a phone or an email is found again by those; the row key (a random
  // index entry: one more page written for the row) is only for rows with none of them.
  if (!row_text.empty() && c.code.empty() && d.phone_keys.empty() && d.email_keys.empty()) {
    d.row_keys = bidx_.ComputeAll("import_row", row_text);
    d.row_key = d.row_keys.front();
  }
  return d;
}

std::vector<std::string> CustomerService::MergeInto(Customer& t, const Customer& in,
                                                    bool code_free) const {
  std::vector<std::string> filled;
  auto fill = [&](const char* name, std::string& dst, const std::string& src) {
    if (dst.empty() && !src.empty()) {
      dst = src;
      filled.emplace_back(name);
    }
  };
  if (code_free) fill("code", t.code, in.code);
  fill("company", t.company, in.company);
  fill("title", t.title, in.title);
  fill("id_number", t.id_number, in.id_number);
  fill("credit_code", t.credit_code, in.credit_code);
  fill("province", t.province, in.province);
  fill("city", t.city, in.city);
  fill("district", t.district, in.district);
  fill("address", t.address, in.address);
  fill("source", t.source, in.source);
  if (t.gender == "unknown" && in.gender != "unknown") {
    t.gender = in.gender;
    filled.emplace_back("gender");
  }
  // Notes are kept whole: the imported text is added when it is not there yet.
  if (!in.notes.empty() && t.notes.find(in.notes) == std::string::npos &&
      core::Utf8Length(t.notes) + core::Utf8Length(in.notes) + 1 <= 10000) {
    t.notes = t.notes.empty() ? in.notes : t.notes + "\n" + in.notes;
    filled.emplace_back("notes");
  }
  bool phones = false;
  for (const Phone& p : in.phones) {
    const bool known = std::any_of(t.phones.begin(), t.phones.end(), [&](const Phone& o) {
      return o.info.e164 == p.info.e164 && o.info.extension == p.info.extension;
    });
    if (known) continue;
    if (t.phones.size() >= kMaxContacts) {
      t.quality_issues.push_back({"phones", "too_many", "a customer has at most 20 phone numbers",
                                  p.info.raw, "", core::NowMs()});
      phones = true;
      continue;
    }
    Phone added = p;
    added.primary = t.phones.empty();
    t.phones.push_back(std::move(added));
    phones = true;
  }
  if (phones) filled.emplace_back("phones");
  bool emails = false;
  for (const Email& e : in.emails) {
    const bool known = std::any_of(t.emails.begin(), t.emails.end(), [&](const Email& o) {
      return LowerAscii(o.address) == LowerAscii(e.address);
    });
    if (known) continue;
    if (t.emails.size() >= kMaxContacts) {
      t.quality_issues.push_back({"emails", "too_many", "a customer has at most 20 email addresses",
                                  e.address, "", core::NowMs()});
      emails = true;
      continue;
    }
    t.emails.push_back(e);
    emails = true;
  }
  if (emails) filled.emplace_back("emails");
  bool tags = false;
  for (const std::string& tag : in.tags) {
    if (std::find(t.tags.begin(), t.tags.end(), tag) != t.tags.end()) continue;
    if (t.tags.size() >= kMaxTags) break;
    t.tags.push_back(tag);
    tags = true;
  }
  if (tags) filled.emplace_back("tags");
  bool custom = false;
  for (const auto& [k, v] : in.custom.items()) {
    if (!t.custom.contains(k)) {
      t.custom[k] = v;
      custom = true;
    }
  }
  if (custom) filled.emplace_back("custom");
  bool issues = false;
  for (const QualityIssue& q : in.quality_issues) {
    const bool known =
        std::any_of(t.quality_issues.begin(), t.quality_issues.end(),
                    [&](const QualityIssue& o) { return o.field == q.field && o.raw == q.raw; });
    if (!known) {
      t.quality_issues.push_back(q);
      issues = true;
    }
  }
  if (issues) filled.emplace_back("quality_issues");
  return filled;
}

core::Result<std::vector<CustomerService::ImportOutcome>> CustomerService::CommitImport(
    const core::Actor& actor, std::vector<ImportDraft>& drafts, OnDuplicate mode, bool dry_run,
    const std::function<void(soci::session&, const std::vector<ImportOutcome>&)>& also) {
  if (auto ok = Need(actor, core::Perm::kCustomerImport, "importing customers"); !ok) {
    return std::unexpected(ok.error());
  }
  if (mode == OnDuplicate::kMerge) {
    if (auto ok = Need(actor, core::Perm::kCustomerUpdate, "merging imported rows"); !ok) {
      return std::unexpected(ok.error());
    }
  }
  std::vector<ImportOutcome> out;
  std::vector<std::pair<int64_t, std::vector<std::string>>> merged;  // audited after commit
  auto done = store_.ImportBatch(!dry_run, [&](ImportTx& tx) {
    out.clear();
    merged.clear();
    for (ImportDraft& d : drafts) {
      ImportOutcome o;
      Customer& c = d.customer;
      std::vector<ImportMatch> matches = tx.Find(c.code, d.phone_keys, d.email_keys, d.row_keys);
      const ImportMatch* code_match = nullptr;
      for (const ImportMatch& m : matches) {
        if (m.via == "code") code_match = &m;
      }
      auto insert = [&] {
        if (code_match) {
          // kCreate with a code already taken: the customer is created, the code kept flagged.
          QualityIssue q{
              "code",
              "not_unique",
              "customer code is already used by customer " + std::to_string(code_match->id),
              c.code,
              "",
              core::NowMs()};
          o.added.push_back(q);
          c.quality_issues.push_back(std::move(q));
          c.code.clear();
          d.row = ToRow(c);
        }
        o.kind = ImportOutcome::Kind::kCreated;
        o.customer_id = dry_run ? 0 : tx.Insert(d.row, d.index, d.row_key);
      };
      if (matches.empty() || mode == OnDuplicate::kCreate) {
        insert();
        out.push_back(std::move(o));
        continue;
      }
      const ImportMatch& m = matches.front();
      const bool visible = actor.InScope(m.owner_id);
      o.kind = ImportOutcome::Kind::kSkipped;
      o.customer_id = visible ? m.id : 0;
      o.via = m.via;
      if (m.deleted) {
        o.reason = "the customer code is used by a customer in the recycle bin";
      } else if (mode == OnDuplicate::kSkip) {
        o.reason = "duplicate (same " + m.via + ")";
      } else if (!visible) {
        o.reason = "duplicate of a customer outside your data scope; not merged";
      } else {
        auto row = tx.Get(m.id);
        if (!row || row->deleted_at) {
          o.reason = "duplicate; the customer was deleted meanwhile";
          out.push_back(std::move(o));
          continue;
        }
        auto current = FromRow(*row);
        if (!current) throw db::Abort{current.error()};
        Customer target = *current;
        const bool code_free = !code_match || code_match->id == m.id;
        std::vector<std::string> filled = MergeInto(target, c, code_free);
        if (filled.empty()) {
          o.reason = "duplicate (same " + m.via + "); nothing new to merge";
        } else {
          target.updated_by = actor.user_id;
          target.updated_at = core::NowMs();
          if (!dry_run) {
            Row r = ToRow(target);
            r.id = m.id;
            UpdateOutcome u = tx.Update(r, current->version, IndexOf(target));
            if (u != UpdateOutcome::kOk) {
              o.reason = "duplicate; the customer changed meanwhile and was not merged";
              out.push_back(std::move(o));
              continue;
            }
            merged.emplace_back(m.id, filled);
          }
          o.kind = ImportOutcome::Kind::kMerged;
          o.filled = std::move(filled);
        }
      }
      out.push_back(std::move(o));
    }
    if (!dry_run && also) also(tx.session(), out);
  });
  if (!done) return std::unexpected(done.error());
  for (auto& [id, fields] : merged) {
    Audit(actor, "customer.update", id, {{"fields", fields}, {"via", "import"}});
  }
  return out;
}

}  // namespace kehu::customer
