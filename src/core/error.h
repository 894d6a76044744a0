// Errors are values: every fallible function returns Result<T> (std::expected<T, Error>).
// Exceptions thrown by libraries are caught at the call site and turned into an Error.
#pragma once

#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace kehu::core {

// Closed set of error codes. http/problem.cpp maps each to one HTTP status.
enum class Code {
  kInvalid,               // 422: input well-formed but failing validation (see details)
  kBadRequest,            // 400: malformed input (bad JSON, bad UTF-8, bad parameter)
  kNotFound,              // 404
  kConflict,              // 409: uniqueness violation, duplicate
  kPreconditionFailed,    // 412: stale If-Match version
  kPreconditionRequired,  // 428: If-Match missing where required
  kPayloadTooLarge,       // 413
  kUnsupportedMediaType,  // 415
  kUnauthenticated,       // 401
  kForbidden,             // 403
  kRateLimited,           // 429
  kUnavailable,           // 503
  kInternal,              // 500: never carries SQL or stack text to the client
};

// One problem with one input field, e.g. {"phones[0].number", "too_short", "..."}.
struct FieldError {
  std::string field;
  std::string code;     // stable machine code: required, too_short, not_a_number, ...
  std::string message;  // English, human readable; UI translates by code
};

class Error {
 public:
  Error(Code code, std::string message, std::vector<FieldError> details = {})
      : code_(code), message_(std::move(message)), details_(std::move(details)) {}

  static Error Invalid(std::string message, std::vector<FieldError> details = {}) {
    return {Code::kInvalid, std::move(message), std::move(details)};
  }
  // A kInvalid error summarising several field errors ("name: name is required (and 2 more)").
  static Error InvalidFields(std::vector<FieldError> details) {
    std::string summary;
    if (!details.empty()) {
      summary = details.front().field + ": " + details.front().message;
      if (details.size() > 1) summary += " (and " + std::to_string(details.size() - 1) + " more)";
    }
    return {Code::kInvalid, std::move(summary), std::move(details)};
  }
  static Error InvalidField(std::string field, std::string code, std::string message) {
    std::string summary = field + ": " + message;
    return {Code::kInvalid,
            std::move(summary),
            {FieldError{std::move(field), std::move(code), std::move(message)}}};
  }
  static Error BadRequest(std::string message) { return {Code::kBadRequest, std::move(message)}; }
  static Error NotFound(std::string message) { return {Code::kNotFound, std::move(message)}; }
  static Error Conflict(std::string message, std::vector<FieldError> details = {}) {
    return {Code::kConflict, std::move(message), std::move(details)};
  }
  static Error Internal(std::string message) { return {Code::kInternal, std::move(message)}; }
  static Error Unauthenticated(std::string message) {
    return {Code::kUnauthenticated, std::move(message)};
  }
  static Error Forbidden(std::string message) { return {Code::kForbidden, std::move(message)}; }
  // kRateLimited; the answer tells the client to wait `retry_after_s` seconds (Retry-After).
  static Error RateLimited(std::string message, int64_t retry_after_s) {
    Error e{Code::kRateLimited, std::move(message)};
    e.retry_after_s_ = retry_after_s;
    return e;
  }

  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::vector<FieldError>& details() const { return details_; }
  std::vector<FieldError>& mutable_details() { return details_; }
  // Seconds a client should wait before trying again; 0 when not said.
  int64_t retry_after_s() const { return retry_after_s_; }
  // Extra members of the problem+json answer (RFC 9457 extension members), e.g. the customers
  // a duplicate check found; null when none. A JSON object; its members never replace the
  // standard ones (type, title, status, detail, errors).
  const std::shared_ptr<const nlohmann::json>& extensions() const { return extensions_; }
  Error& WithExtensions(std::shared_ptr<const nlohmann::json> members) {
    extensions_ = std::move(members);
    return *this;
  }

 private:
  Code code_;
  std::string message_;
  std::vector<FieldError> details_;
  int64_t retry_after_s_ = 0;
  std::shared_ptr<const nlohmann::json> extensions_;
};

template <typename T>
using Result = std::expected<T, Error>;

// Result<void> success value: `return core::Ok();`
inline Result<void> Ok() { return {}; }

}  // namespace kehu::core
