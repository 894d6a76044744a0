#include "field/routes.h"

#include "core/time.h"

namespace kehu::field {

using http::Access;
using http::Request;
using http::Response;
namespace epr = http::epr;

nlohmann::json ToJson(const FieldDef& f) {
  return {{"id", f.id},
          {"entity", f.entity},
          {"name", f.name},
          {"label", f.label},
          {"type", TypeName(f.type)},
          {"options", f.options},
          {"required", f.required},
          {"position", f.position},
          {"created_at", core::FormatTime(f.created_at)}};
}

void RegisterRoutes(http::Server& server, FieldService& svc) {
  server.Add(restinio::http_method_get(), epr::path_to_params("/api/v1/fields"),
             Access::kAuthenticated, [&svc](Request& r) -> core::Result<Response> {
               auto defs = svc.List(r.actor, "customer");
               if (!defs) return std::unexpected(defs.error());
               nlohmann::json items = nlohmann::json::array();
               for (const FieldDef& f : *defs) items.push_back(ToJson(f));
               return Response::Json(200, {{"items", items}});
             });

  server.Add(restinio::http_method_post(), epr::path_to_params("/api/v1/fields"),
             Access::kAuthenticated, [&svc](Request& r) -> core::Result<Response> {
               auto body = r.JsonObject();
               if (!body) return std::unexpected(body.error());
               FieldDef f;
               std::vector<core::FieldError> errs;
               for (const auto& [k, v] : body->items()) {
                 if (k == "name" || k == "label") {
                   if (v.is_string())
                     (k == "name" ? f.name : f.label) = v.get<std::string>();
                   else
                     errs.push_back({k, "wrong_type", "must be a string"});
                 } else if (k == "type") {
                   if (!v.is_string() || !ParseType(v.get<std::string>(), f.type)) {
                     errs.push_back({k, "invalid_choice",
                                     "type is text, number, date, select or multiselect"});
                   }
                 } else if (k == "options") {
                   if (!v.is_array()) {
                     errs.push_back({k, "wrong_type", "must be a list of strings"});
                     continue;
                   }
                   for (const auto& o : v) {
                     if (o.is_string())
                       f.options.push_back(o.get<std::string>());
                     else
                       errs.push_back({k, "wrong_type", "must be a list of strings"});
                   }
                 } else if (k == "required") {
                   if (v.is_boolean())
                     f.required = v.get<bool>();
                   else
                     errs.push_back({k, "wrong_type", "must be true or false"});
                 } else if (k != "entity" || v != "customer") {
                   errs.push_back({k, "unknown_field", "unknown field " + k});
                 }
               }
               if (!body->contains("type"))
                 errs.push_back({"type", "required", "type is required"});
               if (!errs.empty()) {
                 return std::unexpected(core::Error::InvalidFields(std::move(errs)));
               }
               auto created = svc.Create(r.actor, std::move(f));
               if (!created) return std::unexpected(created.error());
               return Response::Json(201, ToJson(*created));
             });

  server.Add(restinio::http_method_delete(),
             epr::path_to_params("/api/v1/fields/", epr::path_fragment_p()), Access::kAuthenticated,
             [&svc](Request& r, const std::string& name) -> core::Result<Response> {
               auto done = svc.Delete(r.actor, "customer", name);
               if (!done) return std::unexpected(done.error());
               return Response::NoContent();
             });
}

}  // namespace kehu::field
