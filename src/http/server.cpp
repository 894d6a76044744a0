#include "http/server.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <restinio/tls.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "core/time.h"
#include "crypto/crypto.h"

namespace kehu::http {
namespace {

constexpr const char* kSessionCookie = "kehu_session";
constexpr const char* kCsp =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

// The two kinds of server: they differ in the socket only.
struct PlainTraits : restinio::default_traits_t {
  using request_handler_t = RestinioRouter;
};
struct TlsTraits : restinio::tls_traits_t<restinio::asio_timer_manager_t, restinio::null_logger_t,
                                          RestinioRouter> {};

// How long a client has for the TLS handshake after it connects.
constexpr auto kTlsHandshakeTimeout = std::chrono::seconds(10);

// RESTinio 0.6 starts a connection's read timeout only once the TLS handshake is over, so a
// client that connects and never finishes the handshake would keep its connection (and file
// descriptor) for ever. This overload of RESTinio's handshake step, found by argument-dependent
// lookup and preferred to the library's as the more specialised, adds a deadline: when it
// passes first, the socket is shut down, the pending handshake fails, and RESTinio closes the
// connection as it does after any failed handshake.
template <typename StartRead, typename Failed>
void prepare_connection_and_start_read(restinio::tls_socket_t& socket,
                                       restinio::impl::connection_t<TlsTraits>& con,
                                       StartRead start_read, Failed failed) {
  struct Race {
    std::mutex mu;
    bool over = false;  // the handshake has finished, either way (the socket may be closed)
  };
  auto race = std::make_shared<Race>();
  auto timer = std::make_shared<asio::steady_timer>(con.get_executor(), kTlsHandshakeTimeout);
  // The connection (so the descriptor) lives while the timer waits; once the handshake is over
  // the descriptor may be closed and reused, so it is shut down only before that.
  timer->async_wait([race, fd = socket.lowest_layer().native_handle(),
                     self = con.shared_from_this()](const asio::error_code& ec) {
    if (ec) return;  // cancelled: the handshake finished first
    std::lock_guard lock(race->mu);
    if (!race->over) ::shutdown(fd, SHUT_RDWR);
  });
  socket.async_handshake(
      asio::ssl::stream_base::server,
      [race, timer, start_read = std::move(start_read), failed = std::move(failed),
       self = con.shared_from_this()](const asio::error_code& ec) {
        {
          std::lock_guard lock(race->mu);
          race->over = true;
        }
        timer->cancel();
        if (!ec) {
          start_read();
        } else {
          failed(ec);
        }
      });
}

bool IsWrite(const std::string& m) {
  return m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE";
}

std::string ContentTypeFor(const std::filesystem::path& p) {
  static const std::map<std::string, std::string> kTypes = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff", "font/woff"},
      {".woff2", "font/woff2"},
      {".ttf", "font/ttf"},
      {".txt", "text/plain; charset=utf-8"}};
  auto it = kTypes.find(p.extension().string());
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

restinio::http_status_line_t StatusLine(int status) {
  static const std::map<int, const char*> kReasons = {{200, "OK"},
                                                      {201, "Created"},
                                                      {204, "No Content"},
                                                      {304, "Not Modified"},
                                                      {400, "Bad Request"},
                                                      {401, "Unauthorized"},
                                                      {403, "Forbidden"},
                                                      {404, "Not Found"},
                                                      {405, "Method Not Allowed"},
                                                      {409, "Conflict"},
                                                      {412, "Precondition Failed"},
                                                      {413, "Content Too Large"},
                                                      {415, "Unsupported Media Type"},
                                                      {422, "Unprocessable Content"},
                                                      {428, "Precondition Required"},
                                                      {429, "Too Many Requests"},
                                                      {500, "Internal Server Error"},
                                                      {503, "Service Unavailable"}};
  auto it = kReasons.find(status);
  return restinio::http_status_line_t{restinio::http_status_code_t{static_cast<uint16_t>(status)},
                                      it == kReasons.end() ? "Status" : it->second};
}

}  // namespace

Server::Server(ServerOptions options, user::UserService& users, idempotency::IdempotencyStore& idem)
    : options_(std::move(options)),
      users_(users),
      idem_(idem),
      router_(std::make_unique<RestinioRouter>()),
      workers_(std::make_unique<asio::thread_pool>(options_.workers)) {
  LoadWebDir();
}

Server::~Server() {
  if (workers_) workers_->join();
}

void Server::LoadWebDir() {
  if (options_.web_dir.empty()) return;
  std::error_code ec;
  std::filesystem::path root(options_.web_dir);
  if (!std::filesystem::is_directory(root, ec)) {
    spdlog::warn("web UI directory {} not found; serving the API only", options_.web_dir);
    return;
  }
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (ec || !it->is_regular_file()) continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string rel = "/" + std::filesystem::relative(it->path(), root).generic_string();
    web_files_[rel] = StaticFile{ContentTypeFor(it->path()), ss.str(), rel.starts_with("/assets/")};
  }
  spdlog::info("serving web UI from {} ({} files)", options_.web_dir, web_files_.size());
}

