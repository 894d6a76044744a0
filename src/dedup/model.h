// Duplicate groups as the scan reports them. The shape a merge review queue builds on: a
// group has a stable key (its members' ids), a score with reasons, and members with the
// fields one compares side by side.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kehu::dedup {

// A customer in a duplicate group, with contact data masked.
struct Member {
  int64_t id = 0;
  std::string code, name, gender, company, title, province, city;
  std::vector<std::string> phones;  // masked: 138****8000
  std::vector<std::string> emails;  // masked: z***@example.com
  std::optional<int64_t> owner_id;
  std::string owner_name;
  std::string stage;
  int64_t created_at = 0, updated_at = 0;  // epoch ms
  double score = 0;                        // its strongest link to another member
};

struct DuplicateGroup {
  // Stable while the members stay the same: "g" + hex of a hash of the sorted member ids. A
  // review queue can store decisions under it.
  std::string key;
  double score = 0;                  // the weakest link that joined the group, [0, 1]
  std::vector<std::string> reasons;  // same_phone, name_pinyin_equal, company_equal …
  std::vector<Member> members;       // in id order
};

struct ScanOptions {
  double min_score = 0.75;  // link threshold, [0.5, 1]
  // Groups returned (the strongest first); 0 = all. total_groups counts them all.
  std::size_t limit = 200;
  bool members = true;  // load the members' details (false: ids and codes only, for the CLI)
};

struct ScanResult {
  std::vector<DuplicateGroup> groups;
  std::size_t total_groups = 0;
  std::size_t scanned = 0;          // customers compared
  std::size_t candidate_pairs = 0;  // pairs scored
  int64_t took_ms = 0;
};

}  // namespace kehu::dedup
