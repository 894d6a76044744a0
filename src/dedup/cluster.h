// Groups of likely duplicates in a Corpus: blocking, pair scoring, and grouping that does not
// chain different people together. Pure (no database); FindGroups may use several threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "dedup/score.h"

namespace kehu::dedup {

struct ClusterOptions {
  double threshold = kMatchThreshold;  // pairs scoring this or more are linked
  // A block (customers sharing a key) larger than this is split by name before its pairs are
  // compared; a name block larger than max_name_block is skipped (too common to tell apart).
  std::size_t max_block = 200;
  std::size_t max_name_block = 1000;
  std::size_t max_group = 50;  // groups stop growing at this size
  unsigned threads = 2;
};

struct ClusterStats {
  std::size_t records = 0;
  std::size_t candidate_pairs = 0;  // pairs compared
  std::size_t linked_pairs = 0;     // pairs at or over the threshold
  std::size_t refused_links = 0;    // links not made: they would join people who cannot link
  std::size_t skipped_blocks = 0;   // name blocks too large to compare
};

// A group of customers taken for one person. Indices into Corpus::records().
struct Group {
  std::vector<uint32_t> members;      // in record order
  std::vector<double> member_scores;  // best link of each member inside the group
  double score = 0;                   // the weakest link that joined the group
  Reasons reasons = 0;                // what the links that joined it saw
};

// Groups of two or more, strongest first. Blocking: customers are compared only when they
// share a contact key, or a name pinyin key together with a company key or a city. Grouping:
// links are taken strongest first (single linkage), but two groups are joined only when no
// member of one "cannot link" with a member of the other (different full names, genders, ID
// numbers or credit codes), so 张伟 — 张先生 — 张丽 does not become one group.
std::vector<Group> FindGroups(const Corpus& corpus, const ClusterOptions& options,
                              ClusterStats* stats = nullptr);

}  // namespace kehu::dedup
