#include "access/routes.h"

#include <fmt/format.h>

#include "core/time.h"

namespace kehu::access {

using http::Access;
using http::Request;
using http::Response;
namespace epr = http::epr;

nlohmann::json ToJson(const Role& r) {
  return {{"id", r.id},
          {"key", r.key},
          {"name", r.name},
          {"builtin", r.builtin},
          {"permissions", r.perms.Names()},
          {"scope", std::string(core::ScopeName(r.scope))},
          {"reveal_quota", r.reveal_quota},
          {"ip_allow", r.ip_allow},
          {"mfa_required", r.mfa_required},
          {"user_count", r.user_count},
          {"version", r.version}};
}

nlohmann::json ToJson(const Team& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"parent_id", t.parent_id ? nlohmann::json(*t.parent_id) : nlohmann::json(nullptr)},
          {"member_count", t.member_count},
          {"created_at", core::FormatTime(t.created_at)}};
}

namespace {

Response WithEtag(Response r, const Role& role) {
  r.WithHeader("ETag", fmt::format("\"{}\"", role.version));
  return r;
}

core::Result<RoleInput> ParseRole(const nlohmann::json& body) {
  RoleInput in;
  std::vector<core::FieldError> errs;
  for (const auto& [k, v] : body.items()) {
    if (k == "key" || k == "name" || k == "scope") {
      if (!v.is_string()) {
        errs.push_back({k, "wrong_type", "must be a string"});
        continue;
      }
      (k == "key" ? in.key : k == "name" ? in.name : in.scope) = v.get<std::string>();
    } else if (k == "reveal_quota") {
      if (!v.is_number_integer()) {
        errs.push_back({k, "wrong_type", "must be an integer"});
        continue;
      }
      in.reveal_quota = v.get<int>();
    } else if (k == "mfa_required") {
      if (!v.is_boolean()) {
        errs.push_back({k, "wrong_type", "must be true or false"});
        continue;
      }
      in.mfa_required = v.get<bool>();
    } else if (k == "ip_allow") {
      if (!v.is_array()) {
        errs.push_back({k, "wrong_type", "must be an array of addresses or CIDR networks"});
        continue;
      }
      std::vector<std::string> rules;
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (!v[i].is_string()) {
          errs.push_back({k + "[" + std::to_string(i) + "]", "wrong_type", "must be a string"});
        } else {
          rules.push_back(v[i].get<std::string>());
        }
      }
      in.ip_allow = std::move(rules);
    } else if (k == "permissions") {
      if (!v.is_array()) {
        errs.push_back({k, "wrong_type", "must be an array of permission names"});
        continue;
      }
      std::vector<std::string> names;
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (!v[i].is_string()) {
          errs.push_back({k + "[" + std::to_string(i) + "]", "wrong_type", "must be a string"});
        } else {
          names.push_back(v[i].get<std::string>());
        }
      }
      in.permissions = std::move(names);
    } else {
      errs.push_back({k, "unknown_field", "unknown field " + k});
    }
  }
  if (!errs.empty()) return std::unexpected(core::Error::InvalidFields(std::move(errs)));
  return in;
}

struct TeamBody {
  std::string name;
  std::optional<int64_t> parent_id;
};

core::Result<TeamBody> ParseTeam(const nlohmann::json& body) {
  TeamBody t;
  std::vector<core::FieldError> errs;
  for (const auto& [k, v] : body.items()) {
    if (k == "name") {
      if (v.is_string()) {
        t.name = v.get<std::string>();
      } else {
        errs.push_back({k, "wrong_type", "must be a string"});
      }
    } else if (k == "parent_id") {
      if (v.is_number_integer()) {
        t.parent_id = v.get<int64_t>();
      } else if (!v.is_null()) {
        errs.push_back({k, "wrong_type", "must be an integer or null"});
      }
    } else {
      errs.push_back({k, "unknown_field", "unknown field " + k});
    }
  }
  if (!errs.empty()) return std::unexpected(core::Error::InvalidFields(std::move(errs)));
  return t;
}

}  // namespace

