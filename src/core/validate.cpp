#include "core/validate.h"

#include <unicode/bytestream.h>
#include <unicode/idna.h>
#include <unicode/uchar.h>
#include <unicode/utypes.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

namespace kehu::core {
namespace {

// Decodes one code point of well-formed UTF-8 starting at s[i]; returns its byte length, or 0
// when the bytes there are not well-formed (overlong, surrogate, out of range, truncated).
std::size_t DecodeUtf8(std::string_view s, std::size_t i, char32_t* cp) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  std::size_t len = 0;
  char32_t value = 0;
  unsigned char lo = 0x80;  // allowed range of the second byte
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    value = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    value = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates U+D800..U+DFFF
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    value = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;  // continuation byte, C0/C1 overlong lead, or F5..FF
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const unsigned char b = byte(i + k);
    if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return 0;
    value = (value << 6) | (b & 0x3F);
  }
  *cp = value;
  return len;
}

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
char AsciiUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

// Characters RFC 5322 allows unquoted in a local part ("atext"), besides letters and digits.
bool IsAtextSymbol(char c) {
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '/':
    case '=':
    case '?':
    case '^':
    case '_':
    case '`':
    case '{':
    case '|':
    case '}':
    case '~':
      return true;
    default:
      return false;
  }
}

Error EmailError(std::string_view field, std::string message) {
  return Error::InvalidField(std::string(field), "invalid_email", std::move(message));
}

Result<void> CheckLocalPart(std::string_view local, std::string_view field) {
  if (local.empty()) return std::unexpected(EmailError(field, "email has nothing before the @"));
  if (local.size() > 64) {
    return std::unexpected(EmailError(field, "the part before the @ is longer than 64 bytes"));
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return std::unexpected(
        EmailError(field,
                   "the part before the @ cannot start or end with a dot or have two dots "
                   "in a row"));
  }
  for (char c : local) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) continue;  // UTF-8 (RFC 6531); well-formedness was checked on the whole input
    if (IsAsciiAlpha(c) || IsAsciiDigit(c) || c == '.' || IsAtextSymbol(c)) continue;
    if (IsAsciiSpace(c)) return std::unexpected(EmailError(field, "email contains a space"));
    return std::unexpected(EmailError(
        field, std::string("the part before the @ contains an invalid character '") + c + "'"));
  }
  return Ok();
}

// Checks an all-ASCII domain (or the ASCII form of an IDN) label by label.
Result<void> CheckAsciiDomain(std::string_view domain, std::string_view field) {
  if (domain.size() > 253) {
    return std::unexpected(EmailError(field, "the domain is longer than 253 characters"));
  }
  std::size_t labels = 0;
  std::size_t start = 0;
  std::string_view last;
  while (true) {
    const std::size_t dot = domain.find('.', start);
    const std::string_view label =
        domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty()) {
      return std::unexpected(EmailError(field, "the domain has an empty label"));
    }
    if (label.size() > 63) {
      return std::unexpected(EmailError(field, "a domain label is longer than 63 characters"));
    }
    if (label.front() == '-' || label.back() == '-') {
      return std::unexpected(EmailError(field, "a domain label cannot start or end with a hyphen"));
    }
    for (char c : label) {
      if (!IsAsciiAlpha(c) && !IsAsciiDigit(c) && c != '-') {
        return std::unexpected(
            EmailError(field, std::string("the domain contains an invalid character '") + c + "'"));
      }
    }
    ++labels;
    last = label;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (labels < 2) {
    return std::unexpected(EmailError(field, "the domain needs a dot, as in example.com"));
  }
  bool all_digits = true;
  for (char c : last) all_digits = all_digits && IsAsciiDigit(c);
  if (all_digits || last.size() < 2) {
    return std::unexpected(EmailError(field, "the top-level domain is not valid"));
  }
  return Ok();
}

// UTS #46 processing for internationalised domains; icu::IDNA is immutable and thread-safe.
const icu::IDNA* Uts46() {
  static const std::unique_ptr<const icu::IDNA> idna = [] {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<const icu::IDNA> p(icu::IDNA::createUTS46Instance(
        UIDNA_USE_STD3_RULES | UIDNA_CHECK_BIDI | UIDNA_CHECK_CONTEXTJ |
            UIDNA_NONTRANSITIONAL_TO_ASCII | UIDNA_NONTRANSITIONAL_TO_UNICODE,
        status));
    if (U_FAILURE(status)) p.reset();
    return p;
  }();
  return idna.get();
}

