// Persistence of users, sessions and API tokens. Thread-safe (each call leases a session).
#pragma once

#include <functional>
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

// Failed-login bookkeeping for one throttle key ("u:NAME" or "ip:ADDRESS").
struct Throttle {
  int64_t failures = 0;
  int64_t last_at = 0;
  int64_t blocked_until = 0;  // epoch ms; 0 = not blocked
};

struct DeviceSeen {
  bool is_new = false;      // this address and browser had not logged in as the user before
  bool first_ever = false;  // … and neither had any other: the user's first login
};

struct Device {
  std::string ip, user_agent;
  int64_t first_seen_at = 0, last_seen_at = 0;
};

// A login that passed the password and waits for the second factor.
struct StoredChallenge {
  int64_t user_id = 0;
  int64_t expires_at = 0;
  int64_t failures = 0;  // wrong codes sent with it so far
};

struct SessionInfo {
  std::string token_hash;  // the API shows a prefix as the session's id
  std::string ip, user_agent;
  int64_t created_at = 0, last_seen_at = 0, expires_at = 0;
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
  // The user of a live (not revoked) token and when the token was last used (0 = never).
  struct TokenUse {
    int64_t user_id = 0;
    int64_t last_used_at = 0;
  };
  core::Result<std::optional<TokenUse>> FindTokenUser(const std::string& token_hash);
  core::Result<void> TouchToken(const std::string& token_hash, int64_t now);

  core::Result<Throttle> GetThrottle(const std::string& key);
  // Counts one failure (starting again from 1 when the last one is older than forget_before)
  // and stores block_until(failures) as the key's block.
  core::Result<Throttle> AddFailure(const std::string& key, int64_t now, int64_t forget_before,
                                    const std::function<int64_t(int64_t)>& block_until);
  core::Result<void> ClearFailures(const std::string& key);

  // Records a successful login from this address and browser.
  core::Result<DeviceSeen> SeeDevice(int64_t user_id, const std::string& ip,
                                     const std::string& user_agent, int64_t now);
  core::Result<std::vector<Device>> ListDevices(int64_t user_id);

  core::Result<std::vector<SessionInfo>> ListSessions(int64_t user_id);
  // Sets the password hash and ends every session of the user but `keep_session_hash`;
  // returns the hashes of the sessions ended.
  core::Result<std::vector<std::string>> SetPassword(int64_t user_id, const std::string& hash,
                                                     const std::string& keep_session_hash,
                                                     int64_t now);
  // Deletes the user's sessions whose hash starts with `hash_prefix` ("" = all of them);
  // returns the hashes deleted.
  core::Result<std::vector<std::string>> DeleteSessions(int64_t user_id,
                                                        const std::string& hash_prefix);

  // Half-done logins (MFA). Inserting one also drops every expired one.
  core::Result<void> InsertMfaChallenge(const std::string& token_hash, int64_t user_id, int64_t now,
                                        int64_t expires_at);
  // nullopt when unknown (or already taken).
  core::Result<std::optional<StoredChallenge>> FindMfaChallenge(const std::string& token_hash);
  // Counts one wrong code; at `max_failures` the challenge is deleted. Returns the count.
  core::Result<int64_t> FailMfaChallenge(const std::string& token_hash, int64_t max_failures);
  // Deletes the challenge; true when it was still there, so only one request can finish it.
  core::Result<bool> TakeMfaChallenge(const std::string& token_hash);

 private:
  db::Database& db_;
};

}  // namespace kehu::user
