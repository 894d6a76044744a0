// The WAL-buffering VFS (db/wal_buffer.h): what one connection commits, another sees at once;
// a transaction rolled back after spilling pages leaves nothing behind; and a writer killed at
// any moment leaves a sound database holding every transaction it had committed.
#include "db/wal_buffer.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "test_db.h"

namespace kehu {
namespace {

class Conn {
 public:
  explicit Conn(const std::string& path) {
    EXPECT_TRUE(db::InstallWalBuffer());
    EXPECT_EQ(
        sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, "kehu"),
        SQLITE_OK);
    Exec("PRAGMA journal_mode=WAL");
    Exec("PRAGMA synchronous=NORMAL");
    Exec("PRAGMA busy_timeout=10000");
  }
  ~Conn() { sqlite3_close(db_); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  int Exec(const std::string& sql) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    if (err) {
      last_error_ = err;
      sqlite3_free(err);
    }
    return rc;
  }
  long long Scalar(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    long long v = -1;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return v;
  }
  std::string Text(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    std::string v;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      v = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return v;
  }
  const std::string& last_error() const { return last_error_; }

 private:
  sqlite3* db_ = nullptr;
  std::string last_error_;
};

// A transaction touching many pages: rows with random-looking indexed keys.
std::string Batch(int tx, int rows) {
  std::string sql = "BEGIN IMMEDIATE;";
  for (int i = 0; i < rows; ++i) {
    const long long n = static_cast<long long>(tx) * 10000 + i;
    sql += "INSERT INTO t (n, k, pad) VALUES (" + std::to_string(n) + ", hex(randomblob(16)), " +
           "zeroblob(300));";
  }
  return sql + "COMMIT;";
}

constexpr char kSchema[] =
    "CREATE TABLE IF NOT EXISTS t (n INTEGER PRIMARY KEY, k TEXT NOT NULL, pad BLOB);"
    "CREATE INDEX IF NOT EXISTS t_k ON t(k)";

TEST(WalBuffer, CommitsAreVisibleToOtherConnectionsAtOnce) {
  const std::string path = (testing::TempDir() / "wal.db").string();
  Conn writer(path), reader(path);
  ASSERT_EQ(writer.Exec(kSchema), SQLITE_OK) << writer.last_error();
  for (int tx = 0; tx < 200; ++tx) {
    ASSERT_EQ(writer.Exec(Batch(tx, 1 + tx % 40)), SQLITE_OK) << writer.last_error();
    const long long expected = writer.Scalar("SELECT COUNT(*) FROM t");
    ASSERT_EQ(reader.Scalar("SELECT COUNT(*) FROM t"), expected) << "after transaction " << tx;
    // Checkpoints and WAL restarts in between.
    if (tx % 50 == 49) {
      ASSERT_EQ(reader.Exec("PRAGMA wal_checkpoint(TRUNCATE)"), SQLITE_OK);
    }
  }
  EXPECT_EQ(reader.Text("PRAGMA integrity_check"), "ok");
}

TEST(WalBuffer, RolledBackSpilledTransactionLeavesNothing) {
  const std::string path = (testing::TempDir() / "wal.db").string();
  Conn writer(path), reader(path);
  ASSERT_EQ(writer.Exec(kSchema), SQLITE_OK);
  ASSERT_EQ(writer.Exec(Batch(0, 100)), SQLITE_OK);
  // A tiny cache makes the big transaction write frames to the WAL before it ends.
  ASSERT_EQ(writer.Exec("PRAGMA cache_size=10"), SQLITE_OK);
  std::string big = Batch(1, 3000);
  big.replace(big.rfind("COMMIT;"), 7, "ROLLBACK;");
  ASSERT_EQ(writer.Exec(big), SQLITE_OK) << writer.last_error();
  EXPECT_EQ(reader.Scalar("SELECT COUNT(*) FROM t"), 100);
  ASSERT_EQ(writer.Exec(Batch(2, 3000)), SQLITE_OK) << writer.last_error();  // spills, commits
  EXPECT_EQ(reader.Scalar("SELECT COUNT(*) FROM t"), 3100);
  EXPECT_EQ(reader.Text("PRAGMA integrity_check"), "ok");
}

TEST(WalBuffer, WriterKilledAnywhereLosesNoCommittedTransaction) {
  for (int round = 0; round < 6; ++round) {
    const std::string path = (testing::TempDir() / "wal.db").string();
    {
      Conn setup(path);
      ASSERT_EQ(setup.Exec(kSchema), SQLITE_OK);
    }
    int pipefd[2];
    ASSERT_EQ(pipe(pipefd), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      // The writer: reports each committed transaction, until it is killed.
      close(pipefd[0]);
      Conn w(path);
      for (int tx = 0;; ++tx) {
        if (w.Exec(Batch(tx, 1 + (tx * 7) % 60)) != SQLITE_OK) _exit(2);
        if (write(pipefd[1], &tx, sizeof tx) != sizeof tx) _exit(3);
      }
    }
    close(pipefd[1]);
    // Let it commit for a while (longer each round), then kill it mid-work.
    int committed = -1, tx = 0;
    const int wanted = 20 + round * 40;
    while (committed < wanted && read(pipefd[0], &tx, sizeof tx) == sizeof tx) committed = tx;
    kill(child, SIGKILL);
    while (read(pipefd[0], &tx, sizeof tx) == sizeof tx) committed = tx;
    close(pipefd[0]);
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer stopped by itself, status " << status;

    Conn after(path);
    EXPECT_EQ(after.Text("PRAGMA integrity_check"), "ok") << "round " << round;
    // Every reported transaction is there, and at most the one being written after it.
    long long rows_expected = 0;
    for (int t = 0; t <= committed; ++t) rows_expected += 1 + (t * 7) % 60;
    const long long rows = after.Scalar("SELECT COUNT(*) FROM t");
    EXPECT_TRUE(rows == rows_expected || rows == rows_expected + 1 + ((committed + 1) * 7) % 60)
        << "round " << round << ": " << rows << " rows, " << rows_expected
        << " committed before the kill";
  }
}

}  // namespace
}  // namespace kehu
