#include "user/service.h"

#include <algorithm>
#include <cctype>

#include <spdlog/spdlog.h>

#include "core/time.h"
#include "core/validate.h"
#include "crypto/crypto.h"
#include "user/password_policy.h"

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

UserService::UserService(UserStore& store, access::AccessService& access, audit::AuditLog& audit,
                         SessionPolicy policy, LoginPolicy login_policy)
    : store_(store), access_(access), audit_(audit), policy_(policy), login_policy_(login_policy) {
  dummy_hash_ = crypto::HashPassword("kehu-dummy-password-for-timing").value_or("");
}

void UserService::Audit(const core::Actor& actor, const char* action, int64_t user_id,
                        nlohmann::json details) {
  auto r = audit_.Record(actor, {action, "user", std::to_string(user_id), std::move(details)});
  if (!r) spdlog::error("audit trail: cannot record {}: {}", action, r.error().message());
}

void UserService::ValidatePassword(const std::string& password, const std::string& username,
                                   const std::string& display_name,
                                   std::vector<core::FieldError>& errs) const {
  CheckPassword(password, {username, display_name}, "password", errs);
}

core::Result<void> UserService::ValidateRoleTeam(const std::string& role,
                                                 std::optional<int64_t> team_id,
                                                 std::vector<core::FieldError>& errs) {
  auto r = access_.RoleByKey(role);
  if (!r) {
    if (r.error().code() != core::Code::kInvalid) return std::unexpected(r.error());
    for (const auto& d : r.error().details()) errs.push_back(d);
  }
  if (team_id) {
    auto teams = access_.ListTeams(core::Actor::LocalAdmin());
    if (!teams) return std::unexpected(teams.error());
    bool found = std::any_of(teams->begin(), teams->end(),
                             [&](const access::Team& t) { return t.id == *team_id; });
    if (!found) errs.push_back({"team_id", "unknown", "no such team"});
  }
  return core::Ok();
}

core::Result<User> UserService::Create(const core::Actor& actor, NewUser u) {
  if (!actor.Can(core::Perm::kUserAdmin)) {
    return std::unexpected(core::Error::Forbidden("adding users needs user.admin"));
  }
  u.username = core::Trim(u.username);
  std::vector<core::FieldError> errs;
  if (u.username.empty()) {
    errs.push_back({"username", "required", "username is required"});
  } else if (u.username.size() > 64 || HasSpaceOrControl(u.username) ||
             !core::IsValidUtf8(u.username)) {
    errs.push_back(
        {"username", "invalid_format", "username must be 1-64 characters without spaces"});
  }
  ValidatePassword(u.password, u.username, u.display_name, errs);
  u.display_name = core::Trim(u.display_name);
  if (u.display_name.empty()) u.display_name = u.username;
  if (u.display_name.size() > 100) {
    errs.push_back({"display_name", "too_long", "display name must have at most 100 bytes"});
  }
  if (auto ok = ValidateRoleTeam(u.role, u.team_id, errs); !ok) return std::unexpected(ok.error());
  if (!errs.empty()) {
    return std::unexpected(core::Error::InvalidFields(std::move(errs)));
  }
  auto hash = crypto::HashPassword(u.password);
  if (!hash) return std::unexpected(hash.error());
  auto created = store_.Insert(u, *hash, core::NowMs());
  if (created) {
    Audit(actor, "user.create", created->id,
          {{"username", created->username},
           {"role", created->role},
           {"team_id", created->team_id ? nlohmann::json(*created->team_id) : nlohmann::json()}});
  }
  return created;
}

