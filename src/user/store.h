// Persistence of users, sessions and API tokens. Thread-safe (each call leases a session).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "db/database.h"
#include "user/model.h"

namespace kehu::user {

std::vector<db::Migration> Migrations();

struct StoredSession {
  int64_t user_id = 0;
  std::string csrf_token;
  int64_t expires_at = 0;
  int64_t last_seen_at = 0;
  int64_t created_at = 0;
};

class UserStore {
 public:
  explicit UserStore(db::Database& db) : db_(db) {}

  // kConflict when the username is taken.
  core::Result<User> Insert(const NewUser& u, const std::string& password_hash, int64_t now);
  // nullopt when unknown.
  core::Result<std::optional<User>> FindById(int64_t id);
  // The user and the stored password hash; nullopt when unknown.
  core::Result<std::optional<std::pair<User, std::string>>> FindForLogin(
      const std::string& username);
  core::Result<std::vector<User>> List();
  // Writes display name, role, team and active flag (and the password hash when given).
  // Deactivating a user, or setting a password, ends their sessions; deactivating also
  // revokes their API tokens. kNotFound when there is no such user.
  // kPreconditionFailed when the stored version is not `expected_version`.
  core::Result<User> Update(const User& u, int64_t expected_version,
                            const std::optional<std::string>& password_hash, int64_t now);
  core::Result<int64_t> Count();

  core::Result<void> InsertSession(const std::string& token_hash, int64_t user_id,
                                   const std::string& csrf, int64_t now, int64_t expires_at,
                                   const std::string& ip, const std::string& user_agent);
  core::Result<std::optional<StoredSession>> FindSession(const std::string& token_hash);
  core::Result<void> TouchSession(const std::string& token_hash, int64_t now, int64_t expires_at);
  core::Result<void> DeleteSession(const std::string& token_hash);

  core::Result<ApiToken> InsertToken(int64_t user_id, const std::string& name,
                                     const std::string& token_hash, int64_t now);
  core::Result<std::vector<ApiToken>> ListTokens(int64_t user_id);
  // Returns the token's hash when it existed and belonged to user_id (and is now revoked).
  core::Result<std::optional<std::string>> RevokeToken(int64_t user_id, int64_t token_id,
                                                       int64_t now);
  // User id of a live (not revoked) token; nullopt when unknown.
  core::Result<std::optional<int64_t>> FindTokenUser(const std::string& token_hash);
  core::Result<void> TouchToken(const std::string& token_hash, int64_t now);

 private:
  db::Database& db_;
};

}  // namespace kehu::user
