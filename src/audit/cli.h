// `kehu audit verify | list | export`: declared on the command line before parsing, run after
// the App is open.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "audit/service.h"

namespace kehu::audit {

// The audit subcommands and the values CLI11 parses into (keep it alive until they ran).
struct Commands {
  CLI::App* verify = nullptr;
  CLI::App* list = nullptr;
  CLI::App* export_ = nullptr;
  int limit = kDefaultLimit;
  std::string action;
  int64_t actor_id = 0;  // only when --actor-id was given
  std::string format;
  std::string output;
};

// Adds `audit` and its subcommands to `cli`.
std::unique_ptr<Commands> AddCommands(CLI::App& cli);

// Runs the audit subcommand that was parsed, as the local administrator: its exit code, or
// nullopt when no audit subcommand was given. Prints results on stdout, problems on stderr.
std::optional<int> RunCommands(const Commands& c, AuditLog& log);

}  // namespace kehu::audit
