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
};

struct LoginResult {
  User user;
  std::string session_token;  // goes in the cookie; only its hash is stored
  std::string csrf_token;
  core::Actor actor;        // what the user may do (permissions, scope)
  bool new_device = false;  // first login from this address and browser (not the first ever)
};

}  // namespace kehu::user
