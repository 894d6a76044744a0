// Remembered answers to POSTs sent with an Idempotency-Key, per user, for 24 hours.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "db/database.h"

namespace kehu::idempotency {

std::vector<db::Migration> Migrations();

struct Stored {
  std::string request_hash;
  bool complete = false;
  int status = 0;
  std::string content_type;
  std::string headers_json;  // [[name, value], ...]
  std::string body;
};

class IdempotencyStore {
 public:
  explicit IdempotencyStore(db::Database& db) : db_(db) {}
  // Claims (user, key) for a new request. Returns nullopt when claimed now; otherwise the
  // existing entry (complete or still running).
  core::Result<std::optional<Stored>> Claim(int64_t user_id, const std::string& key,
                                            const std::string& request_hash, int64_t now);
  core::Result<void> Complete(int64_t user_id, const std::string& key, const Stored& answer);
  core::Result<void> Release(int64_t user_id, const std::string& key);
  core::Result<void> Expire(int64_t older_than);

 private:
  db::Database& db_;
};

}  // namespace kehu::idempotency
