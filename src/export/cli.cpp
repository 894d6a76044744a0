#include "export/cli.h"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>

#include "core/actor.h"
#include "customer/routes.h"
#include "http/request.h"

namespace kehu::exports {
namespace {

int Fail(const core::Error& e) {
  std::fprintf(stderr, "kehu: %s\n", e.message().c_str());
  return 1;
}

core::Result<Options> ParseCommand(const Commands& c) {
  Options o;
  if (!ParseFormat(c.format, o.format)) {
    return std::unexpected(core::Error::BadRequest("--format is csv, xlsx or json"));
  }
  if (!ParseEncoding(c.encoding, o.encoding)) {
    return std::unexpected(core::Error::BadRequest("--encoding is utf8 or gbk"));
  }
  if (!ParseLang(c.lang, o.lang)) {
    return std::unexpected(core::Error::BadRequest("--lang is zh or en"));
  }
  o.reveal = c.reveal;
  // The same filters and checks as GET /api/v1/customers/export.
  http::Request r;
  for (const std::string& f : c.filters) {
    const auto eq = f.find('=');
    if (eq == std::string::npos || eq == 0) {
      return std::unexpected(core::Error::BadRequest("--filter takes key=value, got " + f));
    }
    r.query[f.substr(0, eq)] = f.substr(eq + 1);
  }
  auto filter = customer::ParseListQuery(r, {}, /*paging=*/false);
  if (!filter) {
    return std::unexpected(core::Error::BadRequest("--filter: " + filter.error().message()));
  }
  o.filter = std::move(*filter);
  return o;
}

int ExportCustomers(const Commands& c, ExportService& svc) {
  auto o = ParseCommand(c);
  if (!o) return Fail(o.error());
  if (c.output.empty() && o->format == Format::kXlsx) {
    return Fail(core::Error::BadRequest("an XLSX export needs --output FILE"));
  }
  // A reader that goes away (`| head`) ends the export early instead of killing the process,
  // so the audit entry is still written.
  std::signal(SIGPIPE, SIG_IGN);
  const std::string part = c.output.empty() ? "" : c.output + ".part";
  FILE* out = stdout;
  if (!part.empty()) {
    out = std::fopen(part.c_str(), "wb");
    if (!out) return Fail(core::Error::BadRequest("cannot write " + part));
  }
  auto sum = svc.Run(core::Actor::LocalAdmin(), *o, [out](std::string_view piece) {
    return std::fwrite(piece.data(), 1, piece.size(), out) == piece.size();
  });
  bool written = std::fflush(out) == 0;
  if (out != stdout) written = std::fclose(out) == 0 && written;
  std::error_code ec;
  if (!sum || !written || !sum->complete) {
    if (!part.empty()) std::filesystem::remove(part, ec);
    if (!sum) return Fail(sum.error());
    return Fail(core::Error::BadRequest("the export could not be written completely (" +
                                        std::to_string(sum->rows) + " customers written)"));
  }
  if (!part.empty()) {
    std::filesystem::rename(part, c.output, ec);
    if (ec) return Fail(core::Error::BadRequest("cannot rename " + part + ": " + ec.message()));
  }
  std::fprintf(stderr, "exported %lld customer(s)%s%s%s\n", static_cast<long long>(sum->rows),
               sum->clear ? " with clear contact data" : " (contact data masked)",
               c.output.empty() ? "" : " to ", c.output.c_str());
  if (sum->replaced > 0) {
    std::fprintf(stderr,
                 "warning: %lld character(s) that GBK cannot represent were written as '?'; "
                 "use UTF-8 to keep them\n",
                 static_cast<long long>(sum->replaced));
  }
  return 0;
}

}  // namespace

std::unique_ptr<Commands> AddCommands(CLI::App& cli) {
  auto c = std::make_unique<Commands>();
  auto* exp = cli.add_subcommand("export", "export data to files");
  exp->require_subcommand(1);
  c->customers = exp->add_subcommand(
      "customers", "write customers (filtered like the list) as CSV, XLSX or JSON");
  c->customers->add_option("--format", c->format, "csv, xlsx or json [csv]")
      ->check(CLI::IsMember({"csv", "xlsx", "json"}));
  c->customers->add_option("--encoding", c->encoding, "CSV text encoding: utf8 or gbk [utf8]")
      ->check(CLI::IsMember({"utf8", "utf-8", "gbk"}));
  c->customers->add_option("--lang", c->lang, "column headers: zh or en [zh]")
      ->check(CLI::IsMember({"zh", "en"}));
  c->customers->add_flag("--reveal", c->reveal,
                         "clear phones, emails, ID numbers and addresses instead of masked ones");
  c->customers->add_option(
      "--filter", c->filters,
      "KEY=VALUE, repeatable: q, owner_id, source, province, city, stage, created_from, "
      "created_to, sort, order, deleted (as GET /api/v1/customers)");
  c->customers->add_option("--output", c->output, "file to write [stdout; XLSX needs a file]");
  for (CLI::App* sub : {exp, c->customers}) sub->fallthrough();
  return c;
}

std::optional<int> RunCommands(const Commands& c, ExportService& service) {
  if (c.customers->parsed()) return ExportCustomers(c, service);
  return std::nullopt;
}

}  // namespace kehu::exports
