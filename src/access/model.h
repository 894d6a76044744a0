// Roles (a set of permissions plus a data scope) and teams (nested), which make a user's Actor.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/actor.h"

namespace kehu::access {

struct Role {
  int64_t id = 0;
  std::string key;   // stable identifier: "admin", "sales", or an admin-chosen key
  std::string name;  // shown in the UI: 管理员, 销售…
  bool builtin = false;
  core::PermSet perms;
  core::Scope scope = core::Scope::kOwn;
  int reveal_quota = 0;  // clear-number reveals a user may make per day; 0 = unlimited
  // Addresses or CIDR networks users of this role may log in and work from; empty = anywhere.
  std::vector<std::string> ip_allow;
  // Users of this role must use a second factor (TOTP): those without one can only enrol.
  bool mfa_required = false;
  int64_t user_count = 0;
  int64_t version = 1;
  int64_t updated_at = 0;
};

// What an admin sends to create or change a role; unset members stay as they are.
struct RoleInput {
  std::optional<std::string> key;
  std::optional<std::string> name;
  std::optional<std::vector<std::string>> permissions;
  std::optional<std::string> scope;
  std::optional<int> reveal_quota;
  std::optional<std::vector<std::string>> ip_allow;
  std::optional<bool> mfa_required;
};

// Whether `ip` is one of `allow` (addresses or CIDR networks, IPv4 or IPv6); an empty list
// allows every address.
bool IpAllowed(const std::vector<std::string>& allow, const std::string& ip);
// Normalises one allow-list entry ("10.1.0.0/16", "192.168.1.7", "fd00::/8"); nullopt when
// it is neither an address nor a network.
std::optional<std::string> ParseIpRule(const std::string& rule);

struct Team {
  int64_t id = 0;
  std::string name;
  std::optional<int64_t> parent_id;
  int64_t member_count = 0;
  int64_t created_at = 0;
};

// The keys of the built-in roles, seeded by the migration.
inline constexpr const char* kAdminRole = "admin";
inline constexpr const char* kSalesRole = "sales";

}  // namespace kehu::access
