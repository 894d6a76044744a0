#include "jobs/runner.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "core/time.h"
#include "crypto/crypto.h"

namespace kehu::jobs {

void JobContext::Checkpoint(soci::session& sql, int64_t cursor, int64_t done, int64_t total,
                            const nlohmann::json& result) {
  store_.Checkpoint(sql, job_.id, owner_, cursor, done, total, result, core::NowMs() + kLeaseMs);
}

std::string NewOwnerId() { return crypto::RandomToken(12); }

core::Result<std::string> NodeId(const std::string& data_dir) {
  std::filesystem::path p = std::filesystem::path(data_dir) / "node-id";
  std::error_code ec;
  if (std::filesystem::exists(p, ec)) {
    std::ifstream in(p);
    std::string id;
    std::getline(in, id);
    if (!id.empty()) return id;
  }
  std::string id = crypto::RandomToken(9);
  std::filesystem::path tmp = p;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << id << "\n";
    if (!out) return std::unexpected(core::Error::Internal("cannot write " + tmp.string()));
  }
  // Another process may have made one meanwhile: keep the first.
  if (std::filesystem::exists(p, ec)) {
    std::filesystem::remove(tmp, ec);
    return NodeId(data_dir);
  }
  std::filesystem::rename(tmp, p, ec);
  if (ec) return std::unexpected(core::Error::Internal("cannot write " + p.string()));
  return id;
}

core::Result<Job> RunJob(JobStore& store, const Job& job, const std::string& owner,
                         const Handler& handler, const std::atomic<bool>& stop) {
  JobContext ctx(store, job, owner, stop);
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  std::thread renewer([&] {
    std::unique_lock lock(mu);
    while (!cv.wait_for(lock, std::chrono::milliseconds(kRenewMs), [&] { return finished; })) {
      lock.unlock();
      auto ok = store.Renew(job.id, owner, core::NowMs() + kLeaseMs);
      if (ok && !*ok) {
        spdlog::warn("job {}: another process took it over; stopping", job.id);
        ctx.MarkLost();
      }
      lock.lock();
    }
  });
  core::Result<nlohmann::json> result = std::unexpected(core::Error::Internal("not run"));
  try {
    result = handler(ctx);
  } catch (const std::exception& e) {
    result = std::unexpected(core::Error::Internal(std::string("job handler failed: ") + e.what()));
  }
  {
    std::lock_guard lock(mu);
    finished = true;
  }
  cv.notify_all();
  renewer.join();
  if (result) {
    auto done = store.Finish(job.id, owner, State::kDone, *result, "");
    if (!done) return std::unexpected(done.error());
  } else if (ctx.ShouldStop() && result.error().code() == core::Code::kUnavailable) {
    auto released = store.Release(job.id, owner);
    if (!released) return std::unexpected(released.error());
  } else {
    spdlog::error("job {} ({}) failed: {}", job.id, job.kind, result.error().message());
    auto latest = store.Get(job.id);
    nlohmann::json keep = latest && *latest ? (*latest)->result : job.result;
    auto done = store.Finish(job.id, owner, State::kFailed, keep, result.error().message());
    if (!done) return std::unexpected(done.error());
  }
  auto after = store.Get(job.id);
  if (!after) return std::unexpected(after.error());
  if (!*after) return std::unexpected(core::Error::NotFound("job vanished"));
  return **after;
}

Runner::Runner(JobStore& store, std::string runner)
    : store_(store), runner_(std::move(runner)), owner_(NewOwnerId()) {}

Runner::~Runner() { Stop(); }

void Runner::Register(const std::string& kind, Handler handler) {
  handlers_[kind] = std::move(handler);
}

void Runner::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void Runner::Stop() {
  stop_.store(true);
  Wake();
  if (thread_.joinable()) thread_.join();
}

void Runner::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void Runner::Loop() {
  constexpr int kPollMs = 1000;
  while (!stop_.load()) {
    auto claimed = store_.Claim(runner_, owner_, core::NowMs(), kLeaseMs);
    if (claimed && *claimed) {
      const Job& job = **claimed;
      auto h = handlers_.find(job.kind);
      if (h == handlers_.end()) {
        (void)store_.Finish(job.id, owner_, State::kFailed, job.result,
                            "no handler for jobs of kind " + job.kind);
        continue;
      }
      spdlog::info("job {} ({}) {} at {}", job.id, job.kind,
                   job.attempts > 1 ? "resumes" : "starts", job.cursor);
      auto ran = RunJob(store_, job, owner_, h->second, stop_);
      if (!ran) {
        spdlog::error("job {}: {}", job.id, ran.error().message());
      } else {
        spdlog::info("job {} ({}) is {}", job.id, job.kind, StateName(ran->state));
      }
      continue;
    }
    if (!claimed) spdlog::warn("jobs: cannot look for work: {}", claimed.error().message());
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(kPollMs), [&] { return woken_ || stop_.load(); });
    woken_ = false;
  }
}

}  // namespace kehu::jobs
