// Audit entries and reports as JSON and CSV, for the API, the exports and the CLI.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "audit/model.h"

namespace kehu::audit {

// {id, seq, at (RFC 3339), actor_id, actor_name, action, entity, entity_id, ip, details,
//  prev_hash, hash}
nlohmann::json ToJson(const Entry& e);
// {ok, checked, first_broken_id (null), reason (null when ok), head_hash}
nlohmann::json ToJson(const VerifyReport& r);

// The CSV header line and one line per entry (RFC 4180, CRLF), the same columns as ToJson;
// `details` as its stored JSON text. A text cell starting with = + - @ TAB or CR gets a leading
// ' so that spreadsheets do not run it as a formula (actor names of failed logins come from
// anyone).
std::string CsvHeader();
std::string CsvRow(const Entry& e);

}  // namespace kehu::audit
