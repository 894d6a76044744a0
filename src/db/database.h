// One access layer, two engines: SQLite (default, embedded) and PostgreSQL, through SOCI.
// Only stores (src/<module>/store.cpp) and this folder speak SQL.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <soci/connection-pool.h>
#include <soci/soci.h>

#include "core/error.h"

namespace kehu::db {

enum class Dialect { kSqlite, kPostgres };

// A numbered schema change. `sql` may hold several statements separated by ";\n" and these
// placeholders, expanded per dialect: {{ID}} (auto-increment primary key column type).
struct Migration {
  int version;
  std::string name;
  std::string sql;
};

// Thrown inside Read/Write callbacks to abort with a domain error (rolled back, returned).
struct Abort {
  core::Error error;
};

// More to write in a store's transaction, given the id of the row just written: another
// module's statements (through its store) that must commit or roll back with it, such as the
// audit entry of a change. Throws to roll everything back.
using AlsoWrite = std::function<void(soci::session&, int64_t id)>;

// A pool of SOCI sessions to one database. Thread-safe. Writes on SQLite are serialised
// in-process (one writer at a time, BEGIN IMMEDIATE) so they never spin on SQLITE_BUSY.
class Database {
 public:
  // url: "sqlite:/path/kehu.db", "sqlite:///abs/path.db" or "postgresql://user:pw@host:port/db".
  static core::Result<std::unique_ptr<Database>> Open(std::string_view url, std::size_t pool_size);
  ~Database();

  Dialect dialect() const { return dialect_; }
  const std::string& url_for_log() const { return url_for_log_; }

  // Runs fn(session) without an explicit transaction. SOCI exceptions become kInternal (logged);
  // db::Abort becomes its error. Returns fn's value wrapped in a Result.
  template <typename F>
  auto Read(F&& fn) -> core::Result<std::invoke_result_t<F, soci::session&>> {
    return Run(false, std::forward<F>(fn));
  }
  // Runs fn(session) inside a transaction; commits when fn returns, rolls back on any error.
  // On SQLite, concurrent writes are group-committed: one thread runs a batch of queued
  // callbacks in one transaction, each inside its own SAVEPOINT, so a failing callback rolls
  // back only its own changes. fn must not call Write itself (it would wait on itself).
  template <typename F>
  auto Write(F&& fn) -> core::Result<std::invoke_result_t<F, soci::session&>> {
    if (dialect_ == Dialect::kSqlite) return GroupWrite(std::forward<F>(fn));
    return Run(true, std::forward<F>(fn));
  }

  // While a long run of big write batches (an import) goes on, SQLite's writer keeps a larger
  // page cache and the WAL grows further before the checkpointer makes writers wait to restart
  // it: random index pages are then written less often, and the writer waits less. Scopes may
  // nest; the last one ending restores the defaults. No effect on PostgreSQL.
  class BulkScope {
   public:
    BulkScope() = default;
    BulkScope(BulkScope&& o) noexcept : db_(std::exchange(o.db_, nullptr)) {}
    BulkScope& operator=(BulkScope&&) = delete;
    ~BulkScope() {
      if (db_) db_->EndBulk();
    }

   private:
    friend class Database;
    explicit BulkScope(Database* db) : db_(db) {}
    Database* db_ = nullptr;
  };
  [[nodiscard]] BulkScope Bulk();

  // Runs fn(session) in a transaction of its own (on SQLite not grouped with other writes, so
  // with no savepoint around it): for big batches of statements, such as an import's, which
  // would otherwise pay for a statement journal kept across the whole group. Same contract
  // as Write.
  template <typename F>
  auto WriteBatch(F&& fn) -> core::Result<std::invoke_result_t<F, soci::session&>> {
    if (dialect_ != Dialect::kSqlite) return Run(true, std::forward<F>(fn));
    // The writer connection (its page cache is the larger one), alone.
    using T = std::invoke_result_t<F, soci::session&>;
    std::lock_guard lock(write_mu_);
    soci::session& sql = *writer_;
    bool in_tx = false;
    try {
      RunFixed(sql, "db.begin", FixedKind::kBegin);
      in_tx = true;
      if constexpr (std::is_void_v<T>) {
        fn(sql);
        RunFixed(sql, "db.commit", FixedKind::kCommit);
        return {};
      } else {
        T value = fn(sql);
        RunFixed(sql, "db.commit", FixedKind::kCommit);
        return value;
      }
    } catch (Abort& a) {
      if (in_tx) SafeRollback(sql);
      return std::unexpected(std::move(a.error));
    } catch (const std::exception& e) {
      if (in_tx) SafeRollback(sql);
      return std::unexpected(TranslateException(e));
    }
  }

  // Applies the migrations not yet applied, in version order, each in its own transaction.
  // Returns the versions applied now.
  core::Result<std::vector<int>> Migrate(const std::vector<Migration>& migrations);

  // A prepared statement kept per pooled connection and reused, to avoid re-preparing hot
  // queries: T(sql) is built the first time `key` is asked for on this connection (T holds the
  // bound variables and a soci::statement bound to them). Only for the session passed to a
  // Read/Write callback; the object stays owned by the Database and is not to be kept beyond
  // the callback. Consume every row of a query so SQLite resets the statement.
  template <typename T>
  T& Cached(soci::session& sql, const char* key) {
    auto& slot = caches_.at(PositionOf(sql))[key];
    if (!slot) slot = std::shared_ptr<void>(new T(sql), [](void* p) { delete static_cast<T*>(p); });
    return *static_cast<T*>(slot.get());
  }

  // Ends the use of a cached statement: on SQLite resets it so it holds no read snapshot (an
  // open snapshot would keep the WAL from ever restarting). Call after every use.
  void Done(soci::statement& st) const;

