#include "phone/normalizer.h"

#include <gtest/gtest.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <string>
#include <thread>
#include <vector>

namespace kehu::phone {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

// One Normalizer for the whole suite, as in production: construct once and share.
const Normalizer& Cn() {
  static const Normalizer normalizer;
  return normalizer;
}

PhoneInfo MustNormalize(std::string_view input) {
  auto r = Cn().Normalize(input);
  EXPECT_TRUE(r.has_value()) << "input: [" << input
                             << "] error: " << (r ? "" : r.error().message());
  return r ? *r : PhoneInfo{};
}

// The code of the single field error, or "" when the call succeeded.
std::string ErrorCode(const core::Result<PhoneInfo>& r) {
  if (r) return "";
  EXPECT_EQ(r.error().code(), core::Code::kInvalid);
  EXPECT_EQ(r.error().details().size(), 1u);
  return r.error().details().empty() ? "?" : r.error().details()[0].code;
}

std::string ErrorMessage(const core::Result<PhoneInfo>& r) {
  return r || r.error().details().empty() ? "" : r.error().details()[0].message;
}

struct FormCase {
  const char* input;
  const char* e164;
  const char* extension;
};

void ExpectForms(const std::vector<FormCase>& cases) {
  for (const FormCase& c : cases) {
    SCOPED_TRACE(std::string("input: [") + c.input + "]");
    auto r = Cn().Normalize(c.input);
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(r->e164, c.e164);
    EXPECT_EQ(r->extension, c.extension);
    EXPECT_TRUE(r->valid);
    EXPECT_EQ(r->raw, c.input);
  }
}

// --- accepted forms ----------------------------------------------------------------------------

TEST(PhoneNormalizer, AcceptsMobileNumbersWithSeparators) {
  ExpectForms({
      {"13800138000", "+8613800138000", ""},
      {"138 0013 8000", "+8613800138000", ""},
      {"138-0013-8000", "+8613800138000", ""},
      {"138.0013.8000", "+8613800138000", ""},
      {"(138) 0013 8000", "+8613800138000", ""},
      {"[138]00138000", "+8613800138000", ""},
      {"138/0013/8000", "+8613800138000", ""},
      {"  13800138000\t\n", "+8613800138000", ""},
  });
}

TEST(PhoneNormalizer, AcceptsLongPaddingWithinTheInputLimit) {
  const std::string padded = std::string(200, ' ') + "13800138000" + std::string(40, ' ');
  EXPECT_EQ(MustNormalize(padded).e164, "+8613800138000");
}

TEST(PhoneNormalizer, AcceptsCountryCodePrefixes) {
  ExpectForms({
      {"+86 138 0013 8000", "+8613800138000", ""},
      {"+8613800138000", "+8613800138000", ""},
      {"+86-138-0013-8000", "+8613800138000", ""},
      {"(+86) 138 0013 8000", "+8613800138000", ""},
      {"86 138 0013 8000", "+8613800138000", ""},
      {"8613800138000", "+8613800138000", ""},
      {"0086-138-0013-8000", "+8613800138000", ""},
      {"0086 13800138000", "+8613800138000", ""},
      {"+86 335 3051234", "+863353051234", ""},
      {"+86 (0)335 305 1234", "+863353051234", ""},
      {"0086 335 3051234", "+863353051234", ""},
      {"86 0335 3051234", "+863353051234", ""},
  });
}

TEST(PhoneNormalizer, AcceptsOldDialingPrefixes) {
  ExpectForms({
      {"013800138000", "+8613800138000", ""},       // long-distance 0 before a mobile number
      {"17951 13800138000", "+8613800138000", ""},  // IP dialling prefix, dropped by libphonenumber
  });
}

TEST(PhoneNormalizer, AcceptsFixedLineForms) {
  ExpectForms({
      {"0335-3051234", "+863353051234", ""},
      {"0335 305 1234", "+863353051234", ""},
      {"03353051234", "+863353051234", ""},
      {"(0335) 3051234", "+863353051234", ""},
      {"(0335)3051234", "+863353051234", ""},
      {"0335.305.1234", "+863353051234", ""},
      {"010-65529988", "+861065529988", ""},
      {"010 6552 9988", "+861065529988", ""},
      {"021-61234567", "+862161234567", ""},
      {"0755-12345678", "+8675512345678", ""},
  });
}

TEST(PhoneNormalizer, AcceptsFullWidthDigits) {
  ExpectForms({
      {"１３８００１３８０００", "+8613800138000", ""},
      {"＋８６ １３８００１３８０００", "+8613800138000", ""},
      {"＋８６　１３８　００１３　８０００", "+8613800138000", ""},
      {"１３８－００１３－８０００", "+8613800138000", ""},
      {"（０３３５）３０５１２３４", "+863353051234", ""},
      {"０３３５－３０５１２３４　转　１２", "+863353051234", "12"},
      {"０３３５－３０５１２３４ｅｘｔ．１２", "+863353051234", "12"},
  });
}

TEST(PhoneNormalizer, AcceptsPastedSpacesDashesAndInvisibleCharacters) {
  ExpectForms({
      {"138\u00a00013\u00a08000", "+8613800138000", ""},    // no-break spaces
      {"\u3000138 0013 8000\u3000", "+8613800138000", ""},  // ideographic spaces
      {"138\u20130013\u20148000", "+8613800138000", ""},    // en and em dashes
      {"\ufeff13800138000", "+8613800138000", ""},          // byte order mark from a CSV
      {"138\u200b0013\u200b8000", "+8613800138000", ""},    // zero-width spaces
  });
}

TEST(PhoneNormalizer, AcceptsChineseExtensionMarkers) {
  ExpectForms({
      {"0335-3051234 转 12", "+863353051234", "12"},
      {"0335-3051234转123", "+863353051234", "123"},
      {"0335-3051234 转12", "+863353051234", "12"},
      {"0335-3051234转 12", "+863353051234", "12"},
      {"0335-3051234 分机 8001", "+863353051234", "8001"},
      {"0335-3051234分机8001", "+863353051234", "8001"},
      {"0335-3051234分机号8001", "+863353051234", "8001"},
      {"0335-3051234 分机号：8001", "+863353051234", "8001"},
      {"0335-3051234 分机号码 8001", "+863353051234", "8001"},
      {"0335-3051234 转分机 8001", "+863353051234", "8001"},
      {"0335-3051234-转12", "+863353051234", "12"},
      {"0335-3051234，转12", "+863353051234", "12"},
      {"0335-3051234（转12）", "+863353051234", "12"},
      {"0335-3051234 (转 12)", "+863353051234", "12"},
  });
}

TEST(PhoneNormalizer, AcceptsLatinExtensionMarkers) {
  ExpectForms({
      {"0335-3051234 ext. 12", "+863353051234", "12"},
      {"0335-3051234 ext 12", "+863353051234", "12"},
      {"0335-3051234 ext12", "+863353051234", "12"},
      {"0335-3051234 EXT.12", "+863353051234", "12"},
      {"0335-3051234 Ext: 12", "+863353051234", "12"},
      {"0335-3051234 extn 12", "+863353051234", "12"},
      {"0335-3051234 extension 12", "+863353051234", "12"},
      {"0335-3051234 x12", "+863353051234", "12"},
      {"0335-3051234 X 12", "+863353051234", "12"},
      {"0335-3051234x12", "+863353051234", "12"},
      {"0335-3051234#12", "+863353051234", "12"},
      {"0335-3051234 # 12", "+863353051234", "12"},
      {"+1 650 253 0000 ext. 12", "+16502530000", "12"},
  });
}

TEST(PhoneNormalizer, ReadsTrailingDashGroupAfterFixedLineAsExtension) {
  ExpectForms({
      {"0335-3051234-8001", "+863353051234", "8001"},
      {"0335-3051234-12", "+863353051234", "12"},
      {"0335-3051234-1", "+863353051234", "1"},
      {"0335 3051234 - 8001", "+863353051234", "8001"},
      {"010-65529988-123", "+861065529988", "123"},
      {"+86-335-3051234-8001", "+863353051234", "8001"},
      {"400-810-8888-2", "+864008108888", "2"},
      {"+1 650-253-0000-12", "+16502530000", "12"},
  });
}

TEST(PhoneNormalizer, KeepsDashedMobileAndFixedLineNumbersWhole) {
  // The part before the last dash is no complete number, so nothing is an extension.
  ExpectForms({
      {"138-0013-8000", "+8613800138000", ""},
      {"+86-138-0013-8000", "+8613800138000", ""},
      {"1380013-8000", "+8613800138000", ""},
      {"0335-305-1234", "+863353051234", ""},
      {"010-6552-9988", "+861065529988", ""},
      {"0755-1234-5678", "+8675512345678", ""},
      {"400-810-8888", "+864008108888", ""},
  });
}

TEST(PhoneNormalizer, DoesNotReadDashGroupAfterMobileAsExtension) {
  auto r = Cn().Normalize("13800138000-8001");
  EXPECT_EQ(ErrorCode(r), "too_long");
  EXPECT_EQ(ErrorMessage(r), "number is too long: 15 digits");
}

// --- what is reported -------------------------------------------------------------------------

TEST(PhoneNormalizer, DescribesFixedLineWithChineseExtension) {
  const PhoneInfo info = MustNormalize("0335-3051234 转 12");
  EXPECT_EQ(info.raw, "0335-3051234 转 12");
  EXPECT_EQ(info.e164, "+863353051234");
  EXPECT_EQ(info.extension, "12");
  EXPECT_EQ(info.type, "fixed_line");
  EXPECT_EQ(info.region, "河北省秦皇岛市");
  EXPECT_EQ(info.region_code, "CN");
  EXPECT_EQ(info.carrier, "");
  EXPECT_EQ(info.display, "0335-305 1234 转 12");
  EXPECT_TRUE(info.valid);
}

TEST(PhoneNormalizer, DescribesMobileWithRegionAndCarrier) {
  const PhoneInfo info = MustNormalize("13800138000");
  EXPECT_EQ(info.e164, "+8613800138000");
  EXPECT_EQ(info.extension, "");
  EXPECT_EQ(info.type, "mobile");
  EXPECT_EQ(info.region, "北京市");  // what the offline geocoder of 8.12.57 knows for 138 0013
  EXPECT_EQ(info.region_code, "CN");
  EXPECT_EQ(info.carrier, "中国移动");
  EXPECT_EQ(info.display, "138 0013 8000");
  EXPECT_TRUE(info.valid);
}

TEST(PhoneNormalizer, GeocodesProvinceAndCity) {
  struct Case {
    const char* input;
    const char* region;
  };
  for (const Case& c : std::vector<Case>{
           {"0335-3051234", "河北省秦皇岛市"},
           {"0755-12345678", "广东省深圳市"},
           {"021-61234567", "上海市"},
           {"010-65529988", "北京市"},
           {"0898-12345678", "海南省海口市"},
           {"13412345678", "广东省东莞市"},
           {"15912345678", "云南省文山壮族苗族自治州"},
           {"+852 2123 4567", "中国香港特别行政区"},
       }) {
    SCOPED_TRACE(c.input);
    EXPECT_EQ(MustNormalize(c.input).region, c.region);
  }
}

TEST(PhoneNormalizer, NamesCarrierFromMobilePrefix) {
  struct Case {
    const char* input;
    const char* carrier;
  };
  for (const Case& c : std::vector<Case>{
           {"13012345678", "中国联通"}, {"13312345678", "中国电信"}, {"13512345678", "中国移动"},
           {"13412345678", "中国移动"}, {"14512345678", "中国联通"}, {"14712345678", "中国移动"},
           {"15312345678", "中国电信"}, {"15612345678", "中国联通"}, {"15912345678", "中国移动"},
           {"16212345678", "中国电信"}, {"16512345678", "中国移动"}, {"16612345678", "中国联通"},
           {"16712345678", "中国联通"}, {"17001234567", "中国电信"}, {"17031234567", "中国移动"},
           {"17041234567", "中国联通"}, {"17051234567", "中国移动"}, {"17091234567", "中国联通"},
           {"17112345678", "中国联通"}, {"17212345678", "中国移动"}, {"17312345678", "中国电信"},
           {"17612345678", "中国联通"}, {"17712345678", "中国电信"}, {"17812345678", "中国移动"},
           {"18012345678", "中国电信"}, {"18412345678", "中国移动"}, {"18612345678", "中国联通"},
           {"18912345678", "中国电信"}, {"19012345678", "中国电信"}, {"19212345678", "中国广电"},
           {"19512345678", "中国移动"}, {"19612345678", "中国联通"}, {"19812345678", "中国移动"},
           {"19912345678", "中国电信"},
       }) {
    SCOPED_TRACE(c.input);
    const PhoneInfo info = MustNormalize(c.input);
    EXPECT_EQ(info.type, "mobile");
    EXPECT_EQ(info.carrier, c.carrier);
  }
}

TEST(PhoneNormalizer, LeavesCarrierEmptyWhenUnknownOrNotMobile) {
  EXPECT_EQ(MustNormalize("13491234567").carrier, "");  // 1349: satellite block
  EXPECT_EQ(MustNormalize("17401234567").carrier, "");  // 174: satellite and emergency blocks
  EXPECT_EQ(MustNormalize("0335-3051234").carrier, "");
  EXPECT_EQ(MustNormalize("400-810-8888").carrier, "");
  EXPECT_EQ(MustNormalize("+1 650 253 0000").carrier, "");
  EXPECT_EQ(MustNormalize("+44 7911 123456").carrier, "");
}

TEST(PhoneNormalizer, FormatsChineseDisplay) {
  struct Case {
    const char* input;
    const char* display;
  };
  for (const Case& c : std::vector<Case>{
           {"+8613800138000", "138 0013 8000"},
           {"0335 305 1234", "0335-305 1234"},
           {"+86 335 3051234 ext 12", "0335-305 1234 转 12"},
           {"010 65529988", "010-6552 9988"},
           {"021-61234567", "021-6123 4567"},
           {"0755-12345678", "0755-1234 5678"},
           {"0851-1234567", "0851-123 4567"},
           {"4008108888", "400-810-8888"},
           {"400 810 8888 转 2", "400-810-8888 转 2"},
           {"800-810-8888", "800-810-8888"},
       }) {
    SCOPED_TRACE(c.input);
    EXPECT_EQ(MustNormalize(c.input).display, c.display);
  }
}

TEST(PhoneNormalizer, DescribesTollFreeAndSharedCostNumbers) {
  const PhoneInfo four = MustNormalize("400-810-8888");
  EXPECT_EQ(four.e164, "+864008108888");
  EXPECT_EQ(four.type, "shared_cost");  // libphonenumber classes 400 numbers as shared cost
  EXPECT_EQ(four.region_code, "CN");
  EXPECT_EQ(four.region, "中国");  // not geographic: the geocoder names the country
  EXPECT_EQ(four.display, "400-810-8888");

  const PhoneInfo eight = MustNormalize("800 810 8888");
  EXPECT_EQ(eight.e164, "+868008108888");
  EXPECT_EQ(eight.type, "toll_free");
  EXPECT_EQ(eight.display, "800-810-8888");
}

TEST(PhoneNormalizer, DescribesForeignNumbersInInternationalFormat) {
  const PhoneInfo us = MustNormalize("+1 650 253 0000");
  EXPECT_EQ(us.e164, "+16502530000");
  EXPECT_EQ(us.type, "fixed_line_or_mobile");
  EXPECT_EQ(us.region_code, "US");
  EXPECT_EQ(us.region, "美国");
  EXPECT_EQ(us.display, "+1 650-253-0000");
  EXPECT_EQ(us.carrier, "");

  const PhoneInfo gb = MustNormalize("+44 20 7946 0958");
  EXPECT_EQ(gb.e164, "+442079460958");
  EXPECT_EQ(gb.type, "fixed_line");
  EXPECT_EQ(gb.region_code, "GB");
  EXPECT_EQ(gb.region, "英国");
  EXPECT_EQ(gb.display, "+44 20 7946 0958");

  const PhoneInfo gb_ext = MustNormalize("0044 20 7946 0958 转 12");
  EXPECT_EQ(gb_ext.e164, "+442079460958");
  EXPECT_EQ(gb_ext.extension, "12");
  EXPECT_EQ(gb_ext.display, "+44 20 7946 0958 ext. 12");

  const PhoneInfo us_ext = MustNormalize("+1 (650) 253-0000 x 7");
  EXPECT_EQ(us_ext.display, "+1 650-253-0000 ext. 7");

  const PhoneInfo hk = MustNormalize("+852 2123 4567");
  EXPECT_EQ(hk.region_code, "HK");
  EXPECT_EQ(hk.display, "+852 2123 4567");

  const PhoneInfo jp = MustNormalize("+81 3-1234-5678");
  EXPECT_EQ(jp.region_code, "JP");
  EXPECT_EQ(jp.region, "日本");
}

// libphonenumber reads "+52 1 1 285 529 9801" as +52 1 285 529 9801, whose E.164 form it reads
// as +52 285 529 9801 (Mexico's old mobile prefix 1 is stripped once a reading). Kehu stores a
// form that reads back as itself, so the number is found again in any of its forms.
TEST(PhoneNormalizer, StoresAnE164FormThatReadsBackAsItself) {
  for (const char* input : {"0052112855299801", "+52 1 1 285 529 9801", "+5212855299801",
                            "+52 285 529 9801", "0052 1 285 529 9801"}) {
    const PhoneInfo mx = MustNormalize(input);
    EXPECT_EQ(mx.e164, "+522855299801") << input;
    EXPECT_EQ(MustNormalize(mx.e164).e164, mx.e164) << input;
    EXPECT_EQ(MustNormalize(mx.display).e164, mx.e164) << input;
  }
  // What libphonenumber alone makes of the first one, for the record.
  PhoneNumber n;
  ASSERT_EQ(PhoneNumberUtil::GetInstance()->Parse("0052112855299801", "CN", &n),
            PhoneNumberUtil::NO_PARSING_ERROR);
  std::string e164;
  PhoneNumberUtil::GetInstance()->Format(n, PhoneNumberUtil::E164, &e164);
  EXPECT_EQ(e164, "+5212855299801");
}

TEST(PhoneNormalizer, LeavesRegionCodeEmptyForNonGeographicNumbers) {
  const PhoneInfo info = MustNormalize("+800 1234 5678");  // international freephone
  EXPECT_EQ(info.type, "toll_free");
  EXPECT_EQ(info.region_code, "");
  EXPECT_EQ(info.display, "+800 1234 5678");
}

TEST(PhoneNormalizer, KeepsRawInputExactly) {
  const std::string raw = "  ＋８６ 138-0013-8000 \u3000";
  EXPECT_EQ(MustNormalize(raw).raw, raw);
}

TEST(PhoneNormalizer, UsesTheDefaultRegionForNationalNumbers) {
  EXPECT_EQ(Cn().default_region(), "CN");
  const Normalizer us("US");
  EXPECT_EQ(us.default_region(), "US");
  auto r = us.Normalize("(650) 253-0000");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->e164, "+16502530000");
  EXPECT_EQ(r->display, "+1 650-253-0000");
  // Chinese numbers still need their country code there, and still display the Chinese way.
  auto cn = us.Normalize("+86 138 0013 8000");
  ASSERT_TRUE(cn.has_value());
  EXPECT_EQ(cn->display, "138 0013 8000");
  EXPECT_EQ(cn->carrier, "中国移动");
}

