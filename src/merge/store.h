// Persistence of merge records. Writes that belong to a merge or an undo take the session of
// the customers' transaction (CustomerService::CommitMerge / CommitUnmerge) and throw on error
// (the transaction rolls back). Thread-safe.
#pragma once

#include <map>
#include <optional>
#include <vector>

#include "core/error.h"
#include "db/database.h"
#include "merge/model.h"

namespace kehu::merge {

std::vector<db::Migration> Migrations();

class MergeStore {
 public:
  explicit MergeStore(db::Database& db) : db_(db) {}

  // Inserts the record (its id is ignored) and marks the losers as merged into the survivor;
  // returns the new id.
  int64_t Insert(soci::session& sql, const MergeRecord& r);
  // Marks the merge undone and the losers no longer merged. db::Abort (kConflict) when it was
  // undone already.
  void MarkUndone(soci::session& sql, int64_t id, int64_t by, int64_t now);

  // nullopt when unknown.
  core::Result<std::optional<MergeRecord>> Get(int64_t id);
  // Newest first, ids below `before` when given; up to `limit`.
  core::Result<std::vector<MergeRecord>> List(std::optional<int64_t> before, int limit);
  // Replaces the snapshot of merge `id` (after a key rotation re-encrypted its rows).
  core::Result<void> ReplaceSnapshot(int64_t id, const customer::Row& survivor_before,
                                     const std::vector<customer::Row>& losers_before);
  // The survivor a customer was merged into by a merge not undone.
  core::Result<std::optional<int64_t>> MergedInto(int64_t customer_id);
  // MergedInto for several customers: id -> survivor, for those merged.
  core::Result<std::map<int64_t, int64_t>> MergedIntoMany(const std::vector<int64_t>& ids);
  // The customers merged directly into `survivor_id` (merges not undone).
  core::Result<std::vector<int64_t>> MergedFrom(int64_t survivor_id);

 private:
  db::Database& db_;
};

}  // namespace kehu::merge
