#include "db/database.h"

#include <libpq-fe.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>

#include "core/time.h"
#include "db/wal_buffer.h"

namespace kehu::db {
namespace {

// SQLite's writer: its page cache, and while a bulk run goes on (Database::Bulk) a larger one,
// which holds most of the index pages an import of a million rows keeps changing (the process
// stays under 500 MB).
constexpr int kWriterCacheKiB = 32000;
constexpr int kBulkCacheKiB = 192000;
// WAL frames (4 KiB pages) beyond which the checkpointer restarts the WAL: ~16 MB, and during
// a bulk run ~256 MB; the file is cut back to kWalSizeLimit bytes when it restarts.
constexpr int kRestartFrames = 4096;
constexpr int kBulkRestartFrames = 65536;
constexpr long long kWalSizeLimit = 64LL << 20;

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string RedactUrl(std::string_view url) {
  // postgresql://user:secret@host -> postgresql://user:***@host
  auto scheme = url.find("://");
  auto at = url.find('@');
  if (scheme == std::string_view::npos || at == std::string_view::npos) return std::string(url);
  auto colon = url.find(':', scheme + 3);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return std::string(url.substr(0, colon + 1)) + "***" + std::string(url.substr(at));
}

// SOCI's PostgreSQL backend expects libpq's keyword=value form and mangles URIs, so URIs are
// parsed by libpq itself and rewritten. nullopt with `error` set when libpq rejects the URL.
std::optional<std::string> ToConninfo(const std::string& url, std::string& error) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(url.c_str(), &err);
  if (!opts) {
    error = err ? err : "cannot parse the database URL";
    if (err) PQfreemem(err);
    return std::nullopt;
  }
  std::string out;
  for (PQconninfoOption* o = opts; o->keyword; ++o) {
    if (!o->val || !*o->val) continue;
    std::string v;
    for (const char* c = o->val; *c; ++c) {
      if (*c == '\\' || *c == '\'') v.push_back('\\');
      v.push_back(*c);
    }
    out += std::string(out.empty() ? "" : " ") + o->keyword + "='" + v + "'";
  }
  PQconninfoFree(opts);
  return out;
}

std::vector<std::string> SplitStatements(const std::string& sql) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < sql.size()) {
    auto end = sql.find(";\n", start);
    if (end == std::string::npos) end = sql.size();
    std::string stmt = sql.substr(start, end - start);
    if (stmt.find_first_not_of(" \n\t\r") != std::string::npos) out.push_back(stmt);
    start = end + 2;
  }
  return out;
}

// Process-wide SQLite settings, which only take effect before SQLite initialises (at the first
// connection). Each connection is used by one thread at a time (a pool lease, the writer under
// write_mu_, the checkpointer's own), so SQLite's per-connection mutexes are not needed; and no
// one reads its memory statistics, whose global mutex every allocation would otherwise take.
// Under 8 request threads both showed up as futex waits. Later calls fail harmlessly. Then the
// WAL-buffering VFS (db/wal_buffer.h) becomes the default.
void ConfigureSqlite() {
  static std::once_flag once;
  std::call_once(once, [] {
    sqlite_api::sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    sqlite_api::sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    InstallWalBuffer();
  });
}

}  // namespace

