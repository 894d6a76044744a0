#include "http/request.h"

#include <gtest/gtest.h>

#include <string>

namespace kehu::http {
namespace {

Request JsonRequest(std::string body) {
  Request r;
  r.headers["content-type"] = "application/json";
  r.body = std::move(body);
  return r;
}

std::string Nested(int depth, const std::string& inner = "") {
  return std::string(static_cast<std::size_t>(depth), '[') + inner +
         std::string(static_cast<std::size_t>(depth), ']');
}

TEST(RequestJsonObject, AcceptsNestingUpTo64Levels) {
  auto ok = JsonRequest(R"({"custom":{"a":)" + Nested(62) + "}}").JsonObject();
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  auto deep = JsonRequest(R"({"custom":{"a":)" + Nested(63) + "}}").JsonObject();
  ASSERT_FALSE(deep.has_value());
  EXPECT_EQ(deep.error().code(), core::Code::kBadRequest);
  EXPECT_NE(deep.error().message().find("64"), std::string::npos) << deep.error().message();
}

TEST(RequestJsonObject, RefusesDeepBodiesWithoutRecursing) {
  // Found by fuzz/json_fuzz: a custom value nested 400,000 deep (800 KB, under the 1 MiB body
  // limit) overflowed the worker's stack when ParseInput copied it, and the server died.
  auto r = JsonRequest(R"({"name":"x","custom":{"a":)" + Nested(400000) + "}}").JsonObject();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), core::Code::kBadRequest);
  auto unbalanced = JsonRequest(std::string(300000, '{')).JsonObject();
  ASSERT_FALSE(unbalanced.has_value());
  EXPECT_EQ(unbalanced.error().code(), core::Code::kBadRequest);
}

TEST(RequestJsonObject, RefusesNumbersOutOfRangeAs400) {
  // Found by fuzz/json_fuzz: nlohmann's out_of_range (406) escaped and the answer was a 500.
  for (const char* body : {R"({"custom":{"employees":2e308}})", R"({"n":-1e999})", "[1e400]"}) {
    auto r = JsonRequest(body).JsonObject();
    ASSERT_FALSE(r.has_value()) << body;
    EXPECT_EQ(r.error().code(), core::Code::kBadRequest) << body;
  }
  auto big = JsonRequest(R"({"n":1e308,"m":18446744073709551616})").JsonObject();
  ASSERT_TRUE(big.has_value()) << "large but representable numbers parse";
}

TEST(RequestJsonObject, BracketsInsideStringsDoNotCount) {
  std::string text(200, '[');
  text += R"(\"]]]{{{\\)";
  auto r = JsonRequest(R"({"name":")" + text + R"(","notes":"{{{{"})").JsonObject();
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ((*r)["notes"], "{{{{");
}

TEST(RequestJsonObject, KeepsItsOtherRefusals) {
  Request no_type;
  no_type.body = "{}";
  EXPECT_EQ(no_type.JsonObject().error().code(), core::Code::kUnsupportedMediaType);
  EXPECT_EQ(JsonRequest("{\"name\":\"\xff\"}").JsonObject().error().code(),
            core::Code::kBadRequest);
  EXPECT_EQ(JsonRequest("{\"name\":").JsonObject().error().code(), core::Code::kBadRequest);
  EXPECT_EQ(JsonRequest("[1]").JsonObject().error().code(), core::Code::kInvalid);
}

}  // namespace
}  // namespace kehu::http
