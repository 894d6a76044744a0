#include "http/request.h"

#include <charconv>

#include "core/validate.h"

namespace kehu::http {
namespace {

struct ProblemKind {
  int status;
  const char* type;
  const char* title;
};

ProblemKind KindOf(core::Code c) {
  switch (c) {
    case core::Code::kInvalid:
      return {422, "invalid", "Invalid input"};
    case core::Code::kBadRequest:
      return {400, "bad-request", "Bad request"};
    case core::Code::kNotFound:
      return {404, "not-found", "Not found"};
    case core::Code::kConflict:
      return {409, "conflict", "Conflict"};
    case core::Code::kPreconditionFailed:
      return {412, "precondition-failed", "The resource was changed by someone else"};
    case core::Code::kPreconditionRequired:
      return {428, "precondition-required", "If-Match header required"};
    case core::Code::kPayloadTooLarge:
      return {413, "payload-too-large", "Request body too large"};
    case core::Code::kUnsupportedMediaType:
      return {415, "unsupported-media-type", "Unsupported media type"};
    case core::Code::kUnauthenticated:
      return {401, "unauthenticated", "Authentication required"};
    case core::Code::kForbidden:
      return {403, "forbidden", "Forbidden"};
    case core::Code::kRateLimited:
      return {429, "rate-limited", "Too many requests"};
    case core::Code::kUnavailable:
      return {503, "unavailable", "Service unavailable"};
    case core::Code::kInternal:
      return {500, "internal", "Internal error"};
  }
  return {500, "internal", "Internal error"};
}

// Bodies nested deeper than this are refused before parsing: copying, comparing or printing a
// JSON value recurses once per level, so a body of a few hundred thousand '[' (well under the
// 1 MiB limit) would overflow a worker thread's stack. Kehu's bodies nest three or four deep.
constexpr int kMaxJsonDepth = 64;

// True when arrays and objects in `s` nest deeper than kMaxJsonDepth (brackets inside strings
// do not count). `s` need not be well-formed JSON; the parser judges that afterwards.
bool NestedTooDeep(std::string_view s) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : s) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

const std::string* Request::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? nullptr : &it->second;
}

std::optional<std::string> Request::Cookie(std::string_view name) const {
  const std::string* h = Header("cookie");
  if (!h) return std::nullopt;
  std::string_view rest = *h;
  while (!rest.empty()) {
    auto semi = rest.find(';');
    std::string_view part = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    auto eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name) {
      return std::string(part.substr(eq + 1));
    }
  }
  return std::nullopt;
}

const std::string* Request::Query(const std::string& name) const {
  auto it = query.find(name);
  return it == query.end() ? nullptr : &it->second;
}

core::Result<nlohmann::json> Request::JsonObject() const {
  const std::string* ct = Header("content-type");
  if (!ct || !Lower(*ct).starts_with("application/json")) {
    return std::unexpected(
        core::Error(core::Code::kUnsupportedMediaType, "send the body as application/json"));
  }
  if (!core::IsValidUtf8(body)) {
    return std::unexpected(core::Error::BadRequest("the body is not valid UTF-8"));
  }
  if (NestedTooDeep(body)) {
    return std::unexpected(core::Error::BadRequest("the JSON body nests deeper than " +
                                                   std::to_string(kMaxJsonDepth) + " levels"));
  }
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    // Parse again with exceptions only to get the position for the message.
    try {
      auto unused = nlohmann::json::parse(body);
      (void)unused;
    } catch (const nlohmann::json::parse_error& e) {
      return std::unexpected(
          core::Error::BadRequest("malformed JSON at byte " + std::to_string(e.byte)));
    } catch (const nlohmann::json::exception&) {
      // out_of_range 406 for a number like 1e999 (found by fuzz/json_fuzz: it was a 500).
      return std::unexpected(core::Error::BadRequest("a number in the JSON body is out of range"));
    }
    return std::unexpected(core::Error::BadRequest("malformed JSON"));
  }
  if (!j.is_object()) {
    return std::unexpected(
        core::Error::InvalidField("", "wrong_type", "body must be a JSON object"));
  }
  return j;
}

core::Result<std::optional<int64_t>> Request::QueryInt(const std::string& name) const {
  const std::string* v = Query(name);
  if (!v) return std::optional<int64_t>{};
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || p != v->data() + v->size()) {
    return std::unexpected(
        core::Error::BadRequest("query parameter " + name + " must be an integer"));
  }
  return std::optional<int64_t>{out};
}

core::Result<int64_t> Request::IfMatchVersion() const {
  const std::string* h = Header("if-match");
  if (!h) {
    return std::unexpected(core::Error(core::Code::kPreconditionRequired,
                                       "send If-Match with the version you edited"));
  }
  std::string_view v = *h;
  if (v.starts_with("W/")) v.remove_prefix(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size() || out < 0) {
    return std::unexpected(core::Error::BadRequest("If-Match must be a version number"));
  }
  return out;
}

Response Response::Json(int status, const nlohmann::json& j) {
  return JsonText(status, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Response Response::JsonText(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::NoContent() {
  Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

Response Problem(const core::Error& e) {
  ProblemKind k = KindOf(e.code());
  nlohmann::json j = {{"type", std::string("https://kehu.dev/problems/") + k.type},
                      {"title", k.title},
                      {"status", k.status},
                      {"detail", e.message()}};
  if (!e.details().empty()) {
    nlohmann::json errs = nlohmann::json::array();
    for (const auto& d : e.details()) {
      errs.push_back({{"field", d.field}, {"code", d.code}, {"message", d.message}});
    }
    j["errors"] = std::move(errs);
  }
  if (e.extensions() && e.extensions()->is_object()) {
    for (const auto& [name, value] : e.extensions()->items()) {
      if (!j.contains(name)) j[name] = value;
    }
  }
  Response r = Response::Json(k.status, j);
  r.content_type = "application/problem+json";
  if (e.retry_after_s() > 0) r.WithHeader("Retry-After", std::to_string(e.retry_after_s()));
  return r;
}

Response Problem(int status, std::string_view type, std::string_view title,
                 std::string_view detail) {
  nlohmann::json j = {{"type", "https://kehu.dev/problems/" + std::string(type)},
                      {"title", title},
                      {"status", status},
                      {"detail", detail}};
  Response r = Response::Json(status, j);
  r.content_type = "application/problem+json";
  return r;
}

}  // namespace kehu::http
