#pragma once

#include "http/server.h"
#include "user/service.h"

namespace kehu::user {
// `secure_cookies`: add the Secure attribute (when serving over TLS).
void RegisterRoutes(http::Server& server, UserService& service, bool secure_cookies);
nlohmann::json ToJson(const User& u);
}  // namespace kehu::user
