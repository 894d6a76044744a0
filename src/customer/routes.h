#pragma once

#include <set>
#include <string>

#include "customer/service.h"
#include "http/server.h"

namespace kehu::customer {

void RegisterRoutes(http::Server& server, CustomerService& service);

// The filters, sort and paging of GET /api/v1/customers from a request's query. `extra` names
// further parameters the caller reads itself; without `paging`, limit and cursor are unknown
// too. kBadRequest for an unknown or malformed parameter.
core::Result<ListQuery> ParseListQuery(const http::Request& r,
                                       const std::set<std::string>& extra = {}, bool paging = true);

}  // namespace kehu::customer