core::Result<std::unique_ptr<Database>> Database::Open(std::string_view url,
                                                       std::size_t pool_size) {
  std::unique_ptr<Database> db(new Database());
  db->url_for_log_ = RedactUrl(url);
  db->pool_size_ = std::max<std::size_t>(1, pool_size);
  std::string conn;
  const soci::backend_factory* factory = nullptr;
  if (StartsWith(url, "sqlite:")) {
    std::string_view path = url.substr(7);
    if (StartsWith(path, "//")) path = path.substr(2);
    if (path.empty()) return std::unexpected(core::Error::BadRequest("empty sqlite path"));
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    ConfigureSqlite();
    db->dialect_ = Dialect::kSqlite;
    conn = "db=\"" + std::string(path) + "\" timeout=10";
    factory = &soci::sqlite3;
  } else if (StartsWith(url, "postgresql://") || StartsWith(url, "postgres://")) {
    db->dialect_ = Dialect::kPostgres;
    std::string error;
    auto info = ToConninfo(std::string(url), error);
    if (!info) {
      return std::unexpected(
          core::Error::BadRequest("bad database URL " + db->url_for_log_ + ": " + error));
    }
    conn = *info;
    factory = &soci::postgresql;
  } else {
    return std::unexpected(core::Error::BadRequest(
        "unsupported database URL (use sqlite:PATH or postgresql://...): " + db->url_for_log_));
  }
  try {
    db->pool_ = std::make_unique<soci::connection_pool>(db->pool_size_);
    // Each reading connection keeps a modest private page cache; the writer, which modifies
    // the same index pages over and over, a larger one. (A shared mmap would read faster, but
    // every connection's mapping counts towards RSS again.)
    auto configure = [&](soci::session& s, int cache_kib) {
      s.open(*factory, conn);
      if (db->dialect_ == Dialect::kSqlite) {
        s << "PRAGMA journal_mode=WAL";
        s << "PRAGMA synchronous=NORMAL";
        s << "PRAGMA foreign_keys=ON";
        s << "PRAGMA busy_timeout=10000";
        s << "PRAGMA cache_size=-" + std::to_string(cache_kib);
        s << "PRAGMA temp_store=MEMORY";
        s << "PRAGMA wal_autocheckpoint=0";  // the checkpointer thread does it
      } else {
        s << "SET TIME ZONE 'UTC'";
        s << "SET client_min_messages = warning";
      }
    };
    for (std::size_t i = 0; i < db->pool_size_; ++i) {
      soci::session& s = db->pool_->at(i);
      db->positions_[&s] = i;
      configure(s, 8000);
    }
    if (db->dialect_ == Dialect::kSqlite) {
      db->writer_ = std::make_unique<soci::session>();
      db->positions_[db->writer_.get()] = db->pool_size_;
      configure(*db->writer_, kWriterCacheKiB);
      // After a bulk run (a WAL let grow to kBulkRestartFrames) the file shrinks back to this
      // when the WAL next restarts.
      *db->writer_ << "PRAGMA journal_size_limit=" + std::to_string(kWalSizeLimit);
    }
    db->caches_.resize(db->pool_size_ + 1);
  } catch (const std::exception& e) {
    spdlog::error("cannot open database {}: {}", db->url_for_log_, e.what());
    return std::unexpected(core::Error(
        core::Code::kUnavailable, "cannot open database " + db->url_for_log_ + ": " + e.what()));
  }
  if (db->dialect_ == Dialect::kSqlite) {
    db->sqlite_conn_ = conn;
    db->checkpointer_ = std::thread([raw = db.get()] { raw->CheckpointLoop(); });
  }
  return db;
}

Database::~Database() {
  if (checkpointer_.joinable()) {
    {
      std::lock_guard lock(stop_mu_);
      stopping_ = true;
    }
    stop_cv_.notify_all();
    checkpointer_.join();
  }
  caches_.clear();  // statements before their sessions
}

void Database::CheckpointLoop() {
  // A passive checkpoint copies committed WAL frames into the database file and fsyncs without
  // blocking readers or writers, so writers (synchronous=NORMAL) only append to the WAL. The WAL
  // restarts from its beginning only when a writer finds it fully checkpointed, which busy
  // writers never do; so when it has grown, the frames left are checkpointed again while
  // holding the write lock, and the next writer restarts it. Bulk runs (see Bulk) let the WAL
  // grow further: during an import into a large table the frames left are the last commits'
  // many random index pages, copied and fsynced while the writer waits.
  const auto restart_frames = [this] { return bulk_ > 0 ? kBulkRestartFrames : kRestartFrames; };
  try {
    soci::session s(soci::sqlite3, sqlite_conn_);
    s << "PRAGMA busy_timeout=10000";
    auto checkpoint = [&s] {
      int busy = 0, log = 0, done = 0;
      s << "PRAGMA wal_checkpoint(PASSIVE)", soci::into(busy), soci::into(log), soci::into(done);
      return log;
    };
    std::unique_lock lock(stop_mu_);
    while (!stop_cv_.wait_for(lock, std::chrono::milliseconds(200), [&] { return stopping_; })) {
      lock.unlock();
      try {
        if (checkpoint() > restart_frames()) {
          std::lock_guard writers(write_mu_);
          checkpoint();
        }
      } catch (const std::exception& e) {
        spdlog::warn("WAL checkpoint failed: {}", e.what());
      }
      lock.lock();
    }
    lock.unlock();
    s << "PRAGMA wal_checkpoint(TRUNCATE)";
  } catch (const std::exception& e) {
    spdlog::warn("WAL checkpointer stopped: {}", e.what());
  }
}

