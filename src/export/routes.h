#pragma once

#include "export/service.h"
#include "http/server.h"

namespace kehu::exports {

// GET /api/v1/customers/export (the file, streamed) and GET /api/v1/customers/export/count.
void RegisterRoutes(http::Server& server, ExportService& service);

// The export options from a request's query: format, encoding, reveal, lang and the list
// filters and sort of GET /api/v1/customers (no limit or cursor). kBadRequest naming the
// parameter when one is unknown or malformed.
core::Result<Options> ParseOptions(const http::Request& r);

// Content-Disposition for a download: an ASCII `filename` and the UTF-8 name as RFC 5987
// `filename*` ("attachment; filename=\"customers-….csv\"; filename*=UTF-8''%E5%AE%A2….csv").
std::string ContentDisposition(const std::string& ascii_name, const std::string& utf8_name);

}  // namespace kehu::exports
