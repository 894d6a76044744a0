// Concurrent writes are group-committed on SQLite: a failing callback must roll back only its
// own changes, never its batch neighbours'. The same contract holds on PostgreSQL (one
// transaction per write).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "test_db.h"

namespace kehu {
namespace {

using testing::Engine;

class GroupCommit : public ::testing::TestWithParam<Engine> {};

TEST_P(GroupCommit, FailingWriteRollsBackOnlyItself) {
  KEHU_OPEN_DB_OR_SKIP(db, GetParam());
  ASSERT_TRUE(db->Write([](soci::session& sql) {
                  sql << "CREATE TABLE gc_items (n INTEGER NOT NULL UNIQUE, note TEXT NOT NULL)";
                }).has_value());
  constexpr int kThreads = 8, kPerThread = 40;
  std::atomic<int> ok{0}, aborted{0}, conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        int n = t * kPerThread + i;
        auto r = db->Write([&](soci::session& sql) -> int {
          std::string note = "row " + std::to_string(n);
          sql << "INSERT INTO gc_items (n, note) VALUES (:n, :t)", soci::use(n), soci::use(note);
          // Every third write fails after writing: its row must disappear.
          if (n % 3 == 0) throw db::Abort{core::Error::Invalid("rejected on purpose")};
          // Every fifth also tries a duplicate: a unique violation after a good insert.
          if (n % 5 == 0) {
            sql << "INSERT INTO gc_items (n, note) VALUES (:n, 'dup')", soci::use(n);
          }
          return n;
        });
        if (r) {
          EXPECT_EQ(*r, n);
          ++ok;
        } else if (r.error().code() == core::Code::kInvalid) {
          ++aborted;
        } else {
          EXPECT_EQ(r.error().code(), core::Code::kConflict) << r.error().message();
          ++conflicts;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  auto rows = db->Read([](soci::session& sql) {
    std::vector<int> out;
    int n = 0;
    soci::statement st = (sql.prepare << "SELECT n FROM gc_items ORDER BY n", soci::into(n));
    st.execute();
    while (st.fetch()) out.push_back(n);
    return out;
  });
  ASSERT_TRUE(rows.has_value());
  std::vector<int> expected;
  for (int n = 0; n < kThreads * kPerThread; ++n) {
    if (n % 3 != 0 && n % 5 != 0) expected.push_back(n);
  }
  EXPECT_EQ(*rows, expected);
  EXPECT_EQ(ok.load(), static_cast<int>(expected.size()));
  EXPECT_EQ(aborted.load() + conflicts.load() + ok.load(), kThreads * kPerThread);
}

INSTANTIATE_TEST_SUITE_P(Engines, GroupCommit,
                         ::testing::Values(Engine::kSqlite, Engine::kPostgres),
                         testing::EngineName);

}  // namespace
}  // namespace kehu
