// Two-step verification (MFA): TOTP enrolment with a QR code, ten one-time recovery codes,
// the second step of a login, disabling it, and administrators resetting it. Secrets are kept
// encrypted with the field cipher and never leave the server after enrolment. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "audit/service.h"
#include "core/actor.h"
#include "core/error.h"
#include "crypto/crypto.h"
#include "user/mfa_store.h"
#include "user/model.h"
#include "user/service.h"
#include "user/store.h"

namespace kehu::user {

struct MfaStatus {
  bool enabled = false;
  bool required = false;  // the actor's role requires it
  bool pending = false;   // an enrolment was started and not confirmed yet
  int64_t recovery_codes_left = 0;
  std::optional<int64_t> enabled_at;
};

// What an authenticator app needs; shown once, when the enrolment starts.
struct MfaEnrolment {
  std::string secret;       // base32, for typing into the app
  std::string otpauth_uri;  // otpauth://totp/Kehu:NAME?secret=…&issuer=Kehu
  std::string qr_svg;       // the URI as a QR code
};

class MfaService {
 public:
  MfaService(UserStore& user_store, MfaStore& store, UserService& users, audit::AuditLog& audit,
             const crypto::FieldCipher& cipher)
      : user_store_(user_store), store_(store), users_(users), audit_(audit), cipher_(cipher) {}

  static constexpr int kRecoveryCodes = 10;
  // Wrong codes one half-done login may take before the password is needed again (each
  // also counts as a failed login of the name and the address).
  static constexpr int64_t kMaxCodesPerLogin = 5;
  static constexpr const char* kIssuer = "Kehu";

  // The actor's own state. kBadRequest for the command line's local administrator (who has
  // no login) here and in every method on one's own MFA below.
  core::Result<MfaStatus> Status(const core::Actor& actor);
  // Starts (or restarts) an enrolment: a new random secret, kept until confirmed.
  // kConflict when MFA is already on.
  core::Result<MfaEnrolment> StartEnrolment(const core::Actor& actor);
  // Turns MFA on with a code from the app; returns the recovery codes (shown once, stored
  // hashed). kInvalid (field code: required, invalid_format, wrong) for a bad code; kConflict
  // when no enrolment was started or MFA is on already.
  core::Result<std::vector<std::string>> ConfirmEnrolment(const core::Actor& actor,
                                                          const std::string& code);
  // New recovery codes (the old ones stop working); needs a current code from the app (not a
  // recovery code). A wrong code counts as a failed login. kConflict when MFA is off.
  core::Result<std::vector<std::string>> RegenerateRecoveryCodes(const core::Actor& actor,
                                                                 const std::string& code);
  // Turns the actor's MFA off after checking their password or a code (app or recovery code;
  // one of the two is needed). kForbidden (mfa: required_by_role) when their role requires
  // MFA; a wrong password or code counts as a failed login and answers kInvalid.
  core::Result<void> Disable(const core::Actor& actor, const std::string& password,
                             const std::string& code);
  // Administrators (user.admin) turn another user's MFA off, e.g. after a lost phone; audited
  // as auth.mfa_reset. kNotFound for an unknown user, kInvalid (id: self) for oneself (use
  // Disable). Returns whether MFA was on.
  core::Result<bool> Reset(const core::Actor& actor, int64_t user_id);
  // The same by login name, for `kehu user mfa-reset NAME`.
  core::Result<bool> ResetByName(const core::Actor& actor, const std::string& username);

  // The second step of a login (UserService::Login gave the token): a code from the app or a
  // recovery code. kUnauthenticated (mfa_token: expired) when the token is unknown, used or
  // older than five minutes; kUnauthenticated (code: wrong or reused) for a wrong code, which
  // counts as a failed login of the name (and kMaxCodesPerLogin of them end the token);
  // kRateLimited while the name or address is blocked.
  core::Result<LoginResult> CompleteLogin(const std::string& mfa_token, const std::string& code,
                                          const std::string& ip, const std::string& user_agent);

  // Key rotation (settings.admin): re-encrypts every secret not under the current key.
  // Returns how many were rewritten.
  core::Result<int64_t> Reencrypt(const core::Actor& actor);
  // Secrets still encrypted under key `version`.
  core::Result<int64_t> SecretsOnKey(uint32_t version);

 private:
  enum class Outcome { kTotp, kRecoveryCode, kWrong, kReused };
  // Checks a code against the user's secret (each step used once) or, when allowed, their
  // recovery codes (each used once).
  core::Result<Outcome> Check(int64_t user_id, const std::string& code, bool allow_recovery);
  core::Result<std::string> Secret(int64_t user_id, const StoredMfa& m) const;
  // Fresh recovery codes: the clear text (to show) and their hashes (to store).
  std::pair<std::vector<std::string>, std::vector<std::string>> NewRecoveryCodes(
      int64_t user_id) const;
  void Audit(const core::Actor& actor, const char* action, int64_t user_id,
             nlohmann::json details = nlohmann::json::object());

  UserStore& user_store_;
  MfaStore& store_;
  UserService& users_;
  audit::AuditLog& audit_;
  const crypto::FieldCipher& cipher_;
};

// Recovery codes as typed: lower case, without spaces and dashes (so "ABCDE-FGHJK" matches).
std::string NormaliseRecoveryCode(std::string_view code);

}  // namespace kehu::user
