#include "customer/routes.h"

#include "core/time.h"
#include "customer/codec.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace kehu::customer {
namespace {

using http::Access;
using http::Request;
using http::Response;
namespace epr = http::epr;

Response WithEtag(Response r, const Customer& c) {
  r.WithHeader("ETag", fmt::format("\"{}\"", c.version));
  return r;
}

}  // namespace

core::Result<ListQuery> ParseListQuery(const Request& r, const std::set<std::string>& extra,
                                       bool paging) {
  ListQuery q;
  static const std::set<std::string> kKnown = {
      "limit", "cursor",       "q",          "owner_id", "source", "province", "city",
      "stage", "created_from", "created_to", "sort",     "order",  "deleted"};
  for (const auto& [k, v] : r.query) {
    const bool known =
        (kKnown.contains(k) && (paging || (k != "limit" && k != "cursor"))) || extra.contains(k);
    if (!known)
      return std::unexpected(core::Error::BadRequest(fmt::format("unknown query parameter {}", k)));
  }
  auto limit = r.QueryInt("limit");
  if (!limit) return std::unexpected(limit.error());
  if (*limit) {
    if (**limit < 1 || **limit > 200) {
      return std::unexpected(core::Error::BadRequest("limit must be between 1 and 200"));
    }
    q.limit = static_cast<int>(**limit);
  }
  auto owner = r.QueryInt("owner_id");
  if (!owner) return std::unexpected(owner.error());
  q.owner_id = *owner;
  auto text = [&](const char* name, std::string& out) {
    if (const std::string* v = r.Query(name)) out = *v;
  };
  text("cursor", q.cursor);
  text("q", q.q);
  text("source", q.source);
  text("province", q.province);
  text("city", q.city);
  text("stage", q.stage);
  if (!q.stage.empty() && std::find_if(std::begin(kStages), std::end(kStages), [&](const char* st) {
                            return q.stage == st;
                          }) == std::end(kStages)) {
    return std::unexpected(core::Error::BadRequest(
        "stage is one of potential, intent, won, active, dormant, churned"));
  }
  for (const char* name : {"created_from", "created_to"}) {
    if (const std::string* v = r.Query(name)) {
      auto t = core::ParseTime(*v);
      if (!t) {
        return std::unexpected(core::Error::BadRequest(
            fmt::format("{} must be a date (YYYY-MM-DD) or an RFC 3339 time", name)));
      }
      // A plain date as upper bound includes that whole day.
      int64_t value = *t;
      if (std::string_view(name) == "created_to" && v->size() == 10) value += 86400000;
      (std::string_view(name) == "created_from" ? q.created_from : q.created_to) = value;
    }
  }
  if (const std::string* v = r.Query("sort")) {
    if (*v == "created_at")
      q.sort = SortKey::kCreatedAt;
    else if (*v == "updated_at")
      q.sort = SortKey::kUpdatedAt;
    else if (*v == "name")
      q.sort = SortKey::kName;
    else if (*v == "code")
      q.sort = SortKey::kCode;
    else
      return std::unexpected(
          core::Error::BadRequest("sort is created_at, updated_at, name or code"));
  }
  if (const std::string* v = r.Query("order")) {
    if (*v != "asc" && *v != "desc") {
      return std::unexpected(core::Error::BadRequest("order is asc or desc"));
    }
    q.descending = *v == "desc";
  }
  if (const std::string* v = r.Query("deleted")) {
    if (*v != "true" && *v != "false") {
      return std::unexpected(core::Error::BadRequest("deleted is true or false"));
    }
    q.deleted = *v == "true";
  }
  return q;
}

namespace {

// `?confirm_duplicate=true`: save even though other customers hold the same phone or email
// (without it such a write answers 409 with the matches).
core::Result<WriteOptions> ParseWriteOptions(const Request& r) {
  WriteOptions o;
  o.duplicates = DuplicatePolicy::kCheck;
  if (const std::string* v = r.Query("confirm_duplicate")) {
    if (*v == "true") {
      o.duplicates = DuplicatePolicy::kConfirmed;
    } else if (*v != "false") {
      return std::unexpected(core::Error::BadRequest("confirm_duplicate is true or false"));
    }
  }
  return o;
}

// One page of the list as `{items, next_cursor}`.
core::Result<Response> ListAnswer(CustomerService& svc, const core::Actor& actor,
                                  const ListQuery& q) {
  auto page = svc.List(actor, q);
  if (!page) return std::unexpected(page.error());
  nlohmann::json items = nlohmann::json::array();
  for (const Customer& c : page->items) items.push_back(ToJson(c));
  return Response::Json(
      200, {{"items", items},
            {"next_cursor", page->next_cursor.empty() ? nlohmann::json(nullptr)
                                                      : nlohmann::json(page->next_cursor)}});
}

}  // namespace

