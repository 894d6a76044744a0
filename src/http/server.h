// The HTTP server: RESTinio on a small I/O thread pool, handlers on a worker pool (blocking
// database work never runs on the network threads), one place that turns Errors into
// problem+json, authentication and CSRF checks, Idempotency-Key replay, security headers,
// the static web UI, and graceful shutdown on SIGTERM/SIGINT. Plain HTTP, or HTTPS only when
// ServerOptions::tls is set; both run the same code but for the socket.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <restinio/all.hpp>
#include <restinio/router/easy_parser_router.hpp>

#include "core/error.h"
#include "http/request.h"
#include "http/tls.h"
#include "idempotency/store.h"
#include "user/service.h"

namespace kehu::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::size_t max_body = 1 << 20;     // bytes; larger bodies get 413
  std::size_t max_upload = 64 << 20;  // bytes, for routes added with AddUpload (file uploads)
  std::size_t io_threads = 2;
  std::size_t workers = 8;
  std::string web_dir;  // built web UI (index.html + assets); empty = no UI
  int shutdown_grace_ms = 10000;
  // Set (MakeTlsContext): HTTPS only on host:port, and every answer carries HSTS.
  std::shared_ptr<asio::ssl::context> tls;
};

enum class Access {
  kPublic,         // no authentication
  kAuthenticated,  // session cookie (+ CSRF token on writes) or Bearer API token
  // As kAuthenticated, and also open to a session that must enrol in MFA first (its role
  // requires it); every other route answers such a session 403 mfa/enrollment_required.
  kAuthenticatedEnrolling,
};

using Handler = std::function<core::Result<Response>(Request&)>;

namespace epr = restinio::router::easy_parser_router;
using RestinioRouter = restinio::router::easy_parser_router_t;

class Server {
 public:
  Server(ServerOptions options, user::UserService& users, idempotency::IdempotencyStore& idem);
  ~Server();

  // Registers a route. `path` is an easy_parser_router path (epr::path_to_params(...)); the
  // handler receives our Request plus the path's typed parameters.
  // Handlers run on the worker pool, so a slow one (a password hash, a wide search, a write
  // waiting for its group commit) never holds up the I/O threads.
  template <typename Path, typename Fn>
  void Add(restinio::http_method_id_t method, Path path, Access access, Fn fn) {
    AddRoute(method, std::move(path), access, Exec::kWorker, std::move(fn));
  }
  // For handlers whose work is small and bounded (a read by key, such as caller-ID lookup):
  // they run on the I/O thread that parsed the request, which saves two thread hand-offs.
  template <typename Path, typename Fn>
  void AddInline(restinio::http_method_id_t method, Path path, Access access, Fn fn) {
    AddRoute(method, std::move(path), access, Exec::kInline, std::move(fn));
  }
  // Like Add, for a route taking a file as its body: up to max_upload bytes instead of
  // max_body.
  template <typename Path, typename Fn>
  void AddUpload(restinio::http_method_id_t method, Path path, Access access, Fn fn) {
    AddRoute(method, std::move(path), access, Exec::kWorker, std::move(fn), options_.max_upload);
  }

  // Serves until SIGTERM/SIGINT, then stops accepting work, lets requests in flight finish
  // (up to shutdown_grace_ms) and returns. kUnavailable when the port cannot be bound.
  core::Result<void> Run(const std::function<void(const std::string&)>& on_listening);

 private:
  enum class Exec { kWorker, kInline };
  // Run() for one kind of socket; `tune` adds the settings only that kind has.
  template <typename Traits, typename Tune>
  core::Result<void> RunWith(const char* scheme, Tune tune,
                             const std::function<void(const std::string&)>& on_listening);
  template <typename Path, typename Fn>
  void AddRoute(restinio::http_method_id_t method, Path path, Access access, Exec exec, Fn fn,
                std::size_t max_body = 0) {
    const std::size_t limit = max_body ? max_body : options_.max_body;
    router_->add_handler(
        method, std::move(path),
        [this, access, exec, fn, limit](const restinio::request_handle_t& req, auto... params) {
          return Dispatch(
              req, access, exec, [fn, params...](Request& r) { return fn(r, params...); }, limit);
        });
  }
  restinio::request_handling_status_t Dispatch(const restinio::request_handle_t& req, Access access,
                                               Exec exec, Handler handler, std::size_t max_body);
  Response Handle(const restinio::request_handle_t& req, Access access, const Handler& handler,
                  std::size_t max_body);
  Response Authenticate(Request& r, Access access, bool& ok);
  Response WithIdempotency(Request& r, const Handler& handler);
  void Send(const restinio::request_handle_t& req, const Response& resp);
  // Runs resp.stream and sends what it writes (see Response::stream).
  void SendStreamed(const restinio::request_handle_t& req, const Response& resp);
  template <typename Builder>
  void AddHeaders(Builder& rb, const Response& resp);
  void LoadWebDir();
  Response ServeStatic(const std::string& path) const;

  const ServerOptions options_;
  user::UserService& users_;
  idempotency::IdempotencyStore& idem_;
  std::unique_ptr<RestinioRouter> router_;
  std::unique_ptr<asio::thread_pool> workers_;
  std::atomic<bool> draining_{false};
  std::atomic<int> in_flight_{0};
  struct StaticFile {
    std::string content_type;
    std::string body;
    bool immutable = false;
  };
  std::map<std::string, StaticFile> web_files_;  // constant after construction
};

}  // namespace kehu::http
