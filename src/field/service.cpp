#include "field/service.h"

#include <spdlog/spdlog.h>

#include <cmath>

#include "core/time.h"
#include "core/validate.h"

namespace kehu::field {
namespace {

constexpr int64_t kCacheTtlMs = 3000;  // other servers' changes show up within this delay

bool ValidName(const std::string& n) {
  if (n.empty() || n.size() > 40 || n[0] < 'a' || n[0] > 'z') return false;
  for (char c : n) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

}  // namespace

FieldService::FieldService(FieldStore& store, std::set<std::string> reserved,
                           audit::AuditLog& audit)
    : store_(store), audit_(audit), reserved_(std::move(reserved)) {}

core::Result<std::vector<FieldDef>> FieldService::Defs(const std::string& entity) {
  if (entity != "customer") return store_.List(entity);
  std::lock_guard lock(mu_);
  int64_t now = core::NowMs();
  if (cached_at_ >= 0 && now - cached_at_ < kCacheTtlMs) return cached_;
  auto defs = store_.List(entity);
  if (!defs) return std::unexpected(defs.error());
  cached_ = *defs;
  cached_at_ = now;
  return cached_;
}

void FieldService::Invalidate() {
  std::lock_guard lock(mu_);
  cached_at_ = -1;
}

core::Result<std::vector<FieldDef>> FieldService::List(const core::Actor&,
                                                       const std::string& entity) {
  return Defs(entity);
}

core::Result<FieldDef> FieldService::Create(const core::Actor& actor, FieldDef f) {
  if (!actor.Can(core::Perm::kFieldManage)) {
    return std::unexpected(core::Error::Forbidden("defining custom fields needs field.manage"));
  }
  std::vector<core::FieldError> errs;
  if (!ValidName(f.name)) {
    errs.push_back({"name", "invalid_format",
                    "name must start with a-z and contain only a-z, 0-9 and _ (max 40)"});
  } else if (reserved_.contains(f.name)) {
    errs.push_back({"name", "not_unique", "name is a built-in field"});
  }
  f.label = core::Trim(f.label);
  if (f.label.empty()) errs.push_back({"label", "required", "label is required"});
  if (f.label.size() > 100) errs.push_back({"label", "too_long", "label is at most 100 bytes"});
  bool is_select = f.type == Type::kSelect || f.type == Type::kMultiselect;
  std::set<std::string> seen;
  std::vector<std::string> options;
  for (const std::string& raw : f.options) {
    std::string o = core::Trim(raw);
    if (o.empty() || o.size() > 100 || !seen.insert(o).second) {
      errs.push_back({"options", "invalid_choice", "options must be distinct, 1-100 bytes"});
      break;
    }
    options.push_back(o);
  }
  if (is_select && options.empty()) {
    errs.push_back({"options", "required", "select fields need at least one option"});
  }
  if (!is_select && !options.empty()) {
    errs.push_back({"options", "invalid_choice", "only select fields have options"});
  }
  if (!errs.empty()) {
    return std::unexpected(core::Error::InvalidFields(std::move(errs)));
  }
  f.options = std::move(options);
  f.created_at = core::NowMs();
  auto out = store_.Insert(f);
  Invalidate();
  if (out) {
    auto r = audit_.Record(actor, {"settings.field_create",
                                   "field",
                                   f.entity + "." + f.name,
                                   {{"type", TypeName(f.type)}, {"required", f.required}}});
    if (!r) spdlog::error("audit trail: {}", r.error().message());
  }
  return out;
}

core::Result<void> FieldService::Delete(const core::Actor& actor, const std::string& entity,
                                        const std::string& name) {
  if (!actor.Can(core::Perm::kFieldManage)) {
    return std::unexpected(core::Error::Forbidden("deleting custom fields needs field.manage"));
  }
  auto deleted = store_.Delete(entity, name);
  Invalidate();
  if (!deleted) return std::unexpected(deleted.error());
  if (!*deleted) return std::unexpected(core::Error::NotFound("no such field"));
  auto r = audit_.Record(actor, {"settings.field_delete", "field", entity + "." + name});
  if (!r) spdlog::error("audit trail: {}", r.error().message());
  return core::Ok();
}

core::Result<nlohmann::json> FieldService::Validate(const std::string& entity,
                                                    const nlohmann::json& values) {
  auto defs = Defs(entity);
  if (!defs) return std::unexpected(defs.error());
  std::vector<core::FieldError> errs;
  if (!values.is_object()) {
    return std::unexpected(
        core::Error::InvalidField("custom", "wrong_type", "custom must be an object"));
  }
  for (const auto& [key, _] : values.items()) {
    bool known = false;
    for (const FieldDef& d : *defs) known = known || d.name == key;
    if (!known) errs.push_back({"custom." + key, "unknown_field", "no custom field " + key});
  }
  nlohmann::json out = nlohmann::json::object();
  for (const FieldDef& d : *defs) {
    std::string f = "custom." + d.name;
    auto it = values.find(d.name);
    bool absent = it == values.end() || it->is_null() ||
                  (it->is_string() && core::Trim(it->get<std::string>()).empty()) ||
                  (it->is_array() && it->empty());
    if (absent) {
      if (d.required) errs.push_back({f, "required", d.label + " is required"});
      continue;
    }
    const nlohmann::json& v = *it;
    switch (d.type) {
      case Type::kText:
        if (!v.is_string()) {
          errs.push_back({f, "wrong_type", "must be text"});
        } else if (v.get<std::string>().size() > 2000) {
          errs.push_back({f, "too_long", "at most 2000 bytes"});
        } else {
          out[d.name] = core::Trim(v.get<std::string>());
        }
        break;
      case Type::kNumber:
        if (!v.is_number() || (v.is_number_float() && !std::isfinite(v.get<double>()))) {
          errs.push_back({f, "wrong_type", "must be a number"});
        } else {
          out[d.name] = v;
        }
        break;
      case Type::kDate:
        if (!v.is_string()) {
          errs.push_back({f, "wrong_type", "must be a date string YYYY-MM-DD"});
        } else if (!core::IsValidDate(v.get<std::string>())) {
          errs.push_back({f, "invalid_format", "must be a date YYYY-MM-DD"});
        } else {
          out[d.name] = v;
        }
        break;
      case Type::kSelect:
        if (!v.is_string()) {
          errs.push_back({f, "wrong_type", "must be one of the options"});
        } else if (std::find(d.options.begin(), d.options.end(), v.get<std::string>()) ==
                   d.options.end()) {
          errs.push_back({f, "invalid_choice", "not one of the options"});
        } else {
          out[d.name] = v;
        }
        break;
      case Type::kMultiselect: {
        if (!v.is_array()) {
          errs.push_back({f, "wrong_type", "must be a list of options"});
          break;
        }
        nlohmann::json picked = nlohmann::json::array();
        bool ok = true;
        for (const auto& item : v) {
          if (!item.is_string() || std::find(d.options.begin(), d.options.end(),
                                             item.get<std::string>()) == d.options.end()) {
            ok = false;
            break;
          }
          if (std::find(picked.begin(), picked.end(), item) == picked.end()) picked.push_back(item);
        }
        if (!ok) {
          errs.push_back({f, "invalid_choice", "every value must be one of the options"});
        } else {
          out[d.name] = picked;
        }
        break;
      }
    }
  }
  if (!errs.empty()) {
    return std::unexpected(core::Error::InvalidFields(std::move(errs)));
  }
  return out;
}

nlohmann::json FieldService::Visible(const std::string& entity, const nlohmann::json& stored) {
  nlohmann::json out = nlohmann::json::object();
  auto defs = Defs(entity);
  if (!defs || !stored.is_object()) return out;
  for (const FieldDef& d : *defs) {
    auto it = stored.find(d.name);
    if (it != stored.end() && !it->is_null()) out[d.name] = *it;
  }
  return out;
}

}  // namespace kehu::field
