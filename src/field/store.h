#pragma once

#include <vector>

#include "core/error.h"
#include "db/database.h"
#include "field/model.h"

namespace kehu::field {

std::vector<db::Migration> Migrations();

// Thread-safe.
class FieldStore {
 public:
  explicit FieldStore(db::Database& db) : db_(db) {}
  // kConflict when (entity, name) exists.
  core::Result<FieldDef> Insert(const FieldDef& f);
  core::Result<std::vector<FieldDef>> List(const std::string& entity);
  // false when there was no such field.
  core::Result<bool> Delete(const std::string& entity, const std::string& name);

 private:
  db::Database& db_;
};

}  // namespace kehu::field
