#include "crypto/totp.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace kehu::crypto {
namespace {

// RFC 6238 Appendix B: the SHA-1 key is the ASCII string "12345678901234567890".
const std::string kRfcSecret = "12345678901234567890";

struct Vector {
  int64_t time;
  const char* code8;
};

constexpr Vector kRfcVectors[] = {
    {59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
    {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"},
};

TEST(Totp, MatchesTheRfc6238Sha1VectorsWithEightDigits) {
  for (const Vector& v : kRfcVectors) {
    auto code = TotpCode(kRfcSecret, v.time, 8);
    ASSERT_TRUE(code.has_value()) << code.error().message();
    EXPECT_EQ(*code, v.code8) << "T = " << v.time;
  }
}

TEST(Totp, SixDigitCodesAreTheLastSixOfTheRfcValues) {
  // Truncation is the same 31-bit number modulo 10^digits: 6 digits = the 8-digit code's tail.
  for (const Vector& v : kRfcVectors) {
    auto code = TotpCode(kRfcSecret, v.time);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, std::string(v.code8).substr(2)) << "T = " << v.time;
    EXPECT_EQ(code->size(), 6u);
  }
  EXPECT_EQ(*TotpCode(kRfcSecret, 59), "287082");
  EXPECT_EQ(*TotpCode(kRfcSecret, 1111111109), "081804");  // leading zero kept
}

TEST(Totp, StepsAreThirtySeconds) {
  EXPECT_EQ(TotpStep(0), 0);
  EXPECT_EQ(TotpStep(29), 0);
  EXPECT_EQ(TotpStep(30), 1);
  EXPECT_EQ(TotpStep(59), 1);
  EXPECT_EQ(TotpStep(1111111109), 37037036);
  // The same code within one step, another in the next.
  EXPECT_EQ(*TotpCode(kRfcSecret, 1111111110), *TotpCode(kRfcSecret, 1111111139));
  EXPECT_NE(*TotpCode(kRfcSecret, 1111111139), *TotpCode(kRfcSecret, 1111111140));
}

TEST(Totp, RefusesBadParameters) {
  EXPECT_FALSE(TotpCode("", 59).has_value());
  EXPECT_FALSE(TotpCode(kRfcSecret, 59, 5).has_value());
  EXPECT_FALSE(TotpCode(kRfcSecret, 59, 9).has_value());
}

TEST(Totp, MatchAcceptsOneStepOfClockSkewEitherWay) {
  const int64_t now = 1234567890;  // step 41152263
  const int64_t step = TotpStep(now);
  EXPECT_EQ(TotpMatch(kRfcSecret, *TotpCode(kRfcSecret, now), now), step);
  EXPECT_EQ(TotpMatch(kRfcSecret, *TotpCode(kRfcSecret, now - 30), now), step - 1);
  EXPECT_EQ(TotpMatch(kRfcSecret, *TotpCode(kRfcSecret, now + 30), now), step + 1);
  EXPECT_EQ(TotpMatch(kRfcSecret, *TotpCode(kRfcSecret, now - 60), now), std::nullopt);
  EXPECT_EQ(TotpMatch(kRfcSecret, *TotpCode(kRfcSecret, now + 60), now), std::nullopt);
  // Without a window only the current step counts.
  EXPECT_EQ(TotpMatch(kRfcSecret, *TotpCode(kRfcSecret, now - 30), now, 0), std::nullopt);
}

TEST(Totp, MatchRefusesWrongCodesAndShapes) {
  const int64_t now = 1111111111;
  const std::string good = *TotpCode(kRfcSecret, now);
  std::string wrong = good;
  wrong[5] = wrong[5] == '9' ? '0' : static_cast<char>(wrong[5] + 1);
  EXPECT_EQ(TotpMatch(kRfcSecret, wrong, now), std::nullopt);
  EXPECT_EQ(TotpMatch(kRfcSecret, "", now), std::nullopt);
  EXPECT_EQ(TotpMatch(kRfcSecret, good.substr(0, 5), now), std::nullopt);
  EXPECT_EQ(TotpMatch(kRfcSecret, good + "0", now), std::nullopt);
  EXPECT_EQ(TotpMatch(kRfcSecret, "12345a", now), std::nullopt);
  EXPECT_EQ(TotpMatch(kRfcSecret, "14050471", now), std::nullopt);  // the 8-digit form
  EXPECT_EQ(TotpMatch("another secret key!!", good, now), std::nullopt);
  EXPECT_EQ(TotpMatch("", good, now), std::nullopt);
}

TEST(Totp, Base32IsRfc4648WithoutPadding) {
  EXPECT_EQ(Base32Encode(kRfcSecret), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  EXPECT_EQ(Base32Encode("f"), "MY");
  EXPECT_EQ(Base32Encode("foobar"), "MZXW6YTBOI");
  EXPECT_EQ(*Base32Decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"), kRfcSecret);
  EXPECT_EQ(*Base32Decode("gezd gnbv gy3t qojq gezd gnbv gy3t qojq"), kRfcSecret);
  EXPECT_EQ(*Base32Decode("MZXW6YTBOI"), "foobar");
  EXPECT_FALSE(Base32Decode("").has_value());
  EXPECT_FALSE(Base32Decode("GEZ1").has_value());  // 1 is not in the alphabet
}

TEST(Totp, NewSecretsAreTwentyRandomBytes) {
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    std::string s = NewTotpSecret();
    EXPECT_EQ(s.size(), kTotpSecretBytes);
    seen.insert(s);
    EXPECT_EQ(*Base32Decode(Base32Encode(s)), s);
    EXPECT_EQ(Base32Encode(s).size(), 32u);
  }
  EXPECT_EQ(seen.size(), 20u);
}

TEST(Totp, UriNamesIssuerAndAccountPercentEncoded) {
  EXPECT_EQ(TotpUri("Kehu", "wang.fang", "JBSWY3DPEHPK3PXP"),
            "otpauth://totp/Kehu:wang.fang?secret=JBSWY3DPEHPK3PXP&issuer=Kehu");
  EXPECT_EQ(TotpUri("Kehu", "张伟 a&b", "JBSWY3DPEHPK3PXP"),
            "otpauth://totp/Kehu:%E5%BC%A0%E4%BC%9F%20a%26b?secret=JBSWY3DPEHPK3PXP&issuer=Kehu");
}

}  // namespace
}  // namespace kehu::crypto
