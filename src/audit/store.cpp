#include "audit/store.h"

#include <algorithm>

#include "audit/chain.h"
#include "db/params.h"

namespace kehu::audit {
namespace {

constexpr const char* kColumns =
    "id, seq, at, actor_id, actor_name, action, entity, entity_id, ip, details, prev_hash, hash";

// Receives one audit_log row (kColumns) through typed into() bindings.
struct EntryReceiver {
  Entry e;
  long long id = 0, seq = 0, at = 0, actor_id = 0;

  void Bind(soci::statement& st) {
    for (long long* n : {&id, &seq, &at, &actor_id}) st.exchange(soci::into(*n));
    for (std::string* s : {&e.actor_name, &e.action, &e.entity, &e.entity_id, &e.ip,
                           &e.details_text, &e.prev_hash, &e.hash}) {
      st.exchange(soci::into(*s));
    }
  }
  Entry Take() const {
    Entry out = e;
    out.id = id;
    out.seq = seq;
    out.at = at;
    out.actor_id = actor_id;
    // A details column that is not JSON (edited by hand) is shown as the text it holds.
    out.details = nlohmann::json::parse(e.details_text, nullptr, /*allow_exceptions=*/false);
    if (out.details.is_discarded()) out.details = e.details_text;
    return out;
  }
};

// The statements of Append, each prepared once per connection.
struct HeadAdvance {
  long long seq = 0;
  std::string hash;
  soci::statement st;
  explicit HeadAdvance(soci::session& sql)
      : st((sql.prepare << "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash",
            soci::into(seq), soci::into(hash))) {}
};

struct EntryInsert {
  long long seq = 0, at = 0, actor_id = 0, id = 0;
  std::string actor_name, action, entity, entity_id, ip, details, prev_hash, hash;
  soci::statement st;
  explicit EntryInsert(soci::session& sql)
      : st((sql.prepare << "INSERT INTO audit_log (seq, at, actor_id, actor_name, action, "
                           "entity, entity_id, ip, details, prev_hash, hash) VALUES (:s, :at, "
                           ":ai, :an, :ac, :en, :ei, :ip, :d, :ph, :h) RETURNING id",
            soci::use(seq), soci::use(at), soci::use(actor_id), soci::use(actor_name),
            soci::use(action), soci::use(entity), soci::use(entity_id), soci::use(ip),
            soci::use(details), soci::use(prev_hash), soci::use(hash), soci::into(id))) {}
};

struct HeadMove {
  std::string hash;
  soci::statement st;
  explicit HeadMove(soci::session& sql)
      : st((sql.prepare << "UPDATE audit_head SET hash = :h WHERE id = 1", soci::use(hash))) {}
};

// Ends the use of a cached statement however the scope is left.
class DoneGuard {
 public:
  DoneGuard(const db::Database& db, soci::statement& st) : db_(db), st_(st) {}
  ~DoneGuard() { db_.Done(st_); }
  DoneGuard(const DoneGuard&) = delete;
  DoneGuard& operator=(const DoneGuard&) = delete;

