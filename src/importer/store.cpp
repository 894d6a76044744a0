#include "importer/store.h"

namespace kehu::importer {

std::string_view OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kFlagged:
      return "flagged";
    case Outcome::kNotImported:
      return "not_imported";
    case Outcome::kSkipped:
      return "skipped";
  }
  return "flagged";
}

namespace {

Outcome ParseOutcome(std::string_view s) {
  if (s == "not_imported") return Outcome::kNotImported;
  if (s == "skipped") return Outcome::kSkipped;
  return Outcome::kFlagged;
}

constexpr const char* kFileColumns =
    "id, created_by, created_at, filename, format, size, sha256, path, node, job_id";

struct FileReceiver {
  ImportFile f;
  long long id = 0, created_by = 0, created_at = 0, size = 0, job_id = 0;
  soci::indicator job_ind = soci::i_null;
  void Bind(soci::statement& st) {
    st.exchange(soci::into(id));
    st.exchange(soci::into(created_by));
    st.exchange(soci::into(created_at));
    st.exchange(soci::into(f.filename));
    st.exchange(soci::into(f.format));
    st.exchange(soci::into(size));
    st.exchange(soci::into(f.sha256));
    st.exchange(soci::into(f.path));
    st.exchange(soci::into(f.node));
    st.exchange(soci::into(job_id, job_ind));
  }
  ImportFile Take() const {
    ImportFile out = f;
    out.id = id;
    out.created_by = created_by;
    out.created_at = created_at;
    out.size = size;
    out.job_id = job_ind == soci::i_ok ? std::optional<int64_t>(job_id) : std::nullopt;
    return out;
  }
};

// The report lines INSERT, prepared once per connection.
struct ProblemInsert {
  Problem p;
  long long job_id = 0, row = 0, customer = 0;
  std::string outcome;
  soci::indicator customer_ind = soci::i_null;
  soci::statement st;
  explicit ProblemInsert(soci::session& sql)
      : st((sql.prepare << "INSERT INTO import_problems (job_id, row_no, seq, column_name, field, "
                           "value_enc, code, message, outcome, customer_id) VALUES (:j, :r, :s, "
                           ":c, :f, :v, :co, :m, :o, :cu)",
            soci::use(job_id), soci::use(row), soci::use(p.seq), soci::use(p.column),
            soci::use(p.field), soci::use(p.value), soci::use(p.code), soci::use(p.message),
            soci::use(outcome), soci::use(customer, customer_ind))) {}
};

}  // namespace