// --- errors -----------------------------------------------------------------------------------

struct ErrorCase {
  std::string input;
  const char* code;
  const char* message;  // exact, or nullptr to check the code only
};

TEST(PhoneNormalizer, RejectsBadInputWithReason) {
  const std::vector<ErrorCase> cases = {
      {"", "not_a_number", "number is empty"},
      {"   ", "not_a_number", "number is empty"},
      {"\u3000\t", "not_a_number", "number is empty"},
      {"abc", "not_a_number", "not a phone number: no digits"},
      {"-- ()", "not_a_number", "not a phone number: no digits"},
      {"+", "not_a_number", "not a phone number: no digits"},
      {"138abc00138000", "not_a_number", "not a phone number: unexpected character 'a'"},
      {"138 0013 8000 手机", "not_a_number", "not a phone number: unexpected character '手'"},
      {"Tel: 13800138000", "not_a_number", "not a phone number: unexpected character 'T'"},
      {"+1 800 FLOWERS", "not_a_number", "not a phone number: unexpected character 'F'"},
      {"13800138000/13900139000", "too_long", "number is too long: 22 digits"},
      {"++86 138 0013 8000", "not_a_number", "not a phone number: misplaced '+'"},
      {"138+00138000", "not_a_number", "not a phone number: misplaced '+'"},
      {"\xff\xfe", "not_a_number", "not a phone number: not UTF-8"},
      {"0335-3051234 转", "not_a_number", "extension marker '转' is not followed by digits"},
      {"0335-3051234 ext.", "not_a_number", "extension marker 'ext' is not followed by digits"},
      {"0335-3051234 #", "not_a_number", "extension marker '#' is not followed by digits"},
      {"0335-3051234 转 12 找王经理", "not_a_number",
       "not a phone number: unexpected character '找' after the extension"},
      {"0335-3051234 转 12345678901", "too_long", "extension is too long: 11 digits (at most 10)"},
      {"1", "too_short", "number is too short: 1 digit"},
      {"12", "too_short", "number is too short: 2 digits"},
      {"1234", "too_short", "number is too short: 4 digits"},
      {"13800138", "too_short", "number is too short: 8 digits"},
      {"1380013800", "too_short", "number is too short: 10 digits"},
      {"138001380001", "too_long", "number is too long: 12 digits"},
      {"13800138000000000000", "too_long", "number is too long: 20 digits"},
      {"65529988", "too_short", "number is too short: 8 digits; is the area code missing?"},
      {"0335 305123", "too_short", "number is too short: 10 digits"},
      {"+86", "too_short", "number is too short: 2 digits"},
      {"12345678901", "invalid_number", "not a valid number in CN: no such prefix 123"},
      {"10012345678", "invalid_number", "not a valid number in CN: no such prefix 100"},
      {"010 6552 99881", "too_long", "number is too long: 12 digits"},
      {"0111 1234567", "invalid_number", "not a valid number in CN: no such prefix 011"},
      {"15412345678", "invalid_number", "not a valid number in CN: no such prefix 154"},
      {"14912345678", "invalid_number", "not a valid number in CN: unassigned number range 1491"},
      {"0300 1234567", "invalid_number", "not a valid number in CN: no such prefix 0300"},
      {"12593 0335 3051234", "invalid_number",
       "not a valid number in CN: 03353051234 matches no number range"},
      {"+999 1234567", "invalid_country_code", "no such country calling code: +999"},
      {"00999 1234567", "invalid_country_code", "no such country calling code: +999"},
      {"+1 650 253", "too_short", nullptr},
      {"+44 20 7946 0958 1234567", "too_long", nullptr},
      {"+44 20 7946", "too_short", nullptr},
      {std::string(300, '1'), "too_long", "number is too long: the input has 300 bytes"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE("input: [" + c.input + "]");
    auto r = Cn().Normalize(c.input);
    EXPECT_EQ(ErrorCode(r), c.code);
    if (c.message != nullptr) {
      EXPECT_EQ(ErrorMessage(r), c.message);
    }
  }
}

TEST(PhoneNormalizer, NamesTheFieldInTheError) {
  auto r = Cn().Normalize("12345", "phones[2].number");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), core::Code::kInvalid);
  ASSERT_EQ(r.error().details().size(), 1u);
  EXPECT_EQ(r.error().details()[0].field, "phones[2].number");
  EXPECT_EQ(r.error().details()[0].code, "too_short");
  EXPECT_EQ(r.error().message(), "phones[2].number: number is too short: 5 digits");

  auto d = Cn().Normalize("");
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().details()[0].field, "number");
}

