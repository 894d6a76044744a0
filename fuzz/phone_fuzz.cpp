// libFuzzer target: arbitrary bytes as (default region, number as typed) into
// phone::Normalizer::Normalize and Parse, the code every phone number of every request, import
// and caller-ID lookup goes through.
//
// Input: byte 0 picks the default region from kRegions (values 0xF0..0xFF instead take the
// next 0..3 bytes as the region code, whatever they are); the remaining bytes are the number.
//
// Besides crashes and sanitizer reports, a run fails when an answer breaks the contract of
// phone/normalizer.h:
//   - an error is kInvalid with exactly one FieldError on the given field and a documented code;
//   - a number is '+' and at most 20 digits, its extension 1..10 digits, every text valid UTF-8,
//     `raw` the input exactly; Normalize succeeds only for valid numbers and then Parse agrees;
//   - a normalised number read back from its E.164 form (plus extension) or from its display
//     form is the same number;
//   - for plain digit strings, the answer agrees with libphonenumber's own Parse (the fast path
//     for common Chinese shapes must give what libphonenumber gives).
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/validate.h"
#include "fuzz_check.h"
#include "phone/normalizer.h"

namespace {

using kehu::core::Code;
using kehu::fuzz::Fail;
using kehu::phone::Normalizer;
using kehu::phone::PhoneInfo;

constexpr std::array<const char*, 14> kRegions = {"CN", "CN", "CN", "CN", "US", "HK", "TW",
                                                  "MO", "GB", "DE", "JP", "ZZ", "",   "cn"};
constexpr std::string_view kField = "phones[3].number";

const Normalizer& Cached(std::size_t i) {
  static std::map<std::size_t, std::unique_ptr<Normalizer>>* cache =
      new std::map<std::size_t, std::unique_ptr<Normalizer>>();
  auto& slot = (*cache)[i];
  if (!slot) slot = std::make_unique<Normalizer>(kRegions[i]);
  return *slot;
}

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

void CheckError(const kehu::core::Error& e, std::string_view input) {
  if (e.code() != Code::kInvalid) Fail("error is not kInvalid:", e.message());
  if (e.details().size() != 1) Fail("error without exactly one FieldError:", e.message());
  const auto& d = e.details().front();
  if (d.field != kField) Fail("error names another field:", d.field);
  static const std::string_view kCodes[] = {"not_a_number", "too_short", "too_long",
                                            "invalid_country_code", "invalid_number"};
  bool known = false;
  for (std::string_view c : kCodes) known = known || d.code == c;
  if (!known) Fail("undocumented error code:", d.code);
  if (d.message.empty() || !kehu::core::IsValidUtf8(d.message)) {
    Fail("error message empty or not UTF-8 for input", input);
  }
}

void CheckInfo(const PhoneInfo& p, std::string_view input) {
  if (p.raw != input) Fail("raw differs from the input:", p.raw);
  // E.164 means at most 15 digits, but libphonenumber's metadata accepts longer national
  // numbers for some countries (German ones have up to 15 digits after +49) and calls them
  // valid: a country code and at most 17 national digits.
  if (p.e164.size() < 3 || p.e164.size() > 21 || p.e164[0] != '+' || p.e164[1] == '0' ||
      !AllDigits(std::string_view(p.e164).substr(1))) {
    Fail("not E.164:", p.e164);
  }
  if (p.extension.size() > 10 || !AllDigits(p.extension)) Fail("bad extension:", p.extension);
  for (const std::string* s : {&p.type, &p.region, &p.carrier, &p.region_code, &p.display}) {
    if (!kehu::core::IsValidUtf8(*s)) Fail("output text is not UTF-8 for input", input);
  }
  if (p.display.empty()) Fail("empty display for", p.e164);
}

void SameNumber(const Normalizer& n, const std::string& text, const PhoneInfo& want,
                const char* what) {
  auto again = n.Normalize(text, kField);
  if (!again) {
    Fail(what, text + " (of " + want.raw + ") is refused: " + again.error().message());
  }
  if (again->e164 != want.e164 || again->extension != want.extension) {
    Fail(what, text + " reads as " + again->e164 + " x" + again->extension + ", not " + want.e164 +
                   " x" + want.extension + " (from " + want.raw + ")");
  }
}

// For "+digits" or "digits", what libphonenumber alone says.
void CompareWithLibphonenumber(const Normalizer& n, std::string_view input,
                               const kehu::core::Result<PhoneInfo>& strict) {
  std::string_view digits = input.starts_with('+') ? input.substr(1) : input;
  if (digits.empty() || !AllDigits(digits) || input.size() > 20) return;
  using i18n::phonenumbers::PhoneNumber;
  using i18n::phonenumbers::PhoneNumberUtil;
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  PhoneNumber parsed;
  const bool valid = util.Parse(std::string(input), n.default_region(), &parsed) ==
                         PhoneNumberUtil::NO_PARSING_ERROR &&
                     util.IsValidNumber(parsed);
  if (!valid) {
    if (strict) Fail("valid for Kehu but not for libphonenumber:", input);
    return;
  }
  std::string e164;
  util.Format(parsed, PhoneNumberUtil::E164, &e164);
  // Kehu reads a valid number again from its E.164 form until that reads as itself (+52 1 1 …
  // reads as +52 1…, which reads as +52 …); libphonenumber read the same way.
  for (int round = 0; round < 3; ++round) {
    PhoneNumber again;
    std::string again_e164;
    if (util.Parse(e164, n.default_region(), &again) != PhoneNumberUtil::NO_PARSING_ERROR ||
        !util.IsValidNumber(again)) {
      break;
    }
    util.Format(again, PhoneNumberUtil::E164, &again_e164);
    if (again_e164 == e164) break;
    e164 = again_e164;
  }
  if (!strict) Fail("valid for libphonenumber but refused:", std::string(input) + " -> " + e164);
  if (strict->e164 != e164 || !strict->extension.empty()) {
    Fail("differs from libphonenumber:",
         std::string(input) + " -> " + strict->e164 + " vs " + e164);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Normalizer* n = nullptr;
  std::unique_ptr<Normalizer> own;
  if (data[0] < 0xF0) {
    n = &Cached(data[0] % kRegions.size());
  } else {
    const std::size_t len = std::min<std::size_t>(data[0] & 3u, input.size());
    own = std::make_unique<Normalizer>(std::string(input.substr(0, len)));
    input.remove_prefix(len);
    n = own.get();
  }

  auto strict = n->Normalize(input, kField);
  auto loose = n->Parse(input, kField);
  if (!loose) {
    CheckError(loose.error(), input);
    if (strict) Fail("Normalize accepts what Parse refuses:", input);
    CheckError(strict.error(), input);
    CompareWithLibphonenumber(*n, input, strict);
    return 0;
  }
  CheckInfo(*loose, input);
  if (!strict) {
    CheckError(strict.error(), input);
    if (loose->valid) Fail("Parse says valid, Normalize refuses:", input);
  } else {
    CheckInfo(*strict, input);
    if (!strict->valid) Fail("Normalize answered an invalid number for", input);
    if (!loose->valid || loose->e164 != strict->e164 || loose->extension != strict->extension) {
      Fail("Parse and Normalize disagree on", input);
    }
    const std::string ext = strict->extension.empty() ? "" : " 转 " + strict->extension;
    SameNumber(*n, strict->e164 + ext, *strict, "E.164 form");
    // Chinese numbers are displayed in the national form, which reads back only with CN.
    if (n->default_region() == "CN" || !strict->e164.starts_with("+86")) {
      SameNumber(*n, strict->display, *strict, "display form");
    }
  }
  CompareWithLibphonenumber(*n, input, strict);
  return 0;
}
