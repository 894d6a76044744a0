// Validators for Chinese identifiers and emails. Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace kehu::core {

// Trims, lower-cases the domain, checks syntax (local@domain.tld, no spaces, one @, domain
// labels of letters/digits/hyphens, IDN in UTF-8 allowed). Error code "invalid_email".
Result<std::string> NormalizeEmail(std::string_view input, std::string_view field = "email");

// 居民身份证号: 18 chars, 17 digits + digit/X, valid birth date, ISO 7064 MOD 11-2 check digit.
// Accepts lower-case x and full-width characters; returns the canonical upper-case form.
// Error codes "invalid_format" or "invalid_checksum".
Result<std::string> NormalizeResidentId(std::string_view input,
                                        std::string_view field = "id_number");

// 统一社会信用代码 (GB 32100-2015): 18 chars from 0-9 A-H J-N P-R T U W-Y, check char mod 31.
// Returns canonical upper-case. Error codes "invalid_format" or "invalid_checksum".
Result<std::string> NormalizeCreditCode(std::string_view input,
                                        std::string_view field = "credit_code");

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates).
bool IsValidUtf8(std::string_view s);

// Full-width ASCII (U+FF01..U+FF5E) to half-width, ideographic space to space.
std::string ToHalfWidth(std::string_view s);

// Trims ASCII and Unicode whitespace (incl. U+3000, U+00A0) at both ends.
std::string Trim(std::string_view s);

}  // namespace kehu::core
