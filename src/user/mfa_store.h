// Persistence of second factors: each user's TOTP secret (encrypted by the caller; this store
// sees only ciphertext) with the last time step used, and their recovery codes (hashes only).
// The tables are created by user::Migrations(). Thread-safe (each call leases a session).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "db/database.h"

namespace kehu::user {

struct StoredMfa {
  std::string secret;                 // FieldCipher ciphertext of the base32 secret
  std::optional<int64_t> enabled_at;  // nullopt while the enrolment is not confirmed
  int64_t last_step = 0;              // highest TOTP time step accepted (replay guard)
  int64_t created_at = 0;
};

class MfaStore {
 public:
  explicit MfaStore(db::Database& db) : db_(db) {}

  // nullopt when the user has neither MFA nor an enrolment under way.
  core::Result<std::optional<StoredMfa>> Find(int64_t user_id);
  // Keeps a new secret for an enrolment under way, replacing an earlier unconfirmed one.
  // kConflict when MFA is already on.
  core::Result<void> SavePending(int64_t user_id, const std::string& secret, int64_t now);
  // Turns the pending secret on, with `step` as its first used step and these recovery
  // code hashes (replacing any). kConflict when no enrolment is under way (or it is on).
  core::Result<void> Enable(int64_t user_id, int64_t step,
                            const std::vector<std::string>& code_hashes, int64_t now);
  // Takes a TOTP time step once: true (and remembered) when it is after the last step used,
  // false for a step already used or an older one. Atomic, so two requests racing with one
  // code cannot both pass.
  core::Result<bool> UseStep(int64_t user_id, int64_t step);
  // Marks an unused recovery code used; false when there is no such unused code.
  core::Result<bool> UseRecoveryCode(int64_t user_id, const std::string& code_hash, int64_t now);
  core::Result<int64_t> RecoveryCodesLeft(int64_t user_id);
  core::Result<void> ReplaceRecoveryCodes(int64_t user_id,
                                          const std::vector<std::string>& code_hashes);
  // Removes the secret, the recovery codes and any half-done login of the user. Returns
  // whether MFA was on (an unconfirmed enrolment does not count).
  core::Result<bool> Remove(int64_t user_id);

  // Key rotation: every (user id, secret ciphertext), and a compare-and-set rewrite (false when
  // the stored ciphertext is no longer `old_secret`).
  core::Result<std::vector<std::pair<int64_t, std::string>>> AllSecrets();
  core::Result<bool> ReplaceSecret(int64_t user_id, const std::string& old_secret,
                                   const std::string& new_secret);

 private:
  db::Database& db_;
};

}  // namespace kehu::user
