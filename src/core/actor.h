// The acting user: every service method takes it first and checks permissions against it.
#pragma once

#include <cstdint>
#include <string>

namespace kehu::core {

enum class Role { kAdmin, kMember };

struct Actor {
  int64_t user_id = 0;
  std::string username;
  std::string display_name;
  Role role = Role::kMember;
  bool is_admin() const { return role == Role::kAdmin; }

  // The local administrator used by CLI commands (acts on the configured database directly).
  static Actor LocalAdmin() { return Actor{0, "local-admin", "本机管理员", Role::kAdmin}; }
};

}  // namespace kehu::core
