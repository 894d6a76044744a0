#include "user/mfa.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include "core/time.h"
#include "crypto/totp.h"
#include "user/qr_svg.h"

namespace kehu::user {
namespace {

// Recovery codes: 10 characters (about 50 bits) from an alphabet without 0/o, 1/l/i, shown
// as two groups of five.
constexpr std::string_view kRecoveryAlphabet = "23456789abcdefghjkmnpqrstuvwxyz";
constexpr std::size_t kRecoveryLength = 10;

std::string SecretContext(int64_t user_id) {
  // The user id is bound into the ciphertext: a secret copied to another user's row in the
  // database does not decrypt there.
  return "user.mfa_secret:" + std::to_string(user_id);
}

std::string RecoveryHash(int64_t user_id, std::string_view normalised) {
  return crypto::TokenHash("kehu.mfa.recovery:" + std::to_string(user_id) + ":" +
                           std::string(normalised));
}

core::Result<void> NeedsUser(const core::Actor& actor) {
  if (actor.user_id == 0) {
    return std::unexpected(core::Error::BadRequest(
        "the local administrator has no login and no two-step verification"));
  }
  return core::Ok();
}

// Turning two-step verification on or off, and new recovery codes: from a signed-in session
// only, so a script's token (or a leaked one) cannot lock the owner out or weaken the login.
core::Result<void> NeedsSession(const core::Actor& actor) {
  if (auto ok = NeedsUser(actor); !ok) return ok;
  if (actor.via_token) {
    return std::unexpected(core::Error::Forbidden(
        "two-step verification is managed from a signed-in session (我的安全), not with an API "
        "token"));
  }
  return core::Ok();
}

std::string Compact(std::string_view code) {
  std::string out;
  for (char c : code) {
    if (c != ' ' && c != '\t') out.push_back(c);
  }
  return out;
}

bool IsTotpShape(std::string_view code) {
  if (code.size() != crypto::kTotpDigits) return false;
  for (char c : code) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int64_t NowSeconds() { return core::NowMs() / 1000; }

core::Error CodeError(core::Code status, const char* field, const char* code,
                      const std::string& message) {
  return core::Error(status, std::string(field) + ": " + message, {{field, code, message}});
}

}  // namespace

std::string NormaliseRecoveryCode(std::string_view code) {
  std::string out;
  for (char c : code) {
    if (c == ' ' || c == '-' || c == '\t') continue;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

void MfaService::Audit(const core::Actor& actor, const char* action, int64_t user_id,
                       nlohmann::json details) {
  auto r = audit_.Record(actor, {action, "user", std::to_string(user_id), std::move(details)});
  if (!r) spdlog::error("audit trail: cannot record {}: {}", action, r.error().message());
}

core::Result<std::string> MfaService::Secret(int64_t user_id, const StoredMfa& m) const {
  auto b32 = cipher_.Decrypt(m.secret, SecretContext(user_id));
  if (!b32) return std::unexpected(b32.error());
  return crypto::Base32Decode(*b32);
}

std::pair<std::vector<std::string>, std::vector<std::string>> MfaService::NewRecoveryCodes(
    int64_t user_id) const {
  std::vector<std::string> clear, hashes;
  for (int i = 0; i < kRecoveryCodes; ++i) {
    std::string raw;
    for (std::size_t j = 0; j < kRecoveryLength; ++j) {
      raw.push_back(kRecoveryAlphabet[randombytes_uniform(kRecoveryAlphabet.size())]);
    }
    hashes.push_back(RecoveryHash(user_id, raw));
    clear.push_back(raw.substr(0, 5) + "-" + raw.substr(5));
  }
  return {std::move(clear), std::move(hashes)};
}

core::Result<MfaService::Outcome> MfaService::Check(int64_t user_id, const std::string& code_in,
                                                    bool allow_recovery) {
  const std::string code = Compact(code_in);
  if (IsTotpShape(code)) {
    auto m = store_.Find(user_id);
    if (!m) return std::unexpected(m.error());
    if (!*m || !(*m)->enabled_at) return Outcome::kWrong;
    auto secret = Secret(user_id, **m);
    if (!secret) return std::unexpected(secret.error());
    auto step = crypto::TotpMatch(*secret, code, NowSeconds(), 1);
    sodium_memzero(secret->data(), secret->size());
    if (!step) return Outcome::kWrong;
    auto fresh = store_.UseStep(user_id, *step);
    if (!fresh) return std::unexpected(fresh.error());
    return *fresh ? Outcome::kTotp : Outcome::kReused;
  }
  if (!allow_recovery) return Outcome::kWrong;
  const std::string normalised = NormaliseRecoveryCode(code);
  if (normalised.size() != kRecoveryLength ||
      normalised.find_first_not_of(kRecoveryAlphabet) != std::string::npos) {
    return Outcome::kWrong;
  }
  auto used = store_.UseRecoveryCode(user_id, RecoveryHash(user_id, normalised), core::NowMs());
  if (!used) return std::unexpected(used.error());
  return *used ? Outcome::kRecoveryCode : Outcome::kWrong;
}

core::Result<MfaStatus> MfaService::Status(const core::Actor& actor) {
  if (auto ok = NeedsUser(actor); !ok) return std::unexpected(ok.error());
  MfaStatus s;
  s.required = actor.mfa_required;
  auto m = store_.Find(actor.user_id);
  if (!m) return std::unexpected(m.error());
  if (*m) {
    s.enabled = (*m)->enabled_at.has_value();
    s.pending = !s.enabled;
    s.enabled_at = (*m)->enabled_at;
  }
  if (s.enabled) {
    auto left = store_.RecoveryCodesLeft(actor.user_id);
    if (!left) return std::unexpected(left.error());
    s.recovery_codes_left = *left;
  }
  return s;
}

core::Result<MfaEnrolment> MfaService::StartEnrolment(const core::Actor& actor) {
  if (auto ok = NeedsSession(actor); !ok) return std::unexpected(ok.error());
  std::string raw = crypto::NewTotpSecret();
  MfaEnrolment e;
  e.secret = crypto::Base32Encode(raw);
  sodium_memzero(raw.data(), raw.size());
  if (e.secret.empty()) return std::unexpected(core::Error::Internal("cannot encode the secret"));
  auto saved = store_.SavePending(
      actor.user_id, cipher_.Encrypt(e.secret, SecretContext(actor.user_id)), core::NowMs());
  if (!saved) {
    if (saved.error().code() == core::Code::kConflict) {
      return std::unexpected(core::Error::Conflict(
          "two-step verification is already on; turn it off first to use another phone"));
    }
    return std::unexpected(saved.error());
  }
  e.otpauth_uri = crypto::TotpUri(kIssuer, actor.username, e.secret);
  auto svg = QrSvg(e.otpauth_uri);
  if (!svg) return std::unexpected(svg.error());
  e.qr_svg = std::move(*svg);
  return e;
}

core::Result<std::vector<std::string>> MfaService::ConfirmEnrolment(const core::Actor& actor,
                                                                    const std::string& code_in) {
  if (auto ok = NeedsSession(actor); !ok) return std::unexpected(ok.error());
  const std::string code = Compact(code_in);
  if (code.empty()) {
    return std::unexpected(core::Error::InvalidField("code", "required", "enter the 6-digit code"));
  }
  if (!IsTotpShape(code)) {
    return std::unexpected(
        core::Error::InvalidField("code", "invalid_format", "the code has 6 digits"));
  }
  auto m = store_.Find(actor.user_id);
  if (!m) return std::unexpected(m.error());
  if (!*m || (*m)->enabled_at) {
    return std::unexpected(core::Error::Conflict(
        *m ? "two-step verification is already on"
           : "no enrolment is under way; start it with POST /auth/mfa/enroll"));
  }
  auto secret = Secret(actor.user_id, **m);
  if (!secret) return std::unexpected(secret.error());
  auto step = crypto::TotpMatch(*secret, code, NowSeconds(), 1);
  sodium_memzero(secret->data(), secret->size());
  if (!step) {
    return std::unexpected(core::Error::InvalidField(
        "code", "wrong",
        "the code does not match; check the phone's clock and enter the current code"));
  }
  auto [clear, hashes] = NewRecoveryCodes(actor.user_id);
  auto enabled = store_.Enable(actor.user_id, *step, hashes, core::NowMs());
  if (!enabled) return std::unexpected(enabled.error());
  Audit(actor, "auth.mfa_enable", actor.user_id, {{"recovery_codes", kRecoveryCodes}});
  users_.Forget(actor.user_id);
  return clear;
}

core::Result<std::vector<std::string>> MfaService::RegenerateRecoveryCodes(
    const core::Actor& actor, const std::string& code) {
  if (auto ok = NeedsSession(actor); !ok) return std::unexpected(ok.error());
  auto m = store_.Find(actor.user_id);
  if (!m) return std::unexpected(m.error());
  if (!*m || !(*m)->enabled_at) {
    return std::unexpected(core::Error::Conflict("two-step verification is off"));
  }
  if (Compact(code).empty()) {
    return std::unexpected(
        core::Error::InvalidField("code", "required", "enter the current 6-digit code"));
  }
  if (auto ok = users_.CheckThrottle(actor.username, actor.ip); !ok) {
    return std::unexpected(ok.error());
  }
  auto outcome = Check(actor.user_id, code, /*allow_recovery=*/false);
  if (!outcome) return std::unexpected(outcome.error());
  if (*outcome != Outcome::kTotp) {
    users_.CountFailure(actor.username, actor.ip);
    const bool reused = *outcome == Outcome::kReused;
    return std::unexpected(core::Error::InvalidField(
        "code", reused ? "reused" : "wrong",
        reused ? "this code was used already; wait for the next one"
               : "the code does not match the authenticator app's current code"));
  }
  auto [clear, hashes] = NewRecoveryCodes(actor.user_id);
  auto saved = store_.ReplaceRecoveryCodes(actor.user_id, hashes);
  if (!saved) return std::unexpected(saved.error());
  Audit(actor, "auth.mfa_recovery_regenerate", actor.user_id, {{"recovery_codes", kRecoveryCodes}});
  return clear;
}

core::Result<void> MfaService::Disable(const core::Actor& actor, const std::string& password,
                                       const std::string& code) {
  if (auto ok = NeedsSession(actor); !ok) return std::unexpected(ok.error());
  if (actor.mfa_required) {
    return std::unexpected(core::Error(
        core::Code::kForbidden, "your role requires two-step verification; it cannot be turned off",
        {{"mfa", "required_by_role", "your role requires two-step verification"}}));
  }
  auto m = store_.Find(actor.user_id);
  if (!m) return std::unexpected(m.error());
  if (!*m) return std::unexpected(core::Error::Conflict("two-step verification is off"));
  const bool enabled = (*m)->enabled_at.has_value();
  if (enabled) {
    if (password.empty() && Compact(code).empty()) {
      return std::unexpected(core::Error::InvalidField(
          "password", "required", "enter your password or a code to turn it off"));
    }
    if (auto ok = users_.CheckThrottle(actor.username, actor.ip); !ok) {
      return std::unexpected(ok.error());
    }
    if (!password.empty()) {
      auto found = user_store_.FindForLogin(actor.username);
      if (!found) return std::unexpected(found.error());
      if (!*found || !crypto::VerifyPassword((*found)->second, password)) {
        users_.CountFailure(actor.username, actor.ip);
        return std::unexpected(
            core::Error::InvalidField("password", "wrong", "the password is wrong"));
      }
    } else {
      auto outcome = Check(actor.user_id, code, /*allow_recovery=*/true);
      if (!outcome) return std::unexpected(outcome.error());
      if (*outcome == Outcome::kWrong || *outcome == Outcome::kReused) {
        users_.CountFailure(actor.username, actor.ip);
        const bool reused = *outcome == Outcome::kReused;
        return std::unexpected(core::Error::InvalidField(
            "code", reused ? "reused" : "wrong",
            reused ? "this code was used already; wait for the next one" : "the code is wrong"));
      }
    }
  }
  auto removed = store_.Remove(actor.user_id);
  if (!removed) return std::unexpected(removed.error());
  // An enrolment that was never confirmed is simply dropped; only turning MFA off is audited.
  if (*removed)
    Audit(actor, "auth.mfa_disable", actor.user_id,
          {{"by", password.empty() ? "code" : "password"}});
  users_.Forget(actor.user_id);
  return core::Ok();
}

core::Result<bool> MfaService::Reset(const core::Actor& actor, int64_t user_id) {
  if (!actor.Can(core::Perm::kUserAdmin)) {
    return std::unexpected(
        core::Error::Forbidden("resetting two-step verification needs user.admin"));
  }
  if (user_id == actor.user_id) {
    return std::unexpected(core::Error::InvalidField(
        "id", "self", "turn your own two-step verification off on 我的安全 (DELETE /auth/mfa)"));
  }
  auto u = user_store_.FindById(user_id);
  if (!u) return std::unexpected(u.error());
  if (!*u) return std::unexpected(core::Error::NotFound("no such user"));
  auto removed = store_.Remove(user_id);
  if (!removed) return std::unexpected(removed.error());
  Audit(actor, "auth.mfa_reset", user_id,
        {{"username", (*u)->username}, {"was_enabled", *removed}});
  users_.Forget(user_id);
  return *removed;
}

core::Result<bool> MfaService::ResetByName(const core::Actor& actor, const std::string& username) {
  auto found = user_store_.FindForLogin(username);
  if (!found) return std::unexpected(found.error());
  if (!*found) return std::unexpected(core::Error::NotFound("no user named " + username));
  return Reset(actor, (*found)->first.id);
}

core::Result<LoginResult> MfaService::CompleteLogin(const std::string& mfa_token,
                                                    const std::string& code, const std::string& ip,
                                                    const std::string& user_agent) {
  const core::Error expired = CodeError(core::Code::kUnauthenticated, "mfa_token", "expired",
                                        "the sign-in has expired; enter the password again");
  if (mfa_token.empty() || mfa_token.size() > 200) return std::unexpected(expired);
  if (Compact(code).empty()) {
    return std::unexpected(core::Error::InvalidField("code", "required", "enter the code"));
  }
  const std::string hash = crypto::TokenHash(mfa_token);
  auto ch = user_store_.FindMfaChallenge(hash);
  if (!ch) return std::unexpected(ch.error());
  if (!*ch || (*ch)->expires_at <= core::NowMs()) return std::unexpected(expired);
  auto u = user_store_.FindById((*ch)->user_id);
  if (!u) return std::unexpected(u.error());
  if (!*u || !(*u)->active) return std::unexpected(expired);
  const User& user = **u;
  if (auto ok = users_.CheckThrottle(user.username, ip); !ok) return std::unexpected(ok.error());
  auto outcome = Check(user.id, code, /*allow_recovery=*/true);
  if (!outcome) return std::unexpected(outcome.error());
  if (*outcome == Outcome::kWrong || *outcome == Outcome::kReused) {
    const bool reused = *outcome == Outcome::kReused;
    auto rec =
        audit_.RecordAnonymous(user.username, ip,
                               {"auth.login_failed",
                                "user",
                                std::to_string(user.id),
                                {{"reason", reused ? "reused MFA code" : "wrong MFA code"}}});
    if (!rec) spdlog::error("audit trail: {}", rec.error().message());
    users_.CountFailure(user.username, ip);
    (void)user_store_.FailMfaChallenge(hash, kMaxCodesPerLogin);
    return std::unexpected(CodeError(
        core::Code::kUnauthenticated, "code", reused ? "reused" : "wrong",
        reused ? "this code was used already; wait for the next one" : "the code is wrong"));
  }
  auto taken = user_store_.TakeMfaChallenge(hash);
  if (!taken) return std::unexpected(taken.error());
  if (!*taken) return std::unexpected(expired);  // another request finished it first
  const bool recovery = *outcome == Outcome::kRecoveryCode;
  auto r = users_.FinishLogin(user, ip, user_agent, {{"mfa", recovery ? "recovery_code" : "totp"}});
  if (!r) return r;
  if (recovery) {
    auto left = store_.RecoveryCodesLeft(user.id);
    Audit(r->actor, "auth.mfa_recovery_used", user.id,
          {{"recovery_codes_left", left ? *left : -1}});
  }
  return r;
}

core::Result<int64_t> MfaService::Reencrypt(const core::Actor& actor) {
  if (!actor.Can(core::Perm::kSettingsAdmin)) {
    return std::unexpected(core::Error::Forbidden("re-encrypting needs settings.admin"));
  }
  auto all = store_.AllSecrets();
  if (!all) return std::unexpected(all.error());
  const uint32_t current = cipher_.current_version();
  int64_t rewritten = 0;
  for (const auto& [user_id, ciphertext] : *all) {
    if (crypto::FieldCipher::VersionOf(ciphertext) == current) continue;
    auto clear = cipher_.Decrypt(ciphertext, SecretContext(user_id));
    if (!clear) return std::unexpected(clear.error());
    std::string fresh = cipher_.Encrypt(*clear, SecretContext(user_id));
    sodium_memzero(clear->data(), clear->size());
    auto done = store_.ReplaceSecret(user_id, ciphertext, fresh);
    if (!done) return std::unexpected(done.error());
    if (*done) ++rewritten;
  }
  return rewritten;
}

core::Result<int64_t> MfaService::SecretsOnKey(uint32_t version) {
  auto all = store_.AllSecrets();
  if (!all) return std::unexpected(all.error());
  int64_t n = 0;
  for (const auto& entry : *all) {
    if (crypto::FieldCipher::VersionOf(entry.second) == version) ++n;
  }
  return n;
}

}  // namespace kehu::user
