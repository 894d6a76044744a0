#include "core/validate.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace kehu::core {
namespace {

// The code of the single field error, or "" when the call succeeded.
std::string ErrorCode(const Result<std::string>& r) {
  if (r) return "";
  EXPECT_EQ(r.error().code(), Code::kInvalid);
  EXPECT_EQ(r.error().details().size(), 1u);
  return r.error().details().empty() ? "?" : r.error().details()[0].code;
}

// --- IsValidUtf8 ------------------------------------------------------------------------------

TEST(IsValidUtf8, AcceptsWellFormedText) {
  for (const std::string& s : {std::string(), std::string("plain ascii"), std::string("客户关系"),
                               std::string("\u00e9\u0800\uffff"), std::string("\U0001F600"),
                               std::string("\U0010FFFF"), std::string("a\0b", 3)}) {
    EXPECT_TRUE(IsValidUtf8(s)) << s;
  }
}

TEST(IsValidUtf8, RejectsMalformedSequences) {
  const std::vector<std::string> bad = {
      "\x80",                      // lone continuation byte
      "\xbf",                      // lone continuation byte
      "\xc0\xaf",                  // overlong '/'
      "\xc1\xbf",                  // overlong
      "\xe0\x80\xaf",              // overlong 3-byte
      "\xe0\x9f\xbf",              // overlong 3-byte, highest
      "\xf0\x80\x80\xaf",          // overlong 4-byte
      "\xf0\x8f\xbf\xbf",          // overlong 4-byte, highest
      "\xed\xa0\x80",              // U+D800 surrogate
      "\xed\xbf\xbf",              // U+DFFF surrogate
      "\xf4\x90\x80\x80",          // U+110000
      "\xf5\x80\x80\x80",          // lead byte above F4
      "\xff",                      // never in UTF-8
      "\xe5\xae",                  // truncated 3-byte
      "\xf0\x9f\x98",              // truncated 4-byte
      "\xe5\x41\xa2",              // ASCII inside a sequence
      std::string("ok \xe5\xae"),  // truncated at the end of good text
  };
  for (const std::string& s : bad) EXPECT_FALSE(IsValidUtf8(s)) << testing::PrintToString(s);
}

TEST(IsValidUtf8, AcceptsBoundaryCodePoints) {
  EXPECT_TRUE(IsValidUtf8("\xc2\x80"));          // U+0080
  EXPECT_TRUE(IsValidUtf8("\xe0\xa0\x80"));      // U+0800
  EXPECT_TRUE(IsValidUtf8("\xed\x9f\xbf"));      // U+D7FF, just below the surrogates
  EXPECT_TRUE(IsValidUtf8("\xee\x80\x80"));      // U+E000, just above them
  EXPECT_TRUE(IsValidUtf8("\xf0\x90\x80\x80"));  // U+10000
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
}

// --- ToHalfWidth ------------------------------------------------------------------------------

TEST(ToHalfWidth, ConvertsFullWidthAscii) {
  EXPECT_EQ(ToHalfWidth("１３８００１３８０００"), "13800138000");
  EXPECT_EQ(ToHalfWidth("ＡＢＣｘｙｚ＠．－＋（）"), "ABCxyz@.-+()");
  EXPECT_EQ(ToHalfWidth("！"), "!");  // U+FF01, first of the range
  EXPECT_EQ(ToHalfWidth("～"), "~");  // U+FF5E, last of the range
}

TEST(ToHalfWidth, ConvertsIdeographicSpace) { EXPECT_EQ(ToHalfWidth("转\u3000１２"), "转 12"); }

TEST(ToHalfWidth, LeavesOtherTextAlone) {
  EXPECT_EQ(ToHalfWidth("客户 abc 123"), "客户 abc 123");
  EXPECT_EQ(ToHalfWidth("\uff5f\uff61\uffe5"), "\uff5f\uff61\uffe5");  // outside U+FF01..FF5E
  EXPECT_EQ(ToHalfWidth("\u00a0"), "\u00a0");
  EXPECT_EQ(ToHalfWidth(""), "");
}

TEST(ToHalfWidth, CopiesInvalidBytesThrough) {
  EXPECT_EQ(ToHalfWidth("\xff１\xe5"),
            "\xff"
            "1\xe5");
}

// --- Trim -------------------------------------------------------------------------------------

TEST(Trim, RemovesAsciiAndUnicodeWhitespaceAtBothEnds) {
  EXPECT_EQ(Trim("  abc \t\r\n"), "abc");
  EXPECT_EQ(Trim("\u3000客户\u3000"), "客户");
  EXPECT_EQ(Trim("\u00a0x\u00a0"), "x");
  EXPECT_EQ(Trim("\u2003\u2028x\u205f\u0085"), "x");
}

TEST(Trim, KeepsInnerWhitespace) { EXPECT_EQ(Trim(" a \u3000 b "), "a \u3000 b"); }

TEST(Trim, ReturnsEmptyForBlankInput) {
  EXPECT_EQ(Trim(""), "");
  EXPECT_EQ(Trim(" \t\u3000\u00a0 "), "");
}

TEST(Trim, KeepsInvalidBytes) { EXPECT_EQ(Trim(" \xff "), "\xff"); }

// --- NormalizeEmail ---------------------------------------------------------------------------

TEST(NormalizeEmail, TrimsAndLowerCasesTheDomainOnly) {
  auto r = NormalizeEmail("  Alice.Smith@Example.COM \u3000");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(*r, "Alice.Smith@example.com");
}

TEST(NormalizeEmail, AcceptsCommonAddresses) {
  for (const char* email : {"a@b.cn", "first.last+tag@mail.example.com",
                            "x_y-z@sub-domain.example.org", "o'brien@example.ie", "1234567@qq.com",
                            "user@xn--fsqu00a.xn--fiqs8s", "a!#$%&'*+/=?^_`{|}~-@example.com"}) {
    auto r = NormalizeEmail(email);
    ASSERT_TRUE(r.has_value()) << email << ": " << r.error().message();
    EXPECT_EQ(*r, email);
  }
}

TEST(NormalizeEmail, AcceptsFullWidthTyping) {
  auto r = NormalizeEmail("ｚｈａｎｇ＠ＱＱ．ｃｏｍ");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(*r, "zhang@qq.com");
}

TEST(NormalizeEmail, AcceptsInternationalisedDomainsInUtf8) {
  struct Case {
    const char* input;
    const char* expected;
  };
  for (const Case& c : std::vector<Case>{{"用户@例子.中国", "用户@例子.中国"},
                                         {"info@Bücher.DE", "info@bücher.de"},
                                         {"sales@公司.COM", "sales@公司.com"}}) {
    auto r = NormalizeEmail(c.input);
    ASSERT_TRUE(r.has_value()) << c.input << ": " << r.error().message();
    EXPECT_EQ(*r, c.expected);
  }
}

TEST(NormalizeEmail, RejectsBadSyntax) {
  const std::vector<std::string> bad = {
      "",
      "   ",
      "no-at-sign",
      "two@@example.com",
      "a@b@example.com",
      "@example.com",
      "alice@",
      "ali ce@example.com",
      "alice@exa mple.com",
      "alice@example",
      "alice@.example.com",
      "alice@example..com",
      "alice@example.com.",
      "alice@-example.com",
      "alice@example-.com",
      "alice@exa_mple.com",
      "alice@example.c",
      "alice@example.123",
      ".alice@example.com",
      "alice.@example.com",
      "al..ice@example.com",
      "\"quoted\"@example.com",
      "alice(comment)@example.com",
      "alice@ex!ample.com",
      std::string(65, 'a') + "@example.com",
      "a@" + std::string(64, 'b') + ".com",
      "a@" + std::string(250, 'b') + ".com",
      "bad\xff@example.com",
      "a@例子..中国",
  };
  for (const std::string& email : bad) {
    SCOPED_TRACE(email);
    EXPECT_EQ(ErrorCode(NormalizeEmail(email)), "invalid_email");
  }
}

TEST(NormalizeEmail, NamesTheFieldInTheError) {
  auto r = NormalizeEmail("nope", "contacts[1].email");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().details()[0].field, "contacts[1].email");
  EXPECT_EQ(r.error().details()[0].message, "email has no @");
}

