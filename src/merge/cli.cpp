#include "merge/cli.h"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "core/actor.h"
#include "merge/routes.h"

namespace kehu::merge {
namespace {

int Fail(const core::Error& e) {
  std::fprintf(stderr, "kehu: %s\n", e.message().c_str());
  return 1;
}

int Print(const nlohmann::json& j) {
  const std::string out = j.dump(2) + "\n";
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0) {
    return Fail(core::Error::BadRequest("cannot write the result to stdout"));
  }
  return 0;
}

// Merges with the default choices at the customers' current versions.
int Merge(const Commands& c, MergeService& svc) {
  const core::Actor admin = core::Actor::LocalAdmin();
  std::vector<int64_t> ids{c.survivor};
  ids.insert(ids.end(), c.losers.begin(), c.losers.end());
  auto s = svc.Suggest(admin, ids);
  if (!s) return Fail(s.error());
  MergeRequest req;
  req.survivor_id = c.survivor;
  req.loser_ids = c.losers;
  for (const customer::Customer& m : s->members) req.versions[m.id] = m.version;
  auto rec = svc.Merge(admin, req);
  if (!rec) return Fail(rec.error());
  std::fprintf(stderr,
               "merged %zu customer(s) into %lld (merge %lld; undo: kehu dedup undo %lld)\n",
               rec->loser_ids.size(), static_cast<long long>(rec->survivor_id),
               static_cast<long long>(rec->id), static_cast<long long>(rec->id));
  return Print(ToJson(*rec));
}

}  // namespace

std::unique_ptr<Commands> AddCommands(CLI::App& cli) {
  auto c = std::make_unique<Commands>();
  CLI::App* dedup = cli.get_subcommand("dedup");
  c->merge = dedup->add_subcommand(
      "merge",
      "merge LOSER customers into SURVIVOR (default choices: the survivor's values, "
      "empty ones filled; every phone, email and tag kept)");
  c->merge->add_option("SURVIVOR", c->survivor, "the customer id that stays")->required();
  c->merge->add_option("LOSER", c->losers, "customer ids merged into it")->required();
  c->undo = dedup->add_subcommand("undo", "undo a merge: both sides back exactly as they were");
  c->undo->add_option("MERGE_ID", c->merge_id, "the merge's id")->required();
  c->exact_phone = dedup->add_subcommand(
      "merge-exact-phone",
      "merge every duplicate group whose members share a mobile number exactly");
  c->exact_phone->add_flag("--dry-run", c->dry_run, "only count what would be merged");
  for (CLI::App* sub : {c->merge, c->undo, c->exact_phone}) sub->fallthrough();
  return c;
}

std::optional<int> RunCommands(const Commands& c, MergeService& svc) {
  if (c.merge->parsed()) return Merge(c, svc);
  if (c.undo->parsed()) {
    auto rec = svc.Undo(core::Actor::LocalAdmin(), c.merge_id);
    if (!rec) return Fail(rec.error());
    return Print(ToJson(*rec));
  }
  if (c.exact_phone->parsed()) {
    auto b = svc.BulkMergeExactPhone(core::Actor::LocalAdmin(), c.dry_run);
    if (!b) return Fail(b.error());
    std::fprintf(stderr, "%s%lld group(s), %lld customer(s) merged away\n",
                 c.dry_run ? "dry run: " : "", static_cast<long long>(b->groups),
                 static_cast<long long>(b->merged_customers));
    return Print(ToJson(*b));
  }
  return std::nullopt;
}

}  // namespace kehu::merge