Response Server::ServeStatic(const std::string& path) const {
  auto it = web_files_.find(path);
  if (it == web_files_.end()) {
    // Client-side routes get index.html; missing assets get a 404.
    if (path.starts_with("/assets/") || path.find('.') != std::string::npos) {
      return Problem(404, "not-found", "Not found", "no such file");
    }
    it = web_files_.find("/index.html");
    if (it == web_files_.end()) {
      return Problem(404, "not-found", "Not found",
                     "the web UI is not built; run scripts/setup or use the API under /api/v1");
    }
  }
  Response r;
  r.status = 200;
  r.content_type = it->second.content_type;
  r.body = it->second.body;
  r.WithHeader("Cache-Control",
               it->second.immutable ? "public, max-age=31536000, immutable" : "no-cache");
  return r;
}

restinio::request_handling_status_t Server::Dispatch(const restinio::request_handle_t& req,
                                                     Access access, Exec exec, Handler handler,
                                                     std::size_t max_body) {
  if (draining_.load()) {
    Send(req, Problem(503, "unavailable", "Service unavailable", "the server is shutting down"));
    return restinio::request_accepted();
  }
  in_flight_.fetch_add(1);
  auto work = [this, req, access, handler = std::move(handler), max_body] {
    Response resp;
    try {
      resp = Handle(req, access, handler, max_body);
    } catch (const std::exception& e) {
      std::string id = core::NewIncidentId();
      spdlog::error("unhandled exception [incident {}] {} {}: {}", id,
                    req->header().method().c_str(), req->header().path(), e.what());
      resp = Problem(500, "internal", "Internal error", "incident " + id);
    }
    Send(req, resp);
    in_flight_.fetch_sub(1);
  };
  if (exec == Exec::kInline) {
    work();
  } else {
    asio::post(*workers_, std::move(work));
  }
  return restinio::request_accepted();
}

Response Server::Handle(const restinio::request_handle_t& req, Access access,
                        const Handler& handler, std::size_t max_body) {
  Request r;
  r.method = std::string(req->header().method().c_str());
  r.path = std::string(req->header().path());
  for (const auto& f : req->header()) {
    std::string name = f.name();
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = f.value();
  }
  r.remote_ip = req->remote_endpoint().address().to_string();
  if (req->body().size() > max_body) {
    return Problem(core::Error(core::Code::kPayloadTooLarge,
                               "the body has " + std::to_string(req->body().size()) +
                                   " bytes; the limit is " + std::to_string(max_body)));
  }
  r.body = req->body();
  try {
    auto qp = restinio::parse_query<restinio::parse_query_traits::relaxed>(req->header().query());
    for (const auto& [k, v] : qp) r.query[std::string(k)] = std::string(v);
  } catch (const std::exception& e) {
    return Problem(core::Error::BadRequest("malformed query string"));
  }
  if (access != Access::kPublic) {
    bool ok = false;
    Response denied = Authenticate(r, access, ok);
    if (!ok) return denied;
  }
  if (r.method == "POST" && r.Header("idempotency-key") && access != Access::kPublic) {
    return WithIdempotency(r, handler);
  }
  auto result = handler(r);
  return result ? std::move(*result) : Problem(result.error());
}

