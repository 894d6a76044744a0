#pragma once

#include "field/service.h"
#include "http/server.h"

namespace kehu::field {
void RegisterRoutes(http::Server& server, FieldService& service);
nlohmann::json ToJson(const FieldDef& f);
}  // namespace kehu::field