void RegisterRoutes(http::Server& server, CustomerService& svc) {
  const auto id_p = epr::non_negative_decimal_number_p<std::int64_t>();

  server.Add(restinio::http_method_get(), epr::path_to_params("/api/v1/customers"),
             Access::kAuthenticated, [&svc](Request& r) -> core::Result<Response> {
               auto q = ParseListQuery(r);
               if (!q) return std::unexpected(q.error());
               return ListAnswer(svc, r.actor, *q);
             });

  server.Add(restinio::http_method_post(), epr::path_to_params("/api/v1/customers"),
             Access::kAuthenticated, [&svc](Request& r) -> core::Result<Response> {
               auto body = r.JsonObject();
               if (!body) return std::unexpected(body.error());
               auto in = ParseInput(*body);
               if (!in) return std::unexpected(in.error());
               auto opts = ParseWriteOptions(r);
               if (!opts) return std::unexpected(opts.error());
               auto c = svc.Create(r.actor, *in, *opts);
               if (!c) return std::unexpected(c.error());
               return WithEtag(Response::Json(201, ToJson(*c)), *c)
                   .WithHeader("Location", fmt::format("/api/v1/customers/{}", c->id));
             });

  server.AddInline(restinio::http_method_get(), epr::path_to_params("/api/v1/customers/", id_p),
                   Access::kAuthenticated,
                   [&svc](Request& r, int64_t id) -> core::Result<Response> {
                     auto c = svc.Get(r.actor, id);
                     if (!c) return std::unexpected(c.error());
                     return WithEtag(Response::Json(200, ToJson(*c)), *c);
                   });

  server.Add(restinio::http_method_patch(), epr::path_to_params("/api/v1/customers/", id_p),
             Access::kAuthenticated, [&svc](Request& r, int64_t id) -> core::Result<Response> {
               auto version = r.IfMatchVersion();
               if (!version) return std::unexpected(version.error());
               auto body = r.JsonObject();
               if (!body) return std::unexpected(body.error());
               auto in = ParseInput(*body);
               if (!in) return std::unexpected(in.error());
               auto opts = ParseWriteOptions(r);
               if (!opts) return std::unexpected(opts.error());
               auto c = svc.Update(r.actor, id, *version, *in, *opts);
               if (!c) return std::unexpected(c.error());
               return WithEtag(Response::Json(200, ToJson(*c)), *c);
             });

  server.Add(restinio::http_method_delete(), epr::path_to_params("/api/v1/customers/", id_p),
             Access::kAuthenticated, [&svc](Request& r, int64_t id) -> core::Result<Response> {
               auto done = svc.Delete(r.actor, id);
               if (!done) return std::unexpected(done.error());
               return Response::NoContent();
             });

  server.Add(restinio::http_method_post(),
             epr::path_to_params("/api/v1/customers/", id_p, "/restore"), Access::kAuthenticated,
             [&svc](Request& r, int64_t id) -> core::Result<Response> {
               auto c = svc.Restore(r.actor, id);
               if (!c) return std::unexpected(c.error());
               return WithEtag(Response::Json(200, ToJson(*c)), *c);
             });

  server.Add(restinio::http_method_post(),
             epr::path_to_params("/api/v1/customers/", id_p, "/reveal"), Access::kAuthenticated,
             [&svc](Request& r, int64_t id) -> core::Result<Response> {
               auto rev = svc.Reveal(r.actor, id);
               if (!rev) return std::unexpected(rev.error());
               return Response::Json(200, {{"customer", ToJson(rev->customer)},
                                           {"reveals_today", rev->charge.used},
                                           {"reveal_quota", rev->charge.quota}});
             });

  // The 数据质量 queue: customers with open data-quality issues, newest first.
  server.Add(restinio::http_method_get(), epr::path_to_params("/api/v1/quality"),
             Access::kAuthenticated, [&svc](Request& r) -> core::Result<Response> {
               for (const auto& [k, v] : r.query) {
                 if (k != "limit" && k != "cursor" && k != "q" && k != "owner_id") {
                   return std::unexpected(
                       core::Error::BadRequest(fmt::format("unknown query parameter {}", k)));
                 }
               }
               auto q = ParseListQuery(r);
               if (!q) return std::unexpected(q.error());
               q->quality = true;
               return ListAnswer(svc, r.actor, *q);
             });

  server.AddInline(
      restinio::http_method_get(), epr::path_to_params("/api/v1/lookup/phone"),
      Access::kAuthenticated, [&svc](Request& r) -> core::Result<Response> {
        const std::string* number = r.Query("number");
        if (!number || number->empty()) {
          return std::unexpected(core::Error::BadRequest("give the number to look up"));
        }
        auto hits = svc.LookupPhone(r.actor, *number);
        if (!hits) return std::unexpected(hits.error());
        return Response::JsonText(200, LookupToJsonText(*hits));
      });
}

}  // namespace kehu::customer
