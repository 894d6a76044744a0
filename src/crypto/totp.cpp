#include "crypto/totp.h"

#include <liboath/oath.h>
#include <sodium.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>

#include "crypto/crypto.h"

namespace kehu::crypto {
namespace {

// liboath keeps global state set up by oath_init(); once per process, from any thread.
bool OathReady() {
  static std::once_flag once;
  static int rc = OATH_OK;
  std::call_once(once, [] { rc = oath_init(); });
  return rc == OATH_OK;
}

struct FreeDeleter {
  void operator()(char* p) const { std::free(p); }
};

// The code apps are asked to match, compared in constant time against each candidate
// liboath computes (it otherwise compares with strcmp).
int CompareCandidate(void* handle, const char* candidate) {
  const std::string_view want = *static_cast<const std::string_view*>(handle);
  return ConstantTimeEqual(want, candidate) ? 0 : 1;
}

bool SixDigits(std::string_view code) {
  if (code.size() != kTotpDigits) return false;
  for (char c : code) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

std::string NewTotpSecret() {
  if (!Init()) {
    std::fputs("kehu: libsodium failed to initialise; refusing to continue\n", stderr);
    std::abort();
  }
  std::array<unsigned char, kTotpSecretBytes> raw;
  randombytes_buf(raw.data(), raw.size());
  std::string out(reinterpret_cast<const char*>(raw.data()), raw.size());
  sodium_memzero(raw.data(), raw.size());
  return out;
}

std::string Base32Encode(std::string_view bytes) {
  if (bytes.empty() || !OathReady()) return "";
  char* raw = nullptr;
  size_t len = 0;
  if (oath_base32_encode(bytes.data(), bytes.size(), &raw, &len) != OATH_OK) return "";
  std::unique_ptr<char, FreeDeleter> owned(raw);
  std::string out(raw, len);
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

core::Result<std::string> Base32Decode(std::string_view text) {
  std::string clean;
  for (char c : text) {
    if (c == ' ' || c == '-') continue;
    clean.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  }
  if (clean.empty()) return std::unexpected(core::Error::Invalid("empty base32 text"));
  if (!OathReady()) return std::unexpected(core::Error::Internal("liboath failed to initialise"));
  char* raw = nullptr;
  size_t len = 0;
  if (oath_base32_decode(clean.data(), clean.size(), &raw, &len) != OATH_OK) {
    return std::unexpected(core::Error::Invalid("not base32 (RFC 4648): A-Z and 2-7"));
  }
  std::unique_ptr<char, FreeDeleter> owned(raw);
  std::string out(raw, len);
  sodium_memzero(raw, len);
  return out;
}

int64_t TotpStep(int64_t unix_seconds) {
  // Floor division, so times before 1970 (only in tests) still land on their step.
  const int64_t s = kTotpStepSeconds;
  return unix_seconds >= 0 ? unix_seconds / s : -((-unix_seconds + s - 1) / s);
}

core::Result<std::string> TotpCode(std::string_view secret, int64_t unix_seconds, unsigned digits) {
  if (secret.empty()) return std::unexpected(core::Error::Invalid("empty TOTP secret"));
  if (digits < 6 || digits > 8) {
    return std::unexpected(core::Error::Invalid("TOTP codes have 6 to 8 digits"));
  }
  if (!OathReady()) return std::unexpected(core::Error::Internal("liboath failed to initialise"));
  std::array<char, 16> out{};
  int rc = oath_totp_generate(secret.data(), secret.size(), static_cast<time_t>(unix_seconds),
                              kTotpStepSeconds, 0, digits, out.data());
  if (rc != OATH_OK) {
    return std::unexpected(core::Error::Internal(std::string("liboath: ") + oath_strerror(rc)));
  }
  return std::string(out.data());
}

std::optional<int64_t> TotpMatch(std::string_view secret, std::string_view code,
                                 int64_t unix_seconds, unsigned window) {
  if (secret.empty() || !SixDigits(code) || !OathReady()) return std::nullopt;
  int position = 0;
  uint64_t counter = 0;
  int rc = oath_totp_validate3_callback(
      secret.data(), secret.size(), static_cast<time_t>(unix_seconds), kTotpStepSeconds, 0,
      kTotpDigits, window, &position, &counter, &CompareCandidate, &code);
  if (rc < 0) return std::nullopt;  // OATH_INVALID_OTP or an error
  return static_cast<int64_t>(counter);
}

namespace {

// RFC 3986 unreserved characters stay; everything else (UTF-8 bytes included) is %XX.
std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace

std::string TotpUri(std::string_view issuer, std::string_view account,
                    std::string_view base32_secret) {
  const std::string is = PercentEncode(issuer);
  return "otpauth://totp/" + is + ":" + PercentEncode(account) +
         "?secret=" + std::string(base32_secret) + "&issuer=" + is;
}

}  // namespace kehu::crypto
