#include "audit/routes.h"

#include <fmt/format.h>

#include <charconv>
#include <set>
#include <string_view>

#include "audit/codec.h"
#include "core/time.h"

namespace kehu::audit {
namespace {

using http::Access;
using http::Request;
using http::Response;
namespace epr = http::epr;

// "from" / "to": RFC 3339, a plain date (Asia/Shanghai; as `to` it includes that whole day) or
// epoch milliseconds.
core::Result<std::optional<int64_t>> ParseBound(const Request& r, const std::string& name) {
  const std::string* v = r.Query(name);
  if (!v) return std::optional<int64_t>{};
  const bool digits = !v->empty() && v->find_first_not_of("0123456789") == std::string::npos;
  if (digits) {
    int64_t ms = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), ms);
    if (ec == std::errc() && p == v->data() + v->size()) return std::optional<int64_t>{ms};
  } else if (auto t = core::ParseTime(*v)) {
    int64_t value = *t;
    if (name == "to" && v->size() == 10) value += 86400000;
    return std::optional<int64_t>{value};
  }
  return std::unexpected(core::Error::BadRequest(
      fmt::format("{} must be an RFC 3339 time, a date (YYYY-MM-DD) or epoch milliseconds", name)));
}

core::Result<Filter> ParseFilter(const Request& r, const std::set<std::string>& also) {
  static const std::set<std::string> kFilters = {"actor_id",  "action", "entity",
                                                 "entity_id", "from",   "to"};
  for (const auto& [k, v] : r.query) {
    if (!kFilters.contains(k) && !also.contains(k)) {
      return std::unexpected(core::Error::BadRequest(fmt::format("unknown query parameter {}", k)));
    }
  }
  Filter f;
  auto actor = r.QueryInt("actor_id");
  if (!actor) return std::unexpected(actor.error());
  if (*actor && **actor < 0) {
    return std::unexpected(core::Error::BadRequest("actor_id must not be negative"));
  }
  f.actor_id = *actor;
  for (auto [name, out] : {std::pair{"action", &f.action}, std::pair{"entity", &f.entity},
                           std::pair{"entity_id", &f.entity_id}}) {
    if (const std::string* v = r.Query(name)) {
      if (v->empty() || v->size() > 200) {
        return std::unexpected(
            core::Error::BadRequest(fmt::format("{} must have 1-200 characters", name)));
      }
      *out = *v;
    }
  }
  auto from = ParseBound(r, "from");
  if (!from) return std::unexpected(from.error());
  auto to = ParseBound(r, "to");
  if (!to) return std::unexpected(to.error());
  f.from = *from;
  f.to = *to;
  return f;
}

}  // namespace

core::Result<ListQuery> ParseListQuery(const Request& r) {
  auto f = ParseFilter(r, {"limit", "cursor"});
  if (!f) return std::unexpected(f.error());
  ListQuery q;
  static_cast<Filter&>(q) = std::move(*f);
  auto limit = r.QueryInt("limit");
  if (!limit) return std::unexpected(limit.error());
  if (*limit) {
    if (**limit < 1 || **limit > kMaxLimit) {
      return std::unexpected(core::Error::BadRequest("limit must be between 1 and 500"));
    }
    q.limit = static_cast<int>(**limit);
  }
  auto cursor = r.QueryInt("cursor");
  if (!cursor || (*cursor && **cursor < 1)) {
    return std::unexpected(core::Error::BadRequest("bad cursor: pass next_cursor as given"));
  }
  q.cursor = *cursor;
  return q;
}

core::Result<std::pair<Filter, ExportFormat>> ParseExportQuery(const Request& r) {
  auto f = ParseFilter(r, {"format"});
  if (!f) return std::unexpected(f.error());
  ExportFormat format = ExportFormat::kCsv;
  if (const std::string* v = r.Query("format")) {
    if (*v == "json") {
      format = ExportFormat::kJson;
    } else if (*v != "csv") {
      return std::unexpected(core::Error::BadRequest("format is csv or json"));
    }
  }
  return std::pair{std::move(*f), format};
}

void RegisterRoutes(http::Server& server, AuditLog& log) {
  server.Add(restinio::http_method_get(), epr::path_to_params("/api/v1/audit"),
             Access::kAuthenticated, [&log](Request& r) -> core::Result<Response> {
               auto q = ParseListQuery(r);
               if (!q) return std::unexpected(q.error());
               auto page = log.List(r.actor, *q);
               if (!page) return std::unexpected(page.error());
               nlohmann::json items = nlohmann::json::array();
               for (const Entry& e : page->items) items.push_back(ToJson(e));
               return Response::Json(
                   200, {{"items", items},
                         {"next_cursor", page->next_cursor
                                             ? nlohmann::json(std::to_string(*page->next_cursor))
                                             : nlohmann::json(nullptr)}});
             });

  server.Add(
      restinio::http_method_get(), epr::path_to_params("/api/v1/audit/verify"),
      Access::kAuthenticated, [&log](Request& r) -> core::Result<Response> {
        if (!r.query.empty()) {
          return std::unexpected(core::Error::BadRequest("verify takes no query parameters"));
        }
        auto report = log.Verify(r.actor);
        if (!report) return std::unexpected(report.error());
        return Response::Json(200, ToJson(*report));
      });

  server.Add(restinio::http_method_get(), epr::path_to_params("/api/v1/audit/export"),
             Access::kAuthenticated, [&log](Request& r) -> core::Result<Response> {
               auto q = ParseExportQuery(r);
               if (!q) return std::unexpected(q.error());
               const auto& [filter, format] = *q;
               Response resp;
               auto done = log.Export(r.actor, filter, format,
                                      [&resp](std::string_view piece) { resp.body += piece; });
               if (!done) return std::unexpected(done.error());
               const bool csv = format == ExportFormat::kCsv;
               resp.content_type = csv ? "text/csv; charset=utf-8" : "application/json";
               const std::string day = core::FormatTime(core::NowMs()).substr(0, 10);
               resp.WithHeader("Content-Disposition",
                               fmt::format("attachment; filename=\"kehu-audit-{}.{}\"", day,
                                           csv ? "csv" : "json"));
               return resp;
             });
}

}  // namespace kehu::audit