std::vector<db::Migration> Migrations() {
  return {{32, "imports", R"SQL(
CREATE TABLE imports (
  id {{ID}},
  created_by BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  filename TEXT NOT NULL,
  format TEXT NOT NULL,
  size BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  path TEXT NOT NULL,
  node TEXT NOT NULL,
  job_id BIGINT
);
CREATE INDEX imports_created ON imports(created_by, id);
CREATE INDEX imports_same ON imports(sha256, path);
CREATE TABLE import_problems (
  job_id BIGINT NOT NULL,
  row_no BIGINT NOT NULL,
  seq INTEGER NOT NULL,
  column_name TEXT NOT NULL,
  field TEXT NOT NULL,
  value_enc TEXT NOT NULL,
  code TEXT NOT NULL,
  message TEXT NOT NULL,
  outcome TEXT NOT NULL,
  customer_id BIGINT
);
CREATE INDEX import_problems_job ON import_problems(job_id, row_no, seq);
CREATE TABLE import_templates (
  id {{ID}},
  name TEXT NOT NULL UNIQUE,
  mapping_json TEXT NOT NULL,
  created_by BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
)
)SQL"}};
}

core::Result<ImportFile> ImportStore::Insert(const ImportFile& in) {
  return db_.Write([&](soci::session& sql) -> ImportFile {
    ImportFile f = in;
    long long by = f.created_by, at = f.created_at, size = f.size, id = 0;
    sql << "INSERT INTO imports (created_by, created_at, filename, format, size, sha256, path, "
           "node) VALUES (:b, :a, :f, :fo, :s, :h, :p, :n) RETURNING id",
        soci::use(by), soci::use(at), soci::use(f.filename), soci::use(f.format), soci::use(size),
        soci::use(f.sha256), soci::use(f.path), soci::use(f.node), soci::into(id);
    f.id = id;
    return f;
  });
}

core::Result<std::optional<ImportFile>> ImportStore::Get(int64_t id) {
  return db_.Read([&](soci::session& sql) -> std::optional<ImportFile> {
    soci::statement st(sql);
    FileReceiver rr;
    rr.Bind(st);
    long long i = id;
    st.exchange(soci::use(i));
    st.alloc();
    st.prepare(std::string("SELECT ") + kFileColumns + " FROM imports WHERE id = :i");
    st.define_and_bind();
    if (!st.execute(true)) return std::nullopt;
    return rr.Take();
  });
}

core::Result<std::vector<ImportFile>> ImportStore::List(std::optional<int64_t> created_by,
                                                        int limit) {
  return db_.Read([&](soci::session& sql) {
    std::vector<ImportFile> out;
    soci::statement st(sql);
    FileReceiver rr;
    rr.Bind(st);
    long long by = created_by.value_or(0);
    int lim = limit;
    std::string where = "1 = 1";
    if (created_by) {
      where += " AND created_by = :b";
      st.exchange(soci::use(by));
    }
    st.exchange(soci::use(lim));
    st.alloc();
    st.prepare(std::string("SELECT ") + kFileColumns + " FROM imports WHERE " + where +
               " ORDER BY id DESC LIMIT :l");
    st.define_and_bind();
    st.execute(false);
    while (st.fetch()) out.push_back(rr.Take());
    return out;
  });
}

core::Result<std::optional<ImportFile>> ImportStore::FindSame(const std::string& path,
                                                              const std::string& sha256,
                                                              const std::string& node) {
  return db_.Read([&](soci::session& sql) -> std::optional<ImportFile> {
    soci::statement st(sql);
    FileReceiver rr;
    rr.Bind(st);
    std::string p = path, h = sha256, n = node;
    st.exchange(soci::use(h));
    st.exchange(soci::use(p));
    st.exchange(soci::use(n));
    st.alloc();
    st.prepare(std::string("SELECT ") + kFileColumns +
               " FROM imports WHERE sha256 = :h AND path = :p AND node = :n ORDER BY id DESC "
               "LIMIT 1");
    st.define_and_bind();
    if (!st.execute(true)) return std::nullopt;
    return rr.Take();
  });
}

core::Result<void> ImportStore::SetJob(int64_t import_id, int64_t job_id) {
  return db_.Write([&](soci::session& sql) {
    long long i = import_id, j = job_id;
    sql << "UPDATE imports SET job_id = :j WHERE id = :i", soci::use(j), soci::use(i);
  });
}

void ImportStore::AddProblems(soci::session& sql, const std::vector<Problem>& problems) {
  if (problems.empty()) return;
  auto& ins = db_.Cached<ProblemInsert>(sql, "import.problem_insert");
  for (const Problem& p : problems) {
    ins.p = p;
    ins.job_id = p.job_id;
    ins.row = p.row;
    ins.outcome = std::string(OutcomeName(p.outcome));
    ins.customer = p.customer_id.value_or(0);
    ins.customer_ind = p.customer_id ? soci::i_ok : soci::i_null;
    ins.st.execute(true);
    db_.Done(ins.st);
  }
}

core::Result<void> ImportStore::Write(const std::function<void(soci::session&)>& fn) {
  return db_.Write([&](soci::session& sql) { fn(sql); });
}

core::Result<void> ImportStore::ClearProblems(int64_t job_id) {
  return db_.Write([&](soci::session& sql) {
    long long j = job_id;
    sql << "DELETE FROM import_problems WHERE job_id = :j", soci::use(j);
  });
}

core::Result<void> ImportStore::ScanProblems(int64_t job_id,
                                             const std::function<bool(const Problem&)>& fn,
                                             int batch) {
  long long after_row = -1;
  int after_seq = -1;
  for (;;) {
    auto page = db_.Read([&](soci::session& sql) {
      std::vector<Problem> out;
      Problem p;
      long long jid = job_id, row = 0, customer = 0;
      soci::indicator customer_ind = soci::i_null;
      std::string outcome;
      int lim = batch;
      long long ar = after_row, ar2 = after_row;
      int as = after_seq;
      soci::statement st =
          (sql.prepare << "SELECT row_no, seq, column_name, field, value_enc, code, message, "
                          "outcome, customer_id FROM import_problems WHERE job_id = :j AND "
                          "(row_no > :r OR (row_no = :r2 AND seq > :s)) ORDER BY row_no, seq "
                          "LIMIT :l",
           soci::use(jid), soci::use(ar), soci::use(ar2), soci::use(as), soci::use(lim),
           soci::into(row), soci::into(p.seq), soci::into(p.column), soci::into(p.field),
           soci::into(p.value), soci::into(p.code), soci::into(p.message), soci::into(outcome),
           soci::into(customer, customer_ind));
      st.execute(false);
      while (st.fetch()) {
        Problem q = p;
        q.job_id = job_id;
        q.row = row;
        q.outcome = ParseOutcome(outcome);
        q.customer_id =
            customer_ind == soci::i_ok ? std::optional<int64_t>(customer) : std::nullopt;
        out.push_back(std::move(q));
        customer_ind = soci::i_null;
      }
      return out;
    });
    if (!page) return std::unexpected(page.error());
    for (const Problem& p : *page) {
      if (!fn(p)) return core::Ok();
      after_row = p.row;
      after_seq = p.seq;
    }
    if (page->size() < static_cast<std::size_t>(batch)) return core::Ok();
  }
}

core::Result<int64_t> ImportStore::CountProblems(int64_t job_id) {
  return db_.Read([&](soci::session& sql) -> int64_t {
    long long j = job_id, n = 0;
    sql << "SELECT COUNT(*) FROM import_problems WHERE job_id = :j", soci::use(j), soci::into(n);
    return n;
  });
}

core::Result<std::vector<Template>> ImportStore::ListTemplates() {
  return db_.Read([&](soci::session& sql) {
    std::vector<Template> out;
    Template t;
    long long id = 0, by = 0, ca = 0, ua = 0;
    std::string mapping;
    soci::statement st = (sql.prepare << "SELECT id, name, mapping_json, created_by, created_at, "
                                         "updated_at FROM import_templates ORDER BY name",
                          soci::into(id), soci::into(t.name), soci::into(mapping), soci::into(by),
                          soci::into(ca), soci::into(ua));
    st.execute(false);
    while (st.fetch()) {
      Template x = t;
      x.id = id;
      x.mapping = nlohmann::json::parse(mapping, nullptr, false);
      if (!x.mapping.is_object()) x.mapping = nlohmann::json::object();
      x.created_by = by;
      x.created_at = ca;
      x.updated_at = ua;
      out.push_back(std::move(x));
    }
    return out;
  });
}

core::Result<std::optional<Template>> ImportStore::GetTemplate(const std::string& name) {
  auto all = ListTemplates();
  if (!all) return std::unexpected(all.error());
  for (Template& t : *all) {
    if (t.name == name) return std::optional<Template>(std::move(t));
  }
  return std::optional<Template>();
}

core::Result<Template> ImportStore::SaveTemplate(const Template& in) {
  return db_.Write([&](soci::session& sql) -> Template {
    Template t = in;
    std::string mapping = t.mapping.dump();
    long long by = t.created_by, now = t.updated_at, id = 0, created = 0;
    sql << "SELECT id, created_at FROM import_templates WHERE name = :n", soci::use(t.name),
        soci::into(id), soci::into(created);
    if (sql.got_data()) {
      sql << "UPDATE import_templates SET mapping_json = :m, updated_at = :u WHERE id = :i",
          soci::use(mapping), soci::use(now), soci::use(id);
      t.created_at = created;
    } else {
      sql << "INSERT INTO import_templates (name, mapping_json, created_by, created_at, "
             "updated_at) VALUES (:n, :m, :b, :c, :u) RETURNING id",
          soci::use(t.name), soci::use(mapping), soci::use(by), soci::use(now), soci::use(now),
          soci::into(id);
      t.created_at = now;
    }
    t.id = id;
    return t;
  });
}

core::Result<bool> ImportStore::DeleteTemplate(int64_t id) {
  return db_.Write([&](soci::session& sql) -> bool {
    long long i = id;
    soci::statement st =
        (sql.prepare << "DELETE FROM import_templates WHERE id = :i", soci::use(i));
    st.execute(true);
    return st.get_affected_rows() > 0;
  });
}

}  // namespace kehu::importer
