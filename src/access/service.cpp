#include "access/service.h"

#include <algorithm>
#include <map>
#include <set>

#include <spdlog/spdlog.h>

#include "core/text.h"
#include "core/time.h"
#include "core/validate.h"

namespace kehu::access {
namespace {

bool ValidKey(const std::string& k) {
  if (k.size() < 2 || k.size() > 32) return false;
  if (k[0] < 'a' || k[0] > 'z') return false;
  return std::all_of(k.begin(), k.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// Today's date in China (UTC+8), where quotas reset at local midnight.
std::string TodayCn() {
  const int64_t ms = core::NowMs() + 8LL * 3600 * 1000;
  return core::FormatTime(ms).substr(0, 10);
}

}  // namespace

void AccessService::Audit(const core::Actor& actor, const char* action, const char* entity,
                          int64_t id, nlohmann::json details) {
  auto r = audit_.Record(actor, {action, entity, std::to_string(id), std::move(details)});
  if (!r) spdlog::error("audit trail: cannot record {}: {}", action, r.error().message());
}

core::Result<void> AccessService::CheckAdmin(const core::Actor& actor) const {
  if (!actor.Can(core::Perm::kUserAdmin)) {
    return std::unexpected(core::Error::Forbidden("managing roles and teams needs user.admin"));
  }
  return core::Ok();
}

core::Result<std::vector<Role>> AccessService::ListRoles(const core::Actor& actor) {
  if (auto ok = CheckAdmin(actor); !ok) return std::unexpected(ok.error());
  return store_.ListRoles();
}

core::Result<Role> AccessService::Validate(const RoleInput& in, Role r, bool creating) const {
  std::vector<core::FieldError> errs;
  if (creating) {
    r.key = core::Trim(in.key.value_or(""));
    if (!ValidKey(r.key)) {
      errs.push_back({"key", r.key.empty() ? "required" : "invalid_format",
                      "key must be 2-32 of a-z, 0-9 and _, starting with a letter"});
    }
  } else if (in.key && *in.key != r.key) {
    errs.push_back({"key", "read_only", "a role's key cannot change"});
  }
  if (in.name) r.name = core::Trim(*in.name);
  if (r.name.empty()) {
    errs.push_back({"name", "required", "name is required"});
  } else if (core::Utf8Length(r.name) > 50) {
    errs.push_back({"name", "too_long", "name must have at most 50 characters"});
  }
  if (in.permissions) {
    core::PermSet perms;
    for (std::size_t i = 0; i < in.permissions->size(); ++i) {
      const std::string& name = (*in.permissions)[i];
      auto p = core::ParsePerm(name);
      if (!p) {
        errs.push_back(
            {"permissions[" + std::to_string(i) + "]", "unknown", "unknown permission: " + name});
      } else {
        perms.Add(*p);
      }
    }
    r.perms = perms;
  }
  if (in.scope) {
    auto s = core::ParseScope(*in.scope);
    if (!s) {
      errs.push_back({"scope", "invalid_choice", "scope must be own, team or all"});
    } else {
      r.scope = *s;
    }
  }
  if (in.reveal_quota) {
    if (*in.reveal_quota < 0 || *in.reveal_quota > 100000) {
      errs.push_back(
          {"reveal_quota", "out_of_range", "reveal_quota must be 0 (no limit) to 100000"});
    } else {
      r.reveal_quota = *in.reveal_quota;
    }
  }
  if (in.ip_allow) {
    std::vector<std::string> rules;
    for (std::size_t i = 0; i < in.ip_allow->size(); ++i) {
      auto rule = ParseIpRule((*in.ip_allow)[i]);
      if (!rule) {
        errs.push_back({"ip_allow[" + std::to_string(i) + "]", "invalid_format",
                        "not an IP address or CIDR network: " + (*in.ip_allow)[i]});
      } else {
        rules.push_back(*rule);
      }
    }
    if (rules.size() > 100) errs.push_back({"ip_allow", "too_long", "at most 100 entries"});
    r.ip_allow = std::move(rules);
  }
  if (in.mfa_required) r.mfa_required = *in.mfa_required;
  if (r.key == kAdminRole &&
      (!r.perms.Has(core::Perm::kUserAdmin) || r.scope != core::Scope::kAll)) {
    errs.push_back({"permissions", "locked",
                    "the admin role keeps user.admin and scope all, so administrators are never "
                    "locked out"});
  }
  if (!errs.empty()) return std::unexpected(core::Error::InvalidFields(std::move(errs)));
  return r;
}

core::Result<Role> AccessService::CreateRole(const core::Actor& actor, const RoleInput& in) {
  if (auto ok = CheckAdmin(actor); !ok) return std::unexpected(ok.error());
  Role base;
  base.scope = core::Scope::kOwn;
  auto r = Validate(in, base, /*creating=*/true);
  if (!r) return std::unexpected(r.error());
  auto saved = store_.InsertRole(*r, core::NowMs());
  if (saved) {
    Audit(actor, "role.create", "role", saved->id,
          {{"key", saved->key},
           {"permissions", saved->perms.Names()},
           {"scope", std::string(core::ScopeName(saved->scope))},
           {"reveal_quota", saved->reveal_quota},
           {"mfa_required", saved->mfa_required}});
  }
  return saved;
}

core::Result<Role> AccessService::UpdateRole(const core::Actor& actor, int64_t id,
                                             int64_t expected_version, const RoleInput& in) {
  if (auto ok = CheckAdmin(actor); !ok) return std::unexpected(ok.error());
  auto found = store_.FindRole(id);
  if (!found) return std::unexpected(found.error());
  if (!*found) return std::unexpected(core::Error::NotFound("no such role"));
  auto r = Validate(in, **found, /*creating=*/false);
  if (!r) return std::unexpected(r.error());
  if (r->key == actor.role && !actor.ip.empty() && !IpAllowed(r->ip_allow, actor.ip)) {
    return std::unexpected(core::Error::InvalidField(
        "ip_allow", "self",
        "this allow-list leaves out your own address (" + actor.ip + ") and would lock you out"));
  }
  auto saved = store_.UpdateRole(*r, expected_version, core::NowMs());
  if (saved) {
    Audit(actor, "role.update", "role", id,
          {{"key", saved->key},
           {"name", saved->name},
           {"permissions", saved->perms.Names()},
           {"scope", std::string(core::ScopeName(saved->scope))},
           {"reveal_quota", saved->reveal_quota},
           {"ip_allow", saved->ip_allow},
           {"mfa_required", saved->mfa_required}});
  }
  return saved;
}

core::Result<void> AccessService::DeleteRole(const core::Actor& actor, int64_t id) {
  if (auto ok = CheckAdmin(actor); !ok) return std::unexpected(ok.error());
  auto found = store_.FindRole(id);
  if (!found) return std::unexpected(found.error());
  if (!*found) return std::unexpected(core::Error::NotFound("no such role"));
  if ((*found)->builtin) {
    return std::unexpected(core::Error::Conflict("built-in roles cannot be deleted"));
  }
  auto done = store_.DeleteRole(id);
  if (done) Audit(actor, "role.delete", "role", id, {{"key", (*found)->key}});
  return done;
}

core::Result<Role> AccessService::RoleByKey(const std::string& key) {
  auto r = store_.FindRoleByKey(key);
  if (!r) return std::unexpected(r.error());
  if (!*r) {
    return std::unexpected(core::Error::InvalidFields(
        {{"role", "unknown", "no role with key " + key + " (see kehu role list)"}}));
  }
  return **r;
}

core::Result<std::vector<Team>> AccessService::ListTeams(const core::Actor& actor) {
  if (!actor.Can(core::Perm::kUserAdmin) && !actor.Can(core::Perm::kCustomerRead)) {
    return std::unexpected(core::Error::Forbidden("listing teams needs customer.read"));
  }
  return store_.ListTeams();
}

core::Result<Team> AccessService::CreateTeam(const core::Actor& actor, const std::string& name,
                                             std::optional<int64_t> parent_id) {
  return UpdateTeam(actor, 0, name, parent_id);
}

core::Result<Team> AccessService::UpdateTeam(const core::Actor& actor, int64_t id,
                                             const std::string& name_in,
                                             std::optional<int64_t> parent_id) {
  if (auto ok = CheckAdmin(actor); !ok) return std::unexpected(ok.error());
  const std::string name = core::Trim(name_in);
  std::vector<core::FieldError> errs;
  if (name.empty()) {
    errs.push_back({"name", "required", "name is required"});
  } else if (core::Utf8Length(name) > 50) {
    errs.push_back({"name", "too_long", "name must have at most 50 characters"});
  }
  auto teams = store_.ListTeams();
  if (!teams) return std::unexpected(teams.error());
  std::map<int64_t, std::optional<int64_t>> parent_of;
  for (const Team& t : *teams) parent_of[t.id] = t.parent_id;
  if (id != 0 && !parent_of.contains(id)) {
    return std::unexpected(core::Error::NotFound("no such team"));
  }
  if (parent_id) {
    if (!parent_of.contains(*parent_id)) {
      errs.push_back({"parent_id", "unknown", "no such parent team"});
    } else if (id != 0) {
      // Walk up from the new parent: meeting this team would make a cycle.
      std::optional<int64_t> at = parent_id;
      for (std::size_t guard = 0; at && guard <= parent_of.size(); ++guard) {
        if (*at == id) {
          errs.push_back({"parent_id", "cycle", "a team cannot be placed under itself"});
          break;
        }
        at = parent_of[*at];
      }
    }
  }
  if (!errs.empty()) return std::unexpected(core::Error::InvalidFields(std::move(errs)));
  Team t;
  t.id = id;
  t.name = name;
  t.parent_id = parent_id;
  auto saved = id == 0 ? store_.InsertTeam(t, core::NowMs()) : store_.UpdateTeam(t);
  if (saved && id != 0) {
    // Answer the team as stored (creation time, member count).
    if (auto all = store_.ListTeams()) {
      for (const Team& stored : *all) {
        if (stored.id == id) *saved = stored;
      }
    }
  }
  if (saved) {
    Audit(actor, id == 0 ? "team.create" : "team.update", "team", saved->id,
          {{"name", saved->name},
           {"parent_id", saved->parent_id ? nlohmann::json(*saved->parent_id) : nlohmann::json()}});
  }
  return saved;
}

core::Result<void> AccessService::DeleteTeam(const core::Actor& actor, int64_t id) {
  if (auto ok = CheckAdmin(actor); !ok) return std::unexpected(ok.error());
  auto done = store_.DeleteTeam(id);
  if (done) Audit(actor, "team.delete", "team", id);
  return done;
}

core::Result<Team> AccessService::TeamByName(const std::string& name) {
  auto t = store_.FindTeamByName(name);
  if (!t) return std::unexpected(t.error());
  if (!*t) {
    return std::unexpected(core::Error::InvalidFields(
        {{"team", "unknown", "no team named " + name + " (see kehu team list)"}}));
  }
  return **t;
}

core::Result<void> AccessService::Resolve(core::Actor& actor, const std::string& role_key,
                                          std::optional<int64_t> team_id) {
  auto role = store_.FindRoleByKey(role_key);
  if (!role) return std::unexpected(role.error());
  actor.role = role_key;
  actor.scope_user_ids = {actor.user_id};
  if (!*role) {
    // A role deleted under a user leaves them with no permissions rather than failing logins.
    actor.perms = core::PermSet();
    actor.scope = core::Scope::kOwn;
    return core::Ok();
  }
  actor.perms = (*role)->perms;
  actor.scope = (*role)->scope;
  actor.ip_allow = (*role)->ip_allow;
  actor.mfa_required = (*role)->mfa_required;
  if (actor.scope == core::Scope::kTeam && team_id) {
    auto teams = store_.ListTeams();
    if (!teams) return std::unexpected(teams.error());
    std::set<int64_t> subtree{*team_id};
    for (bool grew = true; grew;) {  // teams are few; repeat until no team joins
      grew = false;
      for (const Team& t : *teams) {
        if (t.parent_id && subtree.contains(*t.parent_id) && !subtree.contains(t.id)) {
          subtree.insert(t.id);
          grew = true;
        }
      }
    }
    auto users = store_.UsersInTeams({subtree.begin(), subtree.end()});
    if (!users) return std::unexpected(users.error());
    for (int64_t u : *users) {
      if (u != actor.user_id) actor.scope_user_ids.push_back(u);
    }
  }
  return core::Ok();
}

core::Result<int> AccessService::QuotaOf(const core::Actor& actor) const {
  if (actor.user_id == 0) return 0;  // the CLI's local administrator
  auto role = store_.FindRoleByKey(actor.role);
  if (!role) return std::unexpected(role.error());
  return *role ? (*role)->reveal_quota : 0;
}

core::Result<AccessService::RevealCharge> AccessService::ChargeReveal(const core::Actor& actor) {
  return ChargeReveals(actor, 1);
}

core::Result<AccessService::RevealCharge> AccessService::ChargeReveals(const core::Actor& actor,
                                                                       int n) {
  if (!actor.Can(core::Perm::kPhoneReveal)) {
    return std::unexpected(core::Error::Forbidden("revealing numbers needs phone.reveal"));
  }
  if (n < 1) return std::unexpected(core::Error::BadRequest("nothing to reveal"));
  auto quota = QuotaOf(actor);
  if (!quota) return std::unexpected(quota.error());
  if (actor.user_id == 0) return RevealCharge{0, 0, false};  // the CLI's local administrator
  auto used = store_.CountReveal(actor.user_id, TodayCn(), *quota, n);
  if (!used) return std::unexpected(used.error());
  if (!*used) {
    if (n == 1) {
      return std::unexpected(core::Error(core::Code::kRateLimited,
                                         "today's quota of " + std::to_string(*quota) +
                                             " number reveals is used up; it resets at midnight"));
    }
    auto today = store_.RevealsOn(actor.user_id, TodayCn());
    const int left = today ? std::max(0, *quota - *today) : 0;
    return std::unexpected(core::Error(core::Code::kRateLimited,
                                       "showing clear values of " + std::to_string(n) +
                                           " customers needs " + std::to_string(n) + " reveals; " +
                                           std::to_string(left) + " of today's quota of " +
                                           std::to_string(*quota) + " are left"));
  }
  return RevealCharge{**used, *quota, *quota > 0 && **used == *quota};
}

core::Result<AccessService::RevealCharge> AccessService::RevealUsage(const core::Actor& actor) {
  if (!actor.Can(core::Perm::kPhoneReveal)) {
    return std::unexpected(core::Error::Forbidden("revealing numbers needs phone.reveal"));
  }
  auto quota = QuotaOf(actor);
  if (!quota) return std::unexpected(quota.error());
  if (actor.user_id == 0) return RevealCharge{0, 0, false};
  auto used = store_.RevealsOn(actor.user_id, TodayCn());
  if (!used) return std::unexpected(used.error());
  return RevealCharge{*used, *quota, *quota > 0 && *used >= *quota};
}

}  // namespace kehu::access
