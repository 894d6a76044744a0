// Running persisted jobs: a worker thread in `kehu serve` takes the jobs queued for this data
// directory (and those a killed process left running once their lease runs out) and runs each
// with the handler registered for its kind; the CLI runs its own jobs in the foreground with
// RunJob. Handlers commit their work in batches, each with its position (JobContext::Checkpoint)
// in the same transaction, so a job killed at any moment resumes after its last commit.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "core/error.h"
#include "jobs/model.h"
#include "jobs/store.h"

namespace kehu::jobs {

// A process holds a job for this long without renewing it (it renews every kRenewMs); a job
// whose holder died is taken over after at most this.
inline constexpr int64_t kLeaseMs = 10000;
inline constexpr int64_t kRenewMs = 2000;

class JobContext {
 public:
  JobContext(JobStore& store, Job job, std::string owner, const std::atomic<bool>& stop)
      : store_(store), job_(std::move(job)), owner_(std::move(owner)), stop_(stop) {}

  // The job as claimed: params, cursor and result as of the last checkpoint.
  const Job& job() const { return job_; }
  // True when the process is stopping or another process took the job over: the handler
  // should return (kUnavailable) at its next batch boundary.
  bool ShouldStop() const { return stop_.load() || lost_.load(); }
  void MarkLost() { lost_.store(true); }
  // Saves the position inside the caller's transaction (see JobStore::Checkpoint).
  void Checkpoint(soci::session& sql, int64_t cursor, int64_t done, int64_t total,
                  const nlohmann::json& result);

 private:
  JobStore& store_;
  Job job_;
  const std::string owner_;
  const std::atomic<bool>& stop_;
  std::atomic<bool> lost_{false};
};

// Runs the job and returns its final result (the job is then done); an error fails it, except
// kUnavailable when ShouldStop(): the job is given back and resumes later.
using Handler = std::function<core::Result<nlohmann::json>(JobContext&)>;

// Runs a job already claimed by `owner` in this thread, renewing its lease meanwhile, and
// records how it ended. Returns the job as stored afterwards.
core::Result<Job> RunJob(JobStore& store, const Job& job, const std::string& owner,
                         const Handler& handler, const std::atomic<bool>& stop);

// A random id for this process's leases.
std::string NewOwnerId();
// The id of this data directory (DATA/node-id, made on first use), which names its runners.
core::Result<std::string> NodeId(const std::string& data_dir);

class Runner {
 public:
  // Runs the jobs of `runner` (e.g. "server:<node>").
  Runner(JobStore& store, std::string runner);
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  void Register(const std::string& kind, Handler handler);
  // Starts the worker thread.
  void Start();
  // Stops: the running job is asked to stop at its next batch and given back; joins.
  void Stop();
  // A job was queued: look now rather than at the next poll.
  void Wake();

 private:
  void Loop();

  JobStore& store_;
  const std::string runner_;
  const std::string owner_;
  std::map<std::string, Handler> handlers_;  // constant after Start
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace kehu::jobs
