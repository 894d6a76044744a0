// Phone number normalisation with libphonenumber (default region CN).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"

namespace kehu::phone {

// A number as Kehu stores and shows it. All strings UTF-8.
struct PhoneInfo {
  std::string raw;        // the input exactly as typed
  std::string e164;       // "+863353051234"; never empty for a parsed number
  std::string extension;  // "12" or ""
  std::string type;       // mobile, fixed_line, fixed_line_or_mobile, toll_free, premium_rate,
                          // shared_cost, voip, personal_number, pager, uan, voicemail, unknown
  std::string region;  // geocoder description in Chinese, e.g. "河北省秦皇岛市"; may be ""
  std::string carrier;  // "中国移动" / "中国联通" / "中国电信" / "中国广电" where known; else ""
  std::string region_code;  // ISO 3166 code of the number, e.g. "CN"
  std::string display;      // Chinese convention: "138 0013 8000", "0335-305 1234 转 12";
                            // numbers of other countries in international format
  bool valid = false;       // true when libphonenumber says the number is valid
};

// Parses and validates the forms people type: spaces, dashes, dots, brackets, +86 / 0086 / 86
// prefixes, full-width digits and punctuation, extensions written 转123, 转 12, 分机 8001,
// 分机号8001, ext. 12, x12, #12, and a trailing -NNNN after a complete fixed-line number.
// Thread-safe; construct once and share.
class Normalizer {
 public:
  explicit Normalizer(std::string default_region = "CN");
  ~Normalizer();
  Normalizer(const Normalizer&) = delete;
  Normalizer& operator=(const Normalizer&) = delete;

  // A valid number, or Error::kInvalid with one FieldError whose field is `field` and whose
  // code is one of: not_a_number, too_short, too_long, invalid_country_code, invalid_number.
  core::Result<PhoneInfo> Normalize(std::string_view input,
                                    std::string_view field = "number") const;

  // Like Normalize but also returns numbers that parse and are merely not valid (valid=false),
  // for imports that keep bad values flagged. Errors only when the input does not parse at all.
  core::Result<PhoneInfo> Parse(std::string_view input, std::string_view field = "number") const;

  const std::string& default_region() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kehu::phone
