#pragma once

#include <nlohmann/json.hpp>

#include "dedup/service.h"
#include "http/server.h"

namespace kehu::dedup {

// POST /api/v1/duplicates/scan.
void RegisterRoutes(http::Server& server, DedupService& svc);

// A scan result as the API and `kehu dedup scan --details` answer it.
nlohmann::json ToJson(const ScanResult& r, double min_score);

}  // namespace kehu::dedup
