#pragma once

#include "customer/service.h"
#include "http/server.h"

namespace kehu::customer {
void RegisterRoutes(http::Server& server, CustomerService& service);
}  // namespace kehu::customer
