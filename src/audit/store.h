#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "audit/model.h"
#include "core/error.h"
#include "db/database.h"

namespace kehu::audit {

// Migration 6: audit_log and the one-row audit_head (seq and hash of the last entry).
std::vector<db::Migration> Migrations();

// The audit tables. SQL only: the chain rules are in chain.h and AuditLog. Thread-safe.
class AuditStore {
 public:
  explicit AuditStore(db::Database& db) : db_(db) {}

  // Appends `e` at the end of the chain, in one transaction: advances audit_head's seq first
  // (on PostgreSQL that row lock makes concurrent appenders wait their turn; SQLite writes are
  // serialised anyway), links e to the head hash, hashes it (chain.h), inserts it and moves
  // the head to it. Reads e.at, actor_id, actor_name, action, entity, entity_id, ip and
  // details; fills e.id, seq, details_text, prev_hash and hash. kInternal when audit_head has
  // no row (the log was tampered with).
  core::Result<void> Append(Entry& e);
  // The same inside a transaction the caller runs (a Database::Write callback); throws to
  // roll it back.
  void AppendIn(soci::session& sql, Entry& e);

  // One page, newest first (id descending), starting below q.cursor when given.
  core::Result<Page> List(const ListQuery& q);

  // Calls fn with each entry matching `f` in ascending id order, reading `batch` rows per
  // query (so memory stays bounded) and calling fn outside any transaction; stops when fn
  // returns false. Entries appended meanwhile may or may not be visited.
  core::Result<void> Scan(const Filter& f, const std::function<bool(const Entry&)>& fn,
                          int batch = 500);

  core::Result<int64_t> Count();

  // The head as stored; nullopt when its row is missing.
  core::Result<std::optional<Head>> GetHead();

 private:
  // Up to `limit` entries matching f past `after` (an id): below it when newest_first, else
  // above it.
  core::Result<std::vector<Entry>> Select(const Filter& f, std::optional<int64_t> after,
                                          bool newest_first, int limit);

  db::Database& db_;
};

}  // namespace kehu::audit