// --- Parse: lenient ---------------------------------------------------------------------------

TEST(PhoneNormalizer, ParseFlagsNumbersThatAreNotValid) {
  auto r = Cn().Parse("123-4567-8901");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_FALSE(r->valid);
  EXPECT_EQ(r->raw, "123-4567-8901");
  EXPECT_EQ(r->e164, "+8612345678901");
  EXPECT_EQ(r->type, "unknown");
  EXPECT_EQ(r->region, "");
  EXPECT_EQ(r->carrier, "");
  EXPECT_EQ(r->region_code, "CN");
  EXPECT_FALSE(r->display.empty());

  auto short_one = Cn().Parse("13800138 转 5");
  ASSERT_TRUE(short_one.has_value());
  EXPECT_FALSE(short_one->valid);
  EXPECT_EQ(short_one->e164, "+8613800138");
  EXPECT_EQ(short_one->extension, "5");

  // +1 numbers that are not valid belong to no single region.
  auto nanp = Cn().Parse("+1 650 253");
  ASSERT_TRUE(nanp.has_value());
  EXPECT_FALSE(nanp->valid);
  EXPECT_EQ(nanp->region_code, "");
}

TEST(PhoneNormalizer, ParseReturnsValidNumbersLikeNormalize) {
  for (const char* input : {"13800138000", "0335-3051234 转 12", "0335-3051234-8001",
                            "+44 20 7946 0958", "400-810-8888"}) {
    SCOPED_TRACE(input);
    auto n = Cn().Normalize(input);
    auto p = Cn().Parse(input);
    ASSERT_TRUE(n.has_value());
    ASSERT_TRUE(p.has_value());
    EXPECT_TRUE(p->valid);
    EXPECT_EQ(p->e164, n->e164);
    EXPECT_EQ(p->extension, n->extension);
    EXPECT_EQ(p->type, n->type);
    EXPECT_EQ(p->region, n->region);
    EXPECT_EQ(p->carrier, n->carrier);
    EXPECT_EQ(p->display, n->display);
  }
}