Response Server::Authenticate(Request& r, Access access, bool& ok) {
  ok = false;
  core::Result<user::Authenticated> auth =
      std::unexpected(core::Error::Unauthenticated("log in or send an API token"));
  if (const std::string* h = r.Header("authorization")) {
    if (h->starts_with("Bearer ")) auth = users_.AuthenticateToken(h->substr(7));
  } else if (auto cookie = r.Cookie(kSessionCookie)) {
    auth = users_.AuthenticateSession(*cookie);
  }
  if (!auth) {
    if (auth.error().code() == core::Code::kUnauthenticated) {
      Response resp = Problem(auth.error());
      resp.WithHeader("WWW-Authenticate", "Bearer realm=\"kehu\"");
      return resp;
    }
    return Problem(auth.error());
  }
  if (auth->via_session && IsWrite(r.method)) {
    const std::string* sent = r.Header("x-csrf-token");
    if (!sent || !crypto::ConstantTimeEqual(*sent, auth->csrf_token)) {
      return Problem(403, "csrf", "CSRF token missing or wrong",
                     "send the X-CSRF-Token header with the csrf_token from login or /auth/me");
    }
  }
  r.actor = auth->actor;
  r.actor.ip = r.remote_ip;
  r.actor.via_token = !auth->via_session;
  if (!access::IpAllowed(r.actor.ip_allow, r.remote_ip)) {
    core::Error e =
        core::Error::Forbidden("your role may not work from this address (" + r.remote_ip + ")");
    e.mutable_details().push_back({"ip", "not_allowed", r.remote_ip});
    return Problem(e);
  }
  if (auth->mfa_enrollment_required && access != Access::kAuthenticatedEnrolling) {
    return Problem(core::Error(
        core::Code::kForbidden,
        "your role requires two-step verification: enrol on 我的安全 (POST /auth/mfa/enroll) first",
        {{"mfa", "mfa/enrollment_required", "two-step verification must be set up first"}}));
  }
  r.csrf_token = auth->csrf_token;
  ok = true;
  return {};
}

Response Server::WithIdempotency(Request& r, const Handler& handler) {
  const std::string key = *r.Header("idempotency-key");
  if (key.empty() || key.size() > 200) {
    return Problem(core::Error::BadRequest("Idempotency-Key must have 1-200 characters"));
  }
  std::string hash = crypto::TokenHash(r.method + " " + r.path + "\n" + r.body);
  auto claimed = idem_.Claim(r.actor.user_id, key, hash, core::NowMs());
  if (!claimed) return Problem(claimed.error());
  if (*claimed) {
    const idempotency::Stored& s = **claimed;
    if (s.request_hash != hash) {
      return Problem(
          core::Error::Conflict("this Idempotency-Key was used with a different request"));
    }
    if (!s.complete) {
      return Problem(core::Error::Conflict("a request with this Idempotency-Key is in progress"));
    }
    Response replay;
    replay.status = s.status;
    replay.content_type = s.content_type;
    replay.body = s.body;
    for (const auto& h : nlohmann::json::parse(s.headers_json, nullptr, false)) {
      if (h.is_array() && h.size() == 2) replay.WithHeader(h[0], h[1]);
    }
    replay.WithHeader("Idempotent-Replayed", "true");
    return replay;
  }
  auto result = handler(r);
  Response resp = result ? std::move(*result) : Problem(result.error());
  if (resp.status >= 500) {
    (void)idem_.Release(r.actor.user_id, key);
  } else {
    nlohmann::json hs = nlohmann::json::array();
    for (const auto& [n, v] : resp.headers) hs.push_back({n, v});
    (void)idem_.Complete(r.actor.user_id, key,
                         {hash, true, resp.status, resp.content_type, hs.dump(), resp.body});
  }
  return resp;
}

namespace {

// A streamed body: chunked transfer encoding, the producer held back while more than
// kMaxQueued bytes wait for the client. The response (status and headers) starts with the
// first piece.
class ChunkedBody final : public BodyWriter {
 public:
  using Builder = restinio::response_builder_t<restinio::chunked_output_t>;
  static constexpr std::size_t kMaxQueued = 256 * 1024;

