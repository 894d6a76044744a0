#pragma once

#include <utility>

#include "audit/service.h"
#include "http/server.h"

namespace kehu::audit {

// GET /api/v1/audit, /api/v1/audit/verify and /api/v1/audit/export.
void RegisterRoutes(http::Server& server, AuditLog& log);

// The query parameters of GET /api/v1/audit (filters, limit, cursor) and of the export
// (filters, format). kBadRequest for an unknown or malformed parameter.
core::Result<ListQuery> ParseListQuery(const http::Request& r);
core::Result<std::pair<Filter, ExportFormat>> ParseExportQuery(const http::Request& r);

}  // namespace kehu::audit
