#include <gtest/gtest.h>

#include "core/text.h"
#include "core/time.h"

namespace kehu::core {
namespace {

TEST(Time, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(FormatTime(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTime(1795360448123), "2026-11-22T15:14:08.123Z");
}

TEST(Time, ParsesRfc3339WithOffsetsAndFractions) {
  EXPECT_EQ(ParseTime("2026-11-22T15:14:08.123Z"), 1795360448123);
  EXPECT_EQ(ParseTime("2026-11-22T23:14:08.123+08:00"), 1795360448123);
  EXPECT_EQ(ParseTime("2026-11-22T15:14:08Z"), 1795360448000);
  EXPECT_EQ(ParseTime(FormatTime(1234567)), 1234567);
}

TEST(Time, PlainDateIsMidnightInShanghai) {
  EXPECT_EQ(ParseTime("2026-11-23"), ParseTime("2026-11-23T00:00:00+08:00"));
}

TEST(Time, RejectsMalformedTimes) {
  for (const char* bad : {"", "2026-13-01", "2026-02-30", "2026-11-22T25:00:00Z",
                          "2026-11-22T10:00:00", "2026-11-22 junk", "yesterday"}) {
    EXPECT_FALSE(ParseTime(bad).has_value()) << bad;
  }
  EXPECT_TRUE(IsValidDate("2024-02-29"));
  EXPECT_FALSE(IsValidDate("2023-02-29"));
}

TEST(PinyinKey, TurnsHanIntoTonelessPinyin) {
  EXPECT_EQ(PinyinKey("张伟"), "zhangwei");
  EXPECT_EQ(PinyinKey("Zhang Wei"), "zhangwei");
  EXPECT_EQ(PinyinKey("王 芳-2"), "wangfang2");
}

TEST(Utf8Length, CountsCodePoints) {
  EXPECT_EQ(Utf8Length("张伟ab"), 4u);
  EXPECT_EQ(Utf8Length(""), 0u);
}

}  // namespace
}  // namespace kehu::core
