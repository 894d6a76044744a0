#include "phone/normalizer.h"

#include <phonenumbers/geocoding/phonenumber_offline_geocoder.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>
#include <unicode/locid.h>
#include <unicode/unistr.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "core/validate.h"

namespace kehu::phone {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberOfflineGeocoder;
using i18n::phonenumbers::PhoneNumberUtil;

// Longer input is rejected before any work is done (libphonenumber itself stops at 250).
constexpr std::size_t kMaxInputBytes = 256;
// An extension after an explicit marker (转, 分机, ext, x, #).
constexpr std::size_t kMaxExtensionDigits = 10;
// A trailing "-NNNN" group read as an extension after a complete fixed-line number.
constexpr std::size_t kMaxDashExtensionDigits = 6;
constexpr int kChinaCallingCode = 86;

// --- carrier of Chinese mobile numbers, from the MIIT allocation of 1XY prefixes -------------

enum class Carrier : std::uint8_t { kUnknown, kMobile, kUnicom, kTelecom, kBroadnet, kSplit };

struct PrefixCarrier {
  int prefix;  // 3 digits (1XY) or, for blocks split between carriers, 4 digits (1XYZ)
  Carrier carrier;
};

// Virtual-operator blocks (162, 165, 167, 170, 171) are listed under the network they run on.
// 1349 (satellite, China Satcom) and 174 (satellite and emergency blocks) have no entry.
constexpr PrefixCarrier kMobileAllocations[] = {
    {130, Carrier::kUnicom},
    {131, Carrier::kUnicom},
    {132, Carrier::kUnicom},
    {133, Carrier::kTelecom},
    {134, Carrier::kSplit},
    {135, Carrier::kMobile},
    {136, Carrier::kMobile},
    {137, Carrier::kMobile},
    {138, Carrier::kMobile},
    {139, Carrier::kMobile},
    {145, Carrier::kUnicom},
    {146, Carrier::kUnicom},
    {147, Carrier::kMobile},
    {148, Carrier::kMobile},
    {149, Carrier::kTelecom},
    {150, Carrier::kMobile},
    {151, Carrier::kMobile},
    {152, Carrier::kMobile},
    {153, Carrier::kTelecom},
    {155, Carrier::kUnicom},
    {156, Carrier::kUnicom},
    {157, Carrier::kMobile},
    {158, Carrier::kMobile},
    {159, Carrier::kMobile},
    {162, Carrier::kTelecom},
    {165, Carrier::kMobile},
    {166, Carrier::kUnicom},
    {167, Carrier::kUnicom},
    {170, Carrier::kSplit},
    {171, Carrier::kUnicom},
    {172, Carrier::kMobile},
    {173, Carrier::kTelecom},
    {175, Carrier::kUnicom},
    {176, Carrier::kUnicom},
    {177, Carrier::kTelecom},
    {178, Carrier::kMobile},
    {180, Carrier::kTelecom},
    {181, Carrier::kTelecom},
    {182, Carrier::kMobile},
    {183, Carrier::kMobile},
    {184, Carrier::kMobile},
    {185, Carrier::kUnicom},
    {186, Carrier::kUnicom},
    {187, Carrier::kMobile},
    {188, Carrier::kMobile},
    {189, Carrier::kTelecom},
    {190, Carrier::kTelecom},
    {191, Carrier::kTelecom},
    {192, Carrier::kBroadnet},
    {193, Carrier::kTelecom},
    {195, Carrier::kMobile},
    {196, Carrier::kUnicom},
    {197, Carrier::kMobile},
    {198, Carrier::kMobile},
    {199, Carrier::kTelecom},
    // Split blocks.
    {1340, Carrier::kMobile},
    {1341, Carrier::kMobile},
    {1342, Carrier::kMobile},
    {1343, Carrier::kMobile},
    {1344, Carrier::kMobile},
    {1345, Carrier::kMobile},
    {1346, Carrier::kMobile},
    {1347, Carrier::kMobile},
    {1348, Carrier::kMobile},
    {1700, Carrier::kTelecom},
    {1701, Carrier::kTelecom},
    {1702, Carrier::kTelecom},
    {1703, Carrier::kMobile},
    {1704, Carrier::kUnicom},
    {1705, Carrier::kMobile},
    {1706, Carrier::kMobile},
    {1707, Carrier::kUnicom},
    {1708, Carrier::kUnicom},
    {1709, Carrier::kUnicom},
};

struct CarrierTables {
  std::array<Carrier, 100> by3{};   // index: XY of 1XY
  std::array<Carrier, 1000> by4{};  // index: XYZ of 1XYZ
};

constexpr CarrierTables MakeCarrierTables() {
  CarrierTables t;
  for (const PrefixCarrier& a : kMobileAllocations) {
    if (a.prefix < 1000) {
      t.by3[static_cast<std::size_t>(a.prefix - 100)] = a.carrier;
    } else {
      t.by4[static_cast<std::size_t>(a.prefix - 1000)] = a.carrier;
    }
  }
  return t;
}

constexpr CarrierTables kCarrierTables = MakeCarrierTables();

// Carrier for an 11-digit Chinese national number starting with 1.
Carrier LookUpCarrier(std::string_view nsn) {
  if (nsn.size() < 4 || nsn[0] != '1') return Carrier::kUnknown;
  const auto d = [&](std::size_t i) { return static_cast<std::size_t>(nsn[i] - '0'); };
  const Carrier c = kCarrierTables.by3[d(1) * 10 + d(2)];
  if (c != Carrier::kSplit) return c;
  return kCarrierTables.by4[d(1) * 100 + d(2) * 10 + d(3)];
}

const char* CarrierName(Carrier c) {
  switch (c) {
    case Carrier::kMobile:
      return "中国移动";
    case Carrier::kUnicom:
      return "中国联通";
    case Carrier::kTelecom:
      return "中国电信";
    case Carrier::kBroadnet:
      return "中国广电";
    case Carrier::kUnknown:
    case Carrier::kSplit:
      break;
  }
  return "";
}

const char* TypeName(PhoneNumberUtil::PhoneNumberType type) {
  switch (type) {
    case PhoneNumberUtil::FIXED_LINE:
      return "fixed_line";
    case PhoneNumberUtil::MOBILE:
      return "mobile";
    case PhoneNumberUtil::FIXED_LINE_OR_MOBILE:
      return "fixed_line_or_mobile";
    case PhoneNumberUtil::TOLL_FREE:
      return "toll_free";
    case PhoneNumberUtil::PREMIUM_RATE:
      return "premium_rate";
    case PhoneNumberUtil::SHARED_COST:
      return "shared_cost";
    case PhoneNumberUtil::VOIP:
      return "voip";
    case PhoneNumberUtil::PERSONAL_NUMBER:
      return "personal_number";
    case PhoneNumberUtil::PAGER:
      return "pager";
    case PhoneNumberUtil::UAN:
      return "uan";
    case PhoneNumberUtil::VOICEMAIL:
      return "voicemail";
    case PhoneNumberUtil::UNKNOWN:
      break;
  }
  return "unknown";
}

// --- scanning what people type ----------------------------------------------------------------

// Decodes well-formed UTF-8 (checked by the caller) one code point at a time.
char32_t NextCodePoint(std::string_view s, std::size_t* i) {
  const auto b = [&](std::size_t k) {
    return static_cast<char32_t>(static_cast<unsigned char>(s[k]));
  };
  const char32_t b0 = b(*i);
  if (b0 < 0x80) {
    *i += 1;
    return b0;
  }
  if (b0 < 0xE0) {
    const char32_t cp = ((b0 & 0x1F) << 6) | (b(*i + 1) & 0x3F);
    *i += 2;
    return cp;
  }
  if (b0 < 0xF0) {
    const char32_t cp = ((b0 & 0x0F) << 12) | ((b(*i + 1) & 0x3F) << 6) | (b(*i + 2) & 0x3F);
    *i += 3;
    return cp;
  }
  const char32_t cp = ((b0 & 0x07) << 18) | ((b(*i + 1) & 0x3F) << 12) | ((b(*i + 2) & 0x3F) << 6) |
                      (b(*i + 3) & 0x3F);
  *i += 4;
  return cp;
}

constexpr char32_t kIgnored = 0xFFFFFFFF;

// Full-width ASCII to ASCII, the spaces and dashes people paste to ' ' and '-', invisible
// formatting characters to kIgnored; everything else unchanged.
char32_t Fold(char32_t cp) {
  if (cp >= 0xFF01 && cp <= 0xFF5E) return cp - 0xFEE0;
  switch (cp) {
    case '\t':
    case '\n':
    case '\r':
    case '\v':
    case '\f':
    case 0x00A0:  // no-break space
    case 0x2000:
    case 0x2001:
    case 0x2002:
    case 0x2003:
    case 0x2004:
    case 0x2005:
    case 0x2006:
    case 0x2007:
    case 0x2008:
    case 0x2009:
    case 0x200A:
    case 0x202F:
    case 0x205F:
    case 0x3000:  // ideographic space
      return ' ';
    case 0x2010:  // hyphen
    case 0x2011:
    case 0x2012:
    case 0x2013:  // en dash
    case 0x2014:  // em dash
    case 0x2015:
    case 0x2212:  // minus sign
    case 0xFE63:
      return '-';
    case 0x200B:  // zero-width space
    case 0x200C:
    case 0x200D:
    case 0x2060:  // word joiner
    case 0xFEFF:  // byte order mark
      return kIgnored;
    default:
      return cp;
  }
}

bool IsDigit(char32_t c) { return c >= '0' && c <= '9'; }

bool IsSeparator(char32_t c) {
  switch (c) {
    case ' ':
    case '-':
    case '.':
    case '(':
    case ')':
    case '[':
    case ']':
    case '/':
      return true;
    default:
      return false;
  }
}

char32_t AsciiLower(char32_t c) { return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c; }

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string Quoted(char32_t cp) {
  std::string s = "'";
  AppendUtf8(cp, &s);
  s += "'";
  return s;
}

std::string Digits(std::size_t n) { return std::to_string(n) + (n == 1 ? " digit" : " digits"); }

// A scan or parse failure before a PhoneInfo exists.
struct Failure {
  const char* code;
  std::string message;
};

// The input split into the number (for libphonenumber) and its extension.
struct Scanned {
  std::string number;           // an optional leading '+' and the digits, nothing else
  std::string extension;        // digits after an explicit marker, or ""
  std::size_t digit_count = 0;  // digits in `number`
  // A trailing "-NNNN" group without an explicit marker: the number without the group is
  // number.substr(0, dash_prefix_size), the group is number.substr(dash_prefix_size).
  std::size_t dash_prefix_size = 0;
  bool has_dash_group = false;
};

class CodePoints {
 public:
  // Folds `input` (well-formed UTF-8, at most kMaxInputBytes) into code points, trimmed.
  void Load(std::string_view input) {
    std::size_t i = 0;
    while (i < input.size()) {
      const char32_t cp = Fold(NextCodePoint(input, &i));
      if (cp != kIgnored) cps_[size_++] = cp;  // never more code points than bytes
    }
    while (begin_ < size_ && cps_[begin_] == ' ') ++begin_;
    while (size_ > begin_ && cps_[size_ - 1] == ' ') --size_;
  }
  bool empty() const { return begin_ == size_; }
  std::size_t begin() const { return begin_; }
  std::size_t end() const { return size_; }
  char32_t operator[](std::size_t i) const { return i < size_ ? cps_[i] : 0; }

