#pragma once

#include "http/server.h"
#include "user/mfa.h"
#include "user/service.h"

namespace kehu::user {
// `secure_cookies`: add the Secure attribute (when serving over TLS).
void RegisterRoutes(http::Server& server, UserService& service, bool secure_cookies);
// /auth/login/mfa, /auth/mfa… and /users/{id}/mfa (mfa_routes.cpp).
void RegisterMfaRoutes(http::Server& server, MfaService& mfa, UserService& users,
                       bool secure_cookies);
nlohmann::json ToJson(const User& u);
// The user as /auth/me and login answer it: with permissions, scope and MFA state.
nlohmann::json ActorJson(const core::Actor& a, const User* u);
// The answer of a login step: the session (user, CSRF token, Set-Cookie), or the MFA
// challenge when the second factor is still needed.
http::Response LoginAnswer(const LoginResult& login, bool secure_cookies);
}  // namespace kehu::user
