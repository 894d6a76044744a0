#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/actor.h"

namespace kehu::user {

struct User {
  int64_t id = 0;
  std::string username;
  std::string display_name;
  std::string role = "sales";  // the key of an access::Role
  bool active = true;
  int64_t created_at = 0;
  std::optional<int64_t> team_id;
  int64_t version = 1;
  bool mfa_enabled = false;  // a second factor (TOTP) is on: logins need a code
};

struct NewUser {
  std::string username;
  std::string password;
  std::string display_name;  // defaults to username
  std::string role = "sales";
  std::optional<int64_t> team_id;
};

// An admin's change to a user; unset members stay as they are.
struct UserChange {
  std::optional<std::string> display_name;
  std::optional<std::string> role;
  std::optional<std::optional<int64_t>> team_id;  // a nullopt inside: no team
  std::optional<bool> active;
  std::optional<std::string> password;
};

struct ApiToken {
  int64_t id = 0;
  int64_t user_id = 0;
  std::string name;
  int64_t created_at = 0;
  std::optional<int64_t> last_used_at;
};

// What authentication yields: the actor plus, for cookie sessions, the CSRF token writes need.
struct Authenticated {
  core::Actor actor;
  bool via_session = false;
  std::string csrf_token;  // empty for API tokens
  // A session of a user whose role requires MFA and who has not enrolled yet: it may only
  // enrol (and log out); everything else answers 403 mfa/enrollment_required.
  bool mfa_enrollment_required = false;
};

// The half of a login that knows the password and still needs the second factor.
struct MfaChallenge {
  std::string token;  // sent to POST /auth/login/mfa; only its hash is stored
  int64_t expires_at = 0;
};

struct LoginResult {
  User user;
  std::string session_token;  // goes in the cookie; only its hash is stored
  std::string csrf_token;
  core::Actor actor;        // what the user may do (permissions, scope)
  bool new_device = false;  // first login from this address and browser (not the first ever)
  // Set when the user has MFA on: the password was right but no session exists yet (the
  // session members above are empty); the code goes to MfaService::CompleteLogin.
  std::optional<MfaChallenge> mfa;
  // The role requires MFA and the user has not enrolled: the session may only enrol.
  bool mfa_enrollment_required = false;
};

}  // namespace kehu::user
