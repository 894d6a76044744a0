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
  core::Role role = core::Role::kMember;
  bool active = true;
  int64_t created_at = 0;
};

struct NewUser {
  std::string username;
  std::string password;
  std::string display_name;  // defaults to username
  core::Role role = core::Role::kMember;
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
};

inline const char* RoleName(core::Role r) { return r == core::Role::kAdmin ? "admin" : "member"; }
inline std::optional<core::Role> ParseRole(std::string_view s) {
  if (s == "admin") return core::Role::kAdmin;
  if (s == "member") return core::Role::kMember;
  return std::nullopt;
}

}  // namespace kehu::user