Database::BulkScope Database::Bulk() {
  if (dialect_ != Dialect::kSqlite) return BulkScope();
  std::lock_guard lock(write_mu_);
  if (bulk_++ == 0) SetWriterCache(kBulkCacheKiB);
  return BulkScope(this);
}

void Database::EndBulk() {
  std::lock_guard lock(write_mu_);
  if (--bulk_ == 0) SetWriterCache(kWriterCacheKiB);  // pages beyond it are freed at once
}

void Database::SetWriterCache(int cache_kib) {
  try {
    *writer_ << "PRAGMA cache_size=-" + std::to_string(cache_kib);
  } catch (const std::exception& e) {
    spdlog::warn("cannot resize the writer's page cache: {}", e.what());
  }
}

namespace {

// A statement without parameters, prepared once per connection through Database::Cached.
template <const char* kSql>
struct FixedStatement {
  soci::statement st;
  explicit FixedStatement(soci::session& sql) : st((sql.prepare << kSql)) {}
};
constexpr char kBeginImmediate[] = "BEGIN IMMEDIATE";
constexpr char kCommit[] = "COMMIT";
constexpr char kSavepoint[] = "SAVEPOINT kehu_job";
constexpr char kRelease[] = "RELEASE kehu_job";
constexpr char kRollbackTo[] = "ROLLBACK TO kehu_job";

}  // namespace

void Database::RunFixed(soci::session& sql, const char* key, FixedKind kind) {
  soci::statement* st = nullptr;
  switch (kind) {
    case FixedKind::kBegin:
      st = &Cached<FixedStatement<kBeginImmediate>>(sql, key).st;
      break;
    case FixedKind::kCommit:
      st = &Cached<FixedStatement<kCommit>>(sql, key).st;
      break;
    case FixedKind::kSavepoint:
      st = &Cached<FixedStatement<kSavepoint>>(sql, key).st;
      break;
    case FixedKind::kRelease:
      st = &Cached<FixedStatement<kRelease>>(sql, key).st;
      break;
    case FixedKind::kRollbackTo:
      st = &Cached<FixedStatement<kRollbackTo>>(sql, key).st;
      break;
  }
  try {
    st->execute(true);
  } catch (...) {
    Done(*st);
    throw;
  }
  Done(*st);
}

void Database::RunBatch(std::unique_lock<std::mutex>& lock) {
  constexpr std::size_t kMaxBatch = 256;
  {
    // Under concurrent writers (the last batch held several jobs) wait a moment for as many
    // to queue up again: every commit writes each changed page to the WAL once however many
    // customers changed it, so fuller batches cost less per write (measured in scripts/bench:
    // ~10% less CPU per create with 8 clients). A lone writer never waits.
    constexpr auto kGatherFor = std::chrono::microseconds(500);
    if (last_batch_ > 1 && queue_.size() < last_batch_) {
      gathering_ = true;
      arrived_cv_.wait_for(lock, kGatherFor, [&] { return queue_.size() >= last_batch_; });
      gathering_ = false;
    }
    std::vector<Job*> batch;
    if (queue_.size() <= kMaxBatch) {
      batch.swap(queue_);
    } else {
      batch.assign(queue_.begin(), queue_.begin() + kMaxBatch);
      queue_.erase(queue_.begin(), queue_.begin() + kMaxBatch);
    }
    last_batch_ = batch.size();
    lock.unlock();
    {
      std::lock_guard writer(write_mu_);
      soci::session& sql = *writer_;
      bool in_tx = false;
      try {
        // The five transaction statements are prepared once: re-preparing them for every job
        // cost more than the inserts of a small customer.
        RunFixed(sql, "db.begin", FixedKind::kBegin);
        in_tx = true;
        for (Job* job : batch) {
          RunFixed(sql, "db.savepoint", FixedKind::kSavepoint);
          if (!job->run(sql)) RunFixed(sql, "db.rollback_to", FixedKind::kRollbackTo);
          RunFixed(sql, "db.release", FixedKind::kRelease);
        }
        RunFixed(sql, "db.commit", FixedKind::kCommit);
      } catch (const std::exception& e) {
        if (in_tx) SafeRollback(sql);
        core::Error error = TranslateException(e);
        for (Job* job : batch) job->fail(error);
      }
    }
    lock.lock();
    for (Job* job : batch) job->done = true;
  }
}

