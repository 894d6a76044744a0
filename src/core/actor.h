// The acting user: every service method takes it first and checks permissions against it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kehu::core {

// What a role may do. A role is a set of these plus a data scope.
enum class Perm : uint32_t {
  kCustomerRead,
  kCustomerCreate,
  kCustomerUpdate,
  kCustomerDelete,
  kCustomerExport,
  kCustomerImport,
  kCustomerMerge,
  kPhoneReveal,
  kInteractionLog,
  kTagManage,
  kFieldManage,
  kUserAdmin,
  kAuditRead,
  kSettingsAdmin,
  kCount,  // not a permission: the number of them
};

// "customer.read" and so on; the names the API, CLI and role definitions use.
std::string_view PermName(Perm p);
std::optional<Perm> ParsePerm(std::string_view name);
// Every permission, in declaration order.
const std::vector<Perm>& AllPerms();

// Which customers a role's permissions apply to.
enum class Scope {
  kOwn,   // customers the user owns
  kTeam,  // customers owned by anyone in the user's team or its sub-teams
  kAll,   // every customer
};
std::string_view ScopeName(Scope s);
std::optional<Scope> ParseScope(std::string_view name);

class PermSet {
 public:
  PermSet() = default;
  static PermSet All() {
    PermSet s;
    s.bits_ = (1u << static_cast<uint32_t>(Perm::kCount)) - 1;
    return s;
  }
  bool Has(Perm p) const { return (bits_ >> static_cast<uint32_t>(p)) & 1u; }
  void Add(Perm p) { bits_ |= 1u << static_cast<uint32_t>(p); }
  void Remove(Perm p) { bits_ &= ~(1u << static_cast<uint32_t>(p)); }
  bool operator==(const PermSet&) const = default;
  // Names in declaration order.
  std::vector<std::string> Names() const;
  uint32_t bits() const { return bits_; }

 private:
  uint32_t bits_ = 0;
};

struct Actor {
  int64_t user_id = 0;
  std::string username;
  std::string display_name;
  std::string role;  // the role's key: "admin", "sales", a custom key…
  PermSet perms;
  Scope scope = Scope::kOwn;
  // For Scope::kTeam: every user in the actor's team and its sub-teams (the actor included).
  // For kOwn: just the actor. Unused for kAll.
  std::vector<int64_t> scope_user_ids;
  std::string ip;  // where the request came from; "" for the CLI
  // The role's IP allow-list (addresses or CIDR networks); empty = from anywhere.
  std::vector<std::string> ip_allow;
  // The role requires a second factor (MFA) for logins with a password.
  bool mfa_required = false;
  // Authenticated with an API token (a script), not a signed-in session.
  bool via_token = false;

  bool Can(Perm p) const { return perms.Has(p); }
  // Whether a customer owned by `owner_id` (nullopt: nobody) is within the actor's scope.
  bool InScope(std::optional<int64_t> owner_id) const;
  // True for the administrators (they hold user.admin).
  bool is_admin() const { return Can(Perm::kUserAdmin); }

  // The local administrator used by CLI commands (acts on the configured database directly).
  static Actor LocalAdmin() {
    Actor a;
    a.user_id = 0;
    a.username = "local-admin";
    a.display_name = "本机管理员";
    a.role = "admin";
    a.perms = PermSet::All();
    a.scope = Scope::kAll;
    return a;
  }
};

}  // namespace kehu::core
