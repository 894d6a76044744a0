#pragma once

#include "access/service.h"
#include "http/server.h"

namespace kehu::access {
nlohmann::json ToJson(const Role& r);
nlohmann::json ToJson(const Team& t);
void RegisterRoutes(http::Server& server, AccessService& service);
}  // namespace kehu::access
