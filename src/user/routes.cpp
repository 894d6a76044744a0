#include "user/routes.h"

#include "core/time.h"
#include "crypto/crypto.h"

namespace kehu::user {

using http::Access;
using http::Request;
using http::Response;
namespace epr = http::epr;

nlohmann::json ToJson(const User& u) {
  return {{"id", u.id},
          {"username", u.username},
          {"display_name", u.display_name},
          {"role", u.role},
          {"team_id", u.team_id ? nlohmann::json(*u.team_id) : nlohmann::json(nullptr)},
          {"active", u.active},
          {"created_at", core::FormatTime(u.created_at)},
          {"version", u.version},
          {"mfa_enabled", u.mfa_enabled}};
}

std::string CookieAttrs(bool secure_cookies) {
  return std::string("; Path=/; HttpOnly; SameSite=Strict") + (secure_cookies ? "; Secure" : "");
}

nlohmann::json ActorJson(const core::Actor& a, const User* u) {
  nlohmann::json j = u ? ToJson(*u)
                       : nlohmann::json{{"id", a.user_id},
                                        {"username", a.username},
                                        {"display_name", a.display_name},
                                        {"role", a.role},
                                        {"team_id", nullptr},
                                        {"active", true},
                                        {"created_at", core::FormatTime(0)},
                                        {"version", 1},
                                        {"mfa_enabled", false}};
  j["permissions"] = a.perms.Names();
  j["scope"] = std::string(core::ScopeName(a.scope));
  j["mfa_required"] = a.mfa_required;
  return j;
}

namespace {

// Reads a user body: string members, team_id (integer or null) and active (boolean).
core::Result<UserChange> ParseUserBody(const nlohmann::json& body,
                                       std::initializer_list<const char*> allowed) {
  UserChange c;
  std::vector<core::FieldError> errs;
  for (const auto& [k, v] : body.items()) {
    bool known = false;
    for (const char* n : allowed) known = known || k == n;
    if (!known) {
      errs.push_back({k, "unknown_field", "unknown field " + k});
    } else if (k == "team_id") {
      if (v.is_null()) {
        c.team_id = std::optional<int64_t>();
      } else if (v.is_number_integer()) {
        c.team_id = std::optional<int64_t>(v.get<int64_t>());
      } else {
        errs.push_back({k, "wrong_type", "must be an integer or null"});
      }
    } else if (k == "active") {
      if (v.is_boolean()) {
        c.active = v.get<bool>();
      } else {
        errs.push_back({k, "wrong_type", "must be true or false"});
      }
    } else if (!v.is_string()) {
      errs.push_back({k, "wrong_type", "must be a string"});
    } else if (k == "display_name") {
      c.display_name = v.get<std::string>();
    } else if (k == "role") {
      c.role = v.get<std::string>();
    } else if (k == "password") {
      c.password = v.get<std::string>();
    }
  }
  if (!errs.empty()) return std::unexpected(core::Error::InvalidFields(std::move(errs)));
  return c;
}

nlohmann::json TokenJson(const ApiToken& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"created_at", core::FormatTime(t.created_at)},
          {"last_used_at",
           t.last_used_at ? nlohmann::json(core::FormatTime(*t.last_used_at)) : nullptr}};
}

// Reads string members of a JSON object; unknown members and wrong types are field errors.
core::Result<std::map<std::string, std::string>> Strings(const nlohmann::json& body,
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
  if (!errs.empty()) {
    return std::unexpected(core::Error::InvalidFields(std::move(errs)));
  }
  return out;
}

}  // namespace

Response LoginAnswer(const LoginResult& login, bool secure_cookies) {
  if (login.mfa) {
    // The password was right; no session until the second factor is (POST /auth/login/mfa).
    return Response::Json(200, {{"mfa_required", true},
                                {"mfa_token", login.mfa->token},
                                {"expires_at", core::FormatTime(login.mfa->expires_at)}});
  }
  return Response::Json(200, {{"user", ActorJson(login.actor, &login.user)},
                              {"csrf_token", login.csrf_token},
                              {"new_device", login.new_device},
                              {"mfa_required", false},
                              {"mfa_enrollment_required", login.mfa_enrollment_required}})
      .WithHeader("Set-Cookie", "kehu_session=" + login.session_token +
                                    CookieAttrs(secure_cookies) + "; Max-Age=604800");
}

