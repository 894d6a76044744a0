#pragma once

#include <functional>

#include "http/server.h"
#include "importer/service.h"

namespace kehu::importer {

// /api/v1/imports…: upload, preview, runs (background jobs), problem reports, templates.
// `queued` is called after a run was queued (to wake the job runner).
void RegisterRoutes(http::Server& server, ImportService& svc, std::function<void()> queued);

}  // namespace kehu::importer
