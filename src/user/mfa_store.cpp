#include "user/mfa_store.h"

namespace kehu::user {

core::Result<std::optional<StoredMfa>> MfaStore::Find(int64_t user_id) {
  return db_.Read([&](soci::session& sql) -> std::optional<StoredMfa> {
    long long uid = user_id, enabled = 0, last = 0, created = 0;
    soci::indicator enabled_ind = soci::i_null;
    StoredMfa m;
    sql << "SELECT secret, enabled_at, last_step, created_at FROM user_mfa WHERE user_id = :u",
        soci::use(uid), soci::into(m.secret), soci::into(enabled, enabled_ind), soci::into(last),
        soci::into(created);
    if (!sql.got_data()) return std::nullopt;
    if (enabled_ind == soci::i_ok) m.enabled_at = enabled;
    m.last_step = last;
    m.created_at = created;
    return m;
  });
}

core::Result<void> MfaStore::SavePending(int64_t user_id, const std::string& secret, int64_t now) {
  return db_.Write([&](soci::session& sql) {
    long long uid = user_id, ts = now, enabled = 0;
    soci::indicator ind = soci::i_null;
    sql << "SELECT enabled_at FROM user_mfa WHERE user_id = :u", soci::use(uid),
        soci::into(enabled, ind);
    if (sql.got_data() && ind == soci::i_ok) {
      throw db::Abort{core::Error::Conflict("two-step verification is already on")};
    }
    sql << "DELETE FROM user_mfa WHERE user_id = :u", soci::use(uid);
    sql << "INSERT INTO user_mfa (user_id, secret, enabled_at, last_step, created_at) "
           "VALUES (:u, :s, NULL, 0, :t)",
        soci::use(uid), soci::use(secret), soci::use(ts);
  });
}

core::Result<void> MfaStore::Enable(int64_t user_id, int64_t step,
                                    const std::vector<std::string>& code_hashes, int64_t now) {
  return db_.Write([&](soci::session& sql) {
    long long uid = user_id, ts = now, s = step;
    soci::statement st = (sql.prepare << "UPDATE user_mfa SET enabled_at = :t, last_step = :s "
                                         "WHERE user_id = :u AND enabled_at IS NULL",
                          soci::use(ts), soci::use(s), soci::use(uid));
    st.execute(true);
    if (st.get_affected_rows() == 0) {
      throw db::Abort{core::Error::Conflict(
          "no enrolment is under way (or two-step verification is already on); start again")};
    }
    sql << "DELETE FROM mfa_recovery_codes WHERE user_id = :u", soci::use(uid);
    for (const std::string& h : code_hashes) {
      sql << "INSERT INTO mfa_recovery_codes (user_id, code_hash, used_at) VALUES (:u, :h, NULL)",
          soci::use(uid), soci::use(h);
    }
  });
}

core::Result<bool> MfaStore::UseStep(int64_t user_id, int64_t step) {
  return db_.Write([&](soci::session& sql) {
    long long uid = user_id, s1 = step, s2 = step;
    soci::statement st =
        (sql.prepare << "UPDATE user_mfa SET last_step = :s WHERE user_id = :u AND "
                        "enabled_at IS NOT NULL AND last_step < :s2",
         soci::use(s1), soci::use(uid), soci::use(s2));
    st.execute(true);
    return st.get_affected_rows() > 0;
  });
}

core::Result<bool> MfaStore::UseRecoveryCode(int64_t user_id, const std::string& code_hash,
                                             int64_t now) {
  return db_.Write([&](soci::session& sql) {
    long long uid = user_id, ts = now;
    soci::statement st =
        (sql.prepare << "UPDATE mfa_recovery_codes SET used_at = :t WHERE user_id = :u AND "
                        "code_hash = :h AND used_at IS NULL",
         soci::use(ts), soci::use(uid), soci::use(code_hash));
    st.execute(true);
    return st.get_affected_rows() > 0;
  });
}

core::Result<int64_t> MfaStore::RecoveryCodesLeft(int64_t user_id) {
  return db_.Read([&](soci::session& sql) -> int64_t {
    long long uid = user_id, n = 0;
    sql << "SELECT COUNT(*) FROM mfa_recovery_codes WHERE user_id = :u AND used_at IS NULL",
        soci::use(uid), soci::into(n);
    return n;
  });
}

core::Result<void> MfaStore::ReplaceRecoveryCodes(int64_t user_id,
                                                  const std::vector<std::string>& code_hashes) {
  return db_.Write([&](soci::session& sql) {
    long long uid = user_id;
    sql << "DELETE FROM mfa_recovery_codes WHERE user_id = :u", soci::use(uid);
    for (const std::string& h : code_hashes) {
      sql << "INSERT INTO mfa_recovery_codes (user_id, code_hash, used_at) VALUES (:u, :h, NULL)",
          soci::use(uid), soci::use(h);
    }
  });
}

core::Result<bool> MfaStore::Remove(int64_t user_id) {
  return db_.Write([&](soci::session& sql) {
    long long uid = user_id, enabled = 0;
    soci::indicator ind = soci::i_null;
    sql << "SELECT enabled_at FROM user_mfa WHERE user_id = :u", soci::use(uid),
        soci::into(enabled, ind);
    const bool was_on = sql.got_data() && ind == soci::i_ok;
    sql << "DELETE FROM user_mfa WHERE user_id = :u", soci::use(uid);
    sql << "DELETE FROM mfa_recovery_codes WHERE user_id = :u", soci::use(uid);
    sql << "DELETE FROM mfa_challenges WHERE user_id = :u", soci::use(uid);
    return was_on;
  });
}

core::Result<std::vector<std::pair<int64_t, std::string>>> MfaStore::AllSecrets() {
  return db_.Read([&](soci::session& sql) {
    std::vector<std::pair<int64_t, std::string>> out;
    long long uid = 0;
    std::string secret;
    soci::statement st = (sql.prepare << "SELECT user_id, secret FROM user_mfa ORDER BY user_id",
                          soci::into(uid), soci::into(secret));
    st.execute();
    while (st.fetch()) out.emplace_back(uid, secret);
    return out;
  });
}

core::Result<bool> MfaStore::ReplaceSecret(int64_t user_id, const std::string& old_secret,
                                           const std::string& new_secret) {
  return db_.Write([&](soci::session& sql) {
    long long uid = user_id;
    soci::statement st = (sql.prepare << "UPDATE user_mfa SET secret = :n WHERE user_id = :u "
                                         "AND secret = :o",
                          soci::use(new_secret), soci::use(uid), soci::use(old_secret));
    st.execute(true);
    return st.get_affected_rows() > 0;
  });
}

}  // namespace kehu::user