void RegisterRoutes(http::Server& server, UserService& svc, bool secure_cookies) {
  const std::string cookie_attrs = CookieAttrs(secure_cookies);

  server.Add(restinio::http_method_post(), epr::path_to_params("/api/v1/auth/login"),
             Access::kPublic, [&svc, secure_cookies](Request& r) -> core::Result<Response> {
               auto body = r.JsonObject();
               if (!body) return std::unexpected(body.error());
               auto f = Strings(*body, {"username", "password"});
               if (!f) return std::unexpected(f.error());
               auto login = svc.Login((*f)["username"], (*f)["password"], r.remote_ip,
                                      r.Header("user-agent") ? *r.Header("user-agent") : "");
               if (!login) return std::unexpected(login.error());
               return LoginAnswer(*login, secure_cookies);
             });

  server.Add(restinio::http_method_post(), epr::path_to_params("/api/v1/auth/logout"),
             Access::kAuthenticatedEnrolling,
             [&svc, cookie_attrs](Request& r) -> core::Result<Response> {
               if (auto token = r.Cookie("kehu_session")) {
                 if (auto done = svc.Logout(r.actor, *token); !done)
                   return std::unexpected(done.error());
               }
               return Response::NoContent().WithHeader(
                   "Set-Cookie", "kehu_session=" + cookie_attrs + "; Max-Age=0");
             });

  server.AddInline(
      restinio::http_method_get(), epr::path_to_params("/api/v1/auth/me"),
      Access::kAuthenticatedEnrolling, [&svc](Request& r) -> core::Result<Response> {
        auto u = svc.Get(r.actor, r.actor.user_id);
        return Response::Json(
            200, {{"user", ActorJson(r.actor, u ? &*u : nullptr)},
                  {"csrf_token",
                   r.csrf_token.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.csrf_token)}});
      });

  server.Add(restinio::http_method_get(), epr::path_to_params("/api/v1/users"),
             Access::kAuthenticated, [&svc](Request& r) -> core::Result<Response> {
               auto users = svc.List(r.actor);
               if (!users) return std::unexpected(users.error());
               nlohmann::json items = nlohmann::json::array();
               for (const User& u : *users) items.push_back(ToJson(u));
               return Response::Json(200, {{"items", items}, {"next_cursor", nullptr}});
             });

  server.Add(restinio::http_method_post(), epr::path_to_params("/api/v1/users"),
             Access::kAuthenticated, [&svc](Request& r) -> core::Result<Response> {
               auto body = r.JsonObject();
               if (!body) return std::unexpected(body.error());
               std::string username;
               nlohmann::json rest = *body;
               if (auto it = rest.find("username"); it != rest.end()) {
                 if (!it->is_string()) {
                   return std::unexpected(
                       core::Error::InvalidField("username", "wrong_type", "must be a string"));
                 }
                 username = it->get<std::string>();
                 rest.erase(it);
               }
               auto c = ParseUserBody(rest, {"password", "display_name", "role", "team_id"});
               if (!c) return std::unexpected(c.error());
               NewUser nu;
               nu.username = username;
               nu.password = c->password.value_or("");
               nu.display_name = c->display_name.value_or("");
               nu.role = c->role.value_or("sales");
               if (c->team_id) nu.team_id = *c->team_id;
               auto u = svc.Create(r.actor, std::move(nu));
               if (!u) return std::unexpected(u.error());
               return Response::Json(201, ToJson(*u));
             });

  server.Add(
      restinio::http_method_patch(),
      epr::path_to_params("/api/v1/users/", epr::non_negative_decimal_number_p<int64_t>()),
      Access::kAuthenticated, [&svc](Request& r, int64_t id) -> core::Result<Response> {
        auto body = r.JsonObject();
        if (!body) return std::unexpected(body.error());
        auto c = ParseUserBody(*body, {"password", "display_name", "role", "team_id", "active"});
        if (!c) return std::unexpected(c.error());
        auto version = r.IfMatchVersion();
        if (!version) return std::unexpected(version.error());
        auto u = svc.Update(r.actor, id, *version, *c);
        if (!u) return std::unexpected(u.error());
        Response resp = Response::Json(200, ToJson(*u));
        resp.WithHeader("ETag", "\"" + std::to_string(u->version) + "\"");
        return resp;
      });

  const auto uid_p = epr::non_negative_decimal_number_p<int64_t>();
  const auto sid_p = epr::path_fragment_p();
  auto sessions_json = [](const std::vector<SessionInfo>& list, const std::string& current) {
    nlohmann::json items = nlohmann::json::array();
    for (const SessionInfo& s : list) {
      items.push_back({{"id", s.token_hash.substr(0, 16)},
                       {"ip", s.ip},
                       {"user_agent", s.user_agent},
                       {"created_at", core::FormatTime(s.created_at)},
                       {"last_seen_at", core::FormatTime(s.last_seen_at)},
                       {"expires_at", core::FormatTime(s.expires_at)},
                       {"current", !current.empty() && s.token_hash == current}});
    }
    return nlohmann::json{{"items", items}};
  };
  auto current_hash = [](const Request& r) {
    auto cookie = r.Cookie("kehu_session");
    return cookie ? crypto::TokenHash(*cookie) : std::string();
  };
  auto devices_json = [](const std::vector<Device>& list) {
    nlohmann::json items = nlohmann::json::array();
    for (const Device& d : list) {
      items.push_back({{"ip", d.ip},
                       {"user_agent", d.user_agent},
                       {"first_seen_at", core::FormatTime(d.first_seen_at)},
                       {"last_seen_at", core::FormatTime(d.last_seen_at)}});
    }
    return nlohmann::json{{"items", items}};
  };

  server.Add(restinio::http_method_get(), epr::path_to_params("/api/v1/auth/sessions"),
             Access::kAuthenticated,
             [&svc, sessions_json, current_hash](Request& r) -> core::Result<Response> {
               auto list = svc.Sessions(r.actor, r.actor.user_id);
               if (!list) return std::unexpected(list.error());
               return Response::Json(200, sessions_json(*list, current_hash(r)));
             });
  server.Add(restinio::http_method_delete(), epr::path_to_params("/api/v1/auth/sessions/", sid_p),
             Access::kAuthenticated, [&svc](Request& r, std::string sid) -> core::Result<Response> {
               auto n = svc.RevokeSessions(r.actor, r.actor.user_id, sid);
               if (!n) return std::unexpected(n.error());
               return Response::NoContent();
             });
  server.Add(restinio::http_method_post(), epr::path_to_params("/api/v1/auth/password"),
             Access::kAuthenticated, [&svc, current_hash](Request& r) -> core::Result<Response> {
               auto body = r.JsonObject();
               if (!body) return std::unexpected(body.error());
               auto f = Strings(*body, {"current_password", "new_password"});
               if (!f) return std::unexpected(f.error());
               auto done = svc.ChangeOwnPassword(r.actor, (*f)["current_password"],
                                                 (*f)["new_password"], current_hash(r));
               if (!done) return std::unexpected(done.error());
               return Response::NoContent();
             });
  server.Add(restinio::http_method_get(), epr::path_to_params("/api/v1/auth/devices"),
             Access::kAuthenticated, [&svc, devices_json](Request& r) -> core::Result<Response> {
               auto list = svc.Devices(r.actor, r.actor.user_id);
               if (!list) return std::unexpected(list.error());
               return Response::Json(200, devices_json(*list));
             });
  server.Add(restinio::http_method_get(), epr::path_to_params("/api/v1/users/", uid_p, "/sessions"),
             Access::kAuthenticated,
             [&svc, sessions_json, current_hash](Request& r, int64_t id) -> core::Result<Response> {
               auto list = svc.Sessions(r.actor, id);
               if (!list) return std::unexpected(list.error());
               return Response::Json(200, sessions_json(*list, current_hash(r)));
             });
  server.Add(restinio::http_method_delete(),
             epr::path_to_params("/api/v1/users/", uid_p, "/sessions"), Access::kAuthenticated,
             [&svc](Request& r, int64_t id) -> core::Result<Response> {
               auto n = svc.RevokeSessions(r.actor, id, "");
               if (!n) return std::unexpected(n.error());
               return Response::Json(200, {{"revoked", *n}});
             });
  server.Add(restinio::http_method_get(), epr::path_to_params("/api/v1/users/", uid_p, "/devices"),
             Access::kAuthenticated,
             [&svc, devices_json](Request& r, int64_t id) -> core::Result<Response> {
               auto list = svc.Devices(r.actor, id);
               if (!list) return std::unexpected(list.error());
               return Response::Json(200, devices_json(*list));
             });

  server.Add(restinio::http_method_get(), epr::path_to_params("/api/v1/tokens"),
             Access::kAuthenticated, [&svc](Request& r) -> core::Result<Response> {
               auto tokens = svc.ListTokens(r.actor);
               if (!tokens) return std::unexpected(tokens.error());
               nlohmann::json items = nlohmann::json::array();
               for (const ApiToken& t : *tokens) items.push_back(TokenJson(t));
               return Response::Json(200, {{"items", items}});
             });

  server.Add(restinio::http_method_post(), epr::path_to_params("/api/v1/tokens"),
             Access::kAuthenticated, [&svc](Request& r) -> core::Result<Response> {
               auto body = r.JsonObject();
               if (!body) return std::unexpected(body.error());
               auto f = Strings(*body, {"name"});
               if (!f) return std::unexpected(f.error());
               auto t = svc.CreateToken(r.actor, (*f)["name"]);
               if (!t) return std::unexpected(t.error());
               nlohmann::json j = TokenJson(t->first);
               j.erase("last_used_at");
               j["token"] = t->second;
               return Response::Json(201, j);
             });

  server.Add(restinio::http_method_delete(),
             epr::path_to_params("/api/v1/tokens/", epr::non_negative_decimal_number_p<int64_t>()),
             Access::kAuthenticated, [&svc](Request& r, int64_t id) -> core::Result<Response> {
               auto done = svc.DeleteToken(r.actor, id);
               if (!done) return std::unexpected(done.error());
               return Response::NoContent();
             });
}

}  // namespace kehu::user
