#include "merge/routes.h"

#include <fmt/format.h>

#include "audit/codec.h"
#include "audit/routes.h"
#include "core/time.h"
#include "customer/codec.h"

namespace kehu::merge {
namespace {

using http::Access;
using http::Request;
using http::Response;
using nlohmann::json;
namespace epr = http::epr;

json Time(std::optional<int64_t> ms) { return ms ? json(core::FormatTime(*ms)) : json(nullptr); }

// A list of positive customer ids in `field`.
std::vector<int64_t> Ids(const json& v, const std::string& field,
                         std::vector<core::FieldError>& errs) {
  std::vector<int64_t> out;
  if (!v.is_array()) {
    errs.push_back({field, "wrong_type", field + " is a list of customer ids"});
    return out;
  }
  for (const json& x : v) {
    if (!x.is_number_integer() || x.get<int64_t>() <= 0) {
      errs.push_back({field, "wrong_type", field + " holds positive whole numbers"});
      return {};
    }
    out.push_back(x.get<int64_t>());
  }
  return out;
}

core::Result<MergeRequest> ParseMergeRequest(const json& body) {
  MergeRequest req;
  std::vector<core::FieldError> errs;
  for (const auto& [k, v] : body.items()) {
    if (k == "survivor_id") {
      if (!v.is_number_integer() || v.get<int64_t>() <= 0) {
        errs.push_back({k, "wrong_type", "survivor_id is a customer id"});
      } else {
        req.survivor_id = v.get<int64_t>();
      }
    } else if (k == "loser_ids") {
      req.loser_ids = Ids(v, k, errs);
    } else if (k == "choices") {
      if (!v.is_object()) {
        errs.push_back({k, "wrong_type", "choices maps a field to the customer id to keep"});
        continue;
      }
      for (const auto& [f, who] : v.items()) {
        if (!who.is_number_integer()) {
          errs.push_back({"choices." + f, "wrong_type", "a customer id"});
        } else {
          req.choices[f] = who.get<int64_t>();
        }
      }
    } else if (k == "versions") {
      if (!v.is_object()) {
        errs.push_back({k, "wrong_type", "versions maps each customer id to its version"});
        continue;
      }
      for (const auto& [id, ver] : v.items()) {
        int64_t n = 0;
        try {
          std::size_t used = 0;
          n = std::stoll(id, &used);
          if (used != id.size() || n <= 0) throw std::invalid_argument(id);
        } catch (const std::exception&) {
          errs.push_back({"versions." + id, "wrong_type", "keys of versions are customer ids"});
          continue;
        }
        if (!ver.is_number_integer() || ver.get<int64_t>() < 1) {
          errs.push_back({"versions." + id, "wrong_type", "a version is a whole number"});
        } else {
          req.versions[n] = ver.get<int64_t>();
        }
      }
    } else {
      errs.push_back({k, "unknown_field", "unknown field " + k});
    }
  }
  if (!body.contains("survivor_id") && errs.empty()) {
    errs.push_back({"survivor_id", "required", "survivor_id is required"});
  }
  if (!errs.empty()) return std::unexpected(core::Error::InvalidFields(std::move(errs)));
  return req;
}

core::Result<std::pair<std::optional<int64_t>, int>> ParsePage(const Request& r,
                                                               const std::set<std::string>& ok) {
  for (const auto& [k, v] : r.query) {
    if (!ok.contains(k)) {
      return std::unexpected(core::Error::BadRequest(fmt::format("unknown query parameter {}", k)));
    }
  }
  auto limit = r.QueryInt("limit");
  if (!limit) return std::unexpected(limit.error());
  auto cursor = r.QueryInt("cursor");
  if (!cursor || (*cursor && **cursor < 1)) {
    return std::unexpected(core::Error::BadRequest("bad cursor: pass next_cursor as given"));
  }
  const int64_t l = limit->value_or(50);
  if (l < 1 || l > 200) return std::unexpected(core::Error::BadRequest("limit is 1 to 200"));
  return std::pair{*cursor, static_cast<int>(l)};
}

}  // namespace

json ToJson(const MergeRecord& r) {
  json losers = json::array();
  for (const customer::Row& l : r.losers_before) losers.push_back({{"id", l.id}, {"name", l.name}});
  return {{"id", r.id},
          {"survivor_id", r.survivor_id},
          {"survivor_name", r.survivor_before.name},
          {"loser_ids", r.loser_ids},
          {"losers", losers},
          {"fields", r.fields},
          {"bulk", r.bulk},
          {"merged_by", r.merged_by},
          {"merged_by_name", r.merged_by_name},
          {"merged_at", core::FormatTime(r.merged_at)},
          {"survivor_version", r.survivor_version},
          {"undone_at", Time(r.undone_at)},
          {"undone_by", r.undone_at ? json(r.undone_by) : json(nullptr)}};
}

json ToJson(const Suggestion& s) {
  json members = json::array();
  for (std::size_t i = 0; i < s.members.size(); ++i) {
    members.push_back(
        {{"customer", customer::ToJson(s.members[i])}, {"completeness", s.completeness[i]}});
  }
  json fields = json::array();
  for (const FieldChoice& f : s.fields) {
    json values = json::array();
    for (const auto& [id, v] : f.values) values.push_back({{"customer_id", id}, {"value", v}});
    fields.push_back({{"field", f.field},
                      {"values", values},
                      {"default", f.default_member},
                      {"differs", f.differs}});
  }
  return {{"survivor_id", s.survivor_id},
          {"members", members},
          {"fields", fields},
          {"preview", customer::ToJson(s.preview)}};
}

json ToJson(const BulkResult& b) {
  return {{"dry_run", b.dry_run},
          {"groups", b.groups},
          {"merged_customers", b.merged_customers},
          {"skipped", b.skipped},
          {"merge_ids", b.merge_ids}};
}

void RegisterRoutes(http::Server& server, MergeService& svc) {
  const auto id_p = epr::non_negative_decimal_number_p<std::int64_t>();

  server.Add(restinio::http_method_post(), epr::path_to_params("/api/v1/duplicates/suggest"),
             Access::kAuthenticated, [&svc](Request& r) -> core::Result<Response> {
               auto body = r.JsonObject();
               if (!body) return std::unexpected(body.error());
               std::vector<core::FieldError> errs;
               std::vector<int64_t> ids;
               for (const auto& [k, v] : body->items()) {
                 if (k == "ids") {
                   ids = Ids(v, k, errs);
                 } else {
                   errs.push_back({k, "unknown_field", "unknown field " + k});
                 }
               }
               if (!body->contains("ids") && errs.empty()) {
                 errs.push_back({"ids", "required", "ids is required"});
               }
               if (!errs.empty()) return std::unexpected(core::Error::InvalidFields(errs));
               auto s = svc.Suggest(r.actor, ids);
               if (!s) return std::unexpected(s.error());
               return Response::Json(200, ToJson(*s));
             });

  server.Add(restinio::http_method_post(), epr::path_to_params("/api/v1/merges"),
             Access::kAuthenticated, [&svc](Request& r) -> core::Result<Response> {
               auto body = r.JsonObject();
               if (!body) return std::unexpected(body.error());
               auto req = ParseMergeRequest(*body);
               if (!req) return std::unexpected(req.error());
               auto rec = svc.Merge(r.actor, *req);
               if (!rec) return std::unexpected(rec.error());
               return Response::Json(201, ToJson(*rec))
                   .WithHeader("Location", fmt::format("/api/v1/merges/{}", rec->id));
             });

  server.Add(restinio::http_method_get(), epr::path_to_params("/api/v1/merges"),
             Access::kAuthenticated, [&svc](Request& r) -> core::Result<Response> {
               auto page = ParsePage(r, {"limit", "cursor"});
               if (!page) return std::unexpected(page.error());
               auto p = svc.List(r.actor, page->first, page->second);
               if (!p) return std::unexpected(p.error());
               json items = json::array();
               for (const MergeRecord& m : p->items) items.push_back(ToJson(m));
               return Response::Json(
                   200, {{"items", items},
                         {"next_cursor",
                          p->next_cursor ? json(std::to_string(*p->next_cursor)) : json(nullptr)}});
             });

  server.Add(restinio::http_method_post(), epr::path_to_params("/api/v1/merges/bulk-exact-phone"),
             Access::kAuthenticated, [&svc](Request& r) -> core::Result<Response> {
               bool dry_run = false;
               if (!r.body.empty()) {
                 auto body = r.JsonObject();
                 if (!body) return std::unexpected(body.error());
                 std::vector<core::FieldError> errs;
                 for (const auto& [k, v] : body->items()) {
                   if (k == "dry_run" && v.is_boolean()) {
                     dry_run = v.get<bool>();
                   } else if (k == "dry_run") {
                     errs.push_back({k, "wrong_type", "dry_run is true or false"});
                   } else {
                     errs.push_back({k, "unknown_field", "unknown field " + k});
                   }
                 }
                 if (!errs.empty()) return std::unexpected(core::Error::InvalidFields(errs));
               }
               auto b = svc.BulkMergeExactPhone(r.actor, dry_run);
               if (!b) return std::unexpected(b.error());
               return Response::Json(200, ToJson(*b));
             });

  server.Add(restinio::http_method_get(), epr::path_to_params("/api/v1/merges/", id_p),
             Access::kAuthenticated, [&svc](Request& r, int64_t id) -> core::Result<Response> {
               auto rec = svc.Get(r.actor, id);
               if (!rec) return std::unexpected(rec.error());
               return Response::Json(200, ToJson(*rec));
             });

  server.Add(restinio::http_method_post(), epr::path_to_params("/api/v1/merges/", id_p, "/undo"),
             Access::kAuthenticated, [&svc](Request& r, int64_t id) -> core::Result<Response> {
               auto rec = svc.Undo(r.actor, id);
               if (!rec) return std::unexpected(rec.error());
               return Response::Json(200, ToJson(*rec));
             });

  server.Add(restinio::http_method_get(),
             epr::path_to_params("/api/v1/customers/", id_p, "/history"), Access::kAuthenticated,
             [&svc](Request& r, int64_t id) -> core::Result<Response> {
               auto page = ParsePage(r, {"limit", "cursor"});
               if (!page) return std::unexpected(page.error());
               auto p = svc.History(r.actor, id, page->first, page->second);
               if (!p) return std::unexpected(p.error());
               json items = json::array();
               for (const audit::Entry& e : p->items) items.push_back(audit::ToJson(e));
               return Response::Json(
                   200, {{"items", items},
                         {"next_cursor",
                          p->next_cursor ? json(std::to_string(*p->next_cursor)) : json(nullptr)}});
             });
}

}  // namespace kehu::merge
