// Merges of duplicate customers: the side-by-side comparison a reviewer decides on, and the
// record of each merge, which keeps exact snapshots so that it can be undone.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "customer/model.h"
#include "customer/store.h"

namespace kehu::merge {

// At most this many customers are merged at once.
inline constexpr std::size_t kMaxMembers = 20;

// One field where the members differ (or a field shown for comparison).
struct FieldChoice {
  // "name", "company", …, "owner_id", or "custom.<name>" for a custom field.
  std::string field;
  // Each member's value (masked for id_number and address; null when empty), in member order.
  std::vector<std::pair<int64_t, nlohmann::json>> values;
  int64_t default_member = 0;  // whose value the merge takes unless told otherwise
  bool differs = false;        // false: all members that have a value agree
};

// The comparison of a group (MergeService::Suggest).
struct Suggestion {
  int64_t survivor_id = 0;                  // the suggested survivor
  std::vector<customer::Customer> members;  // masked, the suggested order (survivor first)
  std::vector<int> completeness;            // per member: filled fields and valid contacts
  std::vector<FieldChoice> fields;          // the scalar fields, those that differ first
  customer::Customer preview;               // the survivor as the default merge makes it (masked)
};

// What a reviewer decided.
struct MergeRequest {
  int64_t survivor_id = 0;
  std::vector<int64_t> loser_ids;
  std::map<std::string, int64_t> choices;  // field -> member whose value to keep
  std::map<int64_t, int64_t> versions;     // member -> the version the reviewer saw
};

struct MergeRecord {
  int64_t id = 0;
  int64_t survivor_id = 0;
  std::vector<int64_t> loser_ids;
  std::vector<std::string> fields;  // fields whose value came from a loser
  bool bulk = false;                // made by the bulk exact-phone merge
  int64_t merged_by = 0;
  std::string merged_by_name;
  int64_t merged_at = 0;
  int64_t survivor_version = 0;  // the survivor's version right after the merge
  std::optional<int64_t> undone_at;
  int64_t undone_by = 0;
  // Exact stored rows before the merge (contact data stays encrypted as in customers).
  customer::Row survivor_before;
  std::vector<customer::Row> losers_before;
};

struct Page {
  std::vector<MergeRecord> items;
  std::optional<int64_t> next_cursor;
};

struct BulkResult {
  bool dry_run = true;
  int64_t groups = 0;            // groups sharing a mobile number (merged, or to merge)
  int64_t merged_customers = 0;  // customers merged away (or that would be)
  int64_t skipped = 0;           // groups left alone (changed meanwhile)
  std::vector<int64_t> merge_ids;
};

}  // namespace kehu::merge
