// Persisted background jobs: long work (imports, later exports and scans) that survives a
// restart and resumes where it stopped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kehu::jobs {

enum class State { kQueued, kRunning, kDone, kFailed, kCancelled };
std::string_view StateName(State s);
std::optional<State> ParseState(std::string_view s);

struct Job {
  int64_t id = 0;
  std::string kind;  // "import.customers", …: chooses the handler
  // Who may run it: "server:<node>" (a `kehu serve` on that data directory) or "cli:<node>"
  // (the command line; resumed with `kehu import resume`).
  std::string runner;
  State state = State::kQueued;
  int64_t created_by = 0;  // user id; 0 = the CLI's local administrator
  int64_t created_at = 0, updated_at = 0;
  std::optional<int64_t> started_at, finished_at;
  // The handler's position: everything up to it is committed (an import: the last row number
  // stored). Written in the same transaction as the work it stands for.
  int64_t cursor = 0;
  int64_t progress_done = 0, progress_total = 0;     // for progress bars (an import: bytes)
  nlohmann::json params = nlohmann::json::object();  // the handler's input
  nlohmann::json result = nlohmann::json::object();  // running totals, then the outcome
  std::string error;                                 // kFailed: why
  std::string lease_owner;  // the process running it (a random id), "" when none
  int64_t lease_until = 0;  // epoch ms; a running job whose lease ran out is taken over
  int attempts = 0;         // times it was started (a resume counts)
};

}  // namespace kehu::jobs
