#include "customer/store.h"

#include "db/params.h"

namespace kehu::customer {
namespace {

constexpr const char* kColumns =
    "c.id, COALESCE(c.code, ''), c.name, c.name_key, c.gender, c.company, c.title, c.phones_enc, "
    "c.emails_enc, c.id_number_enc, c.id_number_bidx, c.credit_code, c.province, c.city, "
    "c.district, c.address_enc, c.source, c.owner_id, COALESCE(u.display_name, ''), c.stage, "
    "c.notes, c.custom_json, c.created_by, c.created_at, c.updated_by, c.updated_at, c.version, "
    "c.deleted_at";

// Receives one row through typed into() bindings (portable across both engines).
struct RowReceiver {
  Row row;
  long long id = 0, owner_id = 0, created_by = 0, created_at = 0, updated_by = 0, updated_at = 0,
            version = 0, deleted_at = 0;
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
  soci::indicator code_ind = soci::i_null, owner_ind = soci::i_null;
  long long owner = 0, created_by = 0, created_at = 0, updated_by = 0, updated_at = 0, version = 0,
            id = 0;
  soci::statement st;
  explicit CustomerInsert(soci::session& sql)
      : st((sql.prepare
                << "INSERT INTO customers (code, name, name_key, gender, company, title, "
                   "phones_enc, emails_enc, id_number_enc, id_number_bidx, credit_code, province, "
                   "city, district, address_enc, source, owner_id, stage, notes, custom_json, "
                   "created_by, created_at, updated_by, updated_at, version) VALUES (:code, "
                   ":name, :nk, :g, :co, :ti, :ph, :em, :idn, :idb, :cc, :pr, :ci, :di, :ad, :so, "
                   ":ow, :st, :no, :cu, :cb, :ca, :ub, :ua, :v) RETURNING id",
            soci::use(r.code, code_ind), soci::use(r.name), soci::use(r.name_key),
            soci::use(r.gender), soci::use(r.company), soci::use(r.title), soci::use(r.phones_enc),
            soci::use(r.emails_enc), soci::use(r.id_number_enc), soci::use(r.id_number_bidx),
            soci::use(r.credit_code), soci::use(r.province), soci::use(r.city),
            soci::use(r.district), soci::use(r.address_enc), soci::use(r.source),
            soci::use(owner, owner_ind), soci::use(r.stage), soci::use(r.notes),
            soci::use(r.custom_json), soci::use(created_by), soci::use(created_at),
            soci::use(updated_by), soci::use(updated_at), soci::use(version), soci::into(id))) {}
};

// Caller-ID lookup, prepared once per connection.
struct LookupQuery {
  std::string bidx;
  int limit = 0;
  long long id = 0, owner = 0;
  soci::indicator owner_ind = soci::i_null;
  std::string name, company, code, label;
  soci::statement st;
  explicit LookupQuery(soci::session& sql)
      : st((sql.prepare << "SELECT c.id, c.name, c.company, COALESCE(c.code, ''), c.owner_id, "
                           "i.label FROM contact_index i JOIN customers c ON c.id = "
                           "i.customer_id WHERE i.bidx = :b AND i.kind = 'phone' AND "
                           "c.deleted_at IS NULL ORDER BY i.customer_id LIMIT :l",
            soci::use(bidx), soci::use(limit), soci::into(id), soci::into(name),
            soci::into(company), soci::into(code), soci::into(owner, owner_ind),
            soci::into(label))) {}
};

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
)SQL"}};
}