core::Result<User> UserService::Update(const core::Actor& actor, int64_t id,
                                       int64_t expected_version, const UserChange& change) {
  if (!actor.Can(core::Perm::kUserAdmin)) {
    return std::unexpected(core::Error::Forbidden("changing users needs user.admin"));
  }
  auto found = store_.FindById(id);
  if (!found) return std::unexpected(found.error());
  if (!*found) return std::unexpected(core::Error::NotFound("no such user"));
  User u = **found;
  std::vector<core::FieldError> errs;
  if (change.display_name) {
    u.display_name = core::Trim(*change.display_name);
    if (u.display_name.empty()) u.display_name = u.username;
    if (u.display_name.size() > 100) {
      errs.push_back({"display_name", "too_long", "display name must have at most 100 bytes"});
    }
  }
  if (change.role) u.role = *change.role;
  if (change.team_id) u.team_id = *change.team_id;
  if (change.active) u.active = *change.active;
  if (change.password) ValidatePassword(*change.password, u.username, u.display_name, errs);
  if (change.role || change.team_id) {
    if (auto ok = ValidateRoleTeam(u.role, u.team_id, errs); !ok) {
      return std::unexpected(ok.error());
    }
  }
  if (id == actor.user_id) {
    if (!u.active) errs.push_back({"active", "self", "you cannot deactivate yourself"});
    if (change.role) {
      auto role = access_.RoleByKey(u.role);
      if (role && !role->perms.Has(core::Perm::kUserAdmin)) {
        errs.push_back({"role", "self", "you cannot take away your own user.admin"});
      }
    }
  }
  if (!errs.empty()) return std::unexpected(core::Error::InvalidFields(std::move(errs)));
  std::optional<std::string> hash;
  if (change.password) {
    auto h = crypto::HashPassword(*change.password);
    if (!h) return std::unexpected(h.error());
    hash = *h;
  }
  if (u.version != expected_version) {
    return std::unexpected(core::Error(core::Code::kPreconditionFailed,
                                       "user " + std::to_string(id) + " is at version " +
                                           std::to_string(u.version) + ", not " +
                                           std::to_string(expected_version) + "; reload it"));
  }
  auto saved = store_.Update(u, expected_version, hash, core::NowMs());
  if (!saved) return std::unexpected(saved.error());
  {
    // A permission change (role, team, active) is recorded with its new values.
    nlohmann::json d = nlohmann::json::object();
    std::vector<std::string> fields;
    if (change.display_name) fields.emplace_back("display_name");
    if (change.role) {
      fields.emplace_back("role");
      d["role"] = u.role;
    }
    if (change.team_id) {
      fields.emplace_back("team_id");
      d["team_id"] = u.team_id ? nlohmann::json(*u.team_id) : nlohmann::json();
    }
    if (change.active) {
      fields.emplace_back("active");
      d["active"] = u.active;
    }
    if (change.password) fields.emplace_back("password");
    d["fields"] = fields;
    Audit(actor, "user.update", id, std::move(d));
  }
  // Their cached authentications carry the old role; drop them all.
  Forget(id);
  return saved;
}

core::Result<std::vector<User>> UserService::List(const core::Actor&) { return store_.List(); }

core::Result<int64_t> UserService::Count() { return store_.Count(); }

core::Result<User> UserService::Get(const core::Actor&, int64_t id) {
  auto u = store_.FindById(id);
  if (!u) return std::unexpected(u.error());
  if (!*u) return std::unexpected(core::Error::NotFound("no such user"));
  return **u;
}

namespace {

std::string AccountKey(const std::string& username) {
  std::string k = "u:";
  for (unsigned char c : username.substr(0, 64)) k.push_back(static_cast<char>(std::tolower(c)));
  return k;
}

int64_t CeilSeconds(int64_t ms) { return (ms + 999) / 1000; }

}  // namespace

core::Result<void> UserService::CheckThrottle(const std::string& username, const std::string& ip) {
  const int64_t now = core::NowMs();
  int64_t until = 0;
  for (const std::string& key : {AccountKey(username), "ip:" + ip}) {
    auto t = store_.GetThrottle(key);
    if (!t) return std::unexpected(t.error());
    until = std::max(until, t->blocked_until);
  }
  if (until > now) {
    // The same answer whether or not the account exists.
    return std::unexpected(core::Error::RateLimited(
        "too many failed logins; try again in " + std::to_string(CeilSeconds(until - now)) + " s",
        CeilSeconds(until - now)));
  }
  return core::Ok();
}