  // "ILIKE" on PostgreSQL, "LIKE" on SQLite (case-insensitive for ASCII there).
  const char* ILike() const { return dialect_ == Dialect::kPostgres ? "ILIKE" : "LIKE"; }

 private:
  Database() = default;

  // Leases a pooled connection for the lifetime of the guard.
  struct Lease {
    soci::connection_pool& pool;
    std::size_t pos;
    explicit Lease(soci::connection_pool& p) : pool(p), pos(p.lease()) {}
    ~Lease() { pool.give_back(pos); }
  };

  // One queued SQLite write.
  struct Job {
    std::function<bool(soci::session&)> run;       // false: roll back its savepoint
    std::function<void(const core::Error&)> fail;  // the batch's COMMIT failed
    bool done = false;                             // guarded by queue_mu_
  };

  template <typename F>
  auto GroupWrite(F&& fn) -> core::Result<std::invoke_result_t<F, soci::session&>> {
    using T = std::invoke_result_t<F, soci::session&>;
    using R = core::Result<T>;
    std::optional<R> out;
    Job job;
    job.run = [&](soci::session& sql) -> bool {
      try {
        if constexpr (std::is_void_v<T>) {
          fn(sql);
          out.emplace();
        } else {
          out.emplace(fn(sql));
        }
        return true;
      } catch (Abort& a) {
        out.emplace(std::unexpected(std::move(a.error)));
      } catch (const std::exception& e) {
        out.emplace(std::unexpected(TranslateException(e)));
      }
      return false;
    };
    job.fail = [&](const core::Error& e) { out.emplace(std::unexpected(e)); };
    std::unique_lock lock(queue_mu_);
    queue_.push_back(&job);
    if (gathering_ && queue_.size() >= last_batch_) arrived_cv_.notify_one();
    while (!job.done) {
      if (!leading_) {
        // Lead one batch (it holds this job unless the queue is long), then hand over.
        leading_ = true;
        RunBatch(lock);
        leading_ = false;
        done_cv_.notify_all();
      } else {
        done_cv_.wait(lock, [&] { return job.done || !leading_; });
      }
    }
    return std::move(*out);
  }
  // Takes a batch off the queue and runs it in one transaction. Called with queue_mu_ held;
  // releases it while the batch runs.
  void RunBatch(std::unique_lock<std::mutex>& lock);

  template <typename F>
  auto Run(bool write, F&& fn) -> core::Result<std::invoke_result_t<F, soci::session&>> {
    using T = std::invoke_result_t<F, soci::session&>;
    Lease lease(*pool_);
    soci::session& sql = pool_->at(lease.pos);
    std::unique_lock<std::mutex> lock(write_mu_, std::defer_lock);
    bool in_tx = false;
    try {
      if (write) {
        if (dialect_ == Dialect::kSqlite) lock.lock();
        Begin(sql);
        in_tx = true;
      }
      if constexpr (std::is_void_v<T>) {
        fn(sql);
        if (in_tx) Commit(sql);
        return {};
      } else {
        T value = fn(sql);
        if (in_tx) Commit(sql);
        return value;
      }
    } catch (Abort& a) {
      if (in_tx) SafeRollback(sql);
      return std::unexpected(std::move(a.error));
    } catch (const std::exception& e) {
      if (in_tx) SafeRollback(sql);
      return std::unexpected(TranslateException(e));
    }
  }

  std::size_t PositionOf(soci::session& sql) const { return positions_.at(&sql); }
  void CheckpointLoop();
  void EndBulk();
  void SetWriterCache(int cache_kib);  // write_mu_ held
  enum class FixedKind { kBegin, kCommit, kSavepoint, kRelease, kRollbackTo };
  // Runs one of the batch's transaction statements, prepared once per connection.
  void RunFixed(soci::session& sql, const char* key, FixedKind kind);
  void Begin(soci::session& sql);
  void Commit(soci::session& sql);
  void SafeRollback(soci::session& sql) noexcept;
  core::Error TranslateException(const std::exception& e) const;
  std::string Expand(std::string_view sql) const;

  Dialect dialect_ = Dialect::kSqlite;
  std::string url_for_log_;
  std::size_t pool_size_ = 0;
  std::unique_ptr<soci::connection_pool> pool_;
  std::unique_ptr<soci::session> writer_;  // SQLite: the one connection batches run on
  std::mutex write_mu_;                    // SQLite only: one writing transaction at a time
  std::atomic<int> bulk_{0};               // SQLite: open BulkScopes (changed under write_mu_)
  std::mutex queue_mu_;
  std::condition_variable done_cv_;
  std::vector<Job*> queue_;     // guarded by queue_mu_
  bool leading_ = false;        // guarded by queue_mu_: a thread is running batches
  bool gathering_ = false;      // guarded by queue_mu_: the leader waits for last_batch_ jobs
  std::size_t last_batch_ = 0;  // guarded by queue_mu_: jobs in the last batch run
  std::condition_variable arrived_cv_;
  // Constant after Open: pooled session -> its position; per position, its statement cache
  // (each touched only by the thread holding that connection's lease).
  std::map<const soci::session*, std::size_t> positions_;
  // Per connection, by the key's address (a string literal; looked up on every cached query,
  // so no string is built or compared for it).
  std::vector<std::unordered_map<const char*, std::shared_ptr<void>>> caches_;
  // SQLite: WAL checkpoints (and their fsyncs) run on this thread, never under write_mu_.
  std::thread checkpointer_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;  // guarded by stop_mu_
  std::string sqlite_conn_;
};

// True when a SOCI exception is a unique-constraint violation (either engine).
bool IsUniqueViolation(const std::exception& e);

}  // namespace kehu::db
