#include "audit/codec.h"

#include "core/time.h"

namespace kehu::audit {
namespace {

// Appends one cell and the comma before it (none before the first).
void AppendCell(std::string& line, std::string_view value, bool text, bool first = false) {
  if (!first) line += ',';
  std::string cell;
  if (text && !value.empty() &&
      std::string_view("=+-@\t\r").find(value.front()) != std::string_view::npos) {
    cell = "'";
  }
  cell += value;
  if (cell.find_first_of(",\"\r\n") == std::string::npos) {
    line += cell;
    return;
  }
  line += '"';
  for (char c : cell) {
    if (c == '"') line += '"';
    line += c;
  }
  line += '"';
}

}  // namespace

nlohmann::json ToJson(const Entry& e) {
  return {{"id", e.id},
          {"seq", e.seq},
          {"at", core::FormatTime(e.at)},
          {"actor_id", e.actor_id},
          {"actor_name", e.actor_name},
          {"action", e.action},
          {"entity", e.entity},
          {"entity_id", e.entity_id},
          {"ip", e.ip},
          {"details", e.details},
          {"prev_hash", e.prev_hash},
          {"hash", e.hash}};
}

nlohmann::json ToJson(const VerifyReport& r) {
  return {{"ok", r.ok},
          {"checked", r.checked},
          {"first_broken_id",
           r.first_broken_id ? nlohmann::json(*r.first_broken_id) : nlohmann::json(nullptr)},
          {"reason", r.reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.reason)},
          {"head_hash", r.head_hash}};
}

std::string CsvHeader() {
  return "id,seq,at,actor_id,actor_name,action,entity,entity_id,ip,details,prev_hash,hash\r\n";
}

std::string CsvRow(const Entry& e) {
  std::string line;
  AppendCell(line, std::to_string(e.id), false, /*first=*/true);
  AppendCell(line, std::to_string(e.seq), false);
  AppendCell(line, core::FormatTime(e.at), false);
  AppendCell(line, std::to_string(e.actor_id), false);
  for (const std::string* s : {&e.actor_name, &e.action, &e.entity, &e.entity_id, &e.ip}) {
    AppendCell(line, *s, true);
  }
  AppendCell(line, e.details_text, true);
  AppendCell(line, e.prev_hash, false);
  AppendCell(line, e.hash, false);
  return line + "\r\n";
}

}  // namespace kehu::audit