// Lower-cases and validates a domain that contains non-ASCII characters; returns its Unicode
// (UTS #46 mapped, so lower-case and NFC) form.
Result<std::string> NormalizeIdnDomain(std::string_view domain, std::string_view field) {
  const icu::IDNA* idna = Uts46();
  if (idna == nullptr) return std::unexpected(Error::Internal("ICU IDNA is unavailable"));
  std::string unicode;
  std::string ascii;
  {
    icu::StringByteSink<std::string> sink(&unicode);
    icu::IDNAInfo info;
    UErrorCode status = U_ZERO_ERROR;
    idna->nameToUnicodeUTF8(icu::StringPiece(domain.data(), static_cast<int32_t>(domain.size())),
                            sink, info, status);
    if (U_FAILURE(status) || info.hasErrors()) {
      return std::unexpected(EmailError(field, "the domain is not a valid internationalised name"));
    }
  }
  {
    icu::StringByteSink<std::string> sink(&ascii);
    icu::IDNAInfo info;
    UErrorCode status = U_ZERO_ERROR;
    idna->nameToASCII_UTF8(icu::StringPiece(unicode.data(), static_cast<int32_t>(unicode.size())),
                           sink, info, status);
    if (U_FAILURE(status) || info.hasErrors()) {
      return std::unexpected(EmailError(field, "the domain is not a valid internationalised name"));
    }
  }
  if (auto ok = CheckAsciiDomain(ascii, field); !ok) return std::unexpected(std::move(ok.error()));
  return unicode;
}

constexpr std::array<int, 17> kResidentIdWeights = {7, 9, 10, 5,  8, 4, 2, 1, 6,
                                                    3, 7, 9,  10, 5, 8, 4, 2};
constexpr std::string_view kResidentIdCheckChars = "10X98765432";

constexpr std::string_view kCreditCodeChars = "0123456789ABCDEFGHJKLMNPQRTUWXY";
constexpr std::array<int, 17> kCreditCodeWeights = {1,  3,  9,  27, 19, 26, 16, 17, 20,
                                                    29, 25, 13, 8,  24, 10, 30, 28};

