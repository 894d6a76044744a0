// Time-based one-time passwords (RFC 6238) through liboath: HMAC-SHA-1, 30-second steps,
// 6 digits, what authenticator apps (Google Authenticator, Microsoft Authenticator, 腾讯身份验证器
// and the like) expect from an otpauth:// URI without parameters. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace kehu::crypto {

inline constexpr unsigned kTotpStepSeconds = 30;
inline constexpr unsigned kTotpDigits = 6;
inline constexpr std::size_t kTotpSecretBytes = 20;  // 160 bits, as RFC 4226 recommends

// A fresh random secret (libsodium), kTotpSecretBytes raw bytes.
std::string NewTotpSecret();

// RFC 4648 base32 without padding, upper case: the form apps take for manual entry.
std::string Base32Encode(std::string_view bytes);
// Accepts upper or lower case, spaces and missing padding; kInvalid otherwise.
core::Result<std::string> Base32Decode(std::string_view text);

// The time step of a Unix time: floor(unix_seconds / 30).
int64_t TotpStep(int64_t unix_seconds);

// The code for `unix_seconds` with `digits` digits (6 to 8). kInvalid for an empty secret or
// digits out of range.
core::Result<std::string> TotpCode(std::string_view secret, int64_t unix_seconds,
                                   unsigned digits = kTotpDigits);

// The time step `code` (kTotpDigits digits) belongs to, looking `window` steps before and
// after the step of `unix_seconds`; nullopt when it matches none (or is not 6 digits).
// Candidates are compared in constant time.
std::optional<int64_t> TotpMatch(std::string_view secret, std::string_view code,
                                 int64_t unix_seconds, unsigned window = 1);

// otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER (percent-encoded): the text of the
// enrolment QR code.
std::string TotpUri(std::string_view issuer, std::string_view account,
                    std::string_view base32_secret);

}  // namespace kehu::crypto
