// Custom field definitions and the validation of their values. Thread-safe.
#pragma once

#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/service.h"
#include "core/actor.h"
#include "core/error.h"
#include "field/model.h"
#include "field/store.h"

namespace kehu::field {

class FieldService {
 public:
  // `reserved` are built-in field names a custom field may not take.
  // Defining and deleting fields needs field.manage; both are recorded in the audit trail.
  FieldService(FieldStore& store, std::set<std::string> reserved, audit::AuditLog& audit);

  core::Result<std::vector<FieldDef>> List(const core::Actor& actor, const std::string& entity);
  // Admin only. Validates name, label, type and options.
  core::Result<FieldDef> Create(const core::Actor& actor, FieldDef f);
  core::Result<void> Delete(const core::Actor& actor, const std::string& entity,
                            const std::string& name);

  // Validates `values` (a JSON object of custom values) against the entity's definitions and
  // returns the normalised object. Unknown keys, wrong types, invalid choices and missing
  // required values are reported as FieldErrors named "custom.<name>". Values of fields that
  // were deleted and are still stored are dropped. `null` removes a value.
  core::Result<nlohmann::json> Validate(const std::string& entity, const nlohmann::json& values);
  // Only the values of currently defined fields (for answers).
  nlohmann::json Visible(const std::string& entity, const nlohmann::json& stored);

 private:
  core::Result<std::vector<FieldDef>> Defs(const std::string& entity);
  void Invalidate();

  FieldStore& store_;
  audit::AuditLog& audit_;
  const std::set<std::string> reserved_;
  std::mutex mu_;
  std::vector<FieldDef> cached_;  // guarded by mu_ (entity "customer" only for now)
  int64_t cached_at_ = -1;        // guarded by mu_; -1 = not loaded
};

}  // namespace kehu::field
