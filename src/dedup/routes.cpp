#include "dedup/routes.h"

#include <cmath>

#include "core/time.h"

namespace kehu::dedup {
namespace {

using http::Access;
using http::Request;
using http::Response;
using nlohmann::json;
namespace epr = http::epr;

json OrNull(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

// The optional body {min_score, limit}; unknown members and wrong types are 422.
core::Result<ScanOptions> ParseScanOptions(const Request& r) {
  ScanOptions o;
  if (r.body.empty()) return o;
  auto body = r.JsonObject();
  if (!body) return std::unexpected(body.error());
  std::vector<core::FieldError> errs;
  for (const auto& [k, v] : body->items()) {
    if (k == "min_score") {
      if (!v.is_number() || !(v.get<double>() >= 0.5 && v.get<double>() <= 1.0)) {
        errs.push_back({k, "out_of_range", "min_score is a number between 0.5 and 1"});
      } else {
        o.min_score = v.get<double>();
      }
    } else if (k == "limit") {
      if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > 5000) {
        errs.push_back({k, "out_of_range", "limit is a whole number between 1 and 5000"});
      } else {
        o.limit = static_cast<std::size_t>(v.get<int64_t>());
      }
    } else {
      errs.push_back({k, "unknown_field", "unknown field " + k});
    }
  }
  if (!errs.empty()) return std::unexpected(core::Error::InvalidFields(std::move(errs)));
  return o;
}

}  // namespace

json ToJson(const ScanResult& r, double min_score) {
  json groups = json::array();
  for (const DuplicateGroup& g : r.groups) {
    json members = json::array();
    for (const Member& m : g.members) {
      members.push_back(
          {{"id", m.id},
           {"code", OrNull(m.code)},
           {"name", m.name},
           {"gender", m.gender.empty() ? "unknown" : m.gender},
           {"company", OrNull(m.company)},
           {"title", OrNull(m.title)},
           {"province", OrNull(m.province)},
           {"city", OrNull(m.city)},
           {"phones", m.phones},
           {"emails", m.emails},
           {"owner_id", m.owner_id ? json(*m.owner_id) : json(nullptr)},
           {"owner_name", OrNull(m.owner_name)},
           {"stage", OrNull(m.stage)},
           {"created_at", m.created_at ? json(core::FormatTime(m.created_at)) : json(nullptr)},
           {"updated_at", m.updated_at ? json(core::FormatTime(m.updated_at)) : json(nullptr)},
           {"score", m.score}});
    }
    groups.push_back(
        {{"key", g.key}, {"score", g.score}, {"reasons", g.reasons}, {"members", members}});
  }
  return {{"groups", groups},     {"total_groups", r.total_groups},
          {"scanned", r.scanned}, {"candidate_pairs", r.candidate_pairs},
          {"took_ms", r.took_ms}, {"min_score", min_score}};
}

void RegisterRoutes(http::Server& server, DedupService& svc) {
  server.Add(restinio::http_method_post(), epr::path_to_params("/api/v1/duplicates/scan"),
             Access::kAuthenticated, [&svc](Request& r) -> core::Result<Response> {
               auto opts = ParseScanOptions(r);
               if (!opts) return std::unexpected(opts.error());
               auto result = svc.Scan(r.actor, *opts);
               if (!result) return std::unexpected(result.error());
               return Response::Json(200, ToJson(*result, opts->min_score));
             });
}

}  // namespace kehu::dedup
