#include "field/store.h"

#include <nlohmann/json.hpp>

namespace kehu::field {

const char* TypeName(Type t) {
  switch (t) {
    case Type::kText:
      return "text";
    case Type::kNumber:
      return "number";
    case Type::kDate:
      return "date";
    case Type::kSelect:
      return "select";
    case Type::kMultiselect:
      return "multiselect";
  }
  return "text";
}

bool ParseType(std::string_view s, Type& out) {
  for (Type t : {Type::kText, Type::kNumber, Type::kDate, Type::kSelect, Type::kMultiselect}) {
    if (s == TypeName(t)) {
      out = t;
      return true;
    }
  }
  return false;
}

std::vector<db::Migration> Migrations() {
  return {{3, "custom fields", R"SQL(
CREATE TABLE custom_fields (
  id {{ID}},
  entity TEXT NOT NULL,
  name TEXT NOT NULL,
  label TEXT NOT NULL,
  type TEXT NOT NULL,
  options_json TEXT NOT NULL,
  required INTEGER NOT NULL,
  position INTEGER NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (entity, name)
)
)SQL"}};
}

core::Result<FieldDef> FieldStore::Insert(const FieldDef& f) {
  return db_.Write([&](soci::session& sql) {
    int taken = 0;
    sql << "SELECT COUNT(*) FROM custom_fields WHERE entity = :e AND name = :n",
        soci::use(f.entity), soci::use(f.name), soci::into(taken);
    if (taken > 0) {
      throw db::Abort{core::Error::Conflict("a field with this name exists",
                                            {{"name", "not_unique", "name is already used"}})};
    }
    int position = 0;
    soci::indicator ind = soci::i_null;
    sql << "SELECT MAX(position) FROM custom_fields WHERE entity = :e", soci::use(f.entity),
        soci::into(position, ind);
    FieldDef out = f;
    out.position = ind == soci::i_ok ? position + 1 : 0;
    std::string type = TypeName(f.type);
    std::string options = nlohmann::json(f.options).dump();
    int required = f.required ? 1 : 0;
    long long created = f.created_at, id = 0;
    sql << "INSERT INTO custom_fields (entity, name, label, type, options_json, required, "
           "position, created_at) VALUES (:e, :n, :l, :t, :o, :r, :p, :c) RETURNING id",
        soci::use(f.entity), soci::use(f.name), soci::use(f.label), soci::use(type),
        soci::use(options), soci::use(required), soci::use(out.position), soci::use(created),
        soci::into(id);
    out.id = id;
    return out;
  });
}

core::Result<std::vector<FieldDef>> FieldStore::List(const std::string& entity) {
  return db_.Read([&](soci::session& sql) {
    std::vector<FieldDef> out;
    long long id = 0, created = 0;
    std::string name, label, type, options;
    int required = 0, position = 0;
    soci::statement st =
        (sql.prepare << "SELECT id, name, label, type, options_json, required, position, "
                        "created_at FROM custom_fields WHERE entity = :e ORDER BY position, id",
         soci::use(entity), soci::into(id), soci::into(name), soci::into(label), soci::into(type),
         soci::into(options), soci::into(required), soci::into(position), soci::into(created));
    st.execute();
    while (st.fetch()) {
      FieldDef f;
      f.id = id;
      f.entity = entity;
      f.name = name;
      f.label = label;
      ParseType(type, f.type);
      auto opts = nlohmann::json::parse(options, nullptr, false);
      if (opts.is_array()) {
        for (const auto& o : opts) {
          if (o.is_string()) f.options.push_back(o.get<std::string>());
        }
      }
      f.required = required != 0;
      f.position = position;
      f.created_at = created;
      out.push_back(std::move(f));
    }
    return out;
  });
}

core::Result<bool> FieldStore::Delete(const std::string& entity, const std::string& name) {
  return db_.Write([&](soci::session& sql) {
    soci::statement st =
        (sql.prepare << "DELETE FROM custom_fields WHERE entity = :e AND name = :n",
         soci::use(entity), soci::use(name));
    st.execute(true);
    return st.get_affected_rows() > 0;
  });
}

}  // namespace kehu::field
