#include "customer/store.h"

#include "db/params.h"

#include <algorithm>

namespace kehu::customer {
namespace {

constexpr const char* kColumns =
    "c.id, COALESCE(c.code, ''), c.name, c.name_key, c.gender, c.company, c.title, c.phones_enc, "
    "c.emails_enc, c.id_number_enc, c.id_number_bidx, c.credit_code, c.province, c.city, "
    "c.district, c.address_enc, c.source, c.owner_id, COALESCE(u.display_name, ''), c.stage, "
    "c.notes, c.custom_json, c.created_by, c.created_at, c.updated_by, c.updated_at, c.version, "
    "c.deleted_at, c.tags_json, c.quality_enc, c.quality_open";

// Receives one row through typed into() bindings (portable across both engines).
struct RowReceiver {
  Row row;
  long long id = 0, owner_id = 0, created_by = 0, created_at = 0, updated_by = 0, updated_at = 0,
            version = 0, deleted_at = 0, quality_open = 0;
  soci::indicator owner_ind = soci::i_null, deleted_ind = soci::i_null;

  void Bind(soci::statement& st) {
    st.exchange(soci::into(id));
    for (std::string* s : {&row.code, &row.name, &row.name_key, &row.gender, &row.company,
                           &row.title, &row.phones_enc, &row.emails_enc, &row.id_number_enc,
                           &row.id_number_bidx, &row.credit_code, &row.province, &row.city,
                           &row.district, &row.address_enc, &row.source}) {
      st.exchange(soci::into(*s));
    }
    st.exchange(soci::into(owner_id, owner_ind));
    for (std::string* s : {&row.owner_name, &row.stage, &row.notes, &row.custom_json}) {
      st.exchange(soci::into(*s));
    }
    for (long long* n : {&created_by, &created_at, &updated_by, &updated_at, &version}) {
      st.exchange(soci::into(*n));
    }
    st.exchange(soci::into(deleted_at, deleted_ind));
    st.exchange(soci::into(row.tags_json));
    st.exchange(soci::into(row.quality_enc));
    st.exchange(soci::into(quality_open));
  }
  Row Take() const { return Finish(Row(row)); }
  // Take() when the next fetch refills `row` anyway: its strings are moved, not copied.
  Row TakeMove() { return Finish(std::move(row)); }
  Row Finish(Row r) const {
    r.id = id;
    r.owner_id = owner_ind == soci::i_ok ? std::optional<int64_t>(owner_id) : std::nullopt;
    r.created_by = created_by;
    r.created_at = created_at;
    r.updated_by = updated_by;
    r.updated_at = updated_at;
    r.version = version;
    r.deleted_at = deleted_ind == soci::i_ok ? std::optional<int64_t>(deleted_at) : std::nullopt;
    r.quality_open = quality_open;
    return r;
  }
};

// Which customer other than self_id holds a code, prepared once per connection.
struct CodeOwnerQuery {
  std::string code;
  long long self_id = 0, other = 0, deleted_at = 0;
  soci::indicator deleted_ind = soci::i_null;
  soci::statement st;
  explicit CodeOwnerQuery(soci::session& sql)
      : st((sql.prepare << "SELECT id, deleted_at FROM customers WHERE code = :c AND id <> :i",
            soci::use(code), soci::use(self_id), soci::into(other),
            soci::into(deleted_at, deleted_ind))) {}
};

void CheckCodeFree(db::Database& db, soci::session& sql, const std::string& code,
                   long long self_id) {
  if (code.empty()) return;
  auto& q = db.Cached<CodeOwnerQuery>(sql, "customer.code_owner");
  q.code = code;
  q.self_id = self_id;
  q.deleted_ind = soci::i_null;
  const bool found = q.st.execute(true);
  const long long other = q.other;
  const soci::indicator deleted_ind = q.deleted_ind;
  db.Done(q.st);
  if (found) {
    std::string where = deleted_ind == soci::i_ok ? " (in the recycle bin)" : "";
    throw db::Abort{core::Error::Conflict(
        "customer code " + code + " is already used by customer " + std::to_string(other) + where,
        {{"code", "not_unique",
          "code is already used by customer " + std::to_string(other) + where}})};
  }
}

struct IndexInsert {
  long long id = 0;
  IndexEntry e;
  soci::statement st;
  explicit IndexInsert(soci::session& sql)
      : st((sql.prepare << "INSERT INTO contact_index (customer_id, kind, bidx, last4, label) "
                           "VALUES (:i, :k, :b, :l, :lb)",
            soci::use(id), soci::use(e.kind), soci::use(e.bidx), soci::use(e.last4),
            soci::use(e.label))) {}
};

void WriteIndex(db::Database& db, soci::session& sql, long long id,
                const std::vector<IndexEntry>& index, bool replace) {
  if (replace) sql << "DELETE FROM contact_index WHERE customer_id = :i", soci::use(id);
  auto& ins = db.Cached<IndexInsert>(sql, "customer.index_insert");
  ins.id = id;
  for (const IndexEntry& entry : index) {
    ins.e = entry;
    ins.st.execute(true);
    db.Done(ins.st);
  }
}

// The customers INSERT, prepared once per connection.
struct CustomerInsert {
  Row r;
  std::string import_key;
  soci::indicator code_ind = soci::i_null, owner_ind = soci::i_null, key_ind = soci::i_null;
  long long owner = 0, created_by = 0, created_at = 0, updated_by = 0, updated_at = 0, version = 0,
            quality_open = 0, id = 0;
  soci::statement st;
  explicit CustomerInsert(soci::session& sql)
      : st((sql.prepare
                << "INSERT INTO customers (code, name, name_key, gender, company, title, "
                   "phones_enc, emails_enc, id_number_enc, id_number_bidx, credit_code, province, "
                   "city, district, address_enc, source, owner_id, stage, notes, custom_json, "
                   "created_by, created_at, updated_by, updated_at, version, tags_json, "
                   "quality_enc, quality_open, import_key) VALUES (:code, "
                   ":name, :nk, :g, :co, :ti, :ph, :em, :idn, :idb, :cc, :pr, :ci, :di, :ad, :so, "
                   ":ow, :st, :no, :cu, :cb, :ca, :ub, :ua, :v, :tg, :qe, :qo, :ik) RETURNING id",
            soci::use(r.code, code_ind), soci::use(r.name), soci::use(r.name_key),
            soci::use(r.gender), soci::use(r.company), soci::use(r.title), soci::use(r.phones_enc),
            soci::use(r.emails_enc), soci::use(r.id_number_enc), soci::use(r.id_number_bidx),
            soci::use(r.credit_code), soci::use(r.province), soci::use(r.city),
            soci::use(r.district), soci::use(r.address_enc), soci::use(r.source),
            soci::use(owner, owner_ind), soci::use(r.stage), soci::use(r.notes),
            soci::use(r.custom_json), soci::use(created_by), soci::use(created_at),
            soci::use(updated_by), soci::use(updated_at), soci::use(version),
            soci::use(r.tags_json), soci::use(r.quality_enc), soci::use(quality_open),
            soci::use(import_key, key_ind), soci::into(id))) {}
};

// Runs the customers INSERT and writes the contact index; returns the new id.
// `code_checked`: the caller looked the code up in this transaction already (an import).
long long InsertRow(db::Database& db, soci::session& sql, const Row& r,
                    const std::vector<IndexEntry>& index, const std::string& import_key,
                    bool code_checked = false) {
  if (!code_checked) CheckCodeFree(db, sql, r.code, 0);
  auto& ins = db.Cached<CustomerInsert>(sql, "customer.insert");
  ins.r = r;
  ins.code_ind = r.code.empty() ? soci::i_null : soci::i_ok;
  ins.owner = r.owner_id.value_or(0);
  ins.owner_ind = r.owner_id ? soci::i_ok : soci::i_null;
  ins.created_by = r.created_by;
  ins.created_at = r.created_at;
  ins.updated_by = r.updated_by;
  ins.updated_at = r.updated_at;
  ins.version = r.version;
  ins.quality_open = r.quality_open;
  ins.import_key = import_key;
  ins.key_ind = import_key.empty() ? soci::i_null : soci::i_ok;
  ins.st.execute(true);
  long long id = ins.id;
  db.Done(ins.st);
  WriteIndex(db, sql, id, index, /*replace=*/false);
  return id;
}

// Holders of one contact point of either kind (caller ID, duplicate checks), prepared once per
// connection.
// Every caller sets bidx, kind, self (a customer left out, or 0) and limit.
struct HoldersQuery {
  std::string bidx, kind;
  int limit = 0;
  long long self = 0, id = 0, owner = 0;
  soci::indicator owner_ind = soci::i_null;
  std::string name, company, code, label;
  soci::statement st;
  explicit HoldersQuery(soci::session& sql)
      : st((sql.prepare << "SELECT c.id, c.name, c.company, COALESCE(c.code, ''), c.owner_id, "
                           "i.label FROM contact_index i JOIN customers c ON c.id = "
                           "i.customer_id WHERE i.bidx = :b AND i.kind = :k AND "
                           "i.customer_id <> :s AND c.deleted_at IS NULL ORDER BY "
                           "i.customer_id LIMIT :l",
            soci::use(bidx), soci::use(kind), soci::use(self), soci::use(limit), soci::into(id),
            soci::into(name), soci::into(company), soci::into(code), soci::into(owner, owner_ind),
            soci::into(label))) {}
};

// Runs q (its parameters set) and appends each holder once, in id order.
void FetchHolders(const db::Database& db, HoldersQuery& q, std::vector<LookupHit>& out) {
  q.st.execute(false);
  while (q.st.fetch()) {
    LookupHit h{q.id, q.name, q.company, q.code, q.label, std::nullopt};
    if (q.owner_ind == soci::i_ok) h.owner_id = q.owner;
    if (out.empty() || out.back().id != h.id) out.push_back(std::move(h));
  }
  db.Done(q.st);
}

// One customer by id, prepared once per connection.
struct GetQuery {
  long long id = 0;
  RowReceiver rr;
  soci::statement st;
  explicit GetQuery(soci::session& sql) : st(sql) {
    rr.Bind(st);
    st.exchange(soci::use(id));
    st.alloc();
    st.prepare(std::string("SELECT ") + kColumns +
               " FROM customers c LEFT JOIN users u ON u.id = c.owner_id WHERE c.id = :id");
    st.define_and_bind();
  }
};

// Writes every column of a live customer still at `expected_version`, bumping the version.
// With `undelete`, the customer must be in the recycle bin instead and is taken out of it.
UpdateOutcome UpdateRow(db::Database& db, soci::session& sql, const Row& r,
                        int64_t expected_version, const std::vector<IndexEntry>& index,
                        bool undelete = false) {
  long long id = r.id, expected = expected_version;
  CheckCodeFree(db, sql, r.code, id);
  soci::indicator code_ind = r.code.empty() ? soci::i_null : soci::i_ok;
  long long owner = r.owner_id.value_or(0);
  soci::indicator owner_ind = r.owner_id ? soci::i_ok : soci::i_null;
  long long updated_by = r.updated_by, updated_at = r.updated_at, quality_open = r.quality_open;
  soci::statement st =
      (sql.prepare << "UPDATE customers SET code = :code, name = :name, name_key = :nk, "
                      "gender = :g, company = :co, title = :ti, phones_enc = :ph, "
                      "emails_enc = :em, id_number_enc = :idn, id_number_bidx = :idb, "
                      "credit_code = :cc, province = :pr, city = :ci, district = :di, "
                      "address_enc = :ad, source = :so, owner_id = :ow, stage = :st, "
                      "notes = :no, custom_json = :cu, tags_json = :tg, quality_enc = :qe, "
                      "quality_open = :qo, updated_by = :ub, updated_at = :ua, "
                      "version = version + 1" +
                          std::string(undelete
                                          ? ", deleted_at = NULL, deleted_by = NULL WHERE id = "
                                            ":id AND version = :v AND deleted_at IS NOT NULL"
                                          : " WHERE id = :id AND version = :v AND deleted_at "
                                            "IS NULL"),
       soci::use(r.code, code_ind), soci::use(r.name), soci::use(r.name_key), soci::use(r.gender),
       soci::use(r.company), soci::use(r.title), soci::use(r.phones_enc), soci::use(r.emails_enc),
       soci::use(r.id_number_enc), soci::use(r.id_number_bidx), soci::use(r.credit_code),
       soci::use(r.province), soci::use(r.city), soci::use(r.district), soci::use(r.address_enc),
       soci::use(r.source), soci::use(owner, owner_ind), soci::use(r.stage), soci::use(r.notes),
       soci::use(r.custom_json), soci::use(r.tags_json), soci::use(r.quality_enc),
       soci::use(quality_open), soci::use(updated_by), soci::use(updated_at), soci::use(id),
       soci::use(expected));
  st.execute(true);
  if (st.get_affected_rows() == 0) {
    long long version = 0;
    soci::indicator deleted_ind = soci::i_null;
    long long deleted_at = 0;
    sql << "SELECT version, deleted_at FROM customers WHERE id = :id", soci::use(id),
        soci::into(version), soci::into(deleted_at, deleted_ind);
    if (!sql.got_data() || (deleted_ind == soci::i_ok) != undelete) return UpdateOutcome::kNotFound;
    return UpdateOutcome::kStale;
  }
  WriteIndex(db, sql, id, index, /*replace=*/true);
  return UpdateOutcome::kOk;
}

}  // namespace

std::vector<db::Migration> Migrations() {
  return {{2, "customers", R"SQL(
CREATE TABLE customers (
  id {{ID}},
  code TEXT UNIQUE,
  name TEXT NOT NULL,
  name_key TEXT NOT NULL,
  gender TEXT NOT NULL,
  company TEXT NOT NULL,
  title TEXT NOT NULL,
  phones_enc TEXT NOT NULL,
  emails_enc TEXT NOT NULL,
  id_number_enc TEXT NOT NULL,
  id_number_bidx TEXT NOT NULL,
  credit_code TEXT NOT NULL,
  province TEXT NOT NULL,
  city TEXT NOT NULL,
  district TEXT NOT NULL,
  address_enc TEXT NOT NULL,
  source TEXT NOT NULL,
  owner_id BIGINT REFERENCES users(id),
  stage TEXT NOT NULL,
  notes TEXT NOT NULL,
  custom_json TEXT NOT NULL,
  created_by BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_by BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  version BIGINT NOT NULL,
  deleted_at BIGINT,
  deleted_by BIGINT
);
CREATE INDEX customers_created ON customers(created_at, id);
CREATE INDEX customers_updated ON customers(updated_at, id);
CREATE INDEX customers_name ON customers(name_key, id);
CREATE INDEX customers_owner ON customers(owner_id);
CREATE TABLE contact_index (
  customer_id BIGINT NOT NULL REFERENCES customers(id),
  kind TEXT NOT NULL,
  bidx TEXT NOT NULL,
  last4 TEXT NOT NULL,
  label TEXT NOT NULL
);
CREATE INDEX contact_index_bidx ON contact_index(bidx);
CREATE INDEX contact_index_last4 ON contact_index(last4);
CREATE INDEX contact_index_customer ON contact_index(customer_id)
)SQL"},
          // Caller ID reads only this index (covering, already in customer order): no table
          // lookup into contact_index and no sort.
          {5, "covering caller-ID index", R"SQL(
CREATE INDEX contact_index_lookup ON contact_index(bidx, kind, customer_id, label);
DROP INDEX contact_index_bidx
)SQL"},
          // Tags; data-quality issues kept from imports (encrypted: raw values may be numbers
          // or addresses) with their count for the 数据质量 queue (a partial index holds only
          // customers with open issues); the key of the imported row a customer came from, so
          // importing the same file again finds it.
          {30, "tags, quality issues, import keys", R"SQL(
ALTER TABLE customers ADD COLUMN tags_json TEXT NOT NULL DEFAULT '[]';
ALTER TABLE customers ADD COLUMN quality_enc TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN quality_open INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN import_key TEXT;
CREATE INDEX customers_quality ON customers(created_at, id) WHERE quality_open > 0;
CREATE INDEX customers_import_key ON customers(import_key)
)SQL"}};
}

core::Result<int64_t> CustomerStore::Insert(const Row& r, const std::vector<IndexEntry>& index,
                                            const db::AlsoWrite& also) {
  auto id = InsertIfFree(r, index, {}, also);
  if (!id) return std::unexpected(id.error());
  return **id;  // nothing to find free: always inserted
}

namespace {

// True when a live customer other than `self_id` holds one of these (kind, blind index)
// contact points, read in the write transaction `sql`. On PostgreSQL, where writes run side by
// side, it first takes a transaction lock per contact point (in one order, so two writers
// never wait on each other crosswise): two writes adding one number then run one after the
// other, and the second finds the first's.
bool HeldByOther(db::Database& db, soci::session& sql,
                 const std::vector<std::pair<std::string, std::string>>& free, int64_t self_id) {
  if (db.dialect() == db::Dialect::kPostgres) {
    std::vector<std::string> locks;
    for (const auto& [kind, bidx] : free) locks.push_back(kind + ":" + bidx);
    std::sort(locks.begin(), locks.end());
    locks.erase(std::unique(locks.begin(), locks.end()), locks.end());
    for (const std::string& key : locks) {
      int one = 0;
      sql << "SELECT 1 FROM pg_advisory_xact_lock(hashtextextended(:k, 0))", soci::use(key),
          soci::into(one);
    }
  }
  auto& q = db.Cached<HoldersQuery>(sql, "customer.holders");
  for (const auto& [kind, bidx] : free) {
    q.kind = kind;
    q.bidx = bidx;
    q.self = self_id;
    q.limit = 1;
    const bool held = q.st.execute(true);
    db.Done(q.st);
    if (held) return true;
  }
  return false;
}

}  // namespace

core::Result<std::optional<int64_t>> CustomerStore::InsertIfFree(
    const Row& r, const std::vector<IndexEntry>& index,
    const std::vector<std::pair<std::string, std::string>>& free, const db::AlsoWrite& also) {
  return db_.Write([&](soci::session& sql) -> std::optional<int64_t> {
    if (HeldByOther(db_, sql, free, 0)) return std::nullopt;
    const int64_t id = InsertRow(db_, sql, r, index, "");
    if (also) also(sql, id);
    return id;
  });
}

core::Result<std::optional<UpdateOutcome>> CustomerStore::UpdateIfFree(
    const Row& r, int64_t expected_version, const std::vector<IndexEntry>& index,
    const std::vector<std::pair<std::string, std::string>>& free, const db::AlsoWrite& also) {
  return db_.Write([&](soci::session& sql) -> std::optional<UpdateOutcome> {
    if (HeldByOther(db_, sql, free, r.id)) return std::nullopt;
    const UpdateOutcome out = UpdateRow(db_, sql, r, expected_version, index);
    if (out == UpdateOutcome::kOk && also) also(sql, r.id);
    return out;
  });
}

core::Result<std::optional<Row>> CustomerStore::Get(int64_t id, bool include_deleted) {
  return db_.Read([&](soci::session& sql) -> std::optional<Row> {
    auto& q = db_.Cached<GetQuery>(sql, "customer.get");
    q.id = id;
    bool found = q.st.execute(true);
    std::optional<Row> row;
    if (found) row = q.rr.Take();
    db_.Done(q.st);
    if (!row) return std::nullopt;
    Row r = std::move(*row);
    if (r.deleted_at && !include_deleted) return std::nullopt;
    return r;
  });
}

core::Result<UpdateOutcome> CustomerStore::Update(const Row& r, int64_t expected_version,
                                                  const std::vector<IndexEntry>& index,
                                                  const db::AlsoWrite& also) {
  auto out = UpdateIfFree(r, expected_version, index, {}, also);
  if (!out) return std::unexpected(out.error());
  return **out;  // nothing to find free: always tried
}

core::Result<bool> CustomerStore::SetDeleted(int64_t id, bool deleted, int64_t by, int64_t now,
                                             const db::AlsoWrite& also) {
  return db_.Write([&](soci::session& sql) -> bool {
    long long lid = id, lby = by, ts = now;
    soci::statement st =
        deleted ? (sql.prepare << "UPDATE customers SET deleted_at = :t, deleted_by = :b, "
                                  "version = version + 1 WHERE id = :i AND deleted_at IS NULL",
                   soci::use(ts), soci::use(lby), soci::use(lid))
                : (sql.prepare << "UPDATE customers SET deleted_at = NULL, deleted_by = NULL, "
                                  "updated_at = :t, updated_by = :b, version = version + 1 "
                                  "WHERE id = :i AND deleted_at IS NOT NULL",
                   soci::use(ts), soci::use(lby), soci::use(lid));
    st.execute(true);
    const bool done = st.get_affected_rows() > 0;
    if (done && also) also(sql, id);
    return done;
  });
}

namespace {

// The WHERE clause of a customer list (without "WHERE"), its values bound through `p`.
std::string ListWhere(const ListQuery& q, const Search& s, db::Params& p, const char* ilike) {
  std::string where = q.deleted ? "c.deleted_at IS NOT NULL" : "c.deleted_at IS NULL";
  if (q.owner_id) where += " AND c.owner_id = " + p.Number(*q.owner_id);
  if (q.scoped) {
    if (q.owner_in.empty()) {
      where += " AND 1 = 0";
    } else {
      where += " AND c.owner_id IN (";
      for (std::size_t i = 0; i < q.owner_in.size(); ++i) {
        where += (i ? ", " : "") + p.Number(q.owner_in[i]);
      }
      where += ")";
    }
  }
  if (!q.source.empty()) where += " AND c.source = " + p.Text(q.source);
  if (!q.province.empty()) where += " AND c.province = " + p.Text(q.province);
  if (!q.city.empty()) where += " AND c.city = " + p.Text(q.city);
  if (!q.stage.empty()) where += " AND c.stage = " + p.Text(q.stage);
  if (q.quality) where += " AND c.quality_open > 0";
  if (q.created_from) where += " AND c.created_at >= " + p.Number(*q.created_from);
  if (q.created_to) where += " AND c.created_at < " + p.Number(*q.created_to);
  std::vector<std::string> any;
  if (!s.like.empty()) {
    for (const char* col : {"c.name", "c.company", "c.code"}) {
      any.push_back(std::string(col) + " " + ilike + " " + p.Text(s.like) + " ESCAPE '\\'");
    }
  }
  if (!s.key_like.empty()) {
    any.push_back("c.name_key LIKE " + p.Text(s.key_like) + " ESCAPE '\\'");
  }
  auto contact = [&](const char* kind, const char* col, const std::string& value) {
    any.push_back(std::string("c.id IN (SELECT customer_id FROM contact_index WHERE kind = '") +
                  kind + "' AND " + col + " = " + p.Text(value) + ")");
  };
  for (const std::string& b : s.phone_bidx) contact("phone", "bidx", b);
  for (const std::string& b : s.email_bidx) contact("email", "bidx", b);
  if (!s.last4.empty()) contact("phone", "last4", s.last4);
  if (!any.empty()) {
    where += " AND (";
    for (std::size_t i = 0; i < any.size(); ++i) where += (i ? " OR " : "") + any[i];
    where += ")";
  }
  return where;
}

}  // namespace

core::Result<std::vector<Row>> CustomerStore::List(const ListQuery& q, const Search& s,
                                                   const std::optional<After>& after, int limit) {
  return db_.Read([&](soci::session& sql) {
    soci::statement st(sql);
    RowReceiver rr;
    rr.Bind(st);
    db::Params p(st);
    std::string where = ListWhere(q, s, p, db_.ILike());
    std::string key;
    bool text_key = false;
    switch (q.sort) {
      case SortKey::kCreatedAt:
        key = "c.created_at";
        break;
      case SortKey::kUpdatedAt:
        key = "c.updated_at";
        break;
      case SortKey::kName:
        key = "c.name_key";
        text_key = true;
        break;
      case SortKey::kCode:
        key = "COALESCE(c.code, '')";
        text_key = true;
        break;
    }
    const char* dir = q.descending ? "DESC" : "ASC";
    const char* cmp = q.descending ? "<" : ">";
    if (after) {
      // A row-value comparison, (key, id) < (v, id0): both engines walk the (key, id) index
      // from there; the equivalent "key < v OR (key = v AND id < id0)" paged twice as slowly
      // on SQLite.
      std::string v = text_key ? p.Text(after->text) : p.Number(after->number);
      where += " AND (" + key + ", c.id) " + cmp + " (" + v + ", " + p.Number(after->id) + ")";
    }
    std::string query = std::string("SELECT ") + kColumns +
                        " FROM customers c LEFT JOIN users u ON u.id = c.owner_id WHERE " + where +
                        " ORDER BY " + key + " " + dir + ", c.id " + dir + " LIMIT " +
                        p.Number(limit);
    st.alloc();
    st.prepare(query);
    st.define_and_bind();
    std::vector<Row> out;
    out.reserve(static_cast<std::size_t>(std::max(limit, 0)));
    st.execute(false);
    while (st.fetch()) out.push_back(rr.TakeMove());
    return out;
  });
}

core::Result<int64_t> CustomerStore::Count(const ListQuery& q, const Search& s) {
  return db_.Read([&](soci::session& sql) -> int64_t {
    soci::statement st(sql);
    long long n = 0;
    st.exchange(soci::into(n));
    db::Params p(st);
    std::string where = ListWhere(q, s, p, db_.ILike());
    st.alloc();
    st.prepare("SELECT COUNT(*) FROM customers c WHERE " + where);
    st.define_and_bind();
    st.execute(true);
    return n;
  });
}

core::Result<std::vector<LookupHit>> CustomerStore::LookupPhone(const std::string& bidx,
                                                                int limit) {
  return db_.Read([&](soci::session& sql) {
    std::vector<LookupHit> out;
    auto& q = db_.Cached<HoldersQuery>(sql, "customer.holders");
    q.kind = "phone";
    q.bidx = bidx;
    q.self = 0;
    q.limit = limit;
    FetchHolders(db_, q, out);
    return out;
  });
}

core::Result<std::vector<LookupHit>> CustomerStore::LookupPhoneOwnedBy(
    const std::string& bidx, int limit, const std::vector<int64_t>& owner_in) {
  if (owner_in.empty()) return std::vector<LookupHit>{};
  return db_.Read([&](soci::session& sql) {
    soci::statement st(sql);
    long long id = 0, owner = 0;
    soci::indicator owner_ind = soci::i_null;
    std::string name, company, code, label;
    st.exchange(soci::into(id));
    st.exchange(soci::into(name));
    st.exchange(soci::into(company));
    st.exchange(soci::into(code));
    st.exchange(soci::into(owner, owner_ind));
    st.exchange(soci::into(label));
    db::Params p(st);
    std::string sql_text =
        "SELECT c.id, c.name, c.company, COALESCE(c.code, ''), c.owner_id, i.label FROM "
        "contact_index i JOIN customers c ON c.id = i.customer_id WHERE i.bidx = " +
        p.Text(bidx) + " AND i.kind = 'phone' AND c.deleted_at IS NULL AND c.owner_id IN (";
    for (std::size_t i = 0; i < owner_in.size(); ++i) {
      sql_text += (i ? ", " : "") + p.Number(owner_in[i]);
    }
    sql_text += ") ORDER BY i.customer_id LIMIT " + p.Number(limit);
    st.alloc();
    st.prepare(sql_text);
    st.define_and_bind();
    st.execute(false);
    std::vector<LookupHit> out;
    while (st.fetch()) {
      LookupHit h{id, name, company, code, label, std::nullopt};
      if (owner_ind == soci::i_ok) h.owner_id = owner;
      if (out.empty() || out.back().id != h.id) out.push_back(std::move(h));
    }
    return out;
  });
}

core::Result<std::vector<LookupHit>> CustomerStore::Holders(const std::string& kind,
                                                            const std::string& bidx, int limit) {
  auto all = HoldersOf({{kind, bidx}}, limit);
  if (!all) return std::unexpected(all.error());
  return std::move(all->front());
}

core::Result<std::vector<std::vector<LookupHit>>> CustomerStore::HoldersOf(
    const std::vector<std::pair<std::string, std::string>>& keys, int limit) {
  return db_.Read([&](soci::session& sql) {
    std::vector<std::vector<LookupHit>> out(keys.size());
    auto& q = db_.Cached<HoldersQuery>(sql, "customer.holders");
    for (std::size_t i = 0; i < keys.size(); ++i) {
      q.kind = keys[i].first;
      q.bidx = keys[i].second;
      q.self = 0;
      q.limit = limit;
      FetchHolders(db_, q, out[i]);
    }
    return out;
  });
}

core::Result<std::vector<Row>> CustomerStore::GetMany(const std::vector<int64_t>& ids) {
  std::vector<int64_t> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  return db_.Read([&](soci::session& sql) {
    std::vector<Row> out;
    if (sorted.size() <= 8) {
      // A few (a duplicate check): the prepared single-row query beats preparing an IN list.
      auto& q = db_.Cached<GetQuery>(sql, "customer.get");
      for (int64_t id : sorted) {
        q.id = id;
        std::optional<Row> row;
        if (q.st.execute(true)) row = q.rr.Take();
        db_.Done(q.st);
        if (row && !row->deleted_at) out.push_back(std::move(*row));
      }
      return out;
    }
    constexpr std::size_t kChunk = 500;
    for (std::size_t from = 0; from < sorted.size(); from += kChunk) {
      soci::statement st(sql);
      RowReceiver rr;
      rr.Bind(st);
      db::Params p(st);
      std::string in;
      for (std::size_t i = from; i < std::min(sorted.size(), from + kChunk); ++i) {
        in += (in.empty() ? "" : ", ") + p.Number(sorted[i]);
      }
      st.alloc();
      st.prepare(std::string("SELECT ") + kColumns +
                 " FROM customers c LEFT JOIN users u ON u.id = c.owner_id WHERE c.id IN (" + in +
                 ") AND c.deleted_at IS NULL ORDER BY c.id");
      st.define_and_bind();
      st.execute(false);
      while (st.fetch()) out.push_back(rr.Take());
    }
    return out;
  });
}

core::Result<std::vector<ScanRecord>> CustomerStore::ScanPage(
    int64_t after_id, int limit, const std::vector<int64_t>* owner_in) {
  return db_.Read([&](soci::session& sql) {
    std::vector<ScanRecord> out;
    if (owner_in && owner_in->empty()) return out;
    // Customers, fetched in bulk.
    const std::size_t n = static_cast<std::size_t>(std::max(1, limit));
    std::vector<long long> ids(n), owners(n);
    std::vector<soci::indicator> owner_ind(n);
    std::vector<std::string> codes(n), names(n), genders(n), companies(n), provinces(n), cities(n),
        credits(n), id_bidx(n);
    {
      soci::statement st(sql);
      st.exchange(soci::into(ids));
      for (auto* v :
           {&codes, &names, &genders, &companies, &provinces, &cities, &credits, &id_bidx}) {
        st.exchange(soci::into(*v));
      }
      st.exchange(soci::into(owners, owner_ind));
      db::Params p(st);
      std::string where = "c.deleted_at IS NULL AND c.id > " + p.Number(after_id);
      if (owner_in) {
        where += " AND c.owner_id IN (";
        for (std::size_t i = 0; i < owner_in->size(); ++i) {
          where += (i ? ", " : "") + p.Number((*owner_in)[i]);
        }
        where += ")";
      }
      st.alloc();
      st.prepare(
          "SELECT c.id, COALESCE(c.code, ''), c.name, c.gender, c.company, c.province, c.city, "
          "c.credit_code, c.id_number_bidx, c.owner_id FROM customers c WHERE " +
          where + " ORDER BY c.id LIMIT " + p.Number(static_cast<int64_t>(n)));
      st.define_and_bind();
      if (!st.execute(true)) ids.clear();
    }
    out.resize(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
      ScanRecord& r = out[i];
      r.id = ids[i];
      r.code = std::move(codes[i]);
      r.name = std::move(names[i]);
      r.gender = std::move(genders[i]);
      r.company = std::move(companies[i]);
      r.province = std::move(provinces[i]);
      r.city = std::move(cities[i]);
      r.credit_code = std::move(credits[i]);
      r.id_number_bidx = std::move(id_bidx[i]);
      if (owner_ind[i] == soci::i_ok) r.owner_id = owners[i];
    }
    if (out.empty()) return out;
    // Their contact points: one range of ids, merged in by id.
    long long lo = after_id, hi = out.back().id;
    constexpr std::size_t kBatch = 5000;
    std::vector<long long> cid(kBatch);
    std::vector<std::string> kinds(kBatch), bidx(kBatch);
    soci::statement st =
        (sql.prepare << "SELECT customer_id, kind, bidx FROM contact_index WHERE "
                        "customer_id > :lo AND customer_id <= :hi ORDER BY "
                        "customer_id",
         soci::into(cid), soci::into(kinds), soci::into(bidx), soci::use(lo), soci::use(hi));
    st.execute(false);
    std::size_t at = 0;
    while (st.fetch()) {
      for (std::size_t i = 0; i < cid.size(); ++i) {
        while (at < out.size() && out[at].id < cid[i]) ++at;
        if (at == out.size()) break;
        if (out[at].id == cid[i]) out[at].contacts.push_back({kinds[i], bidx[i]});
      }
      cid.resize(kBatch);
      kinds.resize(kBatch);
      bidx.resize(kBatch);
    }
    return out;
  });
}

namespace {

// "phones_enc NOT LIKE 'k2:%' AND phones_enc <> ''" for each encrypted column, joined by `op`.
std::string KeyPredicate(uint32_t version, bool on_key) {
  const std::string prefix = "'k" + std::to_string(version) + ":%'";
  std::string out;
  for (const char* col :
       {"c.phones_enc", "c.emails_enc", "c.id_number_enc", "c.address_enc", "c.quality_enc"}) {
    if (!out.empty()) out += " OR ";
    out += std::string("(") + col + " <> '' AND " + col + (on_key ? " LIKE " : " NOT LIKE ") +
           prefix + ")";
  }
  return "(" + out + ")";
}

}  // namespace

core::Result<std::vector<Row>> CustomerStore::RowsNotOnKey(uint32_t version, int64_t after_id,
                                                           int limit) {
  return db_.Read([&](soci::session& sql) {
    std::vector<Row> out;
    soci::statement st(sql);
    RowReceiver rr;
    rr.Bind(st);
    long long after = after_id;
    int lim = limit;
    st.exchange(soci::use(after));
    st.exchange(soci::use(lim));
    st.alloc();
    st.prepare(std::string("SELECT ") + kColumns +
               " FROM customers c LEFT JOIN users u ON u.id = c.owner_id WHERE c.id > :a AND " +
               KeyPredicate(version, false) + " ORDER BY c.id LIMIT :l");
    st.define_and_bind();
    st.execute();
    while (st.fetch()) out.push_back(rr.Take());
    return out;
  });
}

core::Result<int64_t> CustomerStore::CountNotOnKey(uint32_t version) {
  return db_.Read([&](soci::session& sql) -> int64_t {
    long long n = 0;
    sql << "SELECT COUNT(*) FROM customers c WHERE " + KeyPredicate(version, false), soci::into(n);
    return n;
  });
}

core::Result<int64_t> CustomerStore::CountOnKey(uint32_t version) {
  return db_.Read([&](soci::session& sql) -> int64_t {
    long long n = 0;
    sql << "SELECT COUNT(*) FROM customers c WHERE " + KeyPredicate(version, true), soci::into(n);
    return n;
  });
}

core::Result<bool> CustomerStore::Reencrypt(const Row& r, int64_t expected_version,
                                            const std::vector<IndexEntry>& index) {
  return db_.Write([&](soci::session& sql) -> bool {
    long long id = r.id, expected = expected_version;
    soci::statement st =
        (sql.prepare << "UPDATE customers SET phones_enc = :ph, emails_enc = :em, id_number_enc "
                        "= :idn, id_number_bidx = :idb, address_enc = :ad, quality_enc = :qe "
                        "WHERE id = :id AND version = :v",
         soci::use(r.phones_enc), soci::use(r.emails_enc), soci::use(r.id_number_enc),
         soci::use(r.id_number_bidx), soci::use(r.address_enc), soci::use(r.quality_enc),
         soci::use(id), soci::use(expected));
    st.execute(true);
    if (st.get_affected_rows() == 0) return false;
    WriteIndex(db_, sql, id, index, /*replace=*/true);
    return true;
  });
}

namespace {

// Live customers holding a contact blind index of one kind, prepared once per connection.
struct ContactMatchQuery {
  std::string bidx, kind;
  long long id = 0, owner = 0;
  soci::indicator owner_ind = soci::i_null;
  soci::statement st;
  explicit ContactMatchQuery(soci::session& sql)
      : st((sql.prepare << "SELECT c.id, c.owner_id FROM contact_index i JOIN customers c ON "
                           "c.id = i.customer_id WHERE i.bidx = :b AND i.kind = :k AND "
                           "c.deleted_at IS NULL ORDER BY c.id",
            soci::use(bidx), soci::use(kind), soci::into(id), soci::into(owner, owner_ind))) {}
};

// Live customers imported from a row with this key.
struct RowKeyQuery {
  std::string key;
  long long id = 0, owner = 0;
  soci::indicator owner_ind = soci::i_null;
  soci::statement st;
  explicit RowKeyQuery(soci::session& sql)
      : st((sql.prepare << "SELECT id, owner_id FROM customers WHERE import_key = :k AND "
                           "deleted_at IS NULL ORDER BY id",
            soci::use(key), soci::into(id), soci::into(owner, owner_ind))) {}
};

// The customer holding a code (the recycle bin included).
struct CodeQuery {
  std::string code;
  long long id = 0, owner = 0, deleted_at = 0;
  soci::indicator owner_ind = soci::i_null, deleted_ind = soci::i_null;
  soci::statement st;
  explicit CodeQuery(soci::session& sql)
      : st((sql.prepare << "SELECT id, owner_id, deleted_at FROM customers WHERE code = :c",
            soci::use(code), soci::into(id), soci::into(owner, owner_ind),
            soci::into(deleted_at, deleted_ind))) {}
};

}  // namespace

std::vector<ImportMatch> ImportTx::Find(const std::string& code,
                                        const std::vector<std::string>& phone_bidx,
                                        const std::vector<std::string>& email_bidx,
                                        const std::vector<std::string>& row_keys) {
  std::vector<ImportMatch> out;
  auto add = [&](long long id, soci::indicator owner_ind, long long owner, bool deleted,
                 const char* via) {
    for (const ImportMatch& m : out) {
      if (m.id == id) return;
    }
    out.push_back(ImportMatch{
        id, owner_ind == soci::i_ok ? std::optional<int64_t>(owner) : std::nullopt, deleted, via});
  };
  if (!code.empty()) {
    auto& q = db_.Cached<CodeQuery>(sql_, "customer.import_code");
    q.code = code;
    q.owner_ind = q.deleted_ind = soci::i_null;
    const bool found = q.st.execute(true);
    const long long id = q.id, owner = q.owner;
    const soci::indicator owner_ind = q.owner_ind, deleted_ind = q.deleted_ind;
    db_.Done(q.st);
    if (found) add(id, owner_ind, owner, deleted_ind == soci::i_ok, "code");
  }
  auto contacts = [&](const std::vector<std::string>& keys, const char* kind) {
    auto& q = db_.Cached<ContactMatchQuery>(sql_, "customer.import_contact");
    for (const std::string& b : keys) {
      q.bidx = b;
      q.kind = kind;
      q.owner_ind = soci::i_null;
      q.st.execute(false);
      while (q.st.fetch()) add(q.id, q.owner_ind, q.owner, false, kind);
      db_.Done(q.st);
    }
  };
  contacts(phone_bidx, "phone");
  contacts(email_bidx, "email");
  auto& q = db_.Cached<RowKeyQuery>(sql_, "customer.import_row_key");
  for (const std::string& k : row_keys) {
    q.key = k;
    q.owner_ind = soci::i_null;
    q.st.execute(false);
    while (q.st.fetch()) add(q.id, q.owner_ind, q.owner, false, "row");
    db_.Done(q.st);
  }
  return out;
}

int64_t ImportTx::Insert(const Row& row, const std::vector<IndexEntry>& index,
                         const std::string& import_key) {
  // Find looked the code up in this transaction (the UNIQUE constraint stays the last word).
  return InsertRow(db_, sql_, row, index, import_key, /*code_checked=*/true);
}

std::optional<Row> ImportTx::Get(int64_t id) {
  auto& q = db_.Cached<GetQuery>(sql_, "customer.get");
  q.id = id;
  bool found = q.st.execute(true);
  std::optional<Row> row;
  if (found) row = q.rr.Take();
  db_.Done(q.st);
  return row;
}

UpdateOutcome ImportTx::Update(const Row& row, int64_t expected_version,
                               const std::vector<IndexEntry>& index) {
  return UpdateRow(db_, sql_, row, expected_version, index);
}

UpdateOutcome ImportTx::Restore(const Row& row, int64_t expected_version,
                                const std::vector<IndexEntry>& index) {
  return UpdateRow(db_, sql_, row, expected_version, index, /*undelete=*/true);
}

UpdateOutcome ImportTx::SetDeleted(int64_t id, int64_t expected_version, int64_t by, int64_t now) {
  long long lid = id, lby = by, ts = now, v = expected_version;
  soci::statement st =
      (sql_.prepare
           << "UPDATE customers SET deleted_at = :t, deleted_by = :b, "
              "version = version + 1 WHERE id = :i AND version = :v AND deleted_at IS NULL",
       soci::use(ts), soci::use(lby), soci::use(lid), soci::use(v));
  st.execute(true);
  if (st.get_affected_rows() > 0) return UpdateOutcome::kOk;
  auto row = Get(id);
  if (!row || row->deleted_at) return UpdateOutcome::kNotFound;
  return UpdateOutcome::kStale;
}

core::Result<void> CustomerStore::ImportBatch(bool write,
                                              const std::function<void(ImportTx&)>& fn) {
  auto run = [&](soci::session& sql) {
    ImportTx tx(db_, sql);
    fn(tx);
  };
  return write ? db_.WriteBatch(run) : db_.Read(run);
}

}  // namespace kehu::customer
