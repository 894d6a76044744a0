// The jobs table. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "db/database.h"
#include "jobs/model.h"

namespace kehu::jobs {

std::vector<db::Migration> Migrations();

class JobStore {
 public:
  explicit JobStore(db::Database& db) : db_(db) {}

  // Inserts a queued job (kind, runner, created_by, params) and returns it with its id.
  core::Result<Job> Create(const Job& j);
  // nullopt when unknown.
  core::Result<std::optional<Job>> Get(int64_t id);
  // Newest first; `kind` "" = all; `created_by` nullopt = everyone's.
  core::Result<std::vector<Job>> List(const std::string& kind, std::optional<int64_t> created_by,
                                      int limit);

  // Takes the oldest job of `runner` that is queued, or running with its lease run out (its
  // process died), for `owner` until `now + lease_ms`: state running, attempts + 1. nullopt
  // when there is none. Safe against other processes claiming at the same time.
  core::Result<std::optional<Job>> Claim(const std::string& runner, const std::string& owner,
                                         int64_t now, int64_t lease_ms);
  // Takes a given job the same way (the CLI resuming it); nullopt when it is finished or
  // another live process holds it.
  core::Result<std::optional<Job>> ClaimById(int64_t id, const std::string& owner, int64_t now,
                                             int64_t lease_ms);
  // Extends the lease; false when `owner` no longer holds the job.
  core::Result<bool> Renew(int64_t id, const std::string& owner, int64_t until);
  // Saves the position inside the caller's transaction (the work it stands for is in the same
  // transaction) and extends the lease. Throws db::Abort (kConflict) when `owner` no longer
  // holds the job, so the transaction rolls back.
  void Checkpoint(soci::session& sql, int64_t id, const std::string& owner, int64_t cursor,
                  int64_t progress_done, int64_t progress_total, const nlohmann::json& result,
                  int64_t lease_until);
  // Ends a job held by `owner`: done, failed or cancelled, with its result and error.
  core::Result<bool> Finish(int64_t id, const std::string& owner, State state,
                            const nlohmann::json& result, const std::string& error);
  // Gives a held job back (queued again, lease cleared): the process is stopping.
  core::Result<void> Release(int64_t id, const std::string& owner);

 private:
  db::Database& db_;
};

}  // namespace kehu::jobs
