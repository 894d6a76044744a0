// Users, login sessions and API tokens. Thread-safe.
#pragma once

#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "access/service.h"
#include "audit/service.h"
#include "core/actor.h"
#include "core/error.h"
#include "user/model.h"
#include "user/store.h"

namespace kehu::user {

struct SessionPolicy {
  int64_t idle_timeout_ms = 12LL * 3600 * 1000;          // a session unused this long ends
  int64_t absolute_timeout_ms = 7LL * 24 * 3600 * 1000;  // and never lives longer than this
};

// Failed-login throttling, per account name and per client address. After `free_failures`
// failures in a row each further one makes the next attempt wait twice as long (from 1 s up
// to `max_delay_ms`); at `lock_after` failures the account (or address) is locked for
// `lock_ms`. Failures older than `lock_ms` are forgotten; a successful login clears the
// account's count.
struct LoginPolicy {
  int64_t free_failures = 3;
  int64_t lock_after = 10;
  int64_t max_delay_ms = 5LL * 60 * 1000;
  int64_t lock_ms = 15LL * 60 * 1000;
  int64_t ip_free_failures = 10;
  int64_t ip_lock_after = 50;
};

class UserService {
 public:
  UserService(UserStore& store, access::AccessService& access, audit::AuditLog& audit,
              SessionPolicy policy = {}, LoginPolicy login_policy = {});

  // Needs user.admin. Validates username (1–64 chars, no whitespace or control chars), password
  // (8–256 chars), role (an existing role key) and team. kConflict when the username is taken.
  core::Result<User> Create(const core::Actor& actor, NewUser u);
  // Needs user.admin. Nobody can take away their own user.admin or deactivate themselves.
  // kPreconditionFailed when the user is no longer at `expected_version`.
  core::Result<User> Update(const core::Actor& actor, int64_t id, int64_t expected_version,
                            const UserChange& change);
  core::Result<std::vector<User>> List(const core::Actor& actor);
  core::Result<int64_t> Count();
  core::Result<User> Get(const core::Actor& actor, int64_t id);

  // kUnauthenticated with the same message for an unknown user and a wrong password; the time
  // taken does not tell them apart either (a dummy hash is verified for unknown users).
  // For a user with MFA on, a right password starts no session: the result carries only
  // `user` and an MfaChallenge (valid kMfaChallengeMs, for MfaService::CompleteLogin), and the
  // name's failed-login count stays until the code is right too.
  core::Result<LoginResult> Login(const std::string& username, const std::string& password,
                                  const std::string& ip, const std::string& user_agent);
  // Starts the session of a user whose every factor was checked: clears the name's failed
  // logins, applies the role's IP allow-list, records auth.login (with `details`) and the
  // device. For Login and MfaService::CompleteLogin.
  core::Result<LoginResult> FinishLogin(const User& u, const std::string& ip,
                                        const std::string& user_agent,
                                        nlohmann::json details = nlohmann::json::object());
  static constexpr int64_t kMfaChallengeMs = 5LL * 60 * 1000;
  core::Result<void> Logout(const core::Actor& actor, const std::string& session_token);

  // The actor's own sessions (or, with user.admin, another user's); `current_hash` marks the
  // caller's.
  core::Result<std::vector<SessionInfo>> Sessions(const core::Actor& actor, int64_t user_id);
  // Ends sessions of `user_id` whose id (a prefix of the token hash, 16 hex digits) is `sid`,
  // or all of them when `sid` is empty. Own sessions, or anyone's with user.admin.
  core::Result<int> RevokeSessions(const core::Actor& actor, int64_t user_id,
                                   const std::string& sid);
  // Changes the actor's own password after checking the current one (kUnauthenticated when
  // wrong; counts as a failed login for throttling). Ends the actor's other sessions.
  core::Result<void> ChangeOwnPassword(const core::Actor& actor, const std::string& current,
                                       const std::string& replacement,
                                       const std::string& keep_session_hash);
  // Addresses and browsers the user logged in from.
  core::Result<std::vector<Device>> Devices(const core::Actor& actor, int64_t user_id);
  // kUnauthenticated when the session is unknown, expired, or its user inactive.
  core::Result<Authenticated> AuthenticateSession(const std::string& session_token);
  core::Result<Authenticated> AuthenticateToken(const std::string& bearer_token);

  // Creates an API token for the actor; returns the token row and the secret (shown once).
  core::Result<std::pair<ApiToken, std::string>> CreateToken(const core::Actor& actor,
                                                             const std::string& name);
  // For the CLI: a token for the named user. kNotFound when there is no such user.
  core::Result<std::pair<ApiToken, std::string>> CreateTokenFor(const std::string& username,
                                                                const std::string& name);
  core::Result<std::vector<ApiToken>> ListTokens(const core::Actor& actor);
  core::Result<void> DeleteToken(const core::Actor& actor, int64_t token_id);

  // Failed-login throttling by login name and address (LoginPolicy), also for second-factor
  // codes. CheckThrottle: kRateLimited (with Retry-After) while the name or the address is
  // blocked. CountFailure: counts one failure for both (and raises the lock alerts).
  core::Result<void> CheckThrottle(const std::string& username, const std::string& ip);
  void CountFailure(const std::string& username, const std::string& ip);
  // Drops this server's cached authentications of the user (after their MFA or role changed).
  void Forget(int64_t user_id);

  // The actor of an active user, with the role's permissions and scope as they are now (also
  // for a background job acting for the user who started it); `mfa_enabled` (when given)
  // receives whether they have MFA on. kUnauthenticated when inactive.
  core::Result<core::Actor> ActorFor(int64_t user_id, bool* mfa_enabled = nullptr);

 private:
  struct CacheEntry {
    Authenticated auth;
    int64_t cached_at = 0;
  };
  std::optional<Authenticated> CacheGet(const std::string& key, int64_t now);
  void CachePut(const std::string& key, const Authenticated& a, int64_t now);
  void CacheErase(const std::string& key);

  // Records a login refused by the role's IP allow-list; the error to answer.
  core::Error RefuseAddress(const core::Actor& actor, const std::string& ip);
  void Audit(const core::Actor& actor, const char* action, int64_t user_id,
             nlohmann::json details = nlohmann::json::object());
  core::Result<void> ValidateRoleTeam(const std::string& role, std::optional<int64_t> team_id,
                                      std::vector<core::FieldError>& errs);
  void ValidatePassword(const std::string& password, const std::string& username,
                        const std::string& display_name, std::vector<core::FieldError>& errs) const;

  UserStore& store_;
  access::AccessService& access_;
  audit::AuditLog& audit_;
  const SessionPolicy policy_;
  const LoginPolicy login_policy_;
  std::string dummy_hash_;  // constant after construction

  // Authentications are cached for a few seconds so hot paths (caller ID) do not hit the
  // database per request. Revocations on this server erase their entry at once.
  std::shared_mutex cache_mu_;
  std::unordered_map<std::string, CacheEntry> cache_;  // guarded by cache_mu_
};

}  // namespace kehu::user