 private:
  const db::Database& db_;
  soci::statement& st_;
};

}  // namespace

std::vector<db::Migration> Migrations() {
  // The indexes end in id so that a filter plus "newest first" needs no sort on PostgreSQL
  // (on SQLite every index already ends in the rowid). seq is UNIQUE: one entry per position.
  return {{6, "audit log", R"SQL(
CREATE TABLE audit_log (
  id {{ID}},
  seq BIGINT NOT NULL UNIQUE,
  at BIGINT NOT NULL,
  actor_id BIGINT NOT NULL,
  actor_name TEXT NOT NULL,
  action TEXT NOT NULL,
  entity TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  ip TEXT NOT NULL,
  details TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_actor ON audit_log(actor_id, id);
CREATE INDEX audit_log_action ON audit_log(action, id);
CREATE INDEX audit_log_entity ON audit_log(entity, entity_id, id);
CREATE TABLE audit_head (
  id INTEGER PRIMARY KEY,
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0,
  '0000000000000000000000000000000000000000000000000000000000000000')
)SQL"}};
}

core::Result<void> AuditStore::Append(Entry& e) {
  return db_.Write([&](soci::session& sql) { AppendIn(sql, e); });
}

void AuditStore::AppendIn(soci::session& sql, Entry& e) {
  e.details_text = e.details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  auto& head = db_.Cached<HeadAdvance>(sql, "audit.head_advance");
  {
    DoneGuard done(db_, head.st);
    if (!head.st.execute(true)) {
      throw db::Abort{core::Error::Internal("the audit log has no head row")};
    }
    e.seq = head.seq;
    e.prev_hash = head.hash;
  }
  e.hash = ChainHash(e.prev_hash, e);

  auto& ins = db_.Cached<EntryInsert>(sql, "audit.insert");
  {
    DoneGuard done(db_, ins.st);
    ins.seq = e.seq;
    ins.at = e.at;
    ins.actor_id = e.actor_id;
    ins.actor_name = e.actor_name;
    ins.action = e.action;
    ins.entity = e.entity;
    ins.entity_id = e.entity_id;
    ins.ip = e.ip;
    ins.details = e.details_text;
    ins.prev_hash = e.prev_hash;
    ins.hash = e.hash;
    ins.st.execute(true);
    e.id = ins.id;
  }

  auto& move = db_.Cached<HeadMove>(sql, "audit.head_move");
  DoneGuard done(db_, move.st);
  move.hash = e.hash;
  move.st.execute(true);
}

core::Result<std::vector<Entry>> AuditStore::Select(const Filter& f, std::optional<int64_t> after,
                                                    bool newest_first, int limit) {
  return db_.Read([&](soci::session& sql) {
    soci::statement st(sql);
    EntryReceiver rx;
    rx.Bind(st);
    db::Params b(st);
    std::string where = "1 = 1";
    if (f.actor_id) where += " AND actor_id = " + b.Number(*f.actor_id);
    if (!f.action.empty()) {
      if (f.action.back() != '.') {
        where += " AND action = " + b.Text(f.action);
      } else if (db_.dialect() == db::Dialect::kPostgres) {
        where += " AND starts_with(action, " + b.Text(f.action) + ")";
      } else {
        // SQLite compares TEXT bytewise: "customer." <= action < "customer/" is the prefix,
        // and can use the index (LIKE would not, and treats '_' as a wildcard).
        // (Placeholders are numbered as they are bound, so bind in the order they appear.)
        std::string upper = f.action;
        upper.back() = '/';
        const std::string lo = b.Text(f.action);
        const std::string hi = b.Text(std::move(upper));
        where += " AND action >= " + lo + " AND action < " + hi;
      }
    }
    if (!f.entity.empty()) where += " AND entity = " + b.Text(f.entity);
    if (!f.entity_id.empty() || !f.entity_ids.empty()) {
      std::string in;
      if (!f.entity_id.empty()) in = b.Text(f.entity_id);
      for (const std::string& id : f.entity_ids) in += (in.empty() ? "" : ", ") + b.Text(id);
      where += " AND entity_id IN (" + in + ")";
    }
    if (f.from) where += " AND at >= " + b.Number(*f.from);
    if (f.to) where += " AND at < " + b.Number(*f.to);
    if (after)
      where += std::string(" AND id ") + (newest_first ? "<" : ">") + " " + b.Number(*after);
    std::string query = std::string("SELECT ") + kColumns + " FROM audit_log WHERE " + where +
                        " ORDER BY id " + (newest_first ? "DESC" : "ASC") + " LIMIT " +
                        b.Number(limit);
    st.alloc();
    st.prepare(query);
    st.define_and_bind();
    std::vector<Entry> out;
    st.execute(false);
    while (st.fetch()) out.push_back(rx.Take());
    return out;
  });
}

core::Result<Page> AuditStore::List(const ListQuery& q) {
  auto rows = Select(q, q.cursor, /*newest_first=*/true, q.limit + 1);
  if (!rows) return std::unexpected(rows.error());
  Page page;
  page.items = std::move(*rows);
  if (static_cast<int>(page.items.size()) > q.limit) {
    page.items.resize(q.limit);
    page.next_cursor = page.items.back().id;
  }
  return page;
}

core::Result<void> AuditStore::Scan(const Filter& f, const std::function<bool(const Entry&)>& fn,
                                    int batch) {
  batch = std::max(1, batch);
  std::optional<int64_t> after;
  while (true) {
    auto rows = Select(f, after, /*newest_first=*/false, batch);
    if (!rows) return std::unexpected(rows.error());
    for (const Entry& e : *rows) {
      if (!fn(e)) return core::Ok();
    }
    if (static_cast<int>(rows->size()) < batch) return core::Ok();
    after = rows->back().id;
  }
}

core::Result<int64_t> AuditStore::Count() {
  return db_.Read([](soci::session& sql) -> int64_t {
    long long n = 0;
    sql << "SELECT COUNT(*) FROM audit_log", soci::into(n);
    return n;
  });
}

core::Result<std::optional<Head>> AuditStore::GetHead() {
  return db_.Read([](soci::session& sql) -> std::optional<Head> {
    long long seq = 0;
    std::string hash;
    sql << "SELECT seq, hash FROM audit_head WHERE id = 1", soci::into(seq), soci::into(hash);
    if (!sql.got_data()) return std::nullopt;
    return Head{seq, hash};
  });
}

}  // namespace kehu::audit