  // True when the code points from `pos` spell `word` (ASCII letters case-insensitively).
  bool Matches(std::size_t pos, std::u32string_view word) const {
    if (pos + word.size() > size_) return false;
    for (std::size_t k = 0; k < word.size(); ++k) {
      if (AsciiLower(cps_[pos + k]) != word[k]) return false;
    }
    return true;
  }

 private:
  std::array<char32_t, kMaxInputBytes> cps_;
  std::size_t begin_ = 0;
  std::size_t size_ = 0;
};

// Length of the extension marker at `pos`, or 0. Longest spellings first.
std::size_t MatchExtensionMarker(const CodePoints& cps, std::size_t pos) {
  static constexpr std::u32string_view kMarkers[] = {
      U"转分机号码", U"转分机号",  U"转分机", U"转",  U"分机号码", U"分机号",
      U"分机",       U"extension", U"extn",   U"ext", U"x",        U"#",
  };
  for (std::u32string_view m : kMarkers) {
    if (cps.Matches(pos, m)) return m.size();
  }
  return 0;
}

std::expected<Scanned, Failure> Scan(const CodePoints& cps) {
  Scanned out;
  std::size_t i = cps.begin();
  const std::size_t end = cps.end();
  bool in_dash_group = false;  // after the last '-', only digits (and spaces right after it)
  std::size_t dash_group_digits = 0;
  for (; i < end; ++i) {
    const char32_t c = cps[i];
    if (IsDigit(c)) {
      out.number.push_back(static_cast<char>(c));
      ++out.digit_count;
      if (in_dash_group) ++dash_group_digits;
    } else if (c == '+') {
      if (!out.number.empty()) {
        return std::unexpected(Failure{"not_a_number", "not a phone number: misplaced '+'"});
      }
      out.number.push_back('+');
      in_dash_group = false;
    } else if (c == '-') {
      in_dash_group = true;
      dash_group_digits = 0;
      out.dash_prefix_size = out.number.size();
    } else if (IsSeparator(c)) {
      if (!(c == ' ' && in_dash_group && dash_group_digits == 0)) in_dash_group = false;
    } else {
      break;
    }
  }
  if (out.digit_count == 0) {
    bool any_digit = false;
    for (std::size_t k = i; k < end; ++k) any_digit = any_digit || IsDigit(cps[k]);
    if (!any_digit) {
      return std::unexpected(Failure{"not_a_number", "not a phone number: no digits"});
    }
    return std::unexpected(
        Failure{"not_a_number", "not a phone number: unexpected character " + Quoted(cps[i])});
  }
  if (i == end) {
    out.has_dash_group = in_dash_group && dash_group_digits > 0 &&
                         dash_group_digits <= kMaxDashExtensionDigits && out.dash_prefix_size > 0;
    return out;
  }

  // An extension: optional ',' or ';', a marker, optional ':' '.' '-' or spaces, digits, and
  // nothing after them but spaces and closing brackets.
  while (i < end && (cps[i] == ',' || cps[i] == ';' || cps[i] == ' ')) ++i;
  const std::size_t marker_len = MatchExtensionMarker(cps, i);
  if (marker_len == 0) {
    return std::unexpected(
        Failure{"not_a_number", "not a phone number: unexpected character " + Quoted(cps[i])});
  }
  const std::size_t marker_pos = i;
  i += marker_len;
  while (i < end && (cps[i] == ':' || cps[i] == '.' || cps[i] == '-' || cps[i] == ' ')) ++i;
  while (i < end && IsDigit(cps[i])) out.extension.push_back(static_cast<char>(cps[i++]));
  if (out.extension.empty()) {
    std::string marker;
    for (std::size_t k = marker_pos; k < marker_pos + marker_len; ++k) AppendUtf8(cps[k], &marker);
    return std::unexpected(
        Failure{"not_a_number", "extension marker '" + marker + "' is not followed by digits"});
  }
  if (out.extension.size() > kMaxExtensionDigits) {
    return std::unexpected(
        Failure{"too_long", "extension is too long: " + Digits(out.extension.size()) +
                                " (at most " + std::to_string(kMaxExtensionDigits) + ")"});
  }
  while (i < end && (cps[i] == ' ' || cps[i] == ')' || cps[i] == ']')) ++i;
  if (i < end) {
    return std::unexpected(Failure{"not_a_number", "not a phone number: unexpected character " +
                                                       Quoted(cps[i]) + " after the extension"});
  }
  return out;
}

// "3051234" -> "305 1234", "65529988" -> "6552 9988": the last four digits form a group.
void AppendSubscriber(std::string_view digits, std::string* out) {
  if (digits.size() <= 4) {
    out->append(digits);
    return;
  }
  out->append(digits.substr(0, digits.size() - 4));
  out->push_back(' ');
  out->append(digits.substr(digits.size() - 4));
}

// Chinese area codes: 10 and 2X have two digits, all others three.
std::size_t ChineseAreaCodeLength(std::string_view nsn) {
  return (nsn[0] == '1' || nsn[0] == '2') ? 2 : 3;
}

// True for 11-digit numbers whose 1XY prefix is an allocated mobile block.
bool IsChineseMobileShape(std::string_view d) {
  return d.size() == 11 && d[0] == '1' &&
         kCarrierTables.by3[static_cast<std::size_t>((d[1] - '0') * 10 + (d[2] - '0'))] !=
             Carrier::kUnknown;
}

// The most common Chinese shapes, parsed without libphonenumber's regular expressions (which sit
// behind one process-wide lock): 13800138000 with an optional +86 / 0086 / 86 in front, and
// 0335 3051234 / 010 65529988 written with the trunk 0. Gives exactly what PhoneNumberUtil::Parse
// gives for these shapes with region CN (the tests compare the two); false for anything else.
bool ParseCommonChineseShape(std::string_view d, PhoneNumber* out) {
  bool international = false;
  if (d.starts_with("+86")) {
    d.remove_prefix(3);
    international = true;
  } else if (d.starts_with("0086")) {
    d.remove_prefix(4);
    international = true;
  } else if (d.size() == 13 && d.starts_with("86")) {
    d.remove_prefix(2);
    international = true;
  }
  if (IsChineseMobileShape(d)) {
    // d is the whole national number.
  } else if (!international && (d.size() == 11 || d.size() == 12) && d[0] == '0' && d[1] != '0') {
    d.remove_prefix(1);
  } else {
    return false;
  }
  std::uint64_t value = 0;
  for (char c : d) value = value * 10 + static_cast<std::uint64_t>(c - '0');
  out->set_country_code(kChinaCallingCode);
  out->set_national_number(value);
  return true;
}

// The name of a country in `language`, as the geocoder words it when it knows no area.
std::string CountryName(const char* region, const icu::Locale& language) {
  icu::UnicodeString name;
  icu::Locale("", region).getDisplayCountry(language, name);
  std::string out;
  name.toUTF8String(out);
  return out;
}

}  // namespace

