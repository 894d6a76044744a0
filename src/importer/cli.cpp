#include "importer/cli.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/actor.h"
#include "core/time.h"
#include "jobs/runner.h"

namespace kehu::importer {
namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

int Fail(const core::Error& e) {
  std::fprintf(stderr, "kehu: %s\n", e.message().c_str());
  for (const auto& d : e.details()) {
    if (d.field.empty() || e.message().starts_with(d.field + ": " + d.message)) continue;
    std::fprintf(stderr, "  %s: %s\n", d.field.c_str(), d.message.c_str());
  }
  return 1;
}

std::string Thousands(int64_t n) {
  std::string s = std::to_string(n < 0 ? -n : n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
    s.insert(static_cast<std::size_t>(i), ",");
  return n < 0 ? "-" + s : s;
}

void DrawProgress(const jobs::Job& j, int64_t rows_at_start, double seconds) {
  const Totals t = Totals::FromJson(j.result);
  const double frac =
      j.progress_total > 0 ? std::min(1.0, double(j.progress_done) / double(j.progress_total)) : 0;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(frac * kWidth);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar += std::string(static_cast<std::size_t>(kWidth - filled), '-');
  const double rate = seconds > 0 ? double(t.read - rows_at_start) / seconds : 0;
  std::fprintf(stderr, "\r%3d%% [%s] %s rows  %s rows/s   ", static_cast<int>(frac * 100),
               bar.c_str(), Thousands(t.read).c_str(),
               Thousands(static_cast<int64_t>(rate)).c_str());
  std::fflush(stderr);
}

int WriteReport(ImportService& imports, const core::Actor& admin, int64_t job_id,
                const std::string& path, bool english) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Fail(core::Error::BadRequest("cannot write " + path));
  auto done = imports.Report(admin, job_id, english, [&](std::string_view piece) {
    out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
  });
  if (!done) return Fail(done.error());
  out.close();
  if (!out) return Fail(core::Error::BadRequest("cannot write " + path));
  return 0;
}

// Claims and runs a CLI job in the foreground; prints progress and the summary.
int RunInForeground(const Commands& c, ImportService& imports, jobs::JobStore& jobs,
                    const jobs::Job& job) {
  const core::Actor admin = core::Actor::LocalAdmin();
  const std::string owner = jobs::NewOwnerId();
  auto claimed = jobs.ClaimById(job.id, owner, core::NowMs(), jobs::kLeaseMs);
  if (!claimed) return Fail(claimed.error());
  if (!*claimed) {
    // A run killed a moment ago still holds its lease: wait for it to run out.
    auto held = jobs.Get(job.id);
    if (held && *held && (*held)->state == jobs::State::kRunning) {
      const int64_t wait = (*held)->lease_until - core::NowMs() + 200;
      if (wait > 0 && wait <= jobs::kLeaseMs + 1000) {
        std::fprintf(stderr,
                     "import job %lld was running in another process; waiting %.0f s for it to "
                     "be free\n",
                     static_cast<long long>(job.id), wait / 1000.0);
        std::this_thread::sleep_for(std::chrono::milliseconds(wait));
        claimed = jobs.ClaimById(job.id, owner, core::NowMs(), jobs::kLeaseMs);
        if (!claimed) return Fail(claimed.error());
      }
    }
  }
  if (!*claimed) {
    return Fail(core::Error::Conflict(
        "import job " + std::to_string(job.id) +
        " is being run by another process (or is finished); try again in a few seconds"));
  }
  const jobs::Job start = **claimed;
  if (start.cursor > 0) {
    std::fprintf(stderr, "continuing import job %lld after row %lld\n",
                 static_cast<long long>(start.id), static_cast<long long>(start.cursor));
  }
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  jobs::Handler handler = [&imports](jobs::JobContext& ctx) { return imports.Run(ctx); };
  core::Result<jobs::Job> ended = std::unexpected(core::Error::Internal("not run"));
  std::atomic<bool> finished{false};
  std::thread worker([&] {
    ended = jobs::RunJob(jobs, start, owner, handler, g_stop);
    finished.store(true);
  });
  const bool tty = isatty(fileno(stderr));
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t rows_at_start = Totals::FromJson(start.result).read;
  while (!finished.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (!tty || finished.load()) continue;
    auto now = jobs.Get(start.id);
    if (now && *now) {
      DrawProgress(**now, rows_at_start,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
  }
  worker.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!ended) return Fail(ended.error());
  const jobs::Job& j = *ended;
  const Totals t = Totals::FromJson(j.result);
  if (tty) {
    DrawProgress(j, rows_at_start, seconds);
    std::fprintf(stderr, "\n");
  }
  for (const std::string& w : t.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  if (j.state == jobs::State::kQueued) {
    std::printf(
        "stopped after row %lld (%s rows read); run the same command again, or kehu "
        "import resume %lld, to continue\n",
        static_cast<long long>(j.cursor), Thousands(t.read).c_str(), static_cast<long long>(j.id));
    return 130;
  }
  if (j.state == jobs::State::kFailed) {
    std::fprintf(stderr, "kehu: import job %lld failed after row %lld: %s\n",
                 static_cast<long long>(j.id), static_cast<long long>(j.cursor), j.error.c_str());
    return 1;
  }
  const bool dry = j.params.value("options", nlohmann::json::object()).value("dry_run", false);
  const double rate = seconds > 0 ? double(t.read - rows_at_start) / seconds : 0;
  std::printf(
      "%sread %s rows: %s %s, %s merged, %s skipped (duplicates), %s not imported; "
      "%s rows with problems (%s report lines)\n",
      dry ? "dry run (nothing saved): " : "", Thousands(t.read).c_str(),
      Thousands(t.created).c_str(), dry ? "would be created" : "created",
      Thousands(t.merged).c_str(), Thousands(t.skipped).c_str(), Thousands(t.rejected).c_str(),
      Thousands(t.flagged + t.rejected).c_str(), Thousands(t.problems).c_str());
  std::printf("import job %lld, %.1f s, %s rows/s\n", static_cast<long long>(j.id), seconds,
              Thousands(static_cast<int64_t>(rate)).c_str());
  if (!c.report.empty()) {
    if (int rc = WriteReport(imports, admin, j.id, c.report, c.english); rc != 0) return rc;
    std::printf("problem report: %s\n", c.report.c_str());
  } else if (t.problems > 0) {
    std::printf(
        "see the problems with --report FILE (kehu import resume %lld --report FILE "
        "writes it for this run)\n",
        static_cast<long long>(j.id));
  }
  return 0;
}

int Customers(const Commands& c, ImportService& imports, jobs::JobStore& jobs,
              user::UserService& users) {
  const core::Actor admin = core::Actor::LocalAdmin();
  RunOptions o;
  o.encoding = c.encoding;
  o.sheet = c.sheet;
  o.dry_run = c.dry_run;
  auto dup = ParseOnDuplicate(c.on_duplicate);
  if (!dup) return Fail(core::Error::BadRequest("--on-duplicate is skip, merge or create"));
  o.on_duplicate = *dup;
  nlohmann::json mapping = nlohmann::json::object();
  if (!c.template_name.empty()) {
    auto all = imports.Templates(admin);
    if (!all) return Fail(all.error());
    bool found = false;
    for (const Template& t : *all) {
      if (t.name == c.template_name) {
        mapping = t.mapping;
        found = true;
      }
    }
    if (!found) return Fail(core::Error::NotFound("no mapping template " + c.template_name));
  }
  if (!c.mapping_file.empty()) {
    std::ifstream in(c.mapping_file);
    if (!in) return Fail(core::Error::BadRequest("cannot read " + c.mapping_file));
    std::stringstream ss;
    ss << in.rdbuf();
    auto j = nlohmann::json::parse(ss.str(), nullptr, false);
    if (!j.is_object()) {
      return Fail(core::Error::BadRequest(c.mapping_file +
                                          " must hold a JSON object {\"column\": \"field\"}"));
    }
    for (const auto& [k, v] : j.items()) mapping[k] = v;
  }
  if (!mapping.empty()) o.mapping = mapping;
  if (!c.owner.empty()) {
    auto all = users.List(admin);
    if (!all) return Fail(all.error());
    for (const auto& u : *all) {
      if (u.username == c.owner && u.active) o.default_owner = u.id;
    }
    if (!o.default_owner) return Fail(core::Error::NotFound("no active user " + c.owner));
  }
  auto file = imports.Register(admin, c.file);
  if (!file) return Fail(file.error());
  auto open = imports.Unfinished(admin, file->id, o);
  if (!open) return Fail(open.error());
  jobs::Job job;
  if (*open) {
    job = **open;
  } else {
    auto started = imports.Start(admin, file->id, o, "cli:" + imports.node());
    if (!started) return Fail(started.error());
    job = *started;
  }
  return RunInForeground(c, imports, jobs, job);
}

int Resume(const Commands& c, ImportService& imports, jobs::JobStore& jobs) {
  const core::Actor admin = core::Actor::LocalAdmin();
  auto job = imports.Job(admin, c.job_id);
  if (!job) return Fail(job.error());
  if (job->state == jobs::State::kDone || job->state == jobs::State::kFailed) {
    if (!c.report.empty()) {
      if (int rc = WriteReport(imports, admin, job->id, c.report, c.english); rc != 0) return rc;
      std::printf("problem report: %s\n", c.report.c_str());
    }
    if (job->state == jobs::State::kFailed) {
      return Fail(core::Error::Conflict("import job " + std::to_string(job->id) + " failed: " +
                                        job->error + "; run the import again to start over"));
    }
    std::printf("import job %lld is finished\n", static_cast<long long>(job->id));
    return 0;
  }
  if (!job->runner.starts_with("cli:")) {
    return Fail(core::Error::Conflict("import job " + std::to_string(job->id) +
                                      " belongs to the server, which resumes it by itself"));
  }
  return RunInForeground(c, imports, jobs, *job);
}

}  // namespace

std::unique_ptr<Commands> AddCommands(CLI::App& cli) {
  auto c = std::make_unique<Commands>();
  auto* imp = cli.add_subcommand("import", "import customers from CSV or XLSX files");
  imp->require_subcommand(1);
  c->customers = imp->add_subcommand(
      "customers",
      "import customers from a CSV (UTF-8, UTF-8 with BOM, GBK/GB18030: detected) or XLSX file");
  c->customers->add_option("FILE", c->file, "the file")->required()->check(CLI::ExistingFile);
  c->customers->add_option("--mapping", c->mapping_file,
                           "JSON file {\"column\": \"field\"} overriding the guessed mapping "
                           "(fields: code, name, phones[:label], emails[:label], company, title, "
                           "gender, province, city, district, address, source, stage, tags, "
                           "notes, id_number, credit_code, owner, custom.<name>, extra, ignore)");
  c->customers->add_option("--template", c->template_name, "a saved mapping template");
  c->customers->add_option("--encoding", c->encoding,
                           "CSV encoding (UTF-8, GB18030, GBK, Big5, …) [detected]");
  c->customers->add_option("--sheet", c->sheet, "XLSX sheet: number from 1 or name [1]");
  c->customers->add_flag("--dry-run", c->dry_run, "check everything, save nothing");
  c->customers
      ->add_option("--on-duplicate", c->on_duplicate,
                   "a row matching a customer (code, phone, email, same row): skip, merge "
                   "(fill empty fields, add phones/emails) or create [skip]")
      ->check(CLI::IsMember({"skip", "merge", "create"}));
  c->customers->add_option("--report", c->report,
                           "write the problem report (CSV: row, column, value, reason) here");
  c->customers->add_option("--owner", c->owner,
                           "login name of the user who owns rows without an owner column");
  c->customers->add_flag("--english", c->english, "problem report in English");
  c->resume = imp->add_subcommand(
      "resume", "continue an import the command line started (after a crash or Ctrl-C)");
  c->resume->add_option("JOB", c->job_id, "the import job number")->required();
  c->resume->add_option("--report", c->report, "write the problem report here");
  c->resume->add_flag("--english", c->english, "problem report in English");
  for (CLI::App* sub : {imp, c->customers, c->resume}) sub->fallthrough();
  return c;
}

std::optional<int> RunCommands(const Commands& c, ImportService& imports, jobs::JobStore& jobs,
                               user::UserService& users) {
  if (c.customers->parsed()) return Customers(c, imports, jobs, users);
  if (c.resume->parsed()) return Resume(c, imports, jobs);
  return std::nullopt;
}

}  // namespace kehu::importer