// --- NormalizeResidentId ----------------------------------------------------------------------

// Check character computed from the definition of ISO 7064 MOD 11-2 (weights 2^(17-i) mod 11),
// independently of the table in validate.cpp.
char ResidentIdCheck(const std::string& first17) {
  int sum = 0;
  for (int i = 0; i < 17; ++i) {
    int weight = 1;
    for (int k = 0; k < 17 - i; ++k) weight = weight * 2 % 11;
    sum += (first17[static_cast<std::size_t>(i)] - '0') * weight;
  }
  const int value = (12 - sum % 11) % 11;  // the value that makes the whole sum 1 mod 11
  return value == 10 ? 'X' : static_cast<char>('0' + value);
}

std::vector<std::string> GeneratedResidentIds() {
  std::vector<std::string> ids;
  std::mt19937 rng(20240601);
  const std::vector<std::string> dates = {"19000101", "19491231", "19800229", "19991231",
                                          "20000229", "20121130", "20240101"};
  const auto digits = [&](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s.push_back(static_cast<char>('0' + rng() % 10));
    return s;
  };
  // Region codes and sequence numbers are random so every weight meets non-zero digits.
  for (const std::string& date : dates) {
    for (int n = 0; n < 30; ++n) {
      const std::string first17 = digits(6) + date + digits(3);
      ids.push_back(first17 + ResidentIdCheck(first17));
    }
  }
  return ids;
}

