#include "user/store.h"

namespace kehu::user {
namespace {

// Typed receivers for one users row (SOCI's dynamic rows are engine-typed; into() converts).
struct UserRow {
  long long id = 0;
  std::string username, display_name, role, password_hash;
  int active = 0;
  long long created_at = 0, team_id = 0, version = 1, mfa = 0;
  soci::indicator team_ind = soci::i_null;
  User ToUser() const {
    User u{id,         username,     display_name, role,    active != 0,
           created_at, std::nullopt, version,      mfa != 0};
    if (team_ind == soci::i_ok) u.team_id = team_id;
    return u;
  }
};

constexpr const char* kUserColumns =
    "id, username, display_name, role, active, created_at, team_id, version, "
    "(SELECT COUNT(*) FROM user_mfa m WHERE m.user_id = users.id AND m.enabled_at IS NOT NULL)";

}  // namespace

std::vector<db::Migration> Migrations() {
  return {{1, "users, sessions, api tokens", R"SQL(
CREATE TABLE users (
  id {{ID}},
  username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users(id),
  csrf_token TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  ip TEXT NOT NULL,
  user_agent TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE TABLE api_tokens (
  id {{ID}},
  user_id BIGINT NOT NULL REFERENCES users(id),
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  last_used_at BIGINT,
  revoked_at BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id)
)SQL"},
          {9, "login throttling, known devices", R"SQL(
CREATE TABLE login_failures (
  throttle_key TEXT PRIMARY KEY,
  failures INTEGER NOT NULL,
  last_at BIGINT NOT NULL,
  blocked_until BIGINT NOT NULL
);
CREATE TABLE known_devices (
  user_id BIGINT NOT NULL REFERENCES users(id),
  ip TEXT NOT NULL,
  user_agent TEXT NOT NULL,
  first_seen_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, ip, user_agent)
)
)SQL"},
          {10, "MFA: TOTP secrets, recovery codes, half-done logins", R"SQL(
CREATE TABLE user_mfa (
  user_id BIGINT PRIMARY KEY REFERENCES users(id),
  secret TEXT NOT NULL,
  enabled_at BIGINT,
  last_step BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL
);
CREATE TABLE mfa_recovery_codes (
  user_id BIGINT NOT NULL REFERENCES users(id),
  code_hash TEXT NOT NULL,
  used_at BIGINT,
  PRIMARY KEY (user_id, code_hash)
);
CREATE TABLE mfa_challenges (
  token_hash TEXT PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users(id),
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  failures INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX mfa_challenges_user ON mfa_challenges(user_id)
)SQL"}};
}

core::Result<User> UserStore::Insert(const NewUser& u, const std::string& password_hash,
                                     int64_t now) {
  return db_.Write([&](soci::session& sql) {
    int taken = 0;
    sql << "SELECT COUNT(*) FROM users WHERE username = :u", soci::use(u.username),
        soci::into(taken);
    if (taken > 0) {
      throw db::Abort{core::Error::Conflict(
          "username already taken", {{"username", "not_unique", "username is already taken"}})};
    }
    long long id = 0;
    long long ts = now, team = u.team_id.value_or(0);
    soci::indicator team_ind = u.team_id ? soci::i_ok : soci::i_null;
    sql << "INSERT INTO users (username, display_name, password_hash, role, active, created_at, "
           "updated_at, team_id) VALUES (:u, :d, :p, :r, 1, :c, :c2, :t) RETURNING id",
        soci::use(u.username), soci::use(u.display_name), soci::use(password_hash),
        soci::use(u.role), soci::use(ts), soci::use(ts), soci::use(team, team_ind), soci::into(id);
    return User{id, u.username, u.display_name, u.role, true, now, u.team_id, 1, false};
  });
}

core::Result<std::optional<User>> UserStore::FindById(int64_t id) {
  return db_.Read([&](soci::session& sql) -> std::optional<User> {
    long long lid = id;
    UserRow r;
    sql << "SELECT " << kUserColumns << " FROM users WHERE id = :id", soci::use(lid),
        soci::into(r.id), soci::into(r.username), soci::into(r.display_name), soci::into(r.role),
        soci::into(r.active), soci::into(r.created_at), soci::into(r.team_id, r.team_ind),
        soci::into(r.version), soci::into(r.mfa);
    if (!sql.got_data()) return std::nullopt;
    return r.ToUser();
  });
}

core::Result<std::optional<std::pair<User, std::string>>> UserStore::FindForLogin(
    const std::string& username) {
  return db_.Read([&](soci::session& sql) -> std::optional<std::pair<User, std::string>> {
    UserRow r;
    sql << "SELECT " << kUserColumns << ", password_hash FROM users WHERE username = :u",
        soci::use(username), soci::into(r.id), soci::into(r.username), soci::into(r.display_name),
        soci::into(r.role), soci::into(r.active), soci::into(r.created_at),
        soci::into(r.team_id, r.team_ind), soci::into(r.version), soci::into(r.mfa),
        soci::into(r.password_hash);
    if (!sql.got_data()) return std::nullopt;
    return std::make_pair(r.ToUser(), r.password_hash);
  });
}

core::Result<std::vector<User>> UserStore::List() {
  return db_.Read([&](soci::session& sql) {
    std::vector<User> out;
    UserRow r;
    soci::statement st =
        (sql.prepare << "SELECT " << kUserColumns << " FROM users ORDER BY id", soci::into(r.id),
         soci::into(r.username), soci::into(r.display_name), soci::into(r.role),
         soci::into(r.active), soci::into(r.created_at), soci::into(r.team_id, r.team_ind),
         soci::into(r.version), soci::into(r.mfa));
    st.execute();
    while (st.fetch()) out.push_back(r.ToUser());
    return out;
  });
}

core::Result<User> UserStore::Update(const User& u, int64_t expected_version,
                                     const std::optional<std::string>& password_hash, int64_t now) {
  return db_.Write([&](soci::session& sql) {
    long long id = u.id, ts = now, team = u.team_id.value_or(0), expected = expected_version;
    int active = u.active ? 1 : 0;
    soci::indicator team_ind = u.team_id ? soci::i_ok : soci::i_null;
    soci::statement st =
        (sql.prepare << "UPDATE users SET display_name = :d, role = :r, team_id = :t, active = :a, "
                        "updated_at = :u, version = version + 1 WHERE id = :i AND version = :v",
         soci::use(u.display_name), soci::use(u.role), soci::use(team, team_ind), soci::use(active),
         soci::use(ts), soci::use(id), soci::use(expected));
    st.execute(true);
    if (st.get_affected_rows() == 0) {
      throw db::Abort{core::Error(core::Code::kPreconditionFailed,
                                  "the user was changed by someone else; reload and try again")};
    }
    if (password_hash) {
      sql << "UPDATE users SET password_hash = :p WHERE id = :i", soci::use(*password_hash),
          soci::use(id);
    }
    if (!u.active || password_hash) {
      // A deactivated user or a new password ends every session and token at once.
      sql << "DELETE FROM sessions WHERE user_id = :i", soci::use(id);
    }
    if (!u.active) {
      sql << "UPDATE api_tokens SET revoked_at = :t WHERE user_id = :i AND revoked_at IS NULL",
          soci::use(ts), soci::use(id);
    }
    User out = u;
    out.version = expected_version + 1;
    return out;
  });
}

core::Result<int64_t> UserStore::Count() {
  return db_.Read([&](soci::session& sql) -> int64_t {
    long long n = 0;
    sql << "SELECT COUNT(*) FROM users", soci::into(n);
    return n;
  });
}

core::Result<void> UserStore::InsertSession(const std::string& token_hash, int64_t user_id,
                                            const std::string& csrf, int64_t now,
                                            int64_t expires_at, const std::string& ip,
                                            const std::string& user_agent) {
  return db_.Write([&](soci::session& sql) {
    long long uid = user_id, ts = now, exp = expires_at;
    sql << "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, "
           "expires_at, ip, user_agent) VALUES (:h, :u, :c, :t, :t2, :e, :ip, :ua)",
        soci::use(token_hash), soci::use(uid), soci::use(csrf), soci::use(ts), soci::use(ts),
        soci::use(exp), soci::use(ip), soci::use(user_agent);
  });
}

core::Result<std::optional<StoredSession>> UserStore::FindSession(const std::string& token_hash) {
  return db_.Read([&](soci::session& sql) -> std::optional<StoredSession> {
    long long uid = 0, exp = 0, seen = 0, created = 0;
    std::string csrf;
    sql << "SELECT user_id, csrf_token, expires_at, last_seen_at, created_at FROM sessions "
           "WHERE token_hash = :h",
        soci::use(token_hash), soci::into(uid), soci::into(csrf), soci::into(exp), soci::into(seen),
        soci::into(created);
    if (!sql.got_data()) return std::nullopt;
    return StoredSession{uid, csrf, exp, seen, created};
  });
}

core::Result<void> UserStore::TouchSession(const std::string& token_hash, int64_t now,
                                           int64_t expires_at) {
  return db_.Write([&](soci::session& sql) {
    long long ts = now, exp = expires_at;
    sql << "UPDATE sessions SET last_seen_at = :t, expires_at = :e WHERE token_hash = :h",
        soci::use(ts), soci::use(exp), soci::use(token_hash);
  });
}

core::Result<void> UserStore::DeleteSession(const std::string& token_hash) {
  return db_.Write([&](soci::session& sql) {
    sql << "DELETE FROM sessions WHERE token_hash = :h", soci::use(token_hash);
  });
}

core::Result<ApiToken> UserStore::InsertToken(int64_t user_id, const std::string& name,
                                              const std::string& token_hash, int64_t now) {
  return db_.Write([&](soci::session& sql) {
    long long uid = user_id, ts = now, id = 0;
    sql << "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES (:u, :n, :h, :t) "
           "RETURNING id",
        soci::use(uid), soci::use(name), soci::use(token_hash), soci::use(ts), soci::into(id);
    return ApiToken{id, user_id, name, now, std::nullopt};
  });
}

core::Result<std::vector<ApiToken>> UserStore::ListTokens(int64_t user_id) {
  return db_.Read([&](soci::session& sql) {
    long long uid = user_id;
    std::vector<ApiToken> out;
    long long id = 0, created = 0, used = 0;
    std::string name;
    soci::indicator used_ind = soci::i_null;
    soci::statement st =
        (sql.prepare << "SELECT id, name, created_at, last_used_at FROM api_tokens "
                        "WHERE user_id = :u AND revoked_at IS NULL ORDER BY id",
         soci::use(uid), soci::into(id), soci::into(name), soci::into(created),
         soci::into(used, used_ind));
    st.execute();
    while (st.fetch()) {
      ApiToken t{id, user_id, name, created, std::nullopt};
      if (used_ind == soci::i_ok) t.last_used_at = used;
      out.push_back(std::move(t));
    }
    return out;
  });
}

core::Result<std::optional<std::string>> UserStore::RevokeToken(int64_t user_id, int64_t token_id,
                                                                int64_t now) {
  return db_.Write([&](soci::session& sql) -> std::optional<std::string> {
    long long uid = user_id, tid = token_id, ts = now;
    std::string hash;
    soci::indicator ind = soci::i_null;
    sql << "SELECT token_hash FROM api_tokens WHERE id = :i AND user_id = :u AND revoked_at IS "
           "NULL",
        soci::use(tid), soci::use(uid), soci::into(hash, ind);
    if (ind != soci::i_ok) return std::nullopt;
    sql << "UPDATE api_tokens SET revoked_at = :t WHERE id = :i", soci::use(ts), soci::use(tid);
    return hash;
  });
}

core::Result<std::optional<UserStore::TokenUse>> UserStore::FindTokenUser(
    const std::string& token_hash) {
  return db_.Read([&](soci::session& sql) -> std::optional<TokenUse> {
    long long uid = 0, used = 0;
    soci::indicator ind = soci::i_null, used_ind = soci::i_null;
    sql << "SELECT user_id, last_used_at FROM api_tokens WHERE token_hash = :h AND revoked_at "
           "IS NULL",
        soci::use(token_hash), soci::into(uid, ind), soci::into(used, used_ind);
    if (ind != soci::i_ok || !sql.got_data()) return std::nullopt;
    return TokenUse{uid, used_ind == soci::i_ok ? used : 0};
  });
}

core::Result<Throttle> UserStore::GetThrottle(const std::string& key) {
  return db_.Read([&](soci::session& sql) {
    Throttle t;
    long long failures = 0, last = 0, until = 0;
    sql << "SELECT failures, last_at, blocked_until FROM login_failures WHERE throttle_key = :k",
        soci::use(key), soci::into(failures), soci::into(last), soci::into(until);
    if (sql.got_data()) t = Throttle{failures, last, until};
    return t;
  });
}

core::Result<Throttle> UserStore::AddFailure(const std::string& key, int64_t now,
                                             int64_t forget_before,
                                             const std::function<int64_t(int64_t)>& block_until) {
  return db_.Write([&](soci::session& sql) {
    long long ts = now, cutoff = forget_before;
    long long zero = 0, one = 1;
    sql << "INSERT INTO login_failures (throttle_key, failures, last_at, blocked_until) "
           "VALUES (:k, :f, :t, :b) ON CONFLICT (throttle_key) DO NOTHING",
        soci::use(key), soci::use(zero), soci::use(ts), soci::use(zero);
    // One atomic step, so concurrent failures all count (the row lock serialises them).
    sql << "UPDATE login_failures SET failures = CASE WHEN last_at < :c THEN :one ELSE "
           "failures + 1 END, last_at = :t WHERE throttle_key = :k",
        soci::use(cutoff), soci::use(one), soci::use(ts), soci::use(key);
    long long failures = 0;
    sql << "SELECT failures FROM login_failures WHERE throttle_key = :k", soci::use(key),
        soci::into(failures);
    long long until = block_until(failures);
    sql << "UPDATE login_failures SET blocked_until = :b WHERE throttle_key = :k", soci::use(until),
        soci::use(key);
    return Throttle{failures, now, until};
  });
}

core::Result<void> UserStore::ClearFailures(const std::string& key) {
  return db_.Write([&](soci::session& sql) {
    sql << "DELETE FROM login_failures WHERE throttle_key = :k", soci::use(key);
  });
}

core::Result<DeviceSeen> UserStore::SeeDevice(int64_t user_id, const std::string& ip,
                                              const std::string& user_agent, int64_t now) {
  return db_.Write([&](soci::session& sql) {
    long long uid = user_id, ts = now, known = 0, any = 0;
    sql << "SELECT COUNT(*) FROM known_devices WHERE user_id = :u AND ip = :ip AND "
           "user_agent = :ua",
        soci::use(uid), soci::use(ip), soci::use(user_agent), soci::into(known);
    if (known > 0) {
      sql << "UPDATE known_devices SET last_seen_at = :t WHERE user_id = :u AND ip = :ip AND "
             "user_agent = :ua",
          soci::use(ts), soci::use(uid), soci::use(ip), soci::use(user_agent);
      return DeviceSeen{false, false};
    }
    sql << "SELECT COUNT(*) FROM known_devices WHERE user_id = :u", soci::use(uid), soci::into(any);
    sql << "INSERT INTO known_devices (user_id, ip, user_agent, first_seen_at, last_seen_at) "
           "VALUES (:u, :ip, :ua, :t, :t2)",
        soci::use(uid), soci::use(ip), soci::use(user_agent), soci::use(ts), soci::use(ts);
    return DeviceSeen{true, any == 0};
  });
}

core::Result<std::vector<Device>> UserStore::ListDevices(int64_t user_id) {
  return db_.Read([&](soci::session& sql) {
    std::vector<Device> out;
    long long uid = user_id, first = 0, last = 0;
    std::string ip, ua;
    soci::statement st =
        (sql.prepare << "SELECT ip, user_agent, first_seen_at, last_seen_at FROM known_devices "
                        "WHERE user_id = :u ORDER BY last_seen_at DESC",
         soci::use(uid), soci::into(ip), soci::into(ua), soci::into(first), soci::into(last));
    st.execute();
    while (st.fetch()) out.push_back(Device{ip, ua, first, last});
    return out;
  });
}

core::Result<std::vector<std::string>> UserStore::SetPassword(int64_t user_id,
                                                              const std::string& hash,
                                                              const std::string& keep_session_hash,
                                                              int64_t now) {
  return db_.Write([&](soci::session& sql) {
    long long uid = user_id, ts = now;
    sql << "UPDATE users SET password_hash = :p, updated_at = :t, version = version + 1 WHERE id "
           "= :i",
        soci::use(hash), soci::use(ts), soci::use(uid);
    std::vector<std::string> gone;
    std::string h;
    {
      soci::statement st = (sql.prepare << "SELECT token_hash FROM sessions WHERE user_id = :u",
                            soci::use(uid), soci::into(h));
      st.execute();
      while (st.fetch()) {
        if (h != keep_session_hash) gone.push_back(h);
      }
    }
    for (const std::string& g : gone)
      sql << "DELETE FROM sessions WHERE token_hash = :h", soci::use(g);
    return gone;
  });
}

core::Result<std::vector<SessionInfo>> UserStore::ListSessions(int64_t user_id) {
  return db_.Read([&](soci::session& sql) {
    std::vector<SessionInfo> out;
    long long uid = user_id, created = 0, seen = 0, exp = 0;
    std::string hash, ip, ua;
    soci::statement st = (sql.prepare << "SELECT token_hash, ip, user_agent, created_at, "
                                         "last_seen_at, expires_at FROM sessions WHERE user_id = "
                                         ":u ORDER BY last_seen_at DESC",
                          soci::use(uid), soci::into(hash), soci::into(ip), soci::into(ua),
                          soci::into(created), soci::into(seen), soci::into(exp));
    st.execute();
    while (st.fetch()) out.push_back(SessionInfo{hash, ip, ua, created, seen, exp});
    return out;
  });
}

core::Result<std::vector<std::string>> UserStore::DeleteSessions(int64_t user_id,
                                                                 const std::string& hash_prefix) {
  return db_.Write([&](soci::session& sql) {
    std::vector<std::string> gone;
    long long uid = user_id;
    std::string hash;
    {
      soci::statement st = (sql.prepare << "SELECT token_hash FROM sessions WHERE user_id = :u",
                            soci::use(uid), soci::into(hash));
      st.execute();
      while (st.fetch()) {
        if (hash.starts_with(hash_prefix)) gone.push_back(hash);
      }
    }
    for (const std::string& h : gone) {
      sql << "DELETE FROM sessions WHERE token_hash = :h", soci::use(h);
    }
    return gone;
  });
}

core::Result<void> UserStore::InsertMfaChallenge(const std::string& token_hash, int64_t user_id,
                                                 int64_t now, int64_t expires_at) {
  return db_.Write([&](soci::session& sql) {
    long long uid = user_id, ts = now, exp = expires_at;
    sql << "DELETE FROM mfa_challenges WHERE expires_at < :t", soci::use(ts);
    sql << "INSERT INTO mfa_challenges (token_hash, user_id, created_at, expires_at, failures) "
           "VALUES (:h, :u, :t, :e, 0)",
        soci::use(token_hash), soci::use(uid), soci::use(ts), soci::use(exp);
  });
}

core::Result<std::optional<StoredChallenge>> UserStore::FindMfaChallenge(
    const std::string& token_hash) {
  return db_.Read([&](soci::session& sql) -> std::optional<StoredChallenge> {
    long long uid = 0, exp = 0;
    int failures = 0;
    sql << "SELECT user_id, expires_at, failures FROM mfa_challenges WHERE token_hash = :h",
        soci::use(token_hash), soci::into(uid), soci::into(exp), soci::into(failures);
    if (!sql.got_data()) return std::nullopt;
    return StoredChallenge{uid, exp, failures};
  });
}

core::Result<int64_t> UserStore::FailMfaChallenge(const std::string& token_hash,
                                                  int64_t max_failures) {
  return db_.Write([&](soci::session& sql) -> int64_t {
    sql << "UPDATE mfa_challenges SET failures = failures + 1 WHERE token_hash = :h",
        soci::use(token_hash);
    int failures = 0;
    sql << "SELECT failures FROM mfa_challenges WHERE token_hash = :h", soci::use(token_hash),
        soci::into(failures);
    if (!sql.got_data()) return max_failures;
    if (failures >= max_failures) {
      sql << "DELETE FROM mfa_challenges WHERE token_hash = :h", soci::use(token_hash);
    }
    return failures;
  });
}

core::Result<bool> UserStore::TakeMfaChallenge(const std::string& token_hash) {
  return db_.Write([&](soci::session& sql) {
    soci::statement st =
        (sql.prepare << "DELETE FROM mfa_challenges WHERE token_hash = :h", soci::use(token_hash));
    st.execute(true);
    return st.get_affected_rows() > 0;
  });
}

core::Result<void> UserStore::TouchToken(const std::string& token_hash, int64_t now) {
  return db_.Write([&](soci::session& sql) {
    long long ts = now;
    sql << "UPDATE api_tokens SET last_used_at = :t WHERE token_hash = :h", soci::use(ts),
        soci::use(token_hash);
  });
}

}  // namespace kehu::user
