#include "user/service.h"

#include <algorithm>

#include "core/time.h"
#include "core/validate.h"
#include "crypto/crypto.h"

namespace kehu::user {
namespace {

constexpr int64_t kCacheTtlMs = 5000;
constexpr int64_t kTouchEveryMs = 60000;
constexpr const char* kTokenPrefix = "kehu_";

core::Error BadLogin() { return core::Error::Unauthenticated("invalid username or password"); }

bool HasSpaceOrControl(std::string_view s) {
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

UserService::UserService(UserStore& store, SessionPolicy policy) : store_(store), policy_(policy) {
  dummy_hash_ = crypto::HashPassword("kehu-dummy-password-for-timing").value_or("");
}

core::Result<User> UserService::Create(const core::Actor& actor, NewUser u) {
  if (!actor.is_admin()) return std::unexpected(core::Error::Forbidden("only admins add users"));
  u.username = core::Trim(u.username);
  std::vector<core::FieldError> errs;
  if (u.username.empty()) {
    errs.push_back({"username", "required", "username is required"});
  } else if (u.username.size() > 64 || HasSpaceOrControl(u.username) ||
             !core::IsValidUtf8(u.username)) {
    errs.push_back(
        {"username", "invalid_format", "username must be 1-64 characters without spaces"});
  }
  if (u.password.empty()) {
    errs.push_back({"password", "required", "password is required"});
  } else if (u.password.size() < 8) {
    errs.push_back({"password", "too_short", "password must have at least 8 characters"});
  } else if (u.password.size() > 256) {
    errs.push_back({"password", "too_long", "password must have at most 256 characters"});
  }
  u.display_name = core::Trim(u.display_name);
  if (u.display_name.empty()) u.display_name = u.username;
  if (u.display_name.size() > 100) {
    errs.push_back({"display_name", "too_long", "display name must have at most 100 bytes"});
  }
  if (!errs.empty()) {
    return std::unexpected(core::Error::InvalidFields(std::move(errs)));
  }
  auto hash = crypto::HashPassword(u.password);
  if (!hash) return std::unexpected(hash.error());
  return store_.Insert(u, *hash, core::NowMs());
}

core::Result<std::vector<User>> UserService::List(const core::Actor&) { return store_.List(); }

core::Result<int64_t> UserService::Count() { return store_.Count(); }

core::Result<User> UserService::Get(const core::Actor&, int64_t id) {
  auto u = store_.FindById(id);
  if (!u) return std::unexpected(u.error());
  if (!*u) return std::unexpected(core::Error::NotFound("no such user"));
  return **u;
}

core::Result<LoginResult> UserService::Login(const std::string& username,
                                             const std::string& password, const std::string& ip,
                                             const std::string& user_agent) {
  auto found = store_.FindForLogin(username);
  if (!found) return std::unexpected(found.error());
  if (!*found) {
    crypto::VerifyPassword(dummy_hash_, password);  // same work as a wrong password
    return std::unexpected(BadLogin());
  }
  auto& [u, hash] = **found;
  if (!crypto::VerifyPassword(hash, password) || !u.active) return std::unexpected(BadLogin());
  LoginResult r{u, crypto::RandomToken(32), crypto::RandomToken(24)};
  int64_t now = core::NowMs();
  auto ok = store_.InsertSession(crypto::TokenHash(r.session_token), u.id, r.csrf_token, now,
                                 now + policy_.idle_timeout_ms, ip, user_agent.substr(0, 300));
  if (!ok) return std::unexpected(ok.error());
  return r;
}

core::Result<void> UserService::Logout(const std::string& session_token) {
  std::string hash = crypto::TokenHash(session_token);
  CacheErase("s:" + hash);
  return store_.DeleteSession(hash);
}

core::Result<core::Actor> UserService::ActorFor(int64_t user_id) {
  auto u = store_.FindById(user_id);
  if (!u) return std::unexpected(u.error());
  if (!*u || !(*u)->active) return std::unexpected(core::Error::Unauthenticated("user inactive"));
  const User& user = **u;
  return core::Actor{user.id, user.username, user.display_name, user.role};
}

core::Result<Authenticated> UserService::AuthenticateSession(const std::string& session_token) {
  if (session_token.empty() || session_token.size() > 200) {
    return std::unexpected(core::Error::Unauthenticated("not logged in"));
  }
  std::string hash = crypto::TokenHash(session_token);
  std::string key = "s:" + hash;
  int64_t now = core::NowMs();
  if (auto hit = CacheGet(key, now)) return *hit;
  auto s = store_.FindSession(hash);
  if (!s) return std::unexpected(s.error());
  if (!*s) return std::unexpected(core::Error::Unauthenticated("session expired or unknown"));
  const StoredSession& ss = **s;
  // expires_at is the idle deadline, never extended past created_at + the absolute timeout.
  if (ss.expires_at <= now || now >= ss.created_at + policy_.absolute_timeout_ms) {
    (void)store_.DeleteSession(hash);
    return std::unexpected(core::Error::Unauthenticated("session expired or unknown"));
  }
  auto actor = ActorFor(ss.user_id);
  if (!actor) return std::unexpected(actor.error());
  if (now - ss.last_seen_at > kTouchEveryMs) {
    int64_t deadline =
        std::min(now + policy_.idle_timeout_ms, ss.created_at + policy_.absolute_timeout_ms);
    (void)store_.TouchSession(hash, now, deadline);
  }
  Authenticated a{*actor, true, ss.csrf_token};
  CachePut(key, a, now);
  return a;
}

core::Result<Authenticated> UserService::AuthenticateToken(const std::string& bearer_token) {
  if (!bearer_token.starts_with(kTokenPrefix) || bearer_token.size() > 200) {
    return std::unexpected(core::Error::Unauthenticated("invalid API token"));
  }
  std::string hash = crypto::TokenHash(bearer_token);
  std::string key = "t:" + hash;
  int64_t now = core::NowMs();
  if (auto hit = CacheGet(key, now)) return *hit;
  auto uid = store_.FindTokenUser(hash);
  if (!uid) return std::unexpected(uid.error());
  if (!*uid) return std::unexpected(core::Error::Unauthenticated("invalid API token"));
  auto actor = ActorFor(**uid);
  if (!actor) return std::unexpected(actor.error());
  (void)store_.TouchToken(hash, now);
  Authenticated a{*actor, false, ""};
  CachePut(key, a, now);
  return a;
}

core::Result<std::pair<ApiToken, std::string>> UserService::CreateToken(const core::Actor& actor,
                                                                        const std::string& name) {
  std::string n = core::Trim(name);
  if (n.empty()) {
    return std::unexpected(core::Error::InvalidField("name", "required", "token name is required"));
  }
  if (n.size() > 100) {
    return std::unexpected(core::Error::InvalidField("name", "too_long", "at most 100 bytes"));
  }
  if (actor.user_id == 0) {
    return std::unexpected(core::Error::BadRequest("tokens belong to a user, not the local admin"));
  }
  std::string secret = kTokenPrefix + crypto::RandomToken(32);
  auto t = store_.InsertToken(actor.user_id, n, crypto::TokenHash(secret), core::NowMs());
  if (!t) return std::unexpected(t.error());
  return std::make_pair(*t, secret);
}

core::Result<std::pair<ApiToken, std::string>> UserService::CreateTokenFor(
    const std::string& username, const std::string& name) {
  auto found = store_.FindForLogin(username);
  if (!found) return std::unexpected(found.error());
  if (!*found) return std::unexpected(core::Error::NotFound("no user named " + username));
  const User& u = (*found)->first;
  return CreateToken(core::Actor{u.id, u.username, u.display_name, u.role}, name);
}

core::Result<std::vector<ApiToken>> UserService::ListTokens(const core::Actor& actor) {
  return store_.ListTokens(actor.user_id);
}

core::Result<void> UserService::DeleteToken(const core::Actor& actor, int64_t token_id) {
  auto hash = store_.RevokeToken(actor.user_id, token_id, core::NowMs());
  if (!hash) return std::unexpected(hash.error());
  if (!*hash) return std::unexpected(core::Error::NotFound("no such token"));
  CacheErase("t:" + **hash);
  return core::Ok();
}

std::optional<Authenticated> UserService::CacheGet(const std::string& key, int64_t now) {
  std::shared_lock lock(cache_mu_);
  auto it = cache_.find(key);
  if (it == cache_.end() || now - it->second.cached_at > kCacheTtlMs) return std::nullopt;
  return it->second.auth;
}

void UserService::CachePut(const std::string& key, const Authenticated& a, int64_t now) {
  std::unique_lock lock(cache_mu_);
  if (cache_.size() > 10000) {
    std::erase_if(cache_, [&](const auto& kv) { return now - kv.second.cached_at > kCacheTtlMs; });
  }
  cache_[key] = CacheEntry{a, now};
}

void UserService::CacheErase(const std::string& key) {
  std::unique_lock lock(cache_mu_);
  cache_.erase(key);
}

}  // namespace kehu::user
