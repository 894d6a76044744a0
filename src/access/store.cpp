#include "access/store.h"

#include <sstream>

namespace kehu::access {
namespace {

std::string JoinWords(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

std::vector<std::string> SplitWords(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

std::string JoinPerms(const core::PermSet& p) {
  std::string out;
  for (const std::string& n : p.Names()) {
    if (!out.empty()) out += ' ';
    out += n;
  }
  return out;
}

core::PermSet SplitPerms(const std::string& s) {
  core::PermSet p;
  std::istringstream in(s);
  std::string name;
  while (in >> name) {
    if (auto perm = core::ParsePerm(name)) p.Add(*perm);
  }
  return p;
}

struct RoleRow {
  long long id = 0, version = 0, updated_at = 0, users = 0;
  std::string key, name, perms, scope, ip_allow;
  int builtin = 0, quota = 0, mfa = 0;
  Role ToRole() const {
    Role r;
    r.id = id;
    r.key = key;
    r.name = name;
    r.builtin = builtin != 0;
    r.perms = SplitPerms(perms);
    r.scope = core::ParseScope(scope).value_or(core::Scope::kOwn);
    r.reveal_quota = quota;
    r.ip_allow = SplitWords(ip_allow);
    r.mfa_required = mfa != 0;
    r.user_count = users;
    r.version = version;
    r.updated_at = updated_at;
    return r;
  }
};

constexpr const char* kRoleSelect =
    "SELECT r.id, r.role_key, r.name, r.builtin, r.permissions, r.scope, r.reveal_quota, "
    "r.version, r.updated_at, (SELECT COUNT(*) FROM users u WHERE u.role = r.role_key), "
    "r.ip_allow, r.mfa_required FROM roles r ";

void BindRole(soci::statement& st, RoleRow& r) {
  st.exchange(soci::into(r.id));
  st.exchange(soci::into(r.key));
  st.exchange(soci::into(r.name));
  st.exchange(soci::into(r.builtin));
  st.exchange(soci::into(r.perms));
  st.exchange(soci::into(r.scope));
  st.exchange(soci::into(r.quota));
  st.exchange(soci::into(r.version));
  st.exchange(soci::into(r.updated_at));
  st.exchange(soci::into(r.users));
  st.exchange(soci::into(r.ip_allow));
  st.exchange(soci::into(r.mfa));
}

std::optional<Role> OneRole(soci::session& sql, const std::string& where, long long id,
                            const std::string& key) {
  RoleRow r;
  soci::statement st(sql);
  BindRole(st, r);
  if (where == "id") {
    st.exchange(soci::use(id));
    st.alloc();
    st.prepare(std::string(kRoleSelect) + "WHERE r.id = :id");
  } else {
    st.exchange(soci::use(key));
    st.alloc();
    st.prepare(std::string(kRoleSelect) + "WHERE r.role_key = :k");
  }
  st.define_and_bind();
  if (!st.execute(true)) return std::nullopt;
  return r.ToRole();
}

struct TeamRow {
  long long id = 0, parent = 0, members = 0, created_at = 0;
  soci::indicator parent_ind = soci::i_null;
  std::string name;
  Team ToTeam() const {
    Team t{id, name, std::nullopt, members, created_at};
    if (parent_ind == soci::i_ok) t.parent_id = parent;
    return t;
  }
};

}  // namespace

std::vector<db::Migration> Migrations() {
  return {{7, "roles, teams, reveal counts", R"SQL(
CREATE TABLE roles (
  id {{ID}},
  role_key TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  builtin INTEGER NOT NULL DEFAULT 0,
  permissions TEXT NOT NULL,
  scope TEXT NOT NULL,
  reveal_quota INTEGER NOT NULL DEFAULT 0,
  version BIGINT NOT NULL DEFAULT 1,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
INSERT INTO roles (role_key, name, builtin, permissions, scope, reveal_quota, created_at, updated_at)
  VALUES ('admin', '管理员', 1, 'customer.read customer.create customer.update customer.delete customer.export customer.import customer.merge phone.reveal interaction.log tag.manage field.manage user.admin audit.read settings.admin', 'all', 0, 0, 0);
INSERT INTO roles (role_key, name, builtin, permissions, scope, reveal_quota, created_at, updated_at)
  VALUES ('sales_manager', '销售经理', 1, 'customer.read customer.create customer.update customer.delete customer.export customer.import customer.merge phone.reveal interaction.log tag.manage', 'team', 300, 0, 0);
INSERT INTO roles (role_key, name, builtin, permissions, scope, reveal_quota, created_at, updated_at)
  VALUES ('sales', '销售', 1, 'customer.read customer.create customer.update phone.reveal interaction.log', 'own', 100, 0, 0);
INSERT INTO roles (role_key, name, builtin, permissions, scope, reveal_quota, created_at, updated_at)
  VALUES ('service', '客服', 1, 'customer.read interaction.log', 'all', 0, 0, 0);
INSERT INTO roles (role_key, name, builtin, permissions, scope, reveal_quota, created_at, updated_at)
  VALUES ('marketing', '市场', 1, 'customer.read tag.manage', 'all', 0, 0, 0);
INSERT INTO roles (role_key, name, builtin, permissions, scope, reveal_quota, created_at, updated_at)
  VALUES ('readonly', '只读', 1, 'customer.read', 'all', 0, 0, 0);
CREATE TABLE teams (
  id {{ID}},
  name TEXT NOT NULL UNIQUE,
  parent_id BIGINT REFERENCES teams(id),
  created_at BIGINT NOT NULL
);
ALTER TABLE users ADD COLUMN team_id BIGINT REFERENCES teams(id);
ALTER TABLE users ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
UPDATE users SET role = 'sales' WHERE role = 'member';
CREATE INDEX users_team ON users(team_id);
CREATE TABLE reveal_counts (
  user_id BIGINT NOT NULL REFERENCES users(id),
  day TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (user_id, day)
)
)SQL"},
          {8, "role IP allow-lists", R"SQL(
ALTER TABLE roles ADD COLUMN ip_allow TEXT NOT NULL DEFAULT ''
)SQL"},
          {11, "roles that require MFA", R"SQL(
ALTER TABLE roles ADD COLUMN mfa_required INTEGER NOT NULL DEFAULT 0
)SQL"}};
}

core::Result<std::vector<Role>> AccessStore::ListRoles() {
  return db_.Read([&](soci::session& sql) {
    std::vector<Role> out;
    RoleRow r;
    soci::statement st(sql);
    BindRole(st, r);
    st.alloc();
    st.prepare(std::string(kRoleSelect) + "ORDER BY r.builtin DESC, r.id");
    st.define_and_bind();
    st.execute();
    while (st.fetch()) out.push_back(r.ToRole());
    return out;
  });
}

core::Result<std::optional<Role>> AccessStore::FindRole(int64_t id) {
  return db_.Read([&](soci::session& sql) { return OneRole(sql, "id", id, ""); });
}

core::Result<std::optional<Role>> AccessStore::FindRoleByKey(const std::string& key) {
  return db_.Read([&](soci::session& sql) { return OneRole(sql, "key", 0, key); });
}

core::Result<Role> AccessStore::InsertRole(const Role& r, int64_t now) {
  return db_.Write([&](soci::session& sql) {
    int taken = 0;
    sql << "SELECT COUNT(*) FROM roles WHERE role_key = :k", soci::use(r.key), soci::into(taken);
    if (taken > 0) {
      throw db::Abort{core::Error::Conflict("role key already taken",
                                            {{"key", "not_unique", "role key is already taken"}})};
    }
    std::string perms = JoinPerms(r.perms);
    std::string scope(core::ScopeName(r.scope));
    std::string ips = JoinWords(r.ip_allow);
    long long ts = now, id = 0;
    int quota = r.reveal_quota, mfa = r.mfa_required ? 1 : 0;
    sql << "INSERT INTO roles (role_key, name, builtin, permissions, scope, reveal_quota, "
           "ip_allow, mfa_required, version, created_at, updated_at) VALUES (:k, :n, 0, :p, :s, "
           ":q, :ip, :m, 1, :c, :u) RETURNING id",
        soci::use(r.key), soci::use(r.name), soci::use(perms), soci::use(scope), soci::use(quota),
        soci::use(ips), soci::use(mfa), soci::use(ts), soci::use(ts), soci::into(id);
    auto stored = OneRole(sql, "id", id, "");
    return *stored;
  });
}

core::Result<Role> AccessStore::UpdateRole(const Role& r, int64_t expected_version, int64_t now) {
  return db_.Write([&](soci::session& sql) {
    long long id = r.id, expected = expected_version, ts = now;
    long long current = 0;
    soci::indicator ind = soci::i_null;
    sql << "SELECT version FROM roles WHERE id = :i", soci::use(id), soci::into(current, ind);
    if (!sql.got_data()) throw db::Abort{core::Error::NotFound("no such role")};
    if (current != expected) {
      throw db::Abort{core::Error(core::Code::kPreconditionFailed,
                                  "the role was changed by someone else; reload it")};
    }
    std::string perms = JoinPerms(r.perms);
    std::string scope(core::ScopeName(r.scope));
    std::string ips = JoinWords(r.ip_allow);
    int quota = r.reveal_quota, mfa = r.mfa_required ? 1 : 0;
    sql << "UPDATE roles SET name = :n, permissions = :p, scope = :s, reveal_quota = :q, "
           "ip_allow = :ip, mfa_required = :m, version = version + 1, updated_at = :u "
           "WHERE id = :i AND version = :v",
        soci::use(r.name), soci::use(perms), soci::use(scope), soci::use(quota), soci::use(ips),
        soci::use(mfa), soci::use(ts), soci::use(id), soci::use(expected);
    return *OneRole(sql, "id", id, "");
  });
}

core::Result<void> AccessStore::DeleteRole(int64_t id) {
  return db_.Write([&](soci::session& sql) {
    long long lid = id;
    auto role = OneRole(sql, "id", lid, "");
    if (!role) throw db::Abort{core::Error::NotFound("no such role")};
    if (role->user_count > 0) {
      throw db::Abort{core::Error::Conflict("the role is held by " +
                                            std::to_string(role->user_count) +
                                            " user(s); give them another role first")};
    }
    sql << "DELETE FROM roles WHERE id = :i", soci::use(lid);
  });
}

core::Result<std::vector<Team>> AccessStore::ListTeams() {
  return db_.Read([&](soci::session& sql) {
    std::vector<Team> out;
    TeamRow r;
    soci::statement st =
        (sql.prepare << "SELECT t.id, t.name, t.parent_id, t.created_at, "
                        "(SELECT COUNT(*) FROM users u WHERE u.team_id = t.id) FROM teams t "
                        "ORDER BY t.name",
         soci::into(r.id), soci::into(r.name), soci::into(r.parent, r.parent_ind),
         soci::into(r.created_at), soci::into(r.members));
    st.execute();
    while (st.fetch()) out.push_back(r.ToTeam());
    return out;
  });
}

core::Result<std::optional<Team>> AccessStore::FindTeamByName(const std::string& name) {
  return db_.Read([&](soci::session& sql) -> std::optional<Team> {
    TeamRow r;
    sql << "SELECT t.id, t.name, t.parent_id, t.created_at, "
           "(SELECT COUNT(*) FROM users u WHERE u.team_id = t.id) FROM teams t WHERE t.name = :n",
        soci::use(name), soci::into(r.id), soci::into(r.name), soci::into(r.parent, r.parent_ind),
        soci::into(r.created_at), soci::into(r.members);
    if (!sql.got_data()) return std::nullopt;
    return r.ToTeam();
  });
}

core::Result<Team> AccessStore::InsertTeam(const Team& t, int64_t now) {
  return db_.Write([&](soci::session& sql) {
    int taken = 0;
    sql << "SELECT COUNT(*) FROM teams WHERE name = :n", soci::use(t.name), soci::into(taken);
    if (taken > 0) {
      throw db::Abort{core::Error::Conflict(
          "team name already taken", {{"name", "not_unique", "a team with this name exists"}})};
    }
    long long id = 0, ts = now, parent = t.parent_id.value_or(0);
    soci::indicator parent_ind = t.parent_id ? soci::i_ok : soci::i_null;
    sql << "INSERT INTO teams (name, parent_id, created_at) VALUES (:n, :p, :c) RETURNING id",
        soci::use(t.name), soci::use(parent, parent_ind), soci::use(ts), soci::into(id);
    Team out = t;
    out.id = id;
    out.created_at = now;
    return out;
  });
}

core::Result<Team> AccessStore::UpdateTeam(const Team& t) {
  return db_.Write([&](soci::session& sql) {
    long long id = t.id, parent = t.parent_id.value_or(0);
    soci::indicator parent_ind = t.parent_id ? soci::i_ok : soci::i_null;
    int taken = 0;
    sql << "SELECT COUNT(*) FROM teams WHERE name = :n AND id <> :i", soci::use(t.name),
        soci::use(id), soci::into(taken);
    if (taken > 0) {
      throw db::Abort{core::Error::Conflict(
          "team name already taken", {{"name", "not_unique", "a team with this name exists"}})};
    }
    soci::statement st = (sql.prepare << "UPDATE teams SET name = :n, parent_id = :p WHERE id = :i",
                          soci::use(t.name), soci::use(parent, parent_ind), soci::use(id));
    st.execute(true);
    if (st.get_affected_rows() == 0) throw db::Abort{core::Error::NotFound("no such team")};
    return t;
  });
}

core::Result<void> AccessStore::DeleteTeam(int64_t id) {
  return db_.Write([&](soci::session& sql) {
    long long lid = id;
    int members = 0, children = 0;
    sql << "SELECT COUNT(*) FROM users WHERE team_id = :i", soci::use(lid), soci::into(members);
    sql << "SELECT COUNT(*) FROM teams WHERE parent_id = :i", soci::use(lid), soci::into(children);
    if (members > 0 || children > 0) {
      throw db::Abort{core::Error::Conflict("the team still has " + std::to_string(members) +
                                            " member(s) and " + std::to_string(children) +
                                            " sub-team(s); move them first")};
    }
    soci::statement st = (sql.prepare << "DELETE FROM teams WHERE id = :i", soci::use(lid));
    st.execute(true);
    if (st.get_affected_rows() == 0) throw db::Abort{core::Error::NotFound("no such team")};
  });
}

core::Result<std::vector<int64_t>> AccessStore::UsersInTeams(const std::vector<int64_t>& team_ids) {
  return db_.Read([&](soci::session& sql) {
    std::vector<int64_t> out;
    if (team_ids.empty()) return out;
    std::string in;
    for (int64_t t : team_ids) {
      if (!in.empty()) in += ',';
      in += std::to_string(t);  // integers we produced, not user input
    }
    long long id = 0;
    soci::statement st =
        (sql.prepare << "SELECT id FROM users WHERE team_id IN (" + in + ") ORDER BY id",
         soci::into(id));
    st.execute();
    while (st.fetch()) out.push_back(id);
    return out;
  });
}

core::Result<std::optional<int>> AccessStore::CountReveal(int64_t user_id, const std::string& day,
                                                          int quota, int n) {
  return db_.Write([&](soci::session& sql) -> std::optional<int> {
    long long uid = user_id;
    int q1 = quota, q2 = quota, add = n, room = quota - n;
    // One atomic increment, so concurrent reveals cannot both slip under the quota.
    soci::statement up =
        (sql.prepare << "UPDATE reveal_counts SET count = count + :n "
                        "WHERE user_id = :u AND day = :d AND (:q1 = 0 OR count <= :r)",
         soci::use(add), soci::use(uid), soci::use(day), soci::use(q1), soci::use(room));
    up.execute(true);
    int count = 0;
    soci::indicator ind = soci::i_null;
    sql << "SELECT count FROM reveal_counts WHERE user_id = :u AND day = :d", soci::use(uid),
        soci::use(day), soci::into(count, ind);
    const bool exists = sql.got_data() && ind == soci::i_ok;
    if (up.get_affected_rows() > 0) return count;
    if (exists) return std::nullopt;  // the row is there and was not incremented: no room
    if (q2 != 0 && n > q2) return std::nullopt;
    count = n;
    sql << "INSERT INTO reveal_counts (user_id, day, count) VALUES (:u, :d, :c)", soci::use(uid),
        soci::use(day), soci::use(count);
    return count;
  });
}

core::Result<int> AccessStore::RevealsOn(int64_t user_id, const std::string& day) {
  return db_.Read([&](soci::session& sql) -> int {
    long long uid = user_id;
    int count = 0;
    soci::indicator ind = soci::i_null;
    sql << "SELECT count FROM reveal_counts WHERE user_id = :u AND day = :d", soci::use(uid),
        soci::use(day), soci::into(count, ind);
    return sql.got_data() && ind == soci::i_ok ? count : 0;
  });
}

}  // namespace kehu::access
