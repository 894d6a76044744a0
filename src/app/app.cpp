#include "app/app.h"

#include <spdlog/spdlog.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "access/routes.h"
#include "audit/routes.h"
#include "core/time.h"
#include "customer/routes.h"
#include "dedup/routes.h"
#include "export/routes.h"
#include "field/routes.h"
#include "http/server.h"
#include "importer/routes.h"
#include "jobs/runner.h"
#include "merge/routes.h"
#include "user/routes.h"

namespace kehu::app {

const std::string& OpenApiJson();  // generated from docs/openapi.yaml at build time

namespace {

std::string DefaultKeyFile() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (xdg && *xdg) return std::string(xdg) + "/kehu/master.key";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.config/kehu/master.key";
}

std::string DefaultWebDir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (auto candidate :
         {exe.parent_path() / "../share/kehu/web", exe.parent_path() / "../web/dist"}) {
      if (std::filesystem::exists(candidate / "index.html", ec)) {
        return std::filesystem::weakly_canonical(candidate, ec).string();
      }
    }
  }
  return KEHU_SOURCE_WEB_DIR;
}

}  // namespace

core::Result<void> ResolveConfig(Config& c, const std::set<std::string>& set) {
  std::filesystem::path toml_path = std::filesystem::path(c.data_dir) / "kehu.toml";
  std::error_code ec;
  if (std::filesystem::exists(toml_path, ec)) {
    try {
      toml::table t = toml::parse_file(toml_path.string());
      auto str = [&](const char* key, std::string& out) {
        if (!set.contains(key)) {
          if (auto v = t[key].value<std::string>()) out = *v;
        }
      };
      str("key_file", c.key_file);
      str("database", c.database);
      str("listen", c.listen);
      str("default_region", c.default_region);
      str("web_dir", c.web_dir);
      str("tls_cert", c.tls_cert);
      str("tls_key", c.tls_key);
      if (!set.contains("max_body")) {
        if (auto v = t["max_body"].value<int64_t>(); v && *v > 0) c.max_body = *v;
      }
      if (!set.contains("max_upload")) {
        if (auto v = t["max_upload"].value<int64_t>(); v && *v > 0) c.max_upload = *v;
      }
      if (!set.contains("workers")) {
        if (auto v = t["workers"].value<int64_t>(); v && *v > 0) c.workers = *v;
      }
      auto positive = [&](const char* key, int64_t& out) {
        if (set.contains(key)) return;
        if (auto v = t[key].value<int64_t>(); v && *v > 0) out = *v;
      };
      positive("session_idle_minutes", c.session_idle_minutes);
      positive("session_max_hours", c.session_max_hours);
      positive("login_lock_after", c.login_lock_after);
      positive("login_lock_minutes", c.login_lock_minutes);
    } catch (const toml::parse_error& e) {
      return std::unexpected(
          core::Error::BadRequest(toml_path.string() + ": " + std::string(e.description())));
    }
  }
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    return std::unexpected(core::Error::BadRequest(
        std::string(c.tls_key.empty() ? "--tls-cert is set but --tls-key is missing"
                                      : "--tls-key is set but --tls-cert is missing") +
        " (flags, KEHU_TLS_CERT/KEHU_TLS_KEY or tls_cert/tls_key in kehu.toml); TLS needs both"));
  }
  if (c.key_file.empty()) c.key_file = DefaultKeyFile();
  if (c.database.empty())
    c.database = "sqlite:" + (std::filesystem::path(c.data_dir) / "kehu.db").string();
  if (c.web_dir.empty()) c.web_dir = DefaultWebDir();
  // The key must not live inside the data directory: a copy of one must not open the other.
  auto data = std::filesystem::weakly_canonical(c.data_dir, ec);
  auto key = std::filesystem::weakly_canonical(c.key_file, ec);
  auto rel = key.lexically_relative(data);
  if (!rel.empty() && *rel.begin() != "..") {
    return std::unexpected(core::Error::BadRequest("the key file " + c.key_file +
                                                   " is inside the data directory " + c.data_dir +
                                                   "; keep it elsewhere (--key-file)"));
  }
  return core::Ok();
}

std::vector<db::Migration> AllMigrations() {
  std::vector<db::Migration> all;
  for (auto part : {user::Migrations(), customer::Migrations(), field::Migrations(),
                    idempotency::Migrations(), access::Migrations(), audit::Migrations(),
                    jobs::Migrations(), importer::Migrations(), merge::Migrations()}) {
    all.insert(all.end(), part.begin(), part.end());
  }
  return all;
}

