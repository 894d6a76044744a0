#include "idempotency/store.h"

namespace kehu::idempotency {

std::vector<db::Migration> Migrations() {
  return {{4, "idempotency keys", R"SQL(
CREATE TABLE idempotency_keys (
  user_id BIGINT NOT NULL,
  idem_key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  complete INTEGER NOT NULL DEFAULT 0,
  status INTEGER NOT NULL DEFAULT 0,
  content_type TEXT NOT NULL DEFAULT '',
  headers_json TEXT NOT NULL DEFAULT '[]',
  body TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, idem_key)
);
CREATE INDEX idempotency_created ON idempotency_keys(created_at)
)SQL"}};
}

core::Result<std::optional<Stored>> IdempotencyStore::Claim(int64_t user_id, const std::string& key,
                                                            const std::string& request_hash,
                                                            int64_t now) {
  return db_.Write([&](soci::session& sql) -> std::optional<Stored> {
    long long uid = user_id, ts = now;
    Stored s;
    int complete = 0;
    sql << "SELECT request_hash, complete, status, content_type, headers_json, body FROM "
           "idempotency_keys WHERE user_id = :u AND idem_key = :k",
        soci::use(uid), soci::use(key), soci::into(s.request_hash), soci::into(complete),
        soci::into(s.status), soci::into(s.content_type), soci::into(s.headers_json),
        soci::into(s.body);
    if (sql.got_data()) {
      s.complete = complete != 0;
      return s;
    }
    sql << "INSERT INTO idempotency_keys (user_id, idem_key, request_hash, created_at) "
           "VALUES (:u, :k, :h, :t)",
        soci::use(uid), soci::use(key), soci::use(request_hash), soci::use(ts);
    return std::nullopt;
  });
}

core::Result<void> IdempotencyStore::Complete(int64_t user_id, const std::string& key,
                                              const Stored& a) {
  return db_.Write([&](soci::session& sql) {
    long long uid = user_id;
    int status = a.status;
    sql << "UPDATE idempotency_keys SET complete = 1, status = :s, content_type = :c, "
           "headers_json = :h, body = :b WHERE user_id = :u AND idem_key = :k",
        soci::use(status), soci::use(a.content_type), soci::use(a.headers_json), soci::use(a.body),
        soci::use(uid), soci::use(key);
  });
}

core::Result<void> IdempotencyStore::Release(int64_t user_id, const std::string& key) {
  return db_.Write([&](soci::session& sql) {
    long long uid = user_id;
    sql << "DELETE FROM idempotency_keys WHERE user_id = :u AND idem_key = :k", soci::use(uid),
        soci::use(key);
  });
}

core::Result<void> IdempotencyStore::Expire(int64_t older_than) {
  return db_.Write([&](soci::session& sql) {
    long long ts = older_than;
    sql << "DELETE FROM idempotency_keys WHERE created_at < :t", soci::use(ts);
  });
}

}  // namespace kehu::idempotency
