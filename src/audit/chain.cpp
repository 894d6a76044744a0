#include "audit/chain.h"

#include <sodium.h>

#include <array>

#include "crypto/crypto.h"

namespace kehu::audit {

std::string Canonical(const Entry& e) {
  const nlohmann::json row = {e.seq,    e.at,        e.actor_id, e.actor_name,  e.action,
                              e.entity, e.entity_id, e.ip,       e.details_text};
  // Inputs are valid UTF-8 (AuditLog cleans them); `replace` only keeps this from throwing.
  return row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string ChainHash(std::string_view prev_hash, const Entry& e) {
  (void)crypto::Init();  // once; SHA-256 itself has no CPU dispatch to set up
  const std::string canonical = Canonical(e);
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(prev_hash.data()),
                            prev_hash.size());
  crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(canonical.data()),
                            canonical.size());
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256_final(&state, digest.data());
  std::string hex(digest.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
  hex.pop_back();
  return hex;
}

}  // namespace kehu::audit