core::Result<std::unique_ptr<App>> App::Open(const Config& config, std::size_t pool_size) {
  if (auto ok = crypto::Init(); !ok) return std::unexpected(ok.error());
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    return std::unexpected(core::Error::BadRequest("cannot create the data directory " +
                                                   config.data_dir + ": " + ec.message()));
  }
  auto keys = crypto::KeyRing::LoadOrCreate(config.key_file);
  if (!keys) return std::unexpected(keys.error());
  std::unique_ptr<App> a(new App(config, std::move(*keys)));
  auto db = db::Database::Open(config.database, pool_size);
  if (!db) return std::unexpected(db.error());
  a->db = std::move(*db);
  if (auto m = a->db->Migrate(AllMigrations()); !m) return std::unexpected(m.error());
  a->cipher = std::make_unique<crypto::FieldCipher>(a->keys);
  a->bidx = std::make_unique<crypto::BlindIndex>(a->keys);
  a->phones = std::make_unique<phone::Normalizer>(config.default_region);
  a->audit_store = std::make_unique<audit::AuditStore>(*a->db);
  a->audit = std::make_unique<audit::AuditLog>(*a->audit_store);
  a->access_store = std::make_unique<access::AccessStore>(*a->db);
  a->access = std::make_unique<access::AccessService>(*a->access_store, *a->audit);
  a->user_store = std::make_unique<user::UserStore>(*a->db);
  user::SessionPolicy sessions;
  sessions.idle_timeout_ms = config.session_idle_minutes * 60 * 1000;
  sessions.absolute_timeout_ms = config.session_max_hours * 3600 * 1000;
  user::LoginPolicy logins;
  logins.lock_after = config.login_lock_after;
  logins.free_failures = std::min<int64_t>(logins.free_failures, config.login_lock_after - 1);
  logins.lock_ms = config.login_lock_minutes * 60 * 1000;
  // Many people may share one office address: it takes four times as many failures before
  // an address is slowed down, and ten times as many before it is locked.
  logins.ip_free_failures = 4 * config.login_lock_after;
  logins.ip_lock_after = 10 * config.login_lock_after;
  a->users =
      std::make_unique<user::UserService>(*a->user_store, *a->access, *a->audit, sessions, logins);
  a->mfa_store = std::make_unique<user::MfaStore>(*a->db);
  a->mfa = std::make_unique<user::MfaService>(*a->user_store, *a->mfa_store, *a->users, *a->audit,
                                              *a->cipher);
  a->field_store = std::make_unique<field::FieldStore>(*a->db);
  a->fields = std::make_unique<field::FieldService>(*a->field_store, customer::BuiltinFieldNames(),
                                                    *a->audit);
  a->customer_store = std::make_unique<customer::CustomerStore>(*a->db);
  a->customers = std::make_unique<customer::CustomerService>(*a->customer_store, *a->fields,
                                                             *a->users, *a->access, *a->audit,
                                                             *a->phones, *a->cipher, *a->bidx);
  a->dedup = std::make_unique<dedup::DedupService>(
      *a->customers, *a->audit, std::clamp(std::thread::hardware_concurrency(), 2u, 4u));
  a->customers->SetDuplicateHook(a->dedup.get());
  a->merge_store = std::make_unique<merge::MergeStore>(*a->db);
  a->merges =
      std::make_unique<merge::MergeService>(*a->merge_store, *a->customers, *a->dedup, *a->audit);
  a->customers->SetMergeHook(a->merges.get());
  a->idempotency = std::make_unique<idempotency::IdempotencyStore>(*a->db);
  auto node = jobs::NodeId(config.data_dir);
  if (!node) return std::unexpected(node.error());
  a->node = *node;
  a->job_store = std::make_unique<jobs::JobStore>(*a->db);
  a->import_store = std::make_unique<importer::ImportStore>(*a->db);
  a->imports = std::make_unique<importer::ImportService>(
      *a->import_store, *a->job_store, *a->customers, *a->fields, *a->users, *a->audit, *a->cipher,
      config.data_dir, a->node);
  a->exports = std::make_unique<exports::ExportService>(
      *a->customers, *a->fields, *a->access, *a->audit,
      (std::filesystem::path(config.data_dir) / "tmp").string());
  return a;
}

