// Imports of customer lists: the uploaded file, the problems found in each run, and saved
// column mappings (templates).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace kehu::importer {

// A file to import: uploaded through the API (kept under DATA/imports/) or named on the
// command line (read where it is).
struct ImportFile {
  int64_t id = 0;
  int64_t created_by = 0;  // 0 = the CLI's local administrator
  int64_t created_at = 0;
  std::string filename;  // as the user named it
  std::string format;    // "csv" or "xlsx"
  int64_t size = 0;
  std::string sha256;             // hex, to recognise the same file again (CLI resume)
  std::string path;               // relative to the data directory (uploads) or absolute (CLI)
  std::string node;               // the data directory holding it (jobs::NodeId)
  std::optional<int64_t> job_id;  // the latest run
};

// What the problem report lists for a row.
enum class Outcome {
  kFlagged,      // imported (or merged); this value was kept raw and flagged
  kNotImported,  // the row could not be imported
  kSkipped,      // a duplicate, left out
};
std::string_view OutcomeName(Outcome o);

// One line of a run's problem report.
struct Problem {
  int64_t job_id = 0;
  int64_t row = 0;     // row number in the file (0: about the whole file)
  int seq = 0;         // order within the row
  std::string column;  // header of the column ("" when not one column)
  std::string field;   // customer field: phones, emails, gender, custom.x, …
  std::string value;   // the raw value (encrypted at rest)
  std::string code;    // too_short, invalid_email, duplicate, no_name, …
  std::string message;
  Outcome outcome = Outcome::kFlagged;
  std::optional<int64_t> customer_id;
};

// A saved column mapping: {"header": "target"} (see mapping.h).
struct Template {
  int64_t id = 0;
  std::string name;
  nlohmann::json mapping = nlohmann::json::object();
  int64_t created_by = 0;
  int64_t created_at = 0, updated_at = 0;
};

}  // namespace kehu::importer
