#include <gtest/gtest.h>

#include <algorithm>

#include "dedup/cluster.h"
#include "dedup/score.h"

namespace kehu::dedup {
namespace {

using K = ContactKind;

struct Person {
  std::string name, company, province, city, gender;
  std::vector<Input::Contact> contacts;
};

// A corpus of the given customers (ids 1, 2, …) plus `filler` unrelated ones, so value
// frequencies look like a real list rather than two lonely records.
Corpus Make(const std::vector<Person>& people, int filler = 200) {
  static const char* kSurnames[] = {"赵", "钱", "孙", "周", "吴", "郑", "冯", "陈", "褚", "卫"};
  static const char* kGiven[] = {"一鸣", "子轩", "雨桐", "浩然", "思远", "梓涵", "若曦", "宇航"};
  static const char* kCities[] = {"成都", "武汉", "杭州", "西安", "南京"};
  std::vector<Input> in;
  int64_t id = 1;
  for (const Person& p : people) {
    in.push_back({id++, p.name, p.company, p.province, p.city, p.gender, "", p.contacts});
  }
  for (int i = 0; i < filler; ++i) {
    Input f;
    f.id = id++;
    f.name = std::string(kSurnames[i % 10]) + kGiven[(i / 10) % 8] + (i >= 80 ? "华" : "");
    f.company = "填充" + std::to_string(i) + "号贸易有限公司";
    f.city = kCities[i % 5];
    f.contacts = {{K::kPhone, "filler-" + std::to_string(i)}};
    in.push_back(std::move(f));
  }
  Corpus c;
  c.AddAll(in, 2);
  c.Finish();
  return c;
}

PairScore Pair(const std::vector<Person>& two) {
  Corpus c = Make(two);
  return Compare(c, c.records()[0], c.records()[1]);
}

bool Linked(const std::vector<Person>& two) {
  PairScore s = Pair(two);
  return s.score >= kMatchThreshold && !s.cannot_link;
}

Input::Contact Mobile(const char* n) { return {K::kPhone, std::string("m") + n}; }
Input::Contact Landline(const char* n) { return {K::kLandline, std::string("l") + n}; }
Input::Contact Mail(const char* n) { return {K::kEmail, std::string("e") + n}; }

TEST(DedupScore, ScoreIsAProbabilityWithReasons) {
  PairScore s = Pair({{"张伟", "", "", "", "", {Mobile("1")}}, {"張偉", "", "", "", "", {Mobile("1")}}});
  EXPECT_GT(s.score, 0.99);
  EXPECT_LE(s.score, 1.0);
  EXPECT_TRUE(Has(s.reasons, Reason::kSamePhone));
  EXPECT_TRUE(Has(s.reasons, Reason::kNameEqual));
  auto names = ReasonNames(s.reasons);
  EXPECT_EQ(names.front(), "same_phone");
}

TEST(DedupScore, LinksTheSamePersonWrittenDifferently) {
  // Latin pinyin, same company written another way, same city.
  EXPECT_TRUE(Linked({{"张伟", "北京华为技术有限公司", "北京", "", "", {}},
                      {"Zhang Wei", "华为技术有限公司（北京）", "", "北京市", "", {}}}));
  // Given name first, shared email.
  EXPECT_TRUE(Linked({{"欧阳明辉", "", "", "", "", {Mail("o")}},
                      {"Minghui Ouyang", "", "", "", "", {Mail("o")}}}));
  // A form of address and the full name on one mobile.
  EXPECT_TRUE(Linked({{"王芳", "", "", "", "", {Mobile("2")}},
                      {"王女士", "", "", "", "", {Mobile("2")}}}));
  // A homophone typed by a pinyin input method, same company and city.
  EXPECT_TRUE(Linked({{"李晓明", "秦皇岛海港贸易有限公司", "河北", "秦皇岛", "", {}},
                      {"李小明", "海港贸易有限公司", "", "秦皇岛", "", {}}}));
  // Same full name on the same landline.
  EXPECT_TRUE(Linked({{"李娜", "", "", "", "", {Landline("3")}},
                      {"李娜", "", "", "", "", {Landline("3")}}}));
  // Traditional characters, full-width company, same ID number.
  EXPECT_TRUE(Linked({{"陳麗華", "ＡＢＣ科技有限公司", "", "", "", {{K::kIdNumber, "id1"}}},
                      {"陈丽华", "", "", "", "", {{K::kIdNumber, "id1"}}}}));
}

TEST(DedupScore, DoesNotLinkPeopleWhoShareACommonName) {
  EXPECT_FALSE(Linked({{"张伟", "北京东方贸易有限公司", "北京", "北京", "", {Mobile("a")}},
                       {"张伟", "上海恒达机械有限公司", "上海", "上海", "", {Mobile("b")}}}));
  EXPECT_FALSE(Linked({{"王芳", "", "", "杭州", "", {}}, {"王芳", "", "", "杭州", "", {}}}));
  EXPECT_FALSE(Linked({{"李娜", "", "", "", "", {}}, {"李娜", "", "", "", "", {}}}));
  EXPECT_FALSE(Linked({{"张伟", "东方贸易", "", "", "", {}}, {"张伟", "宏图科技", "", "", "", {}}}));
}

TEST(DedupScore, FamilyMembersOnOneLandlineAreRelatedNotTheSame) {
  PairScore s = Pair({{"张伟", "", "河北", "秦皇岛", "male", {Landline("home")}},
                      {"张丽", "", "河北", "秦皇岛", "female", {Landline("home")}}});
  EXPECT_TRUE(s.shares_contact);
  EXPECT_TRUE(s.cannot_link);
  EXPECT_LT(s.score, kMatchThreshold);
  EXPECT_TRUE(Has(s.reasons, Reason::kSameLandline));
  EXPECT_TRUE(Has(s.reasons, Reason::kNameDiffers));
  // Siblings with the same generation name: one character apart.
  EXPECT_FALSE(Linked({{"张晓明", "", "", "秦皇岛", "", {Landline("home")}},
                       {"张晓红", "", "", "秦皇岛", "", {Landline("home")}}}));
  // Colleagues on the office switchboard.
  EXPECT_FALSE(Linked({{"刘洋", "恒达机械有限公司", "", "天津", "", {Landline("office")}},
                       {"陈静", "恒达机械有限公司", "", "天津", "", {Landline("office")}}}));
}

TEST(DedupScore, GenderAndIdNumbersCanForbidALink) {
  EXPECT_FALSE(Linked({{"王女士", "", "", "", "", {Mobile("g")}},
                       {"王伟", "", "", "", "male", {Mobile("g")}}}));
  EXPECT_FALSE(Linked({{"赵敏", "", "", "", "", {Mobile("h"), {K::kIdNumber, "A"}}},
                       {"赵敏", "", "", "", "", {Mobile("h"), {K::kIdNumber, "B"}}}}));
}

TEST(DedupScore, ARoleMailboxSaysLessThanAPersonsMailbox) {
  PairScore personal = Pair({{"周杰", "", "", "", "", {Mail("x")}}, {"周杰", "", "", "", "", {Mail("x")}}});
  PairScore role = Pair({{"周杰", "", "", "", "", {{K::kRoleEmail, "info"}}},
                         {"周杰", "", "", "", "", {{K::kRoleEmail, "info"}}}});
  EXPECT_GT(personal.bits, role.bits);
  EXPECT_TRUE(Has(role.reasons, Reason::kSameSharedEmail));
}

TEST(DedupScore, ACommonNameCountsLessWhereItIsFrequent) {
  std::vector<Person> many;
  many.push_back({"张伟", "宏图科技有限公司", "", "", "", {}});
  many.push_back({"张伟", "宏图科技", "", "", "", {}});
  for (int i = 0; i < 30; ++i) many.push_back({"张伟", "", "", "", "", {}});
  Corpus c = Make(many);
  PairScore frequent = Compare(c, c.records()[0], c.records()[1]);
  PairScore rare = Pair({{"张伟", "宏图科技有限公司", "", "", "", {}}, {"张伟", "宏图科技", "", "", "", {}}});
  EXPECT_LT(frequent.bits, rare.bits);
  EXPECT_TRUE(Has(frequent.reasons, Reason::kCommonName));
}

std::vector<std::vector<int64_t>> GroupIds(const Corpus& c) {
  std::vector<std::vector<int64_t>> out;
  for (const Group& g : FindGroups(c, ClusterOptions{})) {
    std::vector<int64_t> ids;
    for (uint32_t m : g.members) ids.push_back(c.records()[m].id);
    std::sort(ids.begin(), ids.end());
    out.push_back(ids);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(DedupCluster, GroupsPlantedDuplicatesAndNotTheHardNegatives) {
  Corpus c = Make({
      // 1-3: one person, linked through a mobile and an email (1 and 3 share nothing).
      {"张晓明", "", "", "", "", {Mobile("1")}},
      {"张晓明", "", "", "", "", {Mobile("1"), Mail("zxm")}},
      {"Zhang Xiaoming", "", "", "", "", {Mail("zxm")}},
      // 4-5: common name, different companies and cities.
      {"王芳", "东方贸易有限公司", "", "北京", "", {Mobile("4")}},
      {"王芳", "恒达机械有限公司", "", "广州", "", {Mobile("5")}},
      // 6-7: family on one landline.
      {"刘强", "", "", "秦皇岛", "male", {Landline("6")}},
      {"刘娟", "", "", "秦皇岛", "female", {Landline("6")}},
  });
  EXPECT_EQ(GroupIds(c), (std::vector<std::vector<int64_t>>{{1, 2, 3}}));
}

TEST(DedupCluster, DoesNotChainDifferentPeopleThroughAFormOfAddress) {
  // 张先生 shares a mobile with 张伟 and another with 张建国: he may be either, not both.
  Corpus c = Make({
      {"张伟", "", "", "", "", {Mobile("w")}},
      {"张先生", "", "", "", "", {Mobile("w"), Mobile("j")}},
      {"张建国", "", "", "", "", {Mobile("j")}},
  });
  auto groups = GroupIds(c);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].size(), 2u);
  EXPECT_TRUE(std::find(groups[0].begin(), groups[0].end(), 2) != groups[0].end());
}

TEST(DedupCluster, SplitsABigSwitchboardBlockBySurname) {
  // 300 colleagues with distinct names on one number.
  static const char* kSurnames[] = {"赵", "钱", "孙", "周", "吴", "郑", "冯", "陈", "褚", "卫"};
  static const char* kChars[] = {"明", "华", "国", "强", "文", "军", "平", "芳", "娟", "敏",
                                 "静", "丽", "刚", "勇", "杰", "涛", "超", "秀", "英", "兰",
                                 "霞", "燕", "玲", "桂", "珍", "凤", "洁", "梅", "琳", "波"};
  std::vector<Person> office;
  for (int i = 0; i < 300; ++i) {
    office.push_back({std::string(kSurnames[i % 10]) + kChars[i % 30] + kChars[(i / 30) % 30], "",
                      "", "", "", {Landline("switchboard")}});
  }
  // A number 302 customers share says little by itself: the same name, company and city do.
  office.push_back({"孙悦", "恒达机械有限公司", "", "天津", "", {Landline("switchboard")}});
  office.push_back({"孙悦", "恒达机械", "", "天津", "", {Landline("switchboard")}});
  Corpus c = Make(office, 0);
  ClusterStats stats;
  auto groups = FindGroups(c, ClusterOptions{}, &stats);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(c.records()[groups[0].members[0]].id, 301);
  EXPECT_LT(stats.candidate_pairs, 300u * 299 / 2);
}

}  // namespace
}  // namespace kehu::dedup