core::Result<int64_t> CustomerStore::Insert(const Row& r, const std::vector<IndexEntry>& index) {
  return db_.Write([&](soci::session& sql) -> int64_t {
    CheckCodeFree(db_, sql, r.code, 0);
    auto& ins = db_.Cached<CustomerInsert>(sql, "customer.insert");
    ins.r = r;
    ins.code_ind = r.code.empty() ? soci::i_null : soci::i_ok;
    ins.owner = r.owner_id.value_or(0);
    ins.owner_ind = r.owner_id ? soci::i_ok : soci::i_null;
    ins.created_by = r.created_by;
    ins.created_at = r.created_at;
    ins.updated_by = r.updated_by;
    ins.updated_at = r.updated_at;
    ins.version = r.version;
    ins.st.execute(true);
    long long id = ins.id;
    db_.Done(ins.st);
    WriteIndex(db_, sql, id, index, /*replace=*/false);
    return id;
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
                                                  const std::vector<IndexEntry>& index) {
  return db_.Write([&](soci::session& sql) -> UpdateOutcome {
    long long id = r.id, expected = expected_version;
    CheckCodeFree(db_, sql, r.code, id);
    soci::indicator code_ind = r.code.empty() ? soci::i_null : soci::i_ok;
    long long owner = r.owner_id.value_or(0);
    soci::indicator owner_ind = r.owner_id ? soci::i_ok : soci::i_null;
    long long updated_by = r.updated_by, updated_at = r.updated_at;
    soci::statement st =
        (sql.prepare << "UPDATE customers SET code = :code, name = :name, name_key = :nk, "
                        "gender = :g, company = :co, title = :ti, phones_enc = :ph, "
                        "emails_enc = :em, id_number_enc = :idn, id_number_bidx = :idb, "
                        "credit_code = :cc, province = :pr, city = :ci, district = :di, "
                        "address_enc = :ad, source = :so, owner_id = :ow, stage = :st, "
                        "notes = :no, custom_json = :cu, updated_by = :ub, updated_at = :ua, "
                        "version = version + 1 WHERE id = :id AND version = :v AND deleted_at "
                        "IS NULL",
         soci::use(r.code, code_ind), soci::use(r.name), soci::use(r.name_key), soci::use(r.gender),
         soci::use(r.company), soci::use(r.title), soci::use(r.phones_enc), soci::use(r.emails_enc),
         soci::use(r.id_number_enc), soci::use(r.id_number_bidx), soci::use(r.credit_code),
         soci::use(r.province), soci::use(r.city), soci::use(r.district), soci::use(r.address_enc),
         soci::use(r.source), soci::use(owner, owner_ind), soci::use(r.stage), soci::use(r.notes),
         soci::use(r.custom_json), soci::use(updated_by), soci::use(updated_at), soci::use(id),
         soci::use(expected));
    st.execute(true);
    if (st.get_affected_rows() == 0) {
      long long version = 0;
      soci::indicator deleted_ind = soci::i_null;
      long long deleted_at = 0;
      sql << "SELECT version, deleted_at FROM customers WHERE id = :id", soci::use(id),
          soci::into(version), soci::into(deleted_at, deleted_ind);
      if (!sql.got_data() || deleted_ind == soci::i_ok) return UpdateOutcome::kNotFound;
      return UpdateOutcome::kStale;
    }
    WriteIndex(db_, sql, id, index, /*replace=*/true);
    return UpdateOutcome::kOk;
  });
}

core::Result<bool> CustomerStore::SetDeleted(int64_t id, bool deleted, int64_t by, int64_t now) {
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
    return st.get_affected_rows() > 0;
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
    auto& q = db_.Cached<LookupQuery>(sql, "customer.lookup_phone");
    q.bidx = bidx;
    q.limit = limit;
    q.st.execute(false);
    while (q.st.fetch()) {
      LookupHit h{q.id, q.name, q.company, q.code, q.label, std::nullopt};
      if (q.owner_ind == soci::i_ok) h.owner_id = q.owner;
      if (out.empty() || out.back().id != h.id) out.push_back(std::move(h));
    }
    db_.Done(q.st);
    return out;
  });
}

namespace {

// "phones_enc NOT LIKE 'k2:%' AND phones_enc <> ''" for each encrypted column, joined by `op`.
std::string KeyPredicate(uint32_t version, bool on_key) {
  const std::string prefix = "'k" + std::to_string(version) + ":%'";
  std::string out;
  for (const char* col : {"c.phones_enc", "c.emails_enc", "c.id_number_enc", "c.address_enc"}) {
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
                        "= :idn, id_number_bidx = :idb, address_enc = :ad WHERE id = :id AND "
                        "version = :v",
         soci::use(r.phones_enc), soci::use(r.emails_enc), soci::use(r.id_number_enc),
         soci::use(r.id_number_bidx), soci::use(r.address_enc), soci::use(id), soci::use(expected));
    st.execute(true);
    if (st.get_affected_rows() == 0) return false;
    WriteIndex(db_, sql, id, index, /*replace=*/true);
    return true;
  });
}

}  // namespace kehu::customer
