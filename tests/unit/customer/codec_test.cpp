#include <gtest/gtest.h>

#include <string>

#include "core/json_text.h"
#include "customer/codec.h"

namespace kehu::customer {
namespace {

std::string Dumped(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

TEST(JsonText, StringsAreWrittenAsNlohmannWritesThem) {
  const std::string cases[] = {std::string(""),
                               std::string("张伟"),
                               std::string("say \"hi\"\\ now"),
                               std::string("tab\tnew\nline\rcr\bbs\fff"),
                               std::string("\x01\x1f\x7f end"),
                               std::string("bad \xff\xfe utf-8 \xe5\xbc"),
                               std::string("a/b <c> & 'd'"),
                               std::string("emoji \xf0\x9f\x98\x80")};
  for (const std::string& s : cases) {
    std::string out;
    core::AppendJsonString(out, s);
    EXPECT_EQ(out, Dumped(s)) << s;
  }
}

TEST(JsonText, LookupAnswerIsTheSameAsTheJsonBuiltOne) {
  LookupResult r{.number = {.raw = "0335-3051234转12",
                            .e164 = "+863353051234",
                            .extension = "12",
                            .type = "fixed_line",
                            .region = "河北省秦皇岛市",
                            .carrier = "",
                            .region_code = "CN",
                            .display = "0335-305 1234 转 12",
                            .valid = true},
                 .items = {}};
  EXPECT_EQ(LookupToJsonText(r), LookupToJson(r).dump());
  r.items.push_back(LookupHit{7, "张伟", "秦皇岛\"海港\"贸易", "", "办公", std::nullopt});
  r.items.push_back(LookupHit{12, "Li\nNa", "", "C-0012", "手机", 3});
  EXPECT_EQ(LookupToJsonText(r), LookupToJson(r).dump());
  r.number.valid = false;
  r.number.extension.clear();
  EXPECT_EQ(LookupToJsonText(r), LookupToJson(r).dump());
}

}  // namespace
}  // namespace kehu::customer