void Database::Begin(soci::session& sql) {
  if (dialect_ == Dialect::kSqlite) {
    sql << "BEGIN IMMEDIATE";
  } else {
    sql.begin();
  }
}

void Database::Commit(soci::session& sql) {
  if (dialect_ == Dialect::kSqlite) {
    sql << "COMMIT";
  } else {
    sql.commit();
  }
}

void Database::SafeRollback(soci::session& sql) noexcept {
  try {
    if (dialect_ == Dialect::kSqlite) {
      sql << "ROLLBACK";
    } else {
      sql.rollback();
    }
  } catch (const std::exception& e) {
    spdlog::warn("rollback failed: {}", e.what());
  }
}

void Database::Done(soci::statement& st) const {
  if (dialect_ != Dialect::kSqlite) return;
  auto* be = static_cast<soci::sqlite3_statement_backend*>(st.get_backend());
  if (be && be->stmt_) sqlite3_reset(be->stmt_);
}

core::Error Database::TranslateException(const std::exception& e) const {
  if (IsUniqueViolation(e)) {
    return core::Error::Conflict("a unique value is already taken");
  }
  std::string id = core::NewIncidentId();
  spdlog::error("database error [incident {}]: {}", id, e.what());
  return core::Error::Internal("database error, incident " + id);
}

bool IsUniqueViolation(const std::exception& e) {
  if (auto* pg = dynamic_cast<const soci::postgresql_soci_error*>(&e)) {
    return pg->sqlstate() == "23505";
  }
  if (auto* lite = dynamic_cast<const soci::sqlite3_soci_error*>(&e)) {
    return lite->result() == SQLITE_CONSTRAINT &&
           std::string_view(e.what()).find("UNIQUE") != std::string_view::npos;
  }
  return false;
}

std::string Database::Expand(std::string_view sql) const {
  std::string out(sql);
  const std::string id = dialect_ == Dialect::kSqlite
                             ? "INTEGER PRIMARY KEY AUTOINCREMENT"
                             : "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY";
  for (auto pos = out.find("{{ID}}"); pos != std::string::npos; pos = out.find("{{ID}}")) {
    out.replace(pos, 6, id);
  }
  return out;
}

core::Result<std::vector<int>> Database::Migrate(const std::vector<Migration>& migrations) {
  auto created = Write([&](soci::session& sql) {
    sql << "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
           "name TEXT NOT NULL, applied_at BIGINT NOT NULL)";
  });
  if (!created) return std::unexpected(created.error());
  std::vector<Migration> sorted = migrations;
  std::sort(sorted.begin(), sorted.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  std::vector<int> applied;
  for (const Migration& m : sorted) {
    auto done = Write([&](soci::session& sql) -> bool {
      int count = 0;
      sql << "SELECT COUNT(*) FROM schema_migrations WHERE version = :v", soci::use(m.version),
          soci::into(count);
      if (count > 0) return false;
      for (const std::string& stmt : SplitStatements(Expand(m.sql))) sql << stmt;
      long long now = core::NowMs();
      std::string name = m.name;
      int version = m.version;
      sql << "INSERT INTO schema_migrations (version, name, applied_at) VALUES (:v, :n, :t)",
          soci::use(version), soci::use(name), soci::use(now);
      return true;
    });
    if (!done) return std::unexpected(done.error());
    if (*done) {
      spdlog::info("applied migration {} {}", m.version, m.name);
      applied.push_back(m.version);
    }
  }
  return applied;
}

}  // namespace kehu::db