struct Normalizer::Impl {
  explicit Impl(std::string region)
      : util(*PhoneNumberUtil::GetInstance()),
        default_region(std::move(region)),
        china_default(default_region == "CN"),
        chinese("zh"),
        china_name(CountryName("CN", chinese)) {}

  core::Result<PhoneInfo> Run(std::string_view input, std::string_view field, bool strict) const;
  // `n` carries no extension (setting one would pull in libprotobuf string internals).
  void Fill(const PhoneNumber& n, PhoneNumberUtil::PhoneNumberType type, bool valid,
            std::string_view extension, PhoneInfo* info) const;
  void Settle(PhoneNumber* n, PhoneNumberUtil::PhoneNumberType* type) const;
  Failure ParseFailure(PhoneNumberUtil::ErrorType error, const Scanned& s) const;
  Failure InvalidReason(const PhoneNumber& n, const Scanned& s) const;
  Failure ChineseInvalidReason(const PhoneNumber& n, const std::string& nsn, std::size_t digits,
                               bool trunk_written) const;

  // Constant after construction. PhoneNumberUtil is a thread-safe singleton; the geocoder
  // guards its lazily loaded prefix maps with its own absl::Mutex, so neither needs a lock here.
  const PhoneNumberUtil& util;
  const std::string default_region;
  const bool china_default;
  const icu::Locale chinese;
  const PhoneNumberOfflineGeocoder geocoder;
  const std::string china_name;  // "中国": the geocoder's answer for a CN number without an area
};