  // `conn` and `id` name the request's connection, kept to end an abandoned answer.
  ChunkedBody(std::function<Builder()> start, restinio::impl::connection_handle_t conn,
              restinio::request_id_t id)
      : start_(std::move(start)),
        state_(std::make_shared<State>()),
        conn_(std::move(conn)),
        id_(id) {}

  bool Write(std::string_view piece) override {
    {
      std::unique_lock lock(state_->mu);
      state_->cv.wait(lock, [&] { return state_->gone || state_->queued < kMaxQueued; });
      if (state_->gone) return false;
      state_->queued += piece.size();
    }
    if (!rb_) rb_.emplace(start_());
    if (piece.empty()) {
      rb_->flush();  // the status line and headers only
      return true;
    }
    const std::size_t n = piece.size();
    rb_->append_chunk(std::string(piece));
    // Called once the piece is written, or with an error when the connection is gone (also
    // when it is torn down with the piece still queued).
    rb_->flush([st = state_, n](const asio::error_code& ec) {
      std::lock_guard lock(st->mu);
      st->queued -= n;
      if (ec) st->gone = true;
      st->cv.notify_all();
    });
    return true;
  }

  bool started() const { return rb_.has_value(); }
  // The final (empty) chunk; the headers too when nothing was written.
  void Finish() {
    if (!rb_) rb_.emplace(start_());
    rb_->done();
  }
  // Ends the answer without its final chunk and closes the connection once what was sent is
  // written, so the client sees an incomplete answer at once (not when RESTinio's request
  // timeout closes it, a minute later). A terminating chunk would make a cut-off file look
  // complete.
  void Abandon() {
    rb_.reset();
    if (!conn_) return;
    conn_->write_response_parts(
        id_,
        restinio::response_output_flags_t{restinio::response_parts_attr_t::final_parts,
                                          restinio::response_connection_attr_t::connection_close},
        restinio::write_group_t{restinio::writable_items_container_t{}});
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::size_t queued = 0;  // guarded by mu
    bool gone = false;       // guarded by mu
  };
  std::function<Builder()> start_;
  std::shared_ptr<State> state_;
  std::optional<Builder> rb_;
  restinio::impl::connection_handle_t conn_;
  restinio::request_id_t id_;
};

}  // namespace

template <typename Builder>
void Server::AddHeaders(Builder& rb, const Response& resp) {
  rb.append_header(restinio::http_field::server, "kehu");
  rb.append_header_date_field();
  if (!resp.content_type.empty()) {
    rb.append_header(restinio::http_field::content_type, resp.content_type);
  }
  rb.append_header("Content-Security-Policy", kCsp);
  rb.append_header("X-Content-Type-Options", "nosniff");
  rb.append_header("X-Frame-Options", "DENY");
  rb.append_header("Referrer-Policy", "no-referrer");
  if (options_.tls) rb.append_header("Strict-Transport-Security", kHsts);
  bool has_cache_control = false;
  for (const auto& [n, v] : resp.headers) {
    if (n == "Cache-Control") has_cache_control = true;
    rb.append_header(n, v);
  }
  if (!has_cache_control) rb.append_header("Cache-Control", "no-store");
  if (draining_.load()) rb.connection_close();
}

void Server::Send(const restinio::request_handle_t& req, const Response& resp) {
  if (resp.stream) {
    SendStreamed(req, resp);
    return;
  }
  auto rb = req->create_response(StatusLine(resp.status));
  AddHeaders(rb, resp);
  rb.set_body(resp.body);
  rb.done();
}

