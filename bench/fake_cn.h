// Word lists and number pieces for the benchmark tools' generated Chinese customers
// (bench/load_customers.cpp, bench/gen_import.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace kehu::bench {

constexpr const char* kSurnames[][2] = {
    {"王", "wang"},     {"李", "li"},    {"张", "zhang"}, {"刘", "liu"},  {"陈", "chen"},
    {"杨", "yang"},     {"黄", "huang"}, {"赵", "zhao"},  {"吴", "wu"},   {"周", "zhou"},
    {"徐", "xu"},       {"孙", "sun"},   {"马", "ma"},    {"朱", "zhu"},  {"胡", "hu"},
    {"郭", "guo"},      {"何", "he"},    {"高", "gao"},   {"林", "lin"},  {"罗", "luo"},
    {"郑", "zheng"},    {"梁", "liang"}, {"谢", "xie"},   {"宋", "song"}, {"唐", "tang"},
    {"韩", "han"},      {"冯", "feng"},  {"邓", "deng"},  {"曹", "cao"},  {"彭", "peng"},
    {"欧阳", "ouyang"}, {"司马", "sima"}};
constexpr const char* kGiven[][2] = {
    {"伟", "wei"},      {"芳", "fang"},       {"娜", "na"},        {"敏", "min"},
    {"静", "jing"},     {"丽", "li"},         {"强", "qiang"},     {"磊", "lei"},
    {"军", "jun"},      {"洋", "yang"},       {"勇", "yong"},      {"艳", "yan"},
    {"杰", "jie"},      {"娟", "juan"},       {"涛", "tao"},       {"明", "ming"},
    {"超", "chao"},     {"秀英", "xiuying"},  {"霞", "xia"},       {"平", "ping"},
    {"刚", "gang"},     {"桂英", "guiying"},  {"建华", "jianhua"}, {"志强", "zhiqiang"},
    {"海燕", "haiyan"}, {"晓东", "xiaodong"}, {"文博", "wenbo"},   {"子涵", "zihan"}};
constexpr const char* kCities[] = {"秦皇岛", "北京", "上海", "广州", "深圳", "杭州",
                                   "成都",   "武汉", "南京", "苏州", "天津", "青岛"};
constexpr const char* kWords[] = {"海港", "华信", "恒达",   "鑫源", "东方", "长城", "金桥",
                                  "瑞丰", "宏图", "新世纪", "远航", "中联", "天成", "博雅"};
constexpr const char* kTrades[] = {"贸易", "科技", "机械制造", "电子", "物流", "建材",
                                   "食品", "医药", "文化传媒", "化工", "纺织", "信息技术"};
constexpr const char* kSuffixes[] = {"有限公司", "股份有限公司", "有限责任公司",
                                     "商行",     "集团有限公司", "(中国)有限公司"};
constexpr const char* kTitles[] = {"", "采购经理", "总经理", "财务", "行政主管", "技术总监"};
constexpr const char* kSources[] = {"展会", "官网", "电话咨询", "转介绍", "广告", "老客户"};
constexpr const char* kDomains[] = {"163.com",     "qq.com",   "126.com",
                                    "example.com", "sina.com", "foxmail.com"};
constexpr const char* kMobilePrefixes[] = {"130", "131", "132", "133", "135", "136", "137", "138",
                                           "139", "150", "151", "152", "155", "156", "157", "158",
                                           "159", "166", "176", "177", "178", "180", "181", "182",
                                           "183", "185", "186", "187", "188", "189", "198", "199"};
struct Area {
  const char* code;  // without the trunk 0
  int digits;        // subscriber number length
  char lead;         // first subscriber digit
};
constexpr Area kAreas[] = {{"10", 8, '6'},  {"21", 8, '6'},  {"20", 8, '3'}, {"335", 7, '3'},
                           {"571", 8, '8'}, {"755", 8, '2'}, {"28", 8, '8'}, {"22", 8, '2'}};

template <class T, std::size_t N>
constexpr std::size_t Len(const T (&)[N]) {
  return N;
}

inline std::string Digits(uint64_t v, int width) {
  std::string s(static_cast<std::size_t>(width), '0');
  for (int i = width - 1; i >= 0; --i, v /= 10)
    s[static_cast<std::size_t>(i)] = static_cast<char>('0' + v % 10);
  return s;
}

}  // namespace kehu::bench
