// `kehu dedup scan`: declared on the command line before parsing, run after the App is open.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "dedup/service.h"

namespace kehu::dedup {

// The dedup subcommands and the values CLI11 parses into (keep it alive until they ran).
struct Commands {
  CLI::App* scan = nullptr;
  std::string format = "json";
  bool details = false;
  double min_score = 0.75;
};

// Adds `dedup` and its subcommands to `cli`.
std::unique_ptr<Commands> AddCommands(CLI::App& cli);

// Runs the dedup subcommand that was parsed, as the local administrator: its exit code, or
// nullopt when no dedup subcommand was given. Prints results on stdout, problems on stderr.
std::optional<int> RunCommands(const Commands& c, DedupService& svc);

}  // namespace kehu::dedup
