// Configuration and the object graph shared by `kehu serve` and the other commands.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "audit/service.h"
#include "core/error.h"
#include "crypto/crypto.h"
#include "customer/service.h"
#include "db/database.h"
#include "dedup/service.h"
#include "export/service.h"
#include "field/service.h"
#include "http/server.h"
#include "idempotency/store.h"
#include "importer/service.h"
#include "jobs/store.h"
#include "merge/service.h"
#include "merge/store.h"
#include "phone/normalizer.h"
#include "user/mfa.h"
#include "user/service.h"

namespace kehu::app {

struct Config {
  std::string data_dir = "data";
  std::string key_file;  // default $HOME/.config/kehu/master.key (outside the data directory)
  std::string database;  // default sqlite:<data_dir>/kehu.db
  std::string listen = "127.0.0.1:8080";
  std::size_t max_body = 1 << 20;
  std::size_t max_upload = 64 << 20;  // imported files
  std::string default_region = "CN";
  std::string web_dir;  // default: the built web UI next to the sources or the binary
  std::size_t workers = 8;
  std::size_t io_threads = 2;
  int64_t session_idle_minutes = 12 * 60;  // a session unused this long ends
  int64_t session_max_hours = 7 * 24;      // and never lives longer than this
  int64_t login_lock_after = 10;           // failed logins in a row that lock a login name
  int64_t login_lock_minutes = 15;         // for this long
  // PEM files; both set = `kehu serve` speaks HTTPS only, neither = plain HTTP.
  std::string tls_cert;
  std::string tls_key;
};

// Fills what flags and environment left unset from <data_dir>/kehu.toml, then defaults.
// `set` names the members already given on the command line or in the environment.
core::Result<void> ResolveConfig(Config& c, const std::set<std::string>& set);

class App {
 public:
  // Initialises crypto, loads (or creates) the master key, opens the database and migrates it.
  static core::Result<std::unique_ptr<App>> Open(const Config& config, std::size_t pool_size);

  const Config config;
  std::unique_ptr<db::Database> db;
  crypto::KeyRing keys;
  std::unique_ptr<crypto::FieldCipher> cipher;
  std::unique_ptr<crypto::BlindIndex> bidx;
  std::unique_ptr<phone::Normalizer> phones;
  std::unique_ptr<audit::AuditStore> audit_store;
  std::unique_ptr<audit::AuditLog> audit;
  std::unique_ptr<access::AccessStore> access_store;
  std::unique_ptr<access::AccessService> access;
  std::unique_ptr<user::UserStore> user_store;
  std::unique_ptr<user::UserService> users;
  std::unique_ptr<user::MfaStore> mfa_store;
  std::unique_ptr<user::MfaService> mfa;
  std::unique_ptr<field::FieldStore> field_store;
  std::unique_ptr<field::FieldService> fields;
  std::unique_ptr<customer::CustomerStore> customer_store;
  std::unique_ptr<customer::CustomerService> customers;
  std::unique_ptr<dedup::DedupService> dedup;  // also the customers' duplicate hook
  std::unique_ptr<merge::MergeStore> merge_store;
  std::unique_ptr<merge::MergeService> merges;  // also the customers' merge hook
  std::unique_ptr<idempotency::IdempotencyStore> idempotency;
  std::string node;  // jobs::NodeId of the data directory
  std::unique_ptr<jobs::JobStore> job_store;
  std::unique_ptr<importer::ImportStore> import_store;
  std::unique_ptr<importer::ImportService> imports;
  std::unique_ptr<exports::ExportService> exports;

 private:
  App(Config c, crypto::KeyRing k) : config(std::move(c)), keys(std::move(k)) {}
};

std::vector<db::Migration> AllMigrations();

// How often a serving process looks whether the key file changed (a rotation or retirement by
// `kehu keys`), in ms; it then loads the new key ring.
inline constexpr int kKeyWatchMs = 1000;

// Watches the key file while serving and reloads the cipher and the blind index on a change.
class KeyWatcher {
 public:
  explicit KeyWatcher(App& app);
  ~KeyWatcher();
  KeyWatcher(const KeyWatcher&) = delete;
  KeyWatcher& operator=(const KeyWatcher&) = delete;

 private:
  App& app_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// The HTTP server's settings from the configuration: the listen address, limits and the TLS
// context (certificate and key loaded and checked). `kehu serve` asks for them before it opens
// the database, so that a mistake there stops it before migrations change anything.
core::Result<http::ServerOptions> ServerOptionsFor(const Config& c);

// Runs the HTTP server until SIGTERM/SIGINT.
core::Result<void> Serve(App& app, http::ServerOptions opts);

}  // namespace kehu::app