TEST(PhoneNormalizer, ParseStillRejectsWhatDoesNotParse) {
  EXPECT_EQ(ErrorCode(Cn().Parse("")), "not_a_number");
  EXPECT_EQ(ErrorCode(Cn().Parse("abc")), "not_a_number");
  EXPECT_EQ(ErrorCode(Cn().Parse("1")), "too_short");
  EXPECT_EQ(ErrorCode(Cn().Parse("13800138000000000000")), "too_long");
  EXPECT_EQ(ErrorCode(Cn().Parse("+999 1234567")), "invalid_country_code");
  EXPECT_EQ(ErrorCode(Cn().Parse("0335-3051234 转")), "not_a_number");
}

// --- agreement with libphonenumber ------------------------------------------------------------

// The normalizer parses common Chinese shapes itself and reads validity from GetNumberType; both
// must give exactly what libphonenumber's Parse + IsValidNumber give.
TEST(PhoneNormalizer, AgreesWithLibphonenumberOnEveryPrefix) {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  std::vector<std::string> inputs;
  for (int prefix = 100; prefix <= 199; ++prefix) {
    for (const char* rest : {"00138000", "12345678", "98765432", "0013800", "1234567890"}) {
      const std::string national = std::to_string(prefix) + rest;
      inputs.push_back(national);
      inputs.push_back("+86" + national);
      inputs.push_back("0086" + national);
      inputs.push_back("86" + national);
    }
  }
  for (int area = 10; area <= 999; area += 7) {
    for (const char* subscriber : {"3051234", "65529988", "12345678", "2345678"}) {
      inputs.push_back("0" + std::to_string(area) + subscriber);
      inputs.push_back("+86" + std::to_string(area) + subscriber);
    }
  }
  for (const char* extra : {"0086013800138000", "8603353051234", "+860335305123", "0000000000",
                            "400810888", "4008108888", "95555", "0955512345678"}) {
    inputs.push_back(extra);
  }
  for (const std::string& input : inputs) {
    SCOPED_TRACE(input);
    PhoneNumber expected;
    if (util.Parse(input, "CN", &expected) != PhoneNumberUtil::NO_PARSING_ERROR) {
      EXPECT_FALSE(Cn().Parse(input).has_value());
      continue;
    }
    std::string e164;
    util.Format(expected, PhoneNumberUtil::E164, &e164);
    auto got = Cn().Parse(input);
    ASSERT_TRUE(got.has_value()) << got.error().message();
    EXPECT_EQ(got->e164, e164);
    EXPECT_EQ(got->valid, util.IsValidNumber(expected));
    EXPECT_EQ(Cn().Normalize(input).has_value(), got->valid);
  }
}

// --- concurrency ------------------------------------------------------------------------------

TEST(PhoneNormalizer, IsSafeToShareBetweenThreads) {
  const std::vector<std::string> inputs = {
      "13800138000",   "0335-3051234 转 12", "+44 20 7946 0958",       "400-810-8888",
      "0755-12345678", "12345678901",        "１３８００１３８０００", "+1 650 253 0000 x 3",
      "0851-1234567",  "15912345678"};
  std::vector<std::string> expected;
  for (const std::string& input : inputs) {
    auto r = Cn().Normalize(input);
    expected.push_back(r ? r->e164 + "|" + r->extension + "|" + r->region + "|" + r->display
                         : r.error().message());
  }
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::size_t k = static_cast<std::size_t>(i + t) % inputs.size();
        auto r = Cn().Normalize(inputs[k]);
        const std::string got =
            r ? r->e164 + "|" + r->extension + "|" + r->region + "|" + r->display
              : r.error().message();
        if (got != expected[k]) ++mismatches[static_cast<std::size_t>(t)];
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

}  // namespace
}  // namespace kehu::phone
