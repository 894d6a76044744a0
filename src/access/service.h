// Roles, teams and the Actor a user acts as. Admin operations need user.admin. Thread-safe.
#pragma once

#include <string>
#include <vector>

#include "access/model.h"
#include "access/store.h"
#include "audit/service.h"
#include "core/actor.h"
#include "core/error.h"

namespace kehu::access {

class AccessService {
 public:
  AccessService(AccessStore& store, audit::AuditLog& audit) : store_(store), audit_(audit) {}

  core::Result<std::vector<Role>> ListRoles(const core::Actor& actor);
  // kInvalid naming the field: key ([a-z][a-z0-9_]{1,31}), name, unknown permission, scope.
  core::Result<Role> CreateRole(const core::Actor& actor, const RoleInput& in);
  // The admin role keeps user.admin and scope all, so nobody locks the administrators out.
  // Nor can an admin give their own role an IP allow-list that leaves out where they are.
  core::Result<Role> UpdateRole(const core::Actor& actor, int64_t id, int64_t expected_version,
                                const RoleInput& in);
  // Built-in roles cannot be deleted; a role users hold neither (kConflict).
  core::Result<void> DeleteRole(const core::Actor& actor, int64_t id);
  // kInvalid (field "role") when there is no role with this key.
  core::Result<Role> RoleByKey(const std::string& key);

  core::Result<std::vector<Team>> ListTeams(const core::Actor& actor);
  core::Result<Team> CreateTeam(const core::Actor& actor, const std::string& name,
                                std::optional<int64_t> parent_id);
  // A team cannot become its own ancestor.
  core::Result<Team> UpdateTeam(const core::Actor& actor, int64_t id, const std::string& name,
                                std::optional<int64_t> parent_id);
  core::Result<void> DeleteTeam(const core::Actor& actor, int64_t id);
  // kInvalid (field "team") when there is no team with this name.
  core::Result<Team> TeamByName(const std::string& name);

  // Fills the actor's role key, permissions, scope and the users its scope covers (team scope:
  // everyone in the user's team and its sub-teams; a user without a team sees only their own).
  core::Result<void> Resolve(core::Actor& actor, const std::string& role_key,
                             std::optional<int64_t> team_id);

  struct RevealCharge {
    int used = 0;   // reveals today, this one included
    int quota = 0;  // 0 = unlimited
    bool quota_now_reached = false;
  };
  // Counts one clear-number reveal for today (UTC+8 calendar day, as the users live there).
  // kForbidden without phone.reveal; kRateLimited once the role's daily quota is used up.
  core::Result<RevealCharge> ChargeReveal(const core::Actor& actor);
  // Counts `n` (>= 1) reveals at once (a clear-values export of n customers), all or none:
  // kRateLimited, counting nothing, when fewer than n are left today.
  core::Result<RevealCharge> ChargeReveals(const core::Actor& actor, int n);
  // Today's reveals so far (`used`) and the role's quota (0 = unlimited), counting nothing.
  // kForbidden without phone.reveal.
  core::Result<RevealCharge> RevealUsage(const core::Actor& actor);

 private:
  core::Result<void> CheckAdmin(const core::Actor& actor) const;
  core::Result<Role> Validate(const RoleInput& in, Role base, bool creating) const;
  core::Result<int> QuotaOf(const core::Actor& actor) const;

  void Audit(const core::Actor& actor, const char* action, const char* entity, int64_t id,
             nlohmann::json details = nlohmann::json::object());

  AccessStore& store_;
  audit::AuditLog& audit_;
};

}  // namespace kehu::access
