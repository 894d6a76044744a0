// The request and response types route handlers see. Handlers are thin: parse typed
// parameters and the JSON body, call one service method, and reply.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/actor.h"
#include "core/error.h"

namespace kehu::http {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;
  std::map<std::string, std::string> query;    // decoded
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string remote_ip;
  core::Actor actor;       // set for authenticated routes
  std::string csrf_token;  // of the session, empty for API tokens

  const std::string* Header(const std::string& lower_name) const;
  std::optional<std::string> Cookie(std::string_view name) const;
  const std::string* Query(const std::string& name) const;

  // The body as a JSON object: 415 unless Content-Type is application/json, 400 for invalid
  // UTF-8, nesting deeper than 64 levels or malformed JSON, 422 when it is not an object.
  core::Result<nlohmann::json> JsonObject() const;
  // Typed query parameters: nullopt when absent, kBadRequest when malformed.
  core::Result<std::optional<int64_t>> QueryInt(const std::string& name) const;
  // The integer version in If-Match ("3" or "\"3\""); 428 when absent, 400 when malformed.
  core::Result<int64_t> IfMatchVersion() const;
};

// Takes the pieces of a streamed answer body (Response::stream), on the worker thread.
class BodyWriter {
 public:
  virtual ~BodyWriter() = default;
  // Queues `piece` for the client; waits while a few hundred KiB are still waiting for a
  // slow client. False once the client is gone (stop producing). An empty piece sends the
  // status and headers now, if not sent yet (the answer is then committed).
  virtual bool Write(std::string_view piece) = 0;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Set for a streamed answer (a large download): `body` is unused and `stream` writes the
  // body in pieces, sent with chunked transfer encoding; status and headers go out with the
  // first piece. An Error returned before the first piece becomes a problem+json answer; one
  // returned after it cuts the body short (no final chunk: the client sees it incomplete).
  // Only for routes added with Server::Add (it runs on a worker thread).
  std::function<core::Result<void>(BodyWriter&)> stream;

  static Response Json(int status, const nlohmann::json& j);
  // A JSON body already written as text.
  static Response JsonText(int status, std::string body);
  static Response NoContent();
  Response& WithHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

// RFC 9457 problem+json for an Error; never carries SQL or stack text.
Response Problem(const core::Error& e);
// A problem with an explicit type suffix (e.g. "csrf") and status.
Response Problem(int status, std::string_view type, std::string_view title,
                 std::string_view detail);

}  // namespace kehu::http