// libphonenumber may strip a national prefix from the digits after the country code, so the
// E.164 form of what it read does not always read back as the same number: "+52 1 1 285 529
// 9801" reads as +52 12855299801 (a valid mobile number), whose E.164 form reads as
// +52 2855299801. Kehu stores the E.164 form and finds numbers again through it (lookups, blind
// indexes), so a valid number is read again from its E.164 form until that reads as itself.
void Normalizer::Impl::Settle(PhoneNumber* n, PhoneNumberUtil::PhoneNumberType* type) const {
  std::string e164, again_e164;
  util.Format(*n, PhoneNumberUtil::E164, &e164);
  for (int round = 0; round < 3; ++round) {
    PhoneNumber again;
    if (util.Parse(e164, default_region, &again) != PhoneNumberUtil::NO_PARSING_ERROR) return;
    again_e164.clear();
    util.Format(again, PhoneNumberUtil::E164, &again_e164);
    if (again_e164 == e164) return;
    const PhoneNumberUtil::PhoneNumberType again_type = util.GetNumberType(again);
    if (again_type == PhoneNumberUtil::UNKNOWN) return;  // keep the valid reading
    *n = again;
    *type = again_type;
    e164.swap(again_e164);
  }
}

Failure Normalizer::Impl::ParseFailure(PhoneNumberUtil::ErrorType error, const Scanned& s) const {
  switch (error) {
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR: {
      std::string_view digits = s.number;
      if (digits.starts_with('+')) {
        digits.remove_prefix(1);
      } else if (digits.starts_with("00")) {
        digits.remove_prefix(2);
      } else {
        return {"invalid_country_code",
                "number has no country calling code (write it as +NN) "
                "and no default region applies"};
      }
      return {"invalid_country_code",
              "no such country calling code: +" + std::string(digits.substr(0, 3))};
    }
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
    case PhoneNumberUtil::TOO_SHORT_NSN:
      return {"too_short", "number is too short: " + Digits(s.digit_count)};
    case PhoneNumberUtil::TOO_LONG_NSN:
      return {"too_long", "number is too long: " + Digits(s.digit_count)};
    case PhoneNumberUtil::NOT_A_NUMBER:
      // libphonenumber wants at least three characters; one or two digits are "too short".
      if (s.digit_count < 3) {
        return {"too_short", "number is too short: " + Digits(s.digit_count)};
      }
      return {"not_a_number", "not a phone number"};
    case PhoneNumberUtil::NO_PARSING_ERROR:
      break;
  }
  return {"not_a_number", "not a phone number"};
}

