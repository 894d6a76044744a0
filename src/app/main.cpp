// kehu: the server and its command line.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <termios.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <optional>

#include "app/app.h"
#include "audit/cli.h"
#include "dedup/cli.h"
#include "export/cli.h"
#include "importer/cli.h"
#include "merge/cli.h"
#include "user/model.h"

// jemalloc's options (MALLOC_CONF in the environment still applies on top): a background
// thread returns freed memory to the system after a while even when the server is idle, e.g.
// the pages of the larger page cache an import used (db::Database::Bulk), instead of keeping
// them until the next allocations.
extern "C" {
// NOLINTNEXTLINE: the name jemalloc looks for.
const char* malloc_conf = "background_thread:true";
}

namespace {

using kehu::app::App;
using kehu::app::Config;

int Fail(const kehu::core::Error& e) {
  std::fprintf(stderr, "kehu: %s\n", e.message().c_str());
  for (const auto& d : e.details()) {
    if (d.field.empty() || e.message().starts_with(d.field + ": " + d.message)) continue;
    std::fprintf(stderr, "  %s: %s\n", d.field.c_str(), d.message.c_str());
  }
  return 1;
}

// Reads a password: prompted twice without echo on a terminal, else the first line of stdin.
std::optional<std::string> ReadPassword() {
  std::string pw;
  if (!isatty(STDIN_FILENO)) {
    if (!std::getline(std::cin, pw)) return std::nullopt;
    if (!pw.empty() && pw.back() == '\r') pw.pop_back();
    return pw;
  }
  termios old{};
  tcgetattr(STDIN_FILENO, &old);
  termios quiet = old;
  quiet.c_lflag &= ~ECHO;
  tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  std::string again;
  std::fprintf(stderr, "Password: ");
  std::getline(std::cin, pw);
  std::fprintf(stderr, "\nRepeat password: ");
  std::getline(std::cin, again);
  std::fprintf(stderr, "\n");
  tcsetattr(STDIN_FILENO, TCSANOW, &old);
  if (pw != again) {
    std::fprintf(stderr, "kehu: the passwords differ\n");
    return std::nullopt;
  }
  return pw;
}

}  // namespace