TEST(NormalizeResidentId, AcceptsGeneratedValidNumbers) {
  const std::vector<std::string> ids = GeneratedResidentIds();
  bool saw_x = false;
  for (const std::string& id : ids) {
    auto r = NormalizeResidentId(id);
    ASSERT_TRUE(r.has_value()) << id << ": " << r.error().message();
    EXPECT_EQ(*r, id);
    saw_x = saw_x || id.back() == 'X';
  }
  EXPECT_TRUE(saw_x) << "the generated set should include an X check character";
}

TEST(NormalizeResidentId, AcceptsTheStandardExample) {
  auto r = NormalizeResidentId("11010519491231002X");  // GB 11643-1999 example
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(*r, "11010519491231002X");
}

TEST(NormalizeResidentId, AcceptsLowerCaseXFullWidthAndSpaces) {
  EXPECT_EQ(NormalizeResidentId("11010519491231002x").value_or(""), "11010519491231002X");
  EXPECT_EQ(NormalizeResidentId(" １１０１０５１９４９１２３１００２ｘ\u3000").value_or(""),
            "11010519491231002X");
}

TEST(NormalizeResidentId, RejectsEveryWrongCheckCharacter) {
  for (const std::string& id : GeneratedResidentIds()) {
    for (char c : std::string("0123456789X")) {
      if (c == id.back()) continue;
      std::string wrong = id;
      wrong.back() = c;
      SCOPED_TRACE(wrong);
      EXPECT_EQ(ErrorCode(NormalizeResidentId(wrong)), "invalid_checksum");
    }
  }
}

TEST(NormalizeResidentId, RejectsSingleDigitTypos) {
  const std::string id = "11010519491231002X";
  for (std::size_t pos = 0; pos < 17; ++pos) {
    if (pos >= 6 && pos < 14) continue;  // the birth date may turn invalid instead
    std::string typo = id;
    typo[pos] = typo[pos] == '9' ? '0' : static_cast<char>(typo[pos] + 1);
    SCOPED_TRACE(typo);
    EXPECT_EQ(ErrorCode(NormalizeResidentId(typo)), "invalid_checksum");
  }
}

TEST(NormalizeResidentId, RejectsImpossibleBirthDates) {
  for (const char* date : {"19900230", "19000229", "19990229", "19991301", "19990001", "19990100",
                           "19990431", "18991231", "21000101"}) {
    const std::string first17 = std::string("110105") + date + "123";
    const std::string id = first17 + ResidentIdCheck(first17);  // a correct check digit
    SCOPED_TRACE(id);
    EXPECT_EQ(ErrorCode(NormalizeResidentId(id)), "invalid_format");
  }
}

TEST(NormalizeResidentId, RejectsBadFormat) {
  for (const std::string& id :
       {std::string(""), std::string("   "), std::string("110105194912310"),
        std::string("11010519491231002"), std::string("11010519491231002XX"),
        std::string("1101051949123100AX"), std::string("11010519491231002Y"),
        std::string("110105 19491231 002X"), std::string("X10105194912310021"),
        std::string("11010519491231002\xe5\xae\xa2")}) {
    SCOPED_TRACE(id);
    EXPECT_EQ(ErrorCode(NormalizeResidentId(id)), "invalid_format");
  }
}

TEST(NormalizeResidentId, ExplainsThatOldFifteenDigitNumbersAreNotAccepted) {
  auto r = NormalizeResidentId("110105491231002", "id");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().details()[0].field, "id");
  EXPECT_NE(r.error().details()[0].message.find("15-digit"), std::string::npos);
}