void UserService::CountFailure(const std::string& username, const std::string& ip) {
  const int64_t now = core::NowMs();
  const LoginPolicy& p = login_policy_;
  auto rule = [&](int64_t free, int64_t lock_after) {
    return [&p, now, free, lock_after](int64_t failures) -> int64_t {
      if (failures >= lock_after) return now + p.lock_ms;
      if (failures <= free) return 0;
      int64_t delay = 1000;
      for (int64_t i = free + 1; i < failures && delay < p.max_delay_ms; ++i) delay *= 2;
      return now + std::min(delay, p.max_delay_ms);
    };
  };
  auto account = store_.AddFailure(AccountKey(username), now, now - p.lock_ms,
                                   rule(p.free_failures, p.lock_after));
  if (account && account->failures == p.lock_after) {
    auto r =
        audit_.RecordAnonymous(username.substr(0, 64), ip,
                               {"alert.account_locked",
                                "",
                                "",
                                {{"failures", account->failures}, {"minutes", p.lock_ms / 60000}}});
    if (!r) spdlog::error("audit trail: {}", r.error().message());
    spdlog::warn("login name {} locked for {} min after {} failed logins", username.substr(0, 64),
                 p.lock_ms / 60000, account->failures);
  }
  auto by_ip = store_.AddFailure("ip:" + ip, now, now - p.lock_ms,
                                 rule(p.ip_free_failures, p.ip_lock_after));
  if (by_ip && by_ip->failures == p.ip_lock_after) {
    auto r = audit_.RecordAnonymous(
        "", ip, {"alert.address_locked", "", "", {{"failures", by_ip->failures}}});
    if (!r) spdlog::error("audit trail: {}", r.error().message());
  }
  if (!account || !by_ip) spdlog::error("cannot count a failed login");
}

core::Result<LoginResult> UserService::Login(const std::string& username,
                                             const std::string& password, const std::string& ip,
                                             const std::string& user_agent) {
  if (auto ok = CheckThrottle(username, ip); !ok) return std::unexpected(ok.error());
  auto found = store_.FindForLogin(username);
  if (!found) return std::unexpected(found.error());
  if (!*found) {
    crypto::VerifyPassword(dummy_hash_, password);  // same work as a wrong password
    auto rec = audit_.RecordAnonymous(username.substr(0, 64), ip,
                                      {"auth.login_failed", "", "", {{"reason", "unknown user"}}});
    if (!rec) spdlog::error("audit trail: {}", rec.error().message());
    CountFailure(username, ip);
    return std::unexpected(BadLogin());
  }
  auto& [u, hash] = **found;
  if (!crypto::VerifyPassword(hash, password) || !u.active) {
    auto rec = audit_.RecordAnonymous(username, ip,
                                      {"auth.login_failed",
                                       "user",
                                       std::to_string(u.id),
                                       {{"reason", u.active ? "wrong password" : "inactive"}}});
    if (!rec) spdlog::error("audit trail: {}", rec.error().message());
    CountFailure(username, ip);
    return std::unexpected(BadLogin());
  }
  auto actor = ActorFor(u.id);
  if (!actor) return std::unexpected(actor.error());
  if (!access::IpAllowed(actor->ip_allow, ip)) {
    actor->ip = ip;
    return std::unexpected(RefuseAddress(*actor, ip));
  }
  if (u.mfa_enabled) {
    // The password was right; the session waits for the second factor.
    const int64_t now = core::NowMs();
    MfaChallenge c{crypto::RandomToken(32), now + kMfaChallengeMs};
    auto ok = store_.InsertMfaChallenge(crypto::TokenHash(c.token), u.id, now, c.expires_at);
    if (!ok) return std::unexpected(ok.error());
    LoginResult r;
    r.user = u;
    r.mfa = std::move(c);
    return r;
  }
  return FinishLogin(u, ip, user_agent);
}

core::Error UserService::RefuseAddress(const core::Actor& actor, const std::string& ip) {
  Audit(actor, "auth.login_refused", actor.user_id,
        {{"reason", "address not in the role's allow-list"}});
  core::Error e = core::Error::Forbidden("your role may not log in from this address (" + ip +
                                         "); ask an administrator");
  e.mutable_details().push_back({"ip", "not_allowed", ip});
  return e;
}

