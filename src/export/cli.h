// `kehu export customers`: declared on the command line before parsing, run after the App is
// open, as the local administrator (every customer, no reveal quota; audited as any export).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "export/service.h"

namespace kehu::exports {

// The export subcommands and the values CLI11 parses into (keep it alive until they ran).
struct Commands {
  CLI::App* customers = nullptr;
  std::string format = "csv";
  std::string encoding = "utf8";
  std::string lang = "zh";
  bool reveal = false;
  std::vector<std::string> filters;  // key=value, the query parameters of GET /customers
  std::string output;
};

// Adds `export` and its subcommands to `cli`.
std::unique_ptr<Commands> AddCommands(CLI::App& cli);

// Runs the export subcommand that was parsed: its exit code, or nullopt when no export
// subcommand was given. The file goes to --output (written as FILE.part and renamed when
// complete) or stdout; a summary goes to stderr.
std::optional<int> RunCommands(const Commands& c, ExportService& service);

}  // namespace kehu::exports
