#include <gtest/gtest.h>

#include <algorithm>

#include "dedup/normalize.h"

namespace kehu::dedup {
namespace {

bool SharePinyin(const NameForm& a, const NameForm& b) {
  return std::any_of(a.pinyin.begin(), a.pinyin.end(), [&](const std::string& k) {
    return std::find(b.pinyin.begin(), b.pinyin.end(), k) != b.pinyin.end();
  });
}

TEST(DedupFold, TurnsTraditionalIntoSimplified) {
  EXPECT_EQ(Fold("張偉"), "张伟");
  EXPECT_EQ(Fold("陳麗華"), "陈丽华");
  EXPECT_EQ(Fold("廣州市天河區"), "广州市天河区");
}

TEST(DedupFold, TurnsFullWidthIntoHalfWidthAndDropsSpacesAndPunctuation) {
  EXPECT_EQ(Fold("ＡＢＣ　１２３"), "abc123");
  EXPECT_EQ(Fold(" 张　伟 "), "张伟");
  EXPECT_EQ(Fold("王·芳，（"), "王芳");
  EXPECT_EQ(Fold("Lǚ Fāng"), "lufang");
}

TEST(DedupName, KeepsHanNamesAndSplitsTheSurname) {
  NameForm n = NormalizeName(" 張 偉 ");
  EXPECT_EQ(n.script, NameForm::Script::kHan);
  EXPECT_EQ(n.key, "张伟");
  EXPECT_EQ(n.surname, "张");
  EXPECT_EQ(n.given, "伟");
  EXPECT_FALSE(n.placeholder);
  NameForm compound = NormalizeName("欧阳明辉");
  EXPECT_EQ(compound.surname, "欧阳");
  EXPECT_EQ(compound.given, "明辉");
}

TEST(DedupName, LatinPinyinMatchesTheHanNameInAnyOrder) {
  const NameForm han = NormalizeName("张伟");
  for (const char* latin : {"Zhang Wei", "zhangwei", "Wei Zhang", "ZHANG, Wei", "ｚｈａｎｇ ｗｅｉ",
                            "weizhang"}) {
    NameForm l = NormalizeName(latin);
    EXPECT_EQ(l.script, NameForm::Script::kLatin) << latin;
    EXPECT_TRUE(SharePinyin(han, l)) << latin;
  }
  EXPECT_FALSE(SharePinyin(han, NormalizeName("Zhang Wen")));
  EXPECT_TRUE(SharePinyin(NormalizeName("欧阳明辉"), NormalizeName("Minghui Ouyang")));
}

TEST(DedupName, KnowsSurnameReadingsAndUmlautSpellings) {
  EXPECT_TRUE(SharePinyin(NormalizeName("曾丽"), NormalizeName("Zeng Li")));
  EXPECT_TRUE(SharePinyin(NormalizeName("单田芳"), NormalizeName("Shan Tianfang")));
  EXPECT_TRUE(SharePinyin(NormalizeName("吕芳"), NormalizeName("Lv Fang")));
  EXPECT_TRUE(SharePinyin(NormalizeName("吕芳"), NormalizeName("Lyu Fang")));
}

TEST(DedupName, RecognisesFormsOfAddress) {
  NameForm mr = NormalizeName("张先生");
  EXPECT_TRUE(mr.placeholder);
  EXPECT_EQ(mr.surname, "张");
  EXPECT_EQ(mr.gender_hint, 'm');
  NameForm ms = NormalizeName("王女士");
  EXPECT_TRUE(ms.placeholder);
  EXPECT_EQ(ms.gender_hint, 'f');
  EXPECT_TRUE(NormalizeName("刘总").placeholder);
  EXPECT_TRUE(NormalizeName("老李").placeholder);
  EXPECT_EQ(NormalizeName("老李").surname, "李");
  EXPECT_TRUE(NormalizeName("欧阳先生").placeholder);
  EXPECT_TRUE(NormalizeName("Mr. Zhang").placeholder);
  // A title after a full name is dropped, the name kept.
  NameForm full = NormalizeName("张伟先生");
  EXPECT_FALSE(full.placeholder);
  EXPECT_EQ(full.key, "张伟");
  EXPECT_EQ(full.gender_hint, 'm');
  EXPECT_EQ(NormalizeName("张伟（销售部）").key, "张伟");
  EXPECT_FALSE(NormalizeName("李小明").placeholder);
}

TEST(DedupName, IgnoresPlaceholdersForUnknownNames) {
  EXPECT_EQ(NormalizeName("未知").script, NameForm::Script::kNone);
  EXPECT_EQ(NormalizeName("  ").script, NameForm::Script::kNone);
  EXPECT_EQ(NormalizeName("N/A").script, NameForm::Script::kNone);
}

TEST(DedupCompany, StripsLegalSuffixesBracketsAndPlaces) {
  for (const char* variant : {"北京华为技术有限公司", "华为技术有限公司（北京）", "華為技術有限公司",
                              "华为技术股份有限公司", "深圳市华为技术有限公司",
                              "广东省深圳市华为技术有限责任公司", "华为技术 集团"}) {
    EXPECT_EQ(NormalizeCompany(variant).core, "华为技术") << variant;
  }
  CompanyForm c = NormalizeCompany("广东省深圳市华为技术股份有限公司");
  EXPECT_EQ(c.place, "广东深圳");
  EXPECT_EQ(c.loose, "华为");
  EXPECT_EQ(NormalizeCompany("ＡＢＣ科技（中国）有限公司").key, "abc科技");
  EXPECT_EQ(NormalizeCompany("Huawei Technologies Co., Ltd.").key, "huaweitechnologies");
  EXPECT_EQ(NormalizeCompany("中国银行北京分行").key, "中国银行");
  EXPECT_EQ(NormalizeCompany("某某集团有限公司上海分公司").key, "某某");
}

TEST(DedupCompany, KeepsPlacesThatArePartOfTheName) {
  EXPECT_EQ(NormalizeCompany("北京大学").core, "北京大学");
  EXPECT_EQ(NormalizeCompany("上海银行股份有限公司").core, "上海银行");
  EXPECT_TRUE(NormalizeCompany("无").empty());
  EXPECT_TRUE(NormalizeCompany("").empty());
}

TEST(DedupPlace, ReadsProvinceAndCityHoweverTyped) {
  auto check = [](const char* province, const char* city, const char* want_p, const char* want_c) {
    PlaceForm p = NormalizePlaces(province, city);
    EXPECT_EQ(p.province, want_p) << province << "|" << city;
    EXPECT_EQ(p.city, want_c) << province << "|" << city;
  };
  check("北京", "北京市朝阳区", "北京", "北京");  // a district, not 辽宁朝阳
  check("河北省", "秦皇岛市", "河北", "秦皇岛");
  check("", "河北秦皇岛", "河北", "秦皇岛");
  check("", "深圳", "广东", "深圳");
  check("廣東省", "廣州市", "广东", "广州");
  check("上海", "", "上海", "上海");
  check("", "大理白族自治州", "云南", "大理");
  check("吉林省", "吉林市", "吉林", "吉林");
  EXPECT_EQ(NormalizePlace("广西壮族自治区"), "广西");
}

}  // namespace
}  // namespace kehu::dedup