core::Result<LoginResult> UserService::FinishLogin(const User& u, const std::string& ip,
                                                   const std::string& user_agent,
                                                   nlohmann::json details) {
  bool mfa_enabled = false;
  auto actor = ActorFor(u.id, &mfa_enabled);
  if (!actor) return std::unexpected(actor.error());
  actor->ip = ip;
  if (!access::IpAllowed(actor->ip_allow, ip)) return std::unexpected(RefuseAddress(*actor, ip));
  (void)store_.ClearFailures(AccountKey(u.username));
  LoginResult r;
  r.user = u;
  r.user.mfa_enabled = mfa_enabled;
  r.session_token = crypto::RandomToken(32);
  r.csrf_token = crypto::RandomToken(24);
  r.actor = *actor;
  r.mfa_enrollment_required = actor->mfa_required && !mfa_enabled;
  int64_t now = core::NowMs();
  auto ok = store_.InsertSession(crypto::TokenHash(r.session_token), u.id, r.csrf_token, now,
                                 now + policy_.idle_timeout_ms, ip, user_agent.substr(0, 300));
  if (!ok) return std::unexpected(ok.error());
  if (!details.is_object()) details = nlohmann::json::object();
  details["user_agent"] = user_agent.substr(0, 200);
  if (r.mfa_enrollment_required) details["mfa_enrollment_required"] = true;
  Audit(*actor, "auth.login", u.id, std::move(details));
  // A browser is known by its user agent without version numbers, so that an update of the
  // browser or the system does not count as a new device.
  std::string family;
  for (char ch : user_agent.substr(0, 300)) {
    if (ch >= '0' && ch <= '9') {
      if (family.empty() || family.back() != '#') family.push_back('#');
    } else {
      family.push_back(ch);
    }
  }
  if (auto seen = store_.SeeDevice(u.id, ip, family, now)) {
    if (seen->is_new && !seen->first_ever) {
      r.new_device = true;
      Audit(*actor, "auth.new_device", u.id, {{"user_agent", user_agent.substr(0, 200)}});
    }
  }
  return r;
}

void UserService::Forget(int64_t user_id) {
  std::unique_lock lock(cache_mu_);
  std::erase_if(cache_, [&](const auto& kv) { return kv.second.auth.actor.user_id == user_id; });
}

core::Result<std::vector<SessionInfo>> UserService::Sessions(const core::Actor& actor,
                                                             int64_t user_id) {
  if (user_id != actor.user_id && !actor.Can(core::Perm::kUserAdmin)) {
    return std::unexpected(core::Error::Forbidden("other users' sessions need user.admin"));
  }
  return store_.ListSessions(user_id);
}

core::Result<int> UserService::RevokeSessions(const core::Actor& actor, int64_t user_id,
                                              const std::string& sid) {
  if (user_id != actor.user_id && !actor.Can(core::Perm::kUserAdmin)) {
    return std::unexpected(core::Error::Forbidden("other users' sessions need user.admin"));
  }
  if (!sid.empty() &&
      (sid.size() != 16 || sid.find_first_not_of("0123456789abcdef") != std::string::npos)) {
    return std::unexpected(core::Error::NotFound("no such session"));
  }
  auto gone = store_.DeleteSessions(user_id, sid);
  if (!gone) return std::unexpected(gone.error());
  if (!sid.empty() && gone->empty()) {
    return std::unexpected(core::Error::NotFound("no such session"));
  }
  for (const std::string& h : *gone) CacheErase("s:" + h);
  Audit(actor, "auth.sessions_revoked", user_id, {{"count", gone->size()}, {"all", sid.empty()}});
  return static_cast<int>(gone->size());
}

core::Result<void> UserService::ChangeOwnPassword(const core::Actor& actor,
                                                  const std::string& current,
                                                  const std::string& replacement,
                                                  const std::string& keep_session_hash) {
  if (actor.user_id == 0) {
    return std::unexpected(core::Error::BadRequest("the local administrator has no password"));
  }
  if (auto ok = CheckThrottle(actor.username, actor.ip); !ok) return std::unexpected(ok.error());
  auto found = store_.FindForLogin(actor.username);
  if (!found) return std::unexpected(found.error());
  if (!*found) return std::unexpected(core::Error::NotFound("no such user"));
  const auto& [u, hash] = **found;
  if (!crypto::VerifyPassword(hash, current)) {
    CountFailure(actor.username, actor.ip);
    return std::unexpected(
        core::Error::InvalidField("current_password", "wrong", "the current password is wrong"));
  }
  std::vector<core::FieldError> errs;
  ValidatePassword(replacement, u.username, u.display_name, errs);
  for (auto& e : errs) e.field = "new_password";
  if (replacement == current) {
    errs.push_back({"new_password", "unchanged", "the new password is the current one"});
  }
  if (!errs.empty()) return std::unexpected(core::Error::InvalidFields(std::move(errs)));
  auto h = crypto::HashPassword(replacement);
  if (!h) return std::unexpected(h.error());
  auto saved = store_.SetPassword(u.id, *h, keep_session_hash, core::NowMs());
  if (!saved) return std::unexpected(saved.error());
  for (const std::string& gone : *saved) CacheErase("s:" + gone);
  Audit(actor, "user.password_change", u.id, {{"sessions_ended", saved->size()}});
  return core::Ok();
}

