// The persisted job runner on both engines: claiming, leases, checkpoints in the caller's
// transaction, a job taken over after its process died, give-back on stop.
#include <gtest/gtest.h>

#include "core/time.h"
#include "jobs/runner.h"
#include "test_db.h"

namespace kehu::jobs {
namespace {

using testing::Engine;

class JobsTest : public ::testing::TestWithParam<Engine> {
 protected:
  Job New(const std::string& runner) {
    Job j;
    j.kind = "test.kind";
    j.runner = runner;
    j.created_by = 7;
    j.created_at = core::NowMs();
    j.params = {{"n", 3}};
    auto made = store_->Create(j);
    EXPECT_TRUE(made.has_value());
    return *made;
  }
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<JobStore> store_;
};

#define OPEN()                          \
  KEHU_OPEN_DB_OR_SKIP(db, GetParam()); \
  db_ = std::move(db);                  \
  store_ = std::make_unique<JobStore>(*db_)

TEST_P(JobsTest, ClaimTakesQueuedJobsOfItsRunnerOnly) {
  OPEN();
  Job mine = New("server:a");
  New("server:b");
  auto c = store_->Claim("server:a", "owner1", core::NowMs(), kLeaseMs);
  ASSERT_TRUE(c.has_value() && c->has_value());
  EXPECT_EQ((*c)->id, mine.id);
  EXPECT_EQ((*c)->state, State::kRunning);
  EXPECT_EQ((*c)->attempts, 1);
  EXPECT_EQ((*c)->params["n"], 3);
  // Nothing else for server:a; a live lease is not taken by another process.
  auto none = store_->Claim("server:a", "owner2", core::NowMs(), kLeaseMs);
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
  auto byid = store_->ClaimById(mine.id, "owner2", core::NowMs(), kLeaseMs);
  ASSERT_TRUE(byid.has_value());
  EXPECT_FALSE(byid->has_value());
}

TEST_P(JobsTest, ADeadProcessesJobIsTakenOverWhenItsLeaseRunsOut) {
  OPEN();
  Job j = New("cli:a");
  const int64_t t0 = core::NowMs();
  ASSERT_TRUE(store_->ClaimById(j.id, "dead", t0, 1000)->has_value());
  // The checkpoint of the first process is kept.
  auto saved = db_->Write([&](soci::session& sql) {
    store_->Checkpoint(sql, j.id, "dead", 500, 10, 100, {{"read", 499}}, t0 + 1000);
  });
  ASSERT_TRUE(saved.has_value()) << saved.error().message();
  // Before the lease runs out nobody else gets it; after, the next process does.
  EXPECT_FALSE(store_->ClaimById(j.id, "next", t0 + 500, kLeaseMs)->has_value());
  auto taken = store_->ClaimById(j.id, "next", t0 + 5000, kLeaseMs);
  ASSERT_TRUE(taken.has_value() && taken->has_value());
  EXPECT_EQ((*taken)->cursor, 500);
  EXPECT_EQ((*taken)->result["read"], 499);
  EXPECT_EQ((*taken)->attempts, 2);
  // The dead process's late checkpoint is refused and rolls its transaction back.
  bool wrote_first = false;
  auto late = db_->Write([&](soci::session& sql) {
    sql << "UPDATE jobs SET error = 'side effect' WHERE id = " + std::to_string(j.id);
    wrote_first = true;
    store_->Checkpoint(sql, j.id, "dead", 900, 0, 0, {}, t0 + 9000);
  });
  ASSERT_FALSE(late.has_value());
  EXPECT_TRUE(wrote_first);
  EXPECT_EQ(late.error().code(), core::Code::kConflict);
  auto now = store_->Get(j.id);
  EXPECT_EQ((*now)->cursor, 500);
  EXPECT_EQ((*now)->error, "");
  EXPECT_FALSE(*store_->Renew(j.id, "dead", t0 + 20000));
  EXPECT_TRUE(*store_->Renew(j.id, "next", t0 + 20000));
}

TEST_P(JobsTest, RunJobFinishesFailsOrGivesBack) {
  OPEN();
  std::atomic<bool> stop{false};
  Job ok = New("cli:a");
  ASSERT_TRUE(store_->ClaimById(ok.id, "o", core::NowMs(), kLeaseMs)->has_value());
  auto done = RunJob(
      *store_, ok, "o",
      [](JobContext&) -> core::Result<nlohmann::json> {
        return nlohmann::json{{"created", 2}};
      },
      stop);
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->state, State::kDone);
  EXPECT_EQ(done->result["created"], 2);
  EXPECT_TRUE(done->finished_at.has_value());

  Job bad = New("cli:a");
  ASSERT_TRUE(store_->ClaimById(bad.id, "o", core::NowMs(), kLeaseMs)->has_value());
  auto failed = RunJob(
      *store_, bad, "o",
      [](JobContext&) -> core::Result<nlohmann::json> {
        return std::unexpected(core::Error::Invalid("the file is gone"));
      },
      stop);
  EXPECT_EQ(failed->state, State::kFailed);
  EXPECT_EQ(failed->error, "the file is gone");

  Job stopped = New("cli:a");
  ASSERT_TRUE(store_->ClaimById(stopped.id, "o", core::NowMs(), kLeaseMs)->has_value());
  stop = true;
  auto back = RunJob(
      *store_, stopped, "o",
      [](JobContext& ctx) -> core::Result<nlohmann::json> {
        EXPECT_TRUE(ctx.ShouldStop());
        return std::unexpected(core::Error(core::Code::kUnavailable, "stopped"));
      },
      stop);
  EXPECT_EQ(back->state, State::kQueued);
  EXPECT_EQ(back->lease_owner, "");
  // Queued again: the next start takes it at once.
  EXPECT_TRUE(store_->Claim("cli:a", "again", core::NowMs(), kLeaseMs)->has_value());
}

TEST_P(JobsTest, TheServerRunnerRunsQueuedJobs) {
  OPEN();
  Runner runner(*store_, "server:x");
  std::atomic<int> runs{0};
  runner.Register("test.kind", [&](JobContext& ctx) -> core::Result<nlohmann::json> {
    ++runs;
    return nlohmann::json{{"n", ctx.job().params["n"]}};
  });
  runner.Start();
  Job j = New("server:x");
  runner.Wake();
  for (int i = 0; i < 200 && (*store_->Get(j.id))->state != State::kDone; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  runner.Stop();
  EXPECT_EQ((*store_->Get(j.id))->state, State::kDone);
  EXPECT_EQ((*store_->Get(j.id))->result["n"], 3);
  EXPECT_EQ(runs.load(), 1);
}

INSTANTIATE_TEST_SUITE_P(Engines, JobsTest, ::testing::Values(Engine::kSqlite, Engine::kPostgres),
                         testing::EngineName);

}  // namespace
}  // namespace kehu::jobs
