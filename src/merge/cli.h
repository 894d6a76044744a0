// `kehu dedup merge SURVIVOR LOSER...`, `kehu dedup undo MERGE_ID` and
// `kehu dedup merge-exact-phone [--dry-run]`: declared before parsing (under the `dedup`
// command that dedup::AddCommands adds), run after the App is open.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <CLI/CLI.hpp>

#include "merge/service.h"

namespace kehu::merge {

// The merge subcommands and the values CLI11 parses into (keep it alive until they ran).
struct Commands {
  CLI::App* merge = nullptr;
  CLI::App* undo = nullptr;
  CLI::App* exact_phone = nullptr;
  int64_t survivor = 0;
  std::vector<int64_t> losers;
  int64_t merge_id = 0;
  bool dry_run = false;
};

// Adds the subcommands to `dedup` (the command dedup::AddCommands added to the CLI).
std::unique_ptr<Commands> AddCommands(CLI::App& cli);

// Runs the merge subcommand that was parsed, as the local administrator: its exit code, or
// nullopt when none was given. Prints the result as JSON on stdout, problems on stderr.
std::optional<int> RunCommands(const Commands& c, MergeService& svc);

}  // namespace kehu::merge