void Server::SendStreamed(const restinio::request_handle_t& req, const Response& resp) {
  // create_response() takes the request's connection handle: a copy is kept first.
  ChunkedBody body(
      [&] {
        auto rb = req->create_response<restinio::chunked_output_t>(StatusLine(resp.status));
        AddHeaders(rb, resp);
        return rb;
      },
      restinio::impl::access_req_connection(*req), req->request_id());
  core::Result<void> done = core::Ok();
  std::string incident;
  try {
    done = resp.stream(body);
  } catch (const std::exception& e) {
    incident = core::NewIncidentId();
    spdlog::error("unhandled exception [incident {}] streaming {} {}: {}", incident,
                  req->header().method().c_str(), req->header().path(), e.what());
    done = std::unexpected(core::Error::Internal("incident " + incident));
  }
  if (done) {
    body.Finish();
  } else if (!body.started()) {
    Send(req, incident.empty()
                  ? Problem(done.error())
                  : Problem(500, "internal", "Internal error", "incident " + incident));
  } else {
    spdlog::error("streamed answer to {} {} cut short: {}", req->header().method().c_str(),
                  req->header().path(), done.error().message());
    body.Abandon();
  }
}

template <typename Traits, typename Tune>
core::Result<void> Server::RunWith(const char* scheme, Tune tune,
                                   const std::function<void(const std::string&)>& on_listening) {
  // Everything that matched no route: the web UI outside /api/, a 404 problem inside it.
  router_->non_matched_request_handler([this](const restinio::request_handle_t& req) {
    std::string path(req->header().path());
    bool api = path.starts_with("/api/") || path == "/api";
    bool get = req->header().method() == restinio::http_method_get() ||
               req->header().method() == restinio::http_method_head();
    if (api || !get || path.find("..") != std::string::npos) {
      Send(req, Problem(404, "not-found", "Not found", "no such endpoint: " + path));
    } else {
      Send(req, ServeStatic(path));
    }
    return restinio::request_accepted();
  });

  asio::io_context ioctx;
  restinio::server_settings_t<Traits> settings;
  settings.address(options_.host)
      .port(options_.port)
      .request_handler(std::move(router_))
      .read_next_http_message_timelimit(std::chrono::seconds(60))
      .write_http_response_timelimit(std::chrono::seconds(30))
      .handle_request_timeout(std::chrono::seconds(60))
      .max_pipelined_requests(16)
      // RESTinio drops the connection without an answer above this hard cap; below it, bodies
      // over options_.max_body get a 413 problem from Handle().
      .incoming_http_msg_limits(restinio::incoming_http_msg_limits_t{}.max_body_size(
          std::max({options_.max_body * 16, std::size_t{16} << 20, options_.max_upload})));
  tune(settings);
  restinio::http_server_t<Traits> server{restinio::external_io_context(ioctx), std::move(settings)};

  std::exception_ptr failure;
  std::atomic<bool> opened{false};
  std::thread drainer;
  asio::signal_set signals(ioctx, SIGINT, SIGTERM);
  signals.async_wait([&](const asio::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("signal {} received: finishing {} request(s) in flight", sig, in_flight_.load());
    draining_.store(true);
    // Wait on a separate thread so the I/O threads keep writing the answers in flight.
    drainer = std::thread([&] {
      auto deadline =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.shutdown_grace_ms);
      while (in_flight_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the last writes flush
      asio::post(ioctx, [&] {
        server.close_async([&] { ioctx.stop(); },
                           [&](std::exception_ptr ex) {
                             failure = ex;
                             ioctx.stop();
                           });
      });
    });
  });
  server.open_async(
      [&] {
        opened.store(true);
        on_listening(std::string(scheme) + "://" + options_.host + ":" +
                     std::to_string(options_.port));
      },
      [&](std::exception_ptr ex) {
        failure = ex;
        ioctx.stop();
      });
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < options_.io_threads; ++i) threads.emplace_back([&] { ioctx.run(); });
  ioctx.run();
  for (auto& t : threads) t.join();
  if (drainer.joinable()) drainer.join();
  workers_->join();
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      return std::unexpected(
          core::Error(core::Code::kUnavailable, std::string("cannot serve: ") + e.what()));
    }
  }
  return core::Ok();
}

core::Result<void> Server::Run(const std::function<void(const std::string&)>& on_listening) {
  if (options_.tls) {
    auto with_context = [this](auto& settings) { settings.tls_context(options_.tls); };
    return RunWith<TlsTraits>("https", with_context, on_listening);
  }
  auto nothing_more = [](auto&) {};
  return RunWith<PlainTraits>("http", nothing_more, on_listening);
}

}  // namespace kehu::http