// Why a number that parsed is not valid, in the words a user understands.
Failure Normalizer::Impl::InvalidReason(const PhoneNumber& n, const Scanned& s) const {
  std::string nsn;
  util.GetNationalSignificantNumber(n, &nsn);
  // Count digits as written nationally: a trunk '0' typed before the area code counts.
  const bool trunk_written = s.number.starts_with('0') && !s.number.starts_with("00");
  const std::size_t digits = nsn.size() + (trunk_written ? 1 : 0);
  const PhoneNumberUtil::ValidationResult possible = util.IsPossibleNumberWithReason(n);
  switch (possible) {
    case PhoneNumberUtil::TOO_SHORT:
      return {"too_short", "number is too short: " + Digits(digits)};
    case PhoneNumberUtil::TOO_LONG:
      return {"too_long", "number is too long: " + Digits(digits)};
    case PhoneNumberUtil::INVALID_COUNTRY_CODE:
      return {"invalid_country_code",
              "no such country calling code: +" + std::to_string(n.country_code())};
    default:
      break;
  }
  if (n.country_code() == kChinaCallingCode) {
    return ChineseInvalidReason(n, nsn, digits, trunk_written);
  }
  std::string region;
  util.GetRegionCodeForCountryCode(n.country_code(), &region);
  if (possible == PhoneNumberUtil::IS_POSSIBLE_LOCAL_ONLY) {
    return {"too_short", "number is too short: " + Digits(digits) + "; is the area code missing?"};
  }
  if (possible == PhoneNumberUtil::INVALID_LENGTH) {
    return {"invalid_number",
            "not a valid number in " + region + ": no numbers there have " + Digits(digits)};
  }
  return {"invalid_number",
          "not a valid number in " + region + ": " + nsn + " is in no assigned number range"};
}

