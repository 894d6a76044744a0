// Field encryption, blind indexes, password hashing and random tokens (libsodium).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace kehu::crypto {

// Initialises libsodium once; safe to call many times from any thread.
core::Result<void> Init();

// The master key versions, loaded from the key file (kept outside the data directory).
// File format: one line per version, "<version> <base64 of 32 random bytes>", highest is current.
// Immutable after load; thread-safe to share.
class KeyRing {
 public:
  // Loads `file`; when it does not exist, creates it (parent directories 0700, file 0600) with
  // a fresh version 1. Refuses (kInvalid) a file readable by group/others or malformed.
  static core::Result<KeyRing> LoadOrCreate(const std::filesystem::path& file);
  // For tests: a ring from given raw 32-byte keys.
  static KeyRing FromKeys(std::map<uint32_t, std::string> raw_keys);

  uint32_t current_version() const { return current_; }
  // nullptr when the version is unknown.
  const std::string* Key(uint32_t version) const;
  std::vector<uint32_t> versions() const;

  // Key rotation. Adds a fresh random key as the next version (the new current one) to the
  // key file, atomically (a new file renamed over the old, mode 0600, synced). Returns it.
  static core::Result<uint32_t> AddVersion(const std::filesystem::path& file);
  // Removes an old version from the key file; refuses the current one.
  static core::Result<void> RemoveVersion(const std::filesystem::path& file, uint32_t version);

 private:
  friend class FieldCipher;               // derives a subkey for every version
  std::map<uint32_t, std::string> keys_;  // version -> 32 raw bytes
  uint32_t current_ = 0;
};

// The derived keys a cipher or index uses now, swapped on a key rotation. Reading them is one
// atomic load: every decrypt and every blind index takes them, from many threads, and an
// std::atomic<std::shared_ptr> (a lock and two reference-count updates a read) cost ~8% of an
// export. So replaced states are not freed but kept until the owner goes: a rotation replaces
// a few hundred bytes, and a thread may still be reading the old ones. (Retired keys thus stay
// in memory until the server restarts; they are retired only once nothing uses them.)
template <typename State>
class KeyStates {
 public:
  const State& Get() const { return *current_.load(std::memory_order_acquire); }
  void Set(std::unique_ptr<const State> next) {
    std::lock_guard lock(mu_);
    current_.store(next.get(), std::memory_order_release);
    all_.push_back(std::move(next));
  }

 private:
  std::atomic<const State*> current_{nullptr};
  std::mutex mu_;
  std::vector<std::unique_ptr<const State>> all_;  // guarded by mu_; the last one is current
};

// XChaCha20-Poly1305 (IETF AEAD) with a subkey derived per key version. The ciphertext text is
// "k<version>:<base64(nonce || ciphertext || tag)>", so rotation knows which key to use.
// `context` (e.g. "customer.phone") is bound as associated data. Thread-safe, also while
// Reload swaps in a new key ring.
class FieldCipher {
 public:
  explicit FieldCipher(const KeyRing& ring);
  std::string Encrypt(std::string_view plaintext, std::string_view context) const;
  // kInternal when the key version is unknown or authentication fails.
  core::Result<std::string> Decrypt(std::string_view ciphertext, std::string_view context) const;
  // Key version a stored ciphertext uses, 0 when unparsable.
  static uint32_t VersionOf(std::string_view ciphertext);
  // The version Encrypt uses.
  uint32_t current_version() const;
  // Takes the ring's keys (after a rotation or a retirement).
  void Reload(const KeyRing& ring);

 private:
  struct State {
    std::map<uint32_t, std::string> subkeys;
    uint32_t current = 0;
  };
  static std::unique_ptr<const State> Derive(const KeyRing& ring);
  KeyStates<State> states_;
};

// Keyed BLAKE2b over (domain, value) -> 32 lowercase hex chars (128 bits). Deterministic for a
// key ring's current version; `domain` separates uses ("phone", "email", "id_number"). Thread-safe.
// Each key version has its own index key: Compute uses the current one (what is stored);
// ComputeAll gives the value under every version, newest first, so lookups keep finding rows
// not re-indexed yet during a rotation.
class BlindIndex {
 public:
  explicit BlindIndex(const KeyRing& ring);
  std::string Compute(std::string_view domain, std::string_view normalized_value) const;
  std::vector<std::string> ComputeAll(std::string_view domain,
                                      std::string_view normalized_value) const;
  void Reload(const KeyRing& ring);

 private:
  struct State {
    std::vector<std::string> keys;  // newest version first
  };
  KeyStates<State> states_;
};

// Argon2id (crypto_pwhash_str, interactive limits). Returns the encoded hash string.
core::Result<std::string> HashPassword(std::string_view password);
// Constant-time verification against an encoded hash; false on any mismatch or bad hash.
bool VerifyPassword(std::string_view encoded_hash, std::string_view password);

// `bytes` random bytes, base64url without padding.
std::string RandomToken(std::size_t bytes = 32);
// Unkeyed BLAKE2b-256 of a secret token, lowercase hex: what is stored for sessions/API tokens.
std::string TokenHash(std::string_view token);
bool ConstantTimeEqual(std::string_view a, std::string_view b);

std::string Base64Encode(std::string_view bytes);
core::Result<std::string> Base64Decode(std::string_view text);

// A file's permission bits as chmod takes them ("0600"), for messages about key files.
std::string OctalMode(unsigned mode);

}  // namespace kehu::crypto
