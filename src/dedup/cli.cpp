#include "dedup/cli.h"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "core/actor.h"
#include "dedup/routes.h"

namespace kehu::dedup {
namespace {

int Fail(const core::Error& e) {
  std::fprintf(stderr, "kehu: %s\n", e.message().c_str());
  return 1;
}

// Groups as lists of customer codes (the id, a number, where a customer has no code): what
// scripts read. With --details: the API's answer, every group included.
int Scan(const Commands& c, DedupService& svc) {
  ScanOptions opts;
  opts.min_score = c.min_score;
  opts.limit = 0;
  opts.members = c.details;
  auto result = svc.Scan(core::Actor::LocalAdmin(), opts);
  if (!result) return Fail(result.error());
  std::string out;
  if (c.details) {
    out = ToJson(*result, c.min_score).dump(2);
  } else {
    nlohmann::json groups = nlohmann::json::array();
    for (const DuplicateGroup& g : result->groups) {
      nlohmann::json members = nlohmann::json::array();
      for (const Member& m : g.members) {
        members.push_back(m.code.empty() ? nlohmann::json(m.id) : nlohmann::json(m.code));
      }
      groups.push_back(std::move(members));
    }
    out = groups.dump();
  }
  out += "\n";
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0) {
    return Fail(core::Error::BadRequest("cannot write the result to stdout"));
  }
  std::fprintf(stderr, "%zu group(s) among %zu customer(s), %lld ms\n", result->total_groups,
               result->scanned, static_cast<long long>(result->took_ms));
  return 0;
}

}  // namespace

std::unique_ptr<Commands> AddCommands(CLI::App& cli) {
  auto c = std::make_unique<Commands>();
  auto* dedup = cli.add_subcommand("dedup", "find likely duplicate customers");
  dedup->require_subcommand(1);
  c->scan = dedup->add_subcommand(
      "scan",
      "print groups of likely duplicates as a JSON list of lists of customer codes "
      "(ids where a customer has no code)");
  c->scan->add_option("--format", c->format, "output format [json]")
      ->check(CLI::IsMember({"json"}));
  c->scan->add_flag("--details", c->details,
                    "print each group's score, reasons and members (masked) instead");
  c->scan->add_option("--min-score", c->min_score, "link threshold, 0.5 to 1 [0.75]")
      ->check(CLI::Range(0.5, 1.0));
  for (CLI::App* sub : {dedup, c->scan}) sub->fallthrough();
  return c;
}

std::optional<int> RunCommands(const Commands& c, DedupService& svc) {
  if (c.scan->parsed()) return Scan(c, svc);
  return std::nullopt;
}

}  // namespace kehu::dedup
