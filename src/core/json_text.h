// Writing JSON text directly, for the few answers too hot to build as nlohmann::json first.
// The output is what nlohmann::json::dump() writes for the same values (compact, UTF-8 kept,
// invalid UTF-8 replaced by U+FFFD).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kehu::core {

// Appends `s` as a quoted JSON string.
void AppendJsonString(std::string& out, std::string_view s);
// Appends a quoted JSON string, or null when `s` is empty.
inline void AppendJsonStringOrNull(std::string& out, std::string_view s) {
  if (s.empty()) {
    out += "null";
  } else {
    AppendJsonString(out, s);
  }
}
inline void AppendJsonInt(std::string& out, int64_t v) { out += std::to_string(v); }

}  // namespace kehu::core