// libphonenumber's Chinese metadata calls 7- to 12-digit numbers "possible", so lengths are
// judged here: mobile numbers have 11 digits, fixed lines 10 or 11 with the area code (11 or 12
// written with the trunk 0), 400/800 numbers 10.
Failure Normalizer::Impl::ChineseInvalidReason(const PhoneNumber& n, const std::string& nsn,
                                               std::size_t digits, bool trunk_written) const {
  if (nsn.size() < 2) return {"too_short", "number is too short: " + Digits(digits)};
  if (nsn[0] == '0') {  // a second trunk or carrier prefix left in front, as in 12593 0335 …
    return {"invalid_number", "not a valid number in CN: " + nsn + " matches no number range"};
  }
  // 1XY... is a mobile number unless written with the trunk 0 (then 010 or a bad area code);
  // 10 followed by 8 digits is Beijing without its trunk 0; eleven digits are a mobile attempt.
  const bool mobile_range = !trunk_written && nsn[0] == '1' && (nsn[1] != '0' || nsn.size() >= 11);
  if (mobile_range) {
    if (nsn.size() < 11) return {"too_short", "number is too short: " + Digits(digits)};
    if (nsn.size() > 11) return {"too_long", "number is too long: " + Digits(digits)};
    if (LookUpCarrier(nsn) == Carrier::kUnknown) {
      return {"invalid_number", "not a valid number in CN: no such prefix " + nsn.substr(0, 3)};
    }
    return {"invalid_number",
            "not a valid number in CN: unassigned number range " + nsn.substr(0, 4)};
  }
  const std::size_t area_len = ChineseAreaCodeLength(nsn);
  const std::size_t min_len = 10;
  const std::size_t max_len = area_len == 2 ? 10 : 11;
  if (nsn.size() < min_len) {
    std::string message = "number is too short: " + Digits(digits);
    if (nsn.size() == 7 || nsn.size() == 8) message += "; is the area code missing?";
    return {"too_short", std::move(message)};
  }
  if (nsn.size() > max_len) return {"too_long", "number is too long: " + Digits(digits)};
  const std::string area = "0" + nsn.substr(0, area_len);
  const std::string place = geocoder.GetDescriptionForValidNumber(n, chinese);
  if (place.empty() || place == china_name) {
    return {"invalid_number", "not a valid number in CN: no such prefix " + area};
  }
  return {"invalid_number", "not a valid number in CN: " + nsn.substr(area_len) +
                                " is not a number in area " + area + " (" + place + ")"};
}

