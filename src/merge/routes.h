#pragma once

#include <nlohmann/json.hpp>

#include "http/server.h"
#include "merge/service.h"

namespace kehu::merge {

// POST /api/v1/duplicates/suggest, /api/v1/merges (POST, GET), /api/v1/merges/{id},
// /api/v1/merges/{id}/undo, /api/v1/merges/bulk-exact-phone, /api/v1/customers/{id}/history.
void RegisterRoutes(http::Server& server, MergeService& svc);

nlohmann::json ToJson(const MergeRecord& r);
nlohmann::json ToJson(const Suggestion& s);
nlohmann::json ToJson(const BulkResult& b);

}  // namespace kehu::merge