core::Result<http::ServerOptions> ServerOptionsFor(const Config& c) {
  http::ServerOptions opts;
  auto colon = c.listen.rfind(':');
  if (colon == std::string::npos) {
    return std::unexpected(core::Error::BadRequest("--listen must be HOST:PORT, got " + c.listen));
  }
  opts.host = c.listen.substr(0, colon);
  try {
    int port = std::stoi(c.listen.substr(colon + 1));
    if (port < 0 || port > 65535) throw std::out_of_range("port");
    opts.port = static_cast<uint16_t>(port);
  } catch (const std::exception&) {
    return std::unexpected(core::Error::BadRequest("--listen has a bad port: " + c.listen));
  }
  opts.max_body = c.max_body;
  opts.max_upload = c.max_upload;
  opts.workers = c.workers;
  opts.io_threads = c.io_threads;
  opts.web_dir = c.web_dir;
  if (!c.tls_cert.empty()) {
    auto tls = http::MakeTlsContext(c.tls_cert, c.tls_key);
    if (!tls) return std::unexpected(tls.error());
    opts.tls = std::move(*tls);
  }
  return opts;
}

core::Result<void> Serve(App& app, http::ServerOptions opts) {
  http::Server server(opts, *app.users, *app.idempotency);

  server.AddInline(restinio::http_method_get(), http::epr::path_to_params("/healthz"),
                   http::Access::kPublic, [](http::Request&) -> core::Result<http::Response> {
                     return http::Response::Json(200, {{"status", "ok"}});
                   });
  server.AddInline(restinio::http_method_get(), http::epr::path_to_params("/api/v1/openapi.json"),
                   http::Access::kPublic, [](http::Request&) -> core::Result<http::Response> {
                     http::Response r;
                     r.body = OpenApiJson();
                     return r;
                   });
  user::RegisterRoutes(server, *app.users, /*secure_cookies=*/opts.tls != nullptr);
  user::RegisterMfaRoutes(server, *app.mfa, *app.users, /*secure_cookies=*/opts.tls != nullptr);
  access::RegisterRoutes(server, *app.access);
  field::RegisterRoutes(server, *app.fields);
  customer::RegisterRoutes(server, *app.customers);
  dedup::RegisterRoutes(server, *app.dedup);
  exports::RegisterRoutes(server, *app.exports);
  merge::RegisterRoutes(server, *app.merges);
  audit::RegisterRoutes(server, *app.audit);
  // Background jobs of this data directory (imports), resumed after a restart.
  jobs::Runner runner(*app.job_store, "server:" + app.node);
  runner.Register(importer::kJobKind,
                  [&app](jobs::JobContext& ctx) { return app.imports->Run(ctx); });
  importer::RegisterRoutes(server, *app.imports, [&runner] { runner.Wake(); });

  (void)app.idempotency->Expire(core::NowMs() - 24LL * 3600 * 1000);
  auto count = app.users->Count();
  if (count && *count == 0) {
    spdlog::warn("no users yet; create the first administrator with:  kehu user add --admin NAME");
  }
  KeyWatcher watcher(app);
  runner.Start();
  auto served = server.Run([&](const std::string& url) {
    spdlog::info("kehu {} listening on {} (database {}, data {})", KEHU_VERSION, url,
                 app.db->url_for_log(), app.config.data_dir);
  });
  runner.Stop();  // a running job stops after its current batch and resumes at the next start
  return served;
}

KeyWatcher::KeyWatcher(App& app) : app_(app) {
  thread_ = std::thread([this] {
    auto stamp = [&]() -> std::pair<int64_t, int64_t> {
      std::error_code ec;
      auto t = std::filesystem::last_write_time(app_.config.key_file, ec);
      auto size = std::filesystem::file_size(app_.config.key_file, ec);
      if (ec) return {0, 0};
      return {static_cast<int64_t>(t.time_since_epoch().count()), static_cast<int64_t>(size)};
    };
    auto seen = stamp();
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::milliseconds(kKeyWatchMs), [&] { return stop_; })) {
      auto now = stamp();
      if (now == seen || now.first == 0) continue;
      seen = now;
      auto ring = crypto::KeyRing::LoadOrCreate(app_.config.key_file);
      if (!ring) {
        spdlog::error("the key file changed but cannot be loaded (keeping the old keys): {}",
                      ring.error().message());
        continue;
      }
      app_.cipher->Reload(*ring);
      app_.bidx->Reload(*ring);
      spdlog::info("key ring reloaded: current version {}, {} version(s)", ring->current_version(),
                   ring->versions().size());
    }
  });
}

KeyWatcher::~KeyWatcher() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

}  // namespace kehu::app