void Normalizer::Impl::Fill(const PhoneNumber& n, PhoneNumberUtil::PhoneNumberType type, bool valid,
                            std::string_view extension, PhoneInfo* info) const {
  info->valid = valid;
  info->type = TypeName(type);
  util.Format(n, PhoneNumberUtil::E164, &info->e164);
  info->extension = extension;
  util.GetRegionCodeForNumber(n, &info->region_code);
  if (info->region_code == "ZZ" || info->region_code == "001") info->region_code.clear();
  if (valid) info->region = geocoder.GetDescriptionForValidNumber(n, chinese);

  if (n.country_code() != kChinaCallingCode) {
    util.Format(n, PhoneNumberUtil::INTERNATIONAL, &info->display);
    if (!extension.empty()) info->display.append(" ext. ").append(extension);
    return;
  }
  std::string nsn;
  util.GetNationalSignificantNumber(n, &nsn);
  std::string& d = info->display;
  d.reserve(nsn.size() + 8 + (info->extension.empty() ? 0 : info->extension.size() + 5));
  if (valid && type == PhoneNumberUtil::MOBILE && nsn.size() == 11) {
    info->carrier = CarrierName(LookUpCarrier(nsn));
    d.append(nsn, 0, 3).append(" ").append(nsn, 3, 4).append(" ").append(nsn, 7, 4);
  } else if (valid && (type == PhoneNumberUtil::FIXED_LINE ||
                       type == PhoneNumberUtil::FIXED_LINE_OR_MOBILE)) {
    const std::size_t area_len = ChineseAreaCodeLength(nsn);
    d.push_back('0');
    d.append(nsn, 0, area_len).push_back('-');
    AppendSubscriber(std::string_view(nsn).substr(area_len), &d);
  } else if (valid && nsn.size() == 10) {  // 400 / 800 and other ten-digit service numbers
    d.append(nsn, 0, 3).append("-").append(nsn, 3, 3).append("-").append(nsn, 6, 4);
  } else {
    util.Format(n, PhoneNumberUtil::NATIONAL, &d);
  }
  if (!info->extension.empty()) d.append(" 转 ").append(info->extension);
}

