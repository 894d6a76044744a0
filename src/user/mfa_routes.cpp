// Routes of two-step verification: the second login step, enrolment, recovery codes,
// turning it off, and the administrators' reset.
#include "core/time.h"
#include "user/routes.h"

namespace kehu::user {

using http::Access;
using http::Request;
using http::Response;
namespace epr = http::epr;

namespace {

// String members of a JSON object; unknown members and wrong types are field errors.
core::Result<std::map<std::string, std::string>> Fields(const nlohmann::json& body,
                                                        std::initializer_list<const char*> names) {
  std::map<std::string, std::string> out;
  std::vector<core::FieldError> errs;
  for (const auto& [k, v] : body.items()) {
    bool known = false;
    for (const char* n : names) known = known || k == n;
    if (!known) {
      errs.push_back({k, "unknown_field", "unknown field " + k});
    } else if (!v.is_string()) {
      errs.push_back({k, "wrong_type", "must be a string"});
    } else {
      out[k] = v.get<std::string>();
    }
  }
  if (!errs.empty()) return std::unexpected(core::Error::InvalidFields(std::move(errs)));
  return out;
}

// A body is optional on DELETE: none (or an empty one) is an empty object.
core::Result<nlohmann::json> OptionalJsonObject(const Request& r) {
  if (r.body.empty()) return nlohmann::json::object();
  return r.JsonObject();
}

nlohmann::json StatusJson(const MfaStatus& s) {
  return {{"enabled", s.enabled},
          {"required", s.required},
          {"pending", s.pending},
          {"recovery_codes_left", s.recovery_codes_left},
          {"enabled_at", s.enabled_at ? nlohmann::json(core::FormatTime(*s.enabled_at))
                                      : nlohmann::json(nullptr)}};
}

}  // namespace

void RegisterMfaRoutes(http::Server& server, MfaService& mfa, UserService& users,
                       bool secure_cookies) {
  server.Add(restinio::http_method_post(), epr::path_to_params("/api/v1/auth/login/mfa"),
             Access::kPublic, [&mfa, secure_cookies](Request& r) -> core::Result<Response> {
               auto body = r.JsonObject();
               if (!body) return std::unexpected(body.error());
               auto f = Fields(*body, {"mfa_token", "code"});
               if (!f) return std::unexpected(f.error());
               auto login =
                   mfa.CompleteLogin((*f)["mfa_token"], (*f)["code"], r.remote_ip,
                                     r.Header("user-agent") ? *r.Header("user-agent") : "");
               if (!login) return std::unexpected(login.error());
               return LoginAnswer(*login, secure_cookies);
             });

  server.Add(restinio::http_method_get(), epr::path_to_params("/api/v1/auth/mfa"),
             Access::kAuthenticatedEnrolling, [&mfa](Request& r) -> core::Result<Response> {
               auto s = mfa.Status(r.actor);
               if (!s) return std::unexpected(s.error());
               return Response::Json(200, StatusJson(*s));
             });

  server.Add(restinio::http_method_post(), epr::path_to_params("/api/v1/auth/mfa/enroll"),
             Access::kAuthenticatedEnrolling, [&mfa](Request& r) -> core::Result<Response> {
               auto body = OptionalJsonObject(r);
               if (!body) return std::unexpected(body.error());
               if (auto f = Fields(*body, {}); !f) return std::unexpected(f.error());
               auto e = mfa.StartEnrolment(r.actor);
               if (!e) return std::unexpected(e.error());
               return Response::Json(200, {{"secret", e->secret},
                                           {"otpauth_uri", e->otpauth_uri},
                                           {"qr_svg", e->qr_svg},
                                           {"issuer", MfaService::kIssuer},
                                           {"account", r.actor.username}});
             });

  server.Add(restinio::http_method_post(), epr::path_to_params("/api/v1/auth/mfa/confirm"),
             Access::kAuthenticatedEnrolling, [&mfa](Request& r) -> core::Result<Response> {
               auto body = r.JsonObject();
               if (!body) return std::unexpected(body.error());
               auto f = Fields(*body, {"code"});
               if (!f) return std::unexpected(f.error());
               auto codes = mfa.ConfirmEnrolment(r.actor, (*f)["code"]);
               if (!codes) return std::unexpected(codes.error());
               return Response::Json(200, {{"enabled", true}, {"recovery_codes", *codes}});
             });

  server.Add(restinio::http_method_post(), epr::path_to_params("/api/v1/auth/mfa/recovery-codes"),
             Access::kAuthenticated, [&mfa](Request& r) -> core::Result<Response> {
               auto body = r.JsonObject();
               if (!body) return std::unexpected(body.error());
               auto f = Fields(*body, {"code"});
               if (!f) return std::unexpected(f.error());
               auto codes = mfa.RegenerateRecoveryCodes(r.actor, (*f)["code"]);
               if (!codes) return std::unexpected(codes.error());
               return Response::Json(200, {{"recovery_codes", *codes}});
             });

  server.Add(restinio::http_method_delete(), epr::path_to_params("/api/v1/auth/mfa"),
             Access::kAuthenticated, [&mfa](Request& r) -> core::Result<Response> {
               auto body = OptionalJsonObject(r);
               if (!body) return std::unexpected(body.error());
               auto f = Fields(*body, {"password", "code"});
               if (!f) return std::unexpected(f.error());
               auto done = mfa.Disable(r.actor, (*f)["password"], (*f)["code"]);
               if (!done) return std::unexpected(done.error());
               return Response::NoContent();
             });

  server.Add(
      restinio::http_method_delete(),
      epr::path_to_params("/api/v1/users/", epr::non_negative_decimal_number_p<int64_t>(), "/mfa"),
      Access::kAuthenticated, [&mfa, &users](Request& r, int64_t id) -> core::Result<Response> {
        auto was_on = mfa.Reset(r.actor, id);
        if (!was_on) return std::unexpected(was_on.error());
        auto u = users.Get(r.actor, id);
        if (!u) return std::unexpected(u.error());
        return Response::Json(200, {{"was_enabled", *was_on}, {"user", ToJson(*u)}});
      });
}

}  // namespace kehu::user