core::Result<std::vector<Device>> UserService::Devices(const core::Actor& actor, int64_t user_id) {
  if (user_id != actor.user_id && !actor.Can(core::Perm::kUserAdmin)) {
    return std::unexpected(core::Error::Forbidden("other users' devices need user.admin"));
  }
  return store_.ListDevices(user_id);
}

core::Result<void> UserService::Logout(const core::Actor& actor, const std::string& session_token) {
  std::string hash = crypto::TokenHash(session_token);
  CacheErase("s:" + hash);
  auto done = store_.DeleteSession(hash);
  if (done) Audit(actor, "auth.logout", actor.user_id);
  return done;
}

core::Result<core::Actor> UserService::ActorFor(int64_t user_id, bool* mfa_enabled) {
  auto u = store_.FindById(user_id);
  if (!u) return std::unexpected(u.error());
  if (!*u || !(*u)->active) return std::unexpected(core::Error::Unauthenticated("user inactive"));
  const User& user = **u;
  if (mfa_enabled) *mfa_enabled = user.mfa_enabled;
  core::Actor a;
  a.user_id = user.id;
  a.username = user.username;
  a.display_name = user.display_name;
  if (auto ok = access_.Resolve(a, user.role, user.team_id); !ok) {
    return std::unexpected(ok.error());
  }
  return a;
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
  bool mfa_enabled = false;
  auto actor = ActorFor(ss.user_id, &mfa_enabled);
  if (!actor) return std::unexpected(actor.error());
  if (now - ss.last_seen_at > kTouchEveryMs) {
    int64_t deadline =
        std::min(now + policy_.idle_timeout_ms, ss.created_at + policy_.absolute_timeout_ms);
    (void)store_.TouchSession(hash, now, deadline);
  }
  Authenticated a{*actor, true, ss.csrf_token};
  a.mfa_enrollment_required = actor->mfa_required && !mfa_enabled;
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
  auto use = store_.FindTokenUser(hash);
  if (!use) return std::unexpected(use.error());
  if (!*use) return std::unexpected(core::Error::Unauthenticated("invalid API token"));
  auto actor = ActorFor((*use)->user_id);
  if (!actor) return std::unexpected(actor.error());
  // "Last used" to the minute, as sessions: a script calling all day writes once a minute, not
  // each time the cache entry expires (every write makes the readers drop their page caches).
  if (now - (*use)->last_used_at > kTouchEveryMs) (void)store_.TouchToken(hash, now);
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
  Audit(actor, "token.create", actor.user_id, {{"token_id", t->id}, {"name", n}});
  return std::make_pair(*t, secret);
}

core::Result<std::pair<ApiToken, std::string>> UserService::CreateTokenFor(
    const std::string& username, const std::string& name) {
  auto found = store_.FindForLogin(username);
  if (!found) return std::unexpected(found.error());
  if (!*found) return std::unexpected(core::Error::NotFound("no user named " + username));
  const User& u = (*found)->first;
  core::Actor owner;
  owner.user_id = u.id;
  owner.username = u.username;
  owner.display_name = u.display_name;
  owner.role = u.role;
  return CreateToken(owner, name);
}

core::Result<std::vector<ApiToken>> UserService::ListTokens(const core::Actor& actor) {
  return store_.ListTokens(actor.user_id);
}

core::Result<void> UserService::DeleteToken(const core::Actor& actor, int64_t token_id) {
  auto hash = store_.RevokeToken(actor.user_id, token_id, core::NowMs());
  if (!hash) return std::unexpected(hash.error());
  if (!*hash) return std::unexpected(core::Error::NotFound("no such token"));
  CacheErase("t:" + **hash);
  Audit(actor, "token.delete", actor.user_id, {{"token_id", token_id}});
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
