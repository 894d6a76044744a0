// `kehu import customers FILE …` and `kehu import resume JOB`: declared on the command line
// before parsing, run after the App is open.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "importer/service.h"
#include "jobs/store.h"
#include "user/service.h"

namespace kehu::importer {

struct Commands {
  CLI::App* customers = nullptr;
  CLI::App* resume = nullptr;
  std::string file;
  std::string mapping_file;
  std::string template_name;
  std::string encoding;
  std::string sheet;
  std::string on_duplicate = "skip";
  std::string report;
  std::string owner;
  bool dry_run = false;
  bool english = false;
  int64_t job_id = 0;
};

// Adds `import` and its subcommands to `cli`.
std::unique_ptr<Commands> AddCommands(CLI::App& cli);

// Runs the import subcommand that was parsed, as the local administrator: its exit code, or
// nullopt when no import subcommand was given. A progress bar on stderr when it is a terminal;
// the summary on stdout. Ctrl-C stops after the current batch (run it again to continue).
std::optional<int> RunCommands(const Commands& c, ImportService& imports, jobs::JobStore& jobs,
                               user::UserService& users);

}  // namespace kehu::importer