int main(int argc, char** argv) {
  auto logger = spdlog::stderr_color_mt("kehu");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");

  CLI::App cli{"Kehu (客户): customer information management"};
  cli.require_subcommand(1);
  cli.fallthrough();
  Config config;
  std::string max_body;
  cli.add_option("--data", config.data_dir, "data directory (database, config)")
      ->envname("KEHU_DATA");
  cli.add_option("--key-file", config.key_file,
                 "master key file, outside the data directory [~/.config/kehu/master.key]")
      ->envname("KEHU_KEY_FILE");
  cli.add_option("--database", config.database,
                 "database URL: sqlite:PATH or postgresql://user:pw@host:port/db "
                 "[sqlite:DATA/kehu.db]")
      ->envname("KEHU_DATABASE");
  bool quiet = false;
  cli.add_flag("-q,--quiet", quiet, "log warnings and errors only");

  auto* serve = cli.add_subcommand("serve", "run the HTTP server (API and web UI)");
  serve->add_option("--listen", config.listen, "HOST:PORT [127.0.0.1:8080]")
      ->envname("KEHU_LISTEN");
  serve->add_option("--max-body", config.max_body, "largest request body in bytes [1048576]")
      ->envname("KEHU_MAX_BODY");
  serve
      ->add_option("--max-upload", config.max_upload,
                   "largest imported file (upload) in bytes [67108864]")
      ->envname("KEHU_MAX_UPLOAD");
  serve->add_option("--web-dir", config.web_dir, "built web UI directory")->envname("KEHU_WEB_DIR");
  serve
      ->add_option("--session-idle-minutes", config.session_idle_minutes,
                   "a login session unused this long ends [720]")
      ->envname("KEHU_SESSION_IDLE_MINUTES")
      ->check(CLI::PositiveNumber);
  serve
      ->add_option("--session-max-hours", config.session_max_hours,
                   "a login session never lives longer than this [168]")
      ->envname("KEHU_SESSION_MAX_HOURS")
      ->check(CLI::PositiveNumber);
  serve
      ->add_option("--login-lock-after", config.login_lock_after,
                   "failed logins in a row that lock a login name (x10: an address) [10]")
      ->envname("KEHU_LOGIN_LOCK_AFTER")
      ->check(CLI::PositiveNumber);
  serve
      ->add_option("--login-lock-minutes", config.login_lock_minutes,
                   "how long a locked login name or address stays locked [15]")
      ->envname("KEHU_LOGIN_LOCK_MINUTES")
      ->check(CLI::PositiveNumber);
  serve->add_option("--workers", config.workers, "request worker threads [8]")
      ->envname("KEHU_WORKERS");
  serve
      ->add_option("--default-region", config.default_region,
                   "region for numbers written without country code [CN]")
      ->envname("KEHU_DEFAULT_REGION");
  serve
      ->add_option("--tls-cert", config.tls_cert,
                   "PEM certificate chain; with --tls-key, serve HTTPS only")
      ->envname("KEHU_TLS_CERT");
  serve->add_option("--tls-key", config.tls_key, "PEM private key of --tls-cert (unencrypted)")
      ->envname("KEHU_TLS_KEY");

  auto* migrate = cli.add_subcommand("migrate", "apply pending database migrations and exit");

  auto* user_cmd = cli.add_subcommand("user", "manage users");
  user_cmd->require_subcommand(1);
  std::string username, display_name;
  bool admin = false;
  auto* user_add = user_cmd->add_subcommand(
      "add", "add a user; the password is asked for, or read from the first line of stdin");
  user_add->add_option("NAME", username, "login name")->required();
  std::string role_key, team_name, parent_team;
  user_add->add_flag("--admin", admin, "give the administrator role (same as --role admin)");
  user_add->add_option("--role", role_key,
                       "role key: admin, sales_manager, sales, service, marketing, readonly or "
                       "one an admin created [sales]");
  user_add->add_option("--team", team_name, "team the user belongs to (see kehu team list)");
  user_add->add_option("--display-name", display_name, "name shown in the UI");
  auto* user_list = user_cmd->add_subcommand("list", "list users");
  auto* user_mfa_reset = user_cmd->add_subcommand(
      "mfa-reset",
      "turn off a user's two-step verification (a lost phone); they log in with the password "
      "alone, or enrol again if their role requires it");
  user_mfa_reset->add_option("NAME", username, "login name")->required();

  auto* team_cmd = cli.add_subcommand("team", "manage teams (teams nest: --parent)");
  team_cmd->require_subcommand(1);
  auto* team_add = team_cmd->add_subcommand("add", "add a team");
  team_add->add_option("NAME", team_name, "team name")->required();
  team_add->add_option("--parent", parent_team, "the team it belongs to");
  auto* team_list = team_cmd->add_subcommand("list", "list teams");

  auto* role_cmd = cli.add_subcommand("role", "show roles");
  role_cmd->require_subcommand(1);
  auto* role_list = role_cmd->add_subcommand("list", "list roles with their scope and permissions");

  auto* token_cmd = cli.add_subcommand("token", "manage API tokens");
  token_cmd->require_subcommand(1);
  std::string token_name;
  auto* token_create =
      token_cmd->add_subcommand("create", "create an API token for USER and print it once");
  token_create->add_option("USER", username, "user the token acts as")->required();
  token_create->add_option("--name", token_name, "what the token is for")->required();

  for (CLI::App* sub :
       {user_add, user_list, user_mfa_reset, token_create, team_add, team_list, role_list}) {
    sub->fallthrough();
  }

  auto* keys_cmd = cli.add_subcommand("keys", "master key versions and online rotation");
  keys_cmd->require_subcommand(1);
  int batch = 200;
  uint32_t retire_version = 0;
  auto* keys_status = keys_cmd->add_subcommand(
      "status", "key versions in the key file and how many customers each still encrypts");
  auto* keys_rotate = keys_cmd->add_subcommand(
      "rotate",
      "add a new key version and re-encrypt every customer under it, in batches, while the "
      "server keeps serving (servers pick the new key up within a second)");
  keys_rotate->add_option("--batch", batch, "customers per transaction [200]")
      ->check(CLI::Range(1, 10000));
  auto* keys_reencrypt = keys_cmd->add_subcommand(
      "reencrypt", "finish an interrupted rotation: re-encrypt what still uses an old key");
  keys_reencrypt->add_option("--batch", batch, "customers per transaction [200]")
      ->check(CLI::Range(1, 10000));
  auto* keys_retire = keys_cmd->add_subcommand(
      "retire", "remove an old key version from the key file once nothing uses it");
  keys_retire->add_option("VERSION", retire_version, "the version to remove")->required();
  for (CLI::App* sub : {keys_status, keys_rotate, keys_reencrypt, keys_retire}) sub->fallthrough();

  auto audit_cmds = kehu::audit::AddCommands(cli);
  auto dedup_cmds = kehu::dedup::AddCommands(cli);
  auto merge_cmds = kehu::merge::AddCommands(cli);
  auto import_cmds = kehu::importer::AddCommands(cli);
  auto export_cmds = kehu::exports::AddCommands(cli);

  CLI11_PARSE(cli, argc, argv);
  if (quiet) spdlog::set_level(spdlog::level::warn);

  std::set<std::string> given;
  for (const char* name : {"--key-file", "--database"}) {
    if (cli.count(name) > 0)
      given.insert(std::string(name + 2) == "key-file" ? "key_file" : "database");
  }
  if (serve->count("--listen")) given.insert("listen");
  if (serve->count("--max-body")) given.insert("max_body");
  if (serve->count("--max-upload")) given.insert("max_upload");
  if (serve->count("--web-dir")) given.insert("web_dir");
  if (serve->count("--workers")) given.insert("workers");
  for (const char* opt : {"--session-idle-minutes", "--session-max-hours", "--login-lock-after",
                          "--login-lock-minutes"}) {
    if (serve->count(opt)) {
      std::string key(opt + 2);
      std::replace(key.begin(), key.end(), '-', '_');
      given.insert(key);
    }
  }
  if (serve->count("--default-region")) given.insert("default_region");
  if (serve->count("--tls-cert")) given.insert("tls_cert");
  if (serve->count("--tls-key")) given.insert("tls_key");
  if (auto ok = kehu::app::ResolveConfig(config, given); !ok) return Fail(ok.error());

  const bool serving = serve->parsed();
  if (!serving) spdlog::set_level(quiet ? spdlog::level::warn : spdlog::level::warn);
  std::optional<kehu::http::ServerOptions> server_options;
  if (serving) {
    auto opts = kehu::app::ServerOptionsFor(config);
    if (!opts) return Fail(opts.error());
    server_options = std::move(*opts);
  }
  auto opened = App::Open(config, serving ? config.workers + 4 : 6);
  if (!opened) return Fail(opened.error());
  App& app = **opened;
  const auto admin_actor = kehu::core::Actor::LocalAdmin();

  if (serving) {
    auto ok = kehu::app::Serve(app, std::move(*server_options));
    if (!ok) return Fail(ok.error());
    spdlog::info("stopped");
    return 0;
  }
  if (migrate->parsed()) {
    std::printf("database is up to date (%s)\n", app.db->url_for_log().c_str());
    return 0;
  }
  if (user_add->parsed()) {
    if (admin && !role_key.empty() && role_key != kehu::access::kAdminRole) {
      return Fail(kehu::core::Error::BadRequest("--admin and --role " + role_key + " disagree"));
    }
    kehu::user::NewUser nu;
    nu.username = username;
    nu.display_name = display_name;
    nu.role =
        admin ? kehu::access::kAdminRole : (role_key.empty() ? kehu::access::kSalesRole : role_key);
    if (!team_name.empty()) {
      auto team = app.access->TeamByName(team_name);
      if (!team) return Fail(team.error());
      nu.team_id = team->id;
    }
    auto pw = ReadPassword();
    if (!pw) return Fail(kehu::core::Error::BadRequest("no password given"));
    nu.password = *pw;
    auto u = app.users->Create(admin_actor, std::move(nu));
    if (!u) return Fail(u.error());
    std::printf("added %s %s (id %lld)%s%s\n", u->role.c_str(), u->username.c_str(),
                static_cast<long long>(u->id), team_name.empty() ? "" : " in team ",
                team_name.c_str());
    return 0;
  }
  if (user_list->parsed()) {
    auto users = app.users->List(admin_actor);
    if (!users) return Fail(users.error());
    auto teams = app.access->ListTeams(admin_actor);
    if (!teams) return Fail(teams.error());
    for (const auto& u : *users) {
      std::string team = "-";
      for (const auto& t : *teams) {
        if (u.team_id && t.id == *u.team_id) team = t.name;
      }
      std::printf("%lld\t%s\t%s\t%s\t%s%s%s\n", static_cast<long long>(u.id), u.username.c_str(),
                  u.role.c_str(), team.c_str(), u.display_name.c_str(),
                  u.active ? "" : "\t(inactive)", u.mfa_enabled ? "\t(two-step on)" : "");
    }
    return 0;
  }
  if (user_mfa_reset->parsed()) {
    auto was_on = app.mfa->ResetByName(admin_actor, username);
    if (!was_on) return Fail(was_on.error());
    std::printf(*was_on ? "two-step verification of %s is off; they log in with the password\n"
                        : "%s had no two-step verification; nothing to reset\n",
                username.c_str());
    return 0;
  }
  if (team_add->parsed()) {
    std::optional<int64_t> parent;
    if (!parent_team.empty()) {
      auto p = app.access->TeamByName(parent_team);
      if (!p) return Fail(p.error());
      parent = p->id;
    }
    auto t = app.access->CreateTeam(admin_actor, team_name, parent);
    if (!t) return Fail(t.error());
    std::printf("added team %s (id %lld)\n", t->name.c_str(), static_cast<long long>(t->id));
    return 0;
  }
  if (team_list->parsed()) {
    auto teams = app.access->ListTeams(admin_actor);
    if (!teams) return Fail(teams.error());
    for (const auto& t : *teams) {
      std::string parent = "-";
      for (const auto& p : *teams) {
        if (t.parent_id && p.id == *t.parent_id) parent = p.name;
      }
      std::printf("%lld\t%s\tparent %s\t%lld member(s)\n", static_cast<long long>(t.id),
                  t.name.c_str(), parent.c_str(), static_cast<long long>(t.member_count));
    }
    return 0;
  }
  if (role_list->parsed()) {
    auto roles = app.access->ListRoles(admin_actor);
    if (!roles) return Fail(roles.error());
    for (const auto& r : *roles) {
      std::string perms;
      for (const auto& n : r.perms.Names()) perms += (perms.empty() ? "" : " ") + n;
      std::printf("%s\t%s\tscope %s\treveals/day %s\t%s%s\n", r.key.c_str(), r.name.c_str(),
                  std::string(kehu::core::ScopeName(r.scope)).c_str(),
                  r.reveal_quota ? std::to_string(r.reveal_quota).c_str() : "unlimited",
                  perms.c_str(), r.mfa_required ? "\ttwo-step verification required" : "");
    }
    return 0;
  }
  if (auto code = kehu::audit::RunCommands(*audit_cmds, *app.audit)) return *code;
  if (auto code = kehu::dedup::RunCommands(*dedup_cmds, *app.dedup)) return *code;
  if (auto code = kehu::merge::RunCommands(*merge_cmds, *app.merges)) return *code;
  if (auto code =
          kehu::importer::RunCommands(*import_cmds, *app.imports, *app.job_store, *app.users)) {
    return *code;
  }
  if (auto code = kehu::exports::RunCommands(*export_cmds, *app.exports)) return *code;
  if (keys_status->parsed()) {
    auto ring = kehu::crypto::KeyRing::LoadOrCreate(app.config.key_file);
    if (!ring) return Fail(ring.error());
    for (uint32_t v : ring->versions()) {
      auto n = app.customers->RowsOnKey(v);
      if (!n) return Fail(n.error());
      auto secrets = app.mfa->SecretsOnKey(v);
      if (!secrets) return Fail(secrets.error());
      auto merges = app.merges->SnapshotsOnKey(v);
      if (!merges) return Fail(merges.error());
      std::printf("version %u%s\t%lld customer(s)\t%lld MFA secret(s)\t%lld merge snapshot(s)\n", v,
                  v == ring->current_version() ? " (current)" : "", static_cast<long long>(*n),
                  static_cast<long long>(*secrets), static_cast<long long>(*merges));
    }
    return 0;
  }
  if (keys_rotate->parsed() || keys_reencrypt->parsed()) {
    if (keys_rotate->parsed()) {
      auto v = kehu::crypto::KeyRing::AddVersion(app.config.key_file);
      if (!v) return Fail(v.error());
      auto ring = kehu::crypto::KeyRing::LoadOrCreate(app.config.key_file);
      if (!ring) return Fail(ring.error());
      app.cipher->Reload(*ring);
      app.bidx->Reload(*ring);
      std::printf("added key version %u to %s; waiting for running servers to load it\n", *v,
                  app.config.key_file.c_str());
      std::fflush(stdout);
      std::this_thread::sleep_for(std::chrono::milliseconds(3 * kehu::app::kKeyWatchMs));
      (void)app.audit->Record(admin_actor, {"settings.key_rotate", "key", std::to_string(*v)});
    }
    int64_t rewritten = 0;
    for (int pass = 0;; ++pass) {
      int64_t after = 0;
      for (;;) {
        auto step = app.customers->Reencrypt(admin_actor, after, batch);
        if (!step) return Fail(step.error());
        rewritten += step->rewritten;
        after = step->last_id;
        if (isatty(fileno(stderr))) {
          std::fprintf(stderr, "\rre-encrypted %lld customer(s)",
                       static_cast<long long>(rewritten));
        }
        if (step->done) break;
      }
      auto left = app.customers->RowsNotOnCurrentKey();
      if (!left) return Fail(left.error());
      if (*left == 0) break;
      if (pass >= 20) {
        return Fail(kehu::core::Error(
            kehu::core::Code::kUnavailable,
            std::to_string(*left) + " customer(s) still use an old key (changed while being "
                                    "re-encrypted, or a server has not loaded the new key); run "
                                    "kehu keys reencrypt again"));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    if (isatty(fileno(stderr))) std::fprintf(stderr, "\n");
    auto secrets = app.mfa->Reencrypt(admin_actor);
    if (!secrets) return Fail(secrets.error());
    auto merges = app.merges->Reencrypt(admin_actor);
    if (!merges) return Fail(merges.error());
    std::printf(
        "re-encrypted %lld customer(s), %lld MFA secret(s) and %lld merge snapshot(s); every "
        "customer uses key version %u\n",
        static_cast<long long>(rewritten), static_cast<long long>(*secrets),
        static_cast<long long>(*merges), app.cipher->current_version());
    return 0;
  }
  if (keys_retire->parsed()) {
    auto n = app.customers->RowsOnKey(retire_version);
    if (!n) return Fail(n.error());
    auto secrets = app.mfa->SecretsOnKey(retire_version);
    if (!secrets) return Fail(secrets.error());
    auto merges = app.merges->SnapshotsOnKey(retire_version);
    if (!merges) return Fail(merges.error());
    if (*n > 0 || *secrets > 0 || *merges > 0) {
      return Fail(kehu::core::Error::Conflict(
          "key version " + std::to_string(retire_version) + " still encrypts " +
          std::to_string(*n) + " customer(s), " + std::to_string(*secrets) + " MFA secret(s) and " +
          std::to_string(*merges) +
          " merge snapshot(s) (kept to undo merges); run kehu keys reencrypt first"));
    }
    auto done = kehu::crypto::KeyRing::RemoveVersion(app.config.key_file, retire_version);
    if (!done) return Fail(done.error());
    (void)app.audit->Record(admin_actor,
                            {"settings.key_retire", "key", std::to_string(retire_version)});
    std::printf("removed key version %u from %s\n", retire_version, app.config.key_file.c_str());
    return 0;
  }
  if (token_create->parsed()) {
    auto t = app.users->CreateTokenFor(username, token_name);
    if (!t) return Fail(t.error());
    std::printf("%s\n", t->second.c_str());
    return 0;
  }
  return 0;
}
