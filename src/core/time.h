// Time and id helpers. Times are stored as UTC epoch milliseconds (BIGINT) in both engines.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kehu::core {

int64_t NowMs();
// "2026-11-22T15:14:08.123Z"
std::string FormatTime(int64_t epoch_ms);
// Accepts RFC 3339 ("2026-11-22T15:14:08Z", fractional seconds, offsets like +08:00) or a
// plain date "2026-11-22" (midnight in `date_offset_minutes`, default Asia/Shanghai +480).
std::optional<int64_t> ParseTime(std::string_view text, int date_offset_minutes = 480);
// True for a valid calendar date written YYYY-MM-DD.
bool IsValidDate(std::string_view text);
// Short random id for correlating a 500 answer with the log line.
std::string NewIncidentId();

}  // namespace kehu::core
