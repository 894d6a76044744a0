// Persistence of roles, teams, team membership and daily reveal counts. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "access/model.h"
#include "core/error.h"
#include "db/database.h"

namespace kehu::access {

std::vector<db::Migration> Migrations();

class AccessStore {
 public:
  explicit AccessStore(db::Database& db) : db_(db) {}

  core::Result<std::vector<Role>> ListRoles();
  core::Result<std::optional<Role>> FindRole(int64_t id);
  core::Result<std::optional<Role>> FindRoleByKey(const std::string& key);
  // kConflict when the key is taken.
  core::Result<Role> InsertRole(const Role& r, int64_t now);
  // kPreconditionFailed when the stored version is not `expected_version`; kNotFound when gone.
  core::Result<Role> UpdateRole(const Role& r, int64_t expected_version, int64_t now);
  // kConflict when users still hold it; kNotFound when gone.
  core::Result<void> DeleteRole(int64_t id);

  core::Result<std::vector<Team>> ListTeams();
  core::Result<std::optional<Team>> FindTeamByName(const std::string& name);
  // kConflict when the name is taken.
  core::Result<Team> InsertTeam(const Team& t, int64_t now);
  core::Result<Team> UpdateTeam(const Team& t);
  // kConflict when it still has members or sub-teams.
  core::Result<void> DeleteTeam(int64_t id);

  // Ids of the users whose team is one of `team_ids`.
  core::Result<std::vector<int64_t>> UsersInTeams(const std::vector<int64_t>& team_ids);

  // Adds `n` (>= 1) to the user's reveal count of `day` (YYYY-MM-DD) unless that would take it
  // over `quota` (0 = no limit). Returns the new count, or nullopt when the quota does not
  // leave room for `n` more (nothing is counted then).
  core::Result<std::optional<int>> CountReveal(int64_t user_id, const std::string& day, int quota,
                                               int n = 1);
  core::Result<int> RevealsOn(int64_t user_id, const std::string& day);

 private:
  db::Database& db_;
};

}  // namespace kehu::access
