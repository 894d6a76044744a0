#include "audit/cli.h"

#include <cstdio>
#include <fstream>

#include "core/actor.h"
#include "core/time.h"

namespace kehu::audit {
namespace {

int Fail(const core::Error& e) {
  std::fprintf(stderr, "kehu: %s\n", e.message().c_str());
  return 1;
}

// One tab-separated field: backslash, tab, CR and LF escaped so a line stays one entry.
std::string Field(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
  return out;
}

int Verify(AuditLog& log, const core::Actor& admin) {
  auto report = log.Verify(admin);
  if (!report) return Fail(report.error());
  if (report->ok) {
    std::printf("audit chain ok: %lld entries, head %s\n", static_cast<long long>(report->checked),
                report->head_hash.c_str());
    return 0;
  }
  if (report->first_broken_id) {
    std::fprintf(stderr, "audit chain BROKEN at entry %lld: %s\n",
                 static_cast<long long>(*report->first_broken_id), report->reason.c_str());
  } else {
    std::fprintf(stderr, "audit chain BROKEN at the head: %s\n", report->reason.c_str());
  }
  return 1;
}

int List(const Commands& c, AuditLog& log, const core::Actor& admin) {
  ListQuery q;
  q.limit = c.limit;
  q.action = c.action;
  if (c.list->count("--actor-id") > 0) q.actor_id = c.actor_id;
  auto page = log.List(admin, q);
  if (!page) return Fail(page.error());
  for (const Entry& e : page->items) {
    std::printf("%lld\t%s\t%lld\t%s\t%s\t%s\t%s\t%s\t%s\n", static_cast<long long>(e.id),
                core::FormatTime(e.at).c_str(), static_cast<long long>(e.actor_id),
                Field(e.actor_name).c_str(), Field(e.action).c_str(), Field(e.entity).c_str(),
                Field(e.entity_id).c_str(), Field(e.ip).c_str(), Field(e.details_text).c_str());
  }
  return 0;
}

int Export(const Commands& c, AuditLog& log, const core::Actor& admin) {
  const ExportFormat format = c.format == "json" ? ExportFormat::kJson : ExportFormat::kCsv;
  std::ofstream file;
  if (!c.output.empty()) {
    file.open(c.output, std::ios::binary | std::ios::trunc);
    if (!file) return Fail(core::Error::BadRequest("cannot write " + c.output));
  }
  auto done = log.Export(admin, Filter{}, format, [&](std::string_view piece) {
    if (file.is_open()) {
      file.write(piece.data(), static_cast<std::streamsize>(piece.size()));
    } else {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
    }
  });
  if (!done) return Fail(done.error());
  if (file.is_open()) {
    file.close();
    if (!file) return Fail(core::Error::BadRequest("cannot write " + c.output));
  } else if (std::fflush(stdout) != 0) {
    return Fail(core::Error::BadRequest("cannot write the export to stdout"));
  }
  return 0;
}

}  // namespace

std::unique_ptr<Commands> AddCommands(CLI::App& cli) {
  auto c = std::make_unique<Commands>();
  auto* audit = cli.add_subcommand("audit", "verify, list and export the audit trail");
  audit->require_subcommand(1);
  c->verify = audit->add_subcommand(
      "verify", "check the hash chain; prints the head hash to write down (exit 1 if broken)");
  c->list = audit->add_subcommand("list", "print entries, newest first, tab-separated");
  c->list->add_option("--limit", c->limit, "how many [50]")->check(CLI::Range(1, kMaxLimit));
  c->list->add_option("--action", c->action, "an action, or a prefix ending in '.' (customer.)");
  c->list->add_option("--actor-id", c->actor_id, "entries by this user id (0: local admin)")
      ->check(CLI::NonNegativeNumber);
  c->export_ = audit->add_subcommand("export", "write all entries, oldest first, as CSV or JSON");
  c->export_->add_option("--format", c->format, "csv or json")
      ->required()
      ->check(CLI::IsMember({"csv", "json"}));
  c->export_->add_option("--output", c->output, "file to write [stdout]");
  for (CLI::App* sub : {audit, c->verify, c->list, c->export_}) sub->fallthrough();
  return c;
}

std::optional<int> RunCommands(const Commands& c, AuditLog& log) {
  const core::Actor admin = core::Actor::LocalAdmin();
  if (c.verify->parsed()) return Verify(log, admin);
  if (c.list->parsed()) return List(c, log, admin);
  if (c.export_->parsed()) return Export(c, log, admin);
  return std::nullopt;
}

}  // namespace kehu::audit