void RegisterRoutes(http::Server& server, AccessService& svc) {
  const auto id_p = epr::non_negative_decimal_number_p<std::int64_t>();

  server.Add(restinio::http_method_get(), epr::path_to_params("/api/v1/permissions"),
             Access::kAuthenticated, [](Request&) -> core::Result<Response> {
               nlohmann::json items = nlohmann::json::array();
               for (core::Perm p : core::AllPerms())
                 items.push_back(std::string(core::PermName(p)));
               return Response::Json(200, {{"items", items}});
             });

  server.Add(restinio::http_method_get(), epr::path_to_params("/api/v1/roles"),
             Access::kAuthenticated, [&svc](Request& r) -> core::Result<Response> {
               auto roles = svc.ListRoles(r.actor);
               if (!roles) return std::unexpected(roles.error());
               nlohmann::json items = nlohmann::json::array();
               for (const Role& role : *roles) items.push_back(ToJson(role));
               return Response::Json(200, {{"items", items}});
             });

  server.Add(restinio::http_method_post(), epr::path_to_params("/api/v1/roles"),
             Access::kAuthenticated, [&svc](Request& r) -> core::Result<Response> {
               auto body = r.JsonObject();
               if (!body) return std::unexpected(body.error());
               auto in = ParseRole(*body);
               if (!in) return std::unexpected(in.error());
               auto role = svc.CreateRole(r.actor, *in);
               if (!role) return std::unexpected(role.error());
               return WithEtag(Response::Json(201, ToJson(*role)), *role);
             });

  server.Add(restinio::http_method_patch(), epr::path_to_params("/api/v1/roles/", id_p),
             Access::kAuthenticated, [&svc](Request& r, int64_t id) -> core::Result<Response> {
               auto version = r.IfMatchVersion();
               if (!version) return std::unexpected(version.error());
               auto body = r.JsonObject();
               if (!body) return std::unexpected(body.error());
               auto in = ParseRole(*body);
               if (!in) return std::unexpected(in.error());
               auto role = svc.UpdateRole(r.actor, id, *version, *in);
               if (!role) return std::unexpected(role.error());
               return WithEtag(Response::Json(200, ToJson(*role)), *role);
             });

  server.Add(restinio::http_method_delete(), epr::path_to_params("/api/v1/roles/", id_p),
             Access::kAuthenticated, [&svc](Request& r, int64_t id) -> core::Result<Response> {
               auto done = svc.DeleteRole(r.actor, id);
               if (!done) return std::unexpected(done.error());
               return Response::NoContent();
             });

  server.Add(restinio::http_method_get(), epr::path_to_params("/api/v1/teams"),
             Access::kAuthenticated, [&svc](Request& r) -> core::Result<Response> {
               auto teams = svc.ListTeams(r.actor);
               if (!teams) return std::unexpected(teams.error());
               nlohmann::json items = nlohmann::json::array();
               for (const Team& t : *teams) items.push_back(ToJson(t));
               return Response::Json(200, {{"items", items}});
             });

  server.Add(restinio::http_method_post(), epr::path_to_params("/api/v1/teams"),
             Access::kAuthenticated, [&svc](Request& r) -> core::Result<Response> {
               auto body = r.JsonObject();
               if (!body) return std::unexpected(body.error());
               auto t = ParseTeam(*body);
               if (!t) return std::unexpected(t.error());
               auto team = svc.CreateTeam(r.actor, t->name, t->parent_id);
               if (!team) return std::unexpected(team.error());
               return Response::Json(201, ToJson(*team));
             });

  // PUT: a team is its name and parent, both given.
  server.Add(restinio::http_method_put(), epr::path_to_params("/api/v1/teams/", id_p),
             Access::kAuthenticated, [&svc](Request& r, int64_t id) -> core::Result<Response> {
               auto body = r.JsonObject();
               if (!body) return std::unexpected(body.error());
               auto t = ParseTeam(*body);
               if (!t) return std::unexpected(t.error());
               auto team = svc.UpdateTeam(r.actor, id, t->name, t->parent_id);
               if (!team) return std::unexpected(team.error());
               return Response::Json(200, ToJson(*team));
             });

  server.Add(restinio::http_method_delete(), epr::path_to_params("/api/v1/teams/", id_p),
             Access::kAuthenticated, [&svc](Request& r, int64_t id) -> core::Result<Response> {
               auto done = svc.DeleteTeam(r.actor, id);
               if (!done) return std::unexpected(done.error());
               return Response::NoContent();
             });
}

}  // namespace kehu::access