// --- NormalizeCreditCode ----------------------------------------------------------------------

constexpr std::string_view kCreditChars = "0123456789ABCDEFGHJKLMNPQRTUWXY";

// Check character from the GB 32100-2015 definition: weights 3^i mod 31, check = 31 - sum mod 31.
char CreditCodeCheck(const std::string& first17) {
  int sum = 0;
  int weight = 1;
  for (int i = 0; i < 17; ++i) {
    sum += static_cast<int>(kCreditChars.find(first17[static_cast<std::size_t>(i)])) * weight;
    weight = weight * 3 % 31;
  }
  const int value = 31 - sum % 31;
  return kCreditChars[static_cast<std::size_t>(value == 31 ? 0 : value)];
}

std::vector<std::string> GeneratedCreditCodes() {
  std::vector<std::string> codes;
  std::mt19937 rng(32100);
  for (int n = 0; n < 300; ++n) {
    std::string first17;
    for (int i = 0; i < 17; ++i) first17.push_back(kCreditChars[rng() % kCreditChars.size()]);
    codes.push_back(first17 + CreditCodeCheck(first17));
  }
  return codes;
}

TEST(NormalizeCreditCode, AcceptsGeneratedValidCodes) {
  std::string check_chars_seen;
  for (const std::string& code : GeneratedCreditCodes()) {
    auto r = NormalizeCreditCode(code);
    ASSERT_TRUE(r.has_value()) << code << ": " << r.error().message();
    EXPECT_EQ(*r, code);
    if (check_chars_seen.find(code.back()) == std::string::npos) check_chars_seen += code.back();
  }
  EXPECT_GT(check_chars_seen.size(), 20u) << "check characters should cover letters and digits";
}

TEST(NormalizeCreditCode, AcceptsRealShapedCodes) {
  for (const char* code : {"91350100M000100Y43", "91110000802100433B"}) {
    auto r = NormalizeCreditCode(code);
    ASSERT_TRUE(r.has_value()) << code << ": " << r.error().message();
    EXPECT_EQ(*r, code);
  }
}

TEST(NormalizeCreditCode, AcceptsLowerCaseFullWidthAndSpaces) {
  EXPECT_EQ(NormalizeCreditCode("91350100m000100y43").value_or(""), "91350100M000100Y43");
  EXPECT_EQ(NormalizeCreditCode("\u3000９１３５０１００Ｍ０００１００Ｙ４３ ").value_or(""),
            "91350100M000100Y43");
}

TEST(NormalizeCreditCode, RejectsEveryWrongCheckCharacter) {
  const std::vector<std::string> codes = GeneratedCreditCodes();
  for (std::size_t n = 0; n < 40; ++n) {
    for (char c : kCreditChars) {
      if (c == codes[n].back()) continue;
      std::string wrong = codes[n];
      wrong.back() = c;
      SCOPED_TRACE(wrong);
      EXPECT_EQ(ErrorCode(NormalizeCreditCode(wrong)), "invalid_checksum");
    }
  }
}

TEST(NormalizeCreditCode, RejectsSwappedNeighbours) {
  const std::string code = "91350100M000100Y43";
  for (std::size_t pos = 0; pos + 1 < 17; ++pos) {
    if (code[pos] == code[pos + 1]) continue;
    std::string swapped = code;
    std::swap(swapped[pos], swapped[pos + 1]);
    SCOPED_TRACE(swapped);
    EXPECT_EQ(ErrorCode(NormalizeCreditCode(swapped)), "invalid_checksum");
  }
}

TEST(NormalizeCreditCode, RejectsLettersOutsideTheCharset) {
  for (char c : std::string("IOSVZ")) {
    std::string code = "91350100M000100Y43";
    code[8] = c;
    SCOPED_TRACE(code);
    EXPECT_EQ(ErrorCode(NormalizeCreditCode(code)), "invalid_format");
  }
}

TEST(NormalizeCreditCode, RejectsBadFormat) {
  for (const std::string& code :
       {std::string(""), std::string("91350100M000100Y4"), std::string("91350100M000100Y433"),
        std::string("91350100-000100Y43"), std::string("9135 0100M000100Y43"),
        std::string("91350100M000100Y4\xe5\xae\xa2")}) {
    SCOPED_TRACE(code);
    EXPECT_EQ(ErrorCode(NormalizeCreditCode(code, "credit")), "invalid_format");
  }
}

}  // namespace
}  // namespace kehu::core
