// Admin-defined custom fields: rows of metadata; values live in the entity's JSON column and are
// validated by the same catalogue of types (in the spirit of EspoCRM's entityDefs).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kehu::field {

enum class Type { kText, kNumber, kDate, kSelect, kMultiselect };

struct FieldDef {
  int64_t id = 0;
  std::string entity = "customer";
  std::string name;   // ^[a-z][a-z0-9_]{0,39}$, not a built-in field
  std::string label;  // shown in the UI
  Type type = Type::kText;
  std::vector<std::string> options;  // select / multiselect
  bool required = false;
  int position = 0;
  int64_t created_at = 0;
};

const char* TypeName(Type t);
bool ParseType(std::string_view s, Type& out);

}  // namespace kehu::field