core::Result<PhoneInfo> Normalizer::Impl::Run(std::string_view input, std::string_view field,
                                              bool strict) const {
  const auto fail = [&](Failure f) {
    return std::unexpected(
        core::Error::InvalidField(std::string(field), f.code, std::move(f.message)));
  };
  if (input.size() > kMaxInputBytes) {
    return fail({"too_long",
                 "number is too long: the input has " + std::to_string(input.size()) + " bytes"});
  }
  if (!core::IsValidUtf8(input)) return fail({"not_a_number", "not a phone number: not UTF-8"});
  CodePoints cps;
  cps.Load(input);
  if (cps.empty()) return fail({"not_a_number", "number is empty"});
  auto scanned = Scan(cps);
  if (!scanned) return fail(std::move(scanned.error()));
  const Scanned& s = *scanned;

  PhoneNumber whole;
  // The common Chinese shapes read as themselves again; anything else may need Settle.
  const bool common = china_default && ParseCommonChineseShape(s.number, &whole);
  const PhoneNumberUtil::ErrorType error =
      common ? PhoneNumberUtil::NO_PARSING_ERROR : util.Parse(s.number, default_region, &whole);
  if (error == PhoneNumberUtil::NO_PARSING_ERROR) {
    // GetNumberType is UNKNOWN exactly when IsValidNumber is false (both run the same pattern
    // matching; the tests check they agree), so one call answers both.
    PhoneNumberUtil::PhoneNumberType type = util.GetNumberType(whole);
    if (type != PhoneNumberUtil::UNKNOWN) {
      if (!common) Settle(&whole, &type);
      PhoneInfo info;
      info.raw = input;
      Fill(whole, type, true, s.extension, &info);
      return info;
    }
  }

  // "0335-3051234-8001": the last group is an extension when what comes before it is already a
  // complete number that is not a mobile one.
  if (s.has_dash_group && s.extension.empty()) {
    PhoneNumber prefix;
    if (util.Parse(s.number.substr(0, s.dash_prefix_size), default_region, &prefix) ==
        PhoneNumberUtil::NO_PARSING_ERROR) {
      PhoneNumberUtil::PhoneNumberType prefix_type = util.GetNumberType(prefix);
      if (prefix_type != PhoneNumberUtil::UNKNOWN && prefix_type != PhoneNumberUtil::MOBILE) {
        Settle(&prefix, &prefix_type);
        PhoneInfo info;
        info.raw = input;
        Fill(prefix, prefix_type, true, std::string_view(s.number).substr(s.dash_prefix_size),
             &info);
        return info;
      }
    }
  }

  if (error != PhoneNumberUtil::NO_PARSING_ERROR) return fail(ParseFailure(error, s));
  if (strict) return fail(InvalidReason(whole, s));
  PhoneInfo info;
  info.raw = input;
  Fill(whole, PhoneNumberUtil::UNKNOWN, false, s.extension, &info);
  return info;
}

Normalizer::Normalizer(std::string default_region)
    : impl_(std::make_unique<Impl>(std::move(default_region))) {}

Normalizer::~Normalizer() = default;

core::Result<PhoneInfo> Normalizer::Normalize(std::string_view input,
                                              std::string_view field) const {
  return impl_->Run(input, field, /*strict=*/true);
}

core::Result<PhoneInfo> Normalizer::Parse(std::string_view input, std::string_view field) const {
  return impl_->Run(input, field, /*strict=*/false);
}

const std::string& Normalizer::default_region() const { return impl_->default_region; }

}  // namespace kehu::phone