int CreditCodeValue(char c) {
  const std::size_t pos = kCreditCodeChars.find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

// Half-width, trimmed, upper-cased identifier; nullopt when it contains non-ASCII characters.
std::optional<std::string> CanonicalIdentifier(std::string_view input) {
  std::string s = Trim(ToHalfWidth(input));
  for (char& c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return std::nullopt;
    c = AsciiUpper(c);
  }
  return s;
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    // Fast path over ASCII.
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    char32_t cp = 0;
    const std::size_t len = DecodeUtf8(s, i, &cp);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::string ToHalfWidth(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
      out.push_back(s[i]);
      ++i;
      continue;
    }
    char32_t cp = 0;
    const std::size_t len = DecodeUtf8(s, i, &cp);
    if (len == 0) {  // not UTF-8: copy the byte through unchanged
      out.push_back(s[i]);
      ++i;
      continue;
    }
    if (cp >= 0xFF01 && cp <= 0xFF5E) {
      out.push_back(static_cast<char>(cp - 0xFEE0));
    } else if (cp == 0x3000) {
      out.push_back(' ');
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  return out;
}

std::string Trim(std::string_view s) {
  // Leading whitespace.
  std::size_t begin = 0;
  while (begin < s.size()) {
    char32_t cp = 0;
    const std::size_t len = DecodeUtf8(s, begin, &cp);
    if (len == 0 || !u_isUWhiteSpace(static_cast<UChar32>(cp))) break;
    begin += len;
  }
  // Trailing whitespace: walk forward remembering where the last non-space code point ended.
  std::size_t end = begin;
  std::size_t i = begin;
  while (i < s.size()) {
    char32_t cp = 0;
    std::size_t len = DecodeUtf8(s, i, &cp);
    if (len == 0) {  // an invalid byte is kept, never treated as space
      len = 1;
      end = i + 1;
    } else if (!u_isUWhiteSpace(static_cast<UChar32>(cp))) {
      end = i + len;
    }
    i += len;
  }
  return std::string(s.substr(begin, end - begin));
}

Result<std::string> NormalizeEmail(std::string_view input, std::string_view field) {
  if (!IsValidUtf8(input)) return std::unexpected(EmailError(field, "email is not valid UTF-8"));
  const std::string s = Trim(ToHalfWidth(input));
  if (s.empty()) return std::unexpected(EmailError(field, "email is empty"));
  if (s.size() > 254) return std::unexpected(EmailError(field, "email is longer than 254 bytes"));
  const std::size_t at = s.find('@');
  if (at == std::string::npos) return std::unexpected(EmailError(field, "email has no @"));
  if (s.find('@', at + 1) != std::string::npos) {
    return std::unexpected(EmailError(field, "email has more than one @"));
  }
  const std::string_view local = std::string_view(s).substr(0, at);
  const std::string_view domain = std::string_view(s).substr(at + 1);
  if (auto ok = CheckLocalPart(local, field); !ok) return std::unexpected(std::move(ok.error()));
  if (domain.empty()) return std::unexpected(EmailError(field, "email has nothing after the @"));

  bool ascii = true;
  for (char c : domain) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  std::string normalized_domain;
  if (ascii) {
    normalized_domain.reserve(domain.size());
    for (char c : domain) normalized_domain.push_back(AsciiLower(c));
    if (auto ok = CheckAsciiDomain(normalized_domain, field); !ok) {
      return std::unexpected(std::move(ok.error()));
    }
  } else {
    auto idn = NormalizeIdnDomain(domain, field);
    if (!idn) return std::unexpected(std::move(idn.error()));
    normalized_domain = std::move(*idn);
  }
  std::string out;
  out.reserve(local.size() + 1 + normalized_domain.size());
  out.append(local);
  out.push_back('@');
  out.append(normalized_domain);
  return out;
}

Result<std::string> NormalizeResidentId(std::string_view input, std::string_view field) {
  const auto format_error = [&](std::string message) {
    return std::unexpected(
        Error::InvalidField(std::string(field), "invalid_format", std::move(message)));
  };
  const std::optional<std::string> canonical = CanonicalIdentifier(input);
  if (!canonical) return format_error("ID number may only contain digits and X");
  const std::string& id = *canonical;
  if (id.empty()) return format_error("ID number is empty");
  if (id.size() != 18) {
    bool all_digits = true;
    for (char c : id) all_digits = all_digits && IsAsciiDigit(c);
    if (id.size() == 15 && all_digits) {
      return format_error(
          "ID number must have 18 characters; old 15-digit numbers are not "
          "accepted");
    }
    return format_error("ID number must have 18 characters");
  }
  for (std::size_t i = 0; i < 17; ++i) {
    if (!IsAsciiDigit(id[i])) return format_error("ID number must start with 17 digits");
  }
  if (!IsAsciiDigit(id[17]) && id[17] != 'X') {
    return format_error("the last character of an ID number must be a digit or X");
  }
  const auto number = [&](std::size_t pos, std::size_t len) {
    int v = 0;
    for (std::size_t k = pos; k < pos + len; ++k) v = v * 10 + (id[k] - '0');
    return v;
  };
  const int year = number(6, 4);
  const int month = number(10, 2);
  const int day = number(12, 2);
  const std::chrono::year_month_day birth{std::chrono::year(year),
                                          std::chrono::month(static_cast<unsigned>(month)),
                                          std::chrono::day(static_cast<unsigned>(day))};
  if (year < 1900 || year > 2099 || !birth.ok()) {
    return format_error("ID number has no valid birth date (" + id.substr(6, 8) + ")");
  }
  int sum = 0;
  for (std::size_t i = 0; i < 17; ++i) sum += (id[i] - '0') * kResidentIdWeights[i];
  const char expected = kResidentIdCheckChars[static_cast<std::size_t>(sum % 11)];
  if (id[17] != expected) {
    return std::unexpected(Error::InvalidField(std::string(field), "invalid_checksum",
                                               "ID number check digit is wrong"));
  }
  return id;
}

Result<std::string> NormalizeCreditCode(std::string_view input, std::string_view field) {
  const auto format_error = [&](std::string message) {
    return std::unexpected(
        Error::InvalidField(std::string(field), "invalid_format", std::move(message)));
  };
  const std::optional<std::string> canonical = CanonicalIdentifier(input);
  if (!canonical) return format_error("credit code may only contain digits and capital letters");
  const std::string& code = *canonical;
  if (code.empty()) return format_error("credit code is empty");
  if (code.size() != 18) return format_error("credit code must have 18 characters");
  int sum = 0;
  for (std::size_t i = 0; i < 18; ++i) {
    const int v = CreditCodeValue(code[i]);
    if (v < 0) {
      return format_error(std::string("credit code contains '") + code[i] +
                          "', which is not used in credit codes (I, O, S, V and Z never are)");
    }
    if (i < 17) sum += v * kCreditCodeWeights[i];
  }
  const int check = (31 - sum % 31) % 31;
  if (code[17] != kCreditCodeChars[static_cast<std::size_t>(check)]) {
    return std::unexpected(Error::InvalidField(std::string(field), "invalid_checksum",
                                               "credit code check character is wrong"));
  }
  return code;
}

}  // namespace kehu::core
