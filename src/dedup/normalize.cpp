#include "dedup/normalize.h"

#include <opencc/opencc.h>
#include <phonenumbers/geocoding/phonenumber_offline_geocoder.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>
#include <spdlog/spdlog.h>
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uscript.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "core/text.h"

namespace kehu::dedup {
namespace {

// --- UTF-8 helpers ---------------------------------------------------------------------------

// Code points of valid UTF-8 (invalid bytes are skipped).
std::vector<UChar32> CodePoints(std::string_view s) {
  std::vector<UChar32> out;
  out.reserve(s.size());
  int32_t i = 0;
  const int32_t n = static_cast<int32_t>(s.size());
  while (i < n) {
    UChar32 c;
    U8_NEXT(reinterpret_cast<const uint8_t*>(s.data()), i, n, c);
    if (c >= 0) out.push_back(c);
  }
  return out;
}

void Append(std::string& out, UChar32 c) {
  char buf[4];
  int32_t len = 0;
  UBool err = false;
  U8_APPEND(reinterpret_cast<uint8_t*>(buf), len, 4, c, err);
  if (!err) out.append(buf, static_cast<std::size_t>(len));
}

std::string FromCodePoints(const std::vector<UChar32>& cps, std::size_t from = 0,
                           std::size_t to = std::string::npos) {
  std::string out;
  to = std::min(to, cps.size());
  for (std::size_t i = from; i < to; ++i) Append(out, cps[i]);
  return out;
}

bool IsHan(UChar32 c) {
  UErrorCode st = U_ZERO_ERROR;
  return uscript_getScript(c, &st) == USCRIPT_HAN && U_SUCCESS(st) && u_isalpha(c);
}

bool IsAsciiLetter(UChar32 c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::size_t Chars(std::string_view s) { return core::Utf8Length(s); }

// --- OpenCC and ICU, one instance per thread -------------------------------------------------

struct OpenccCloser {
  void operator()(void* h) const {
    if (h != nullptr && h != reinterpret_cast<void*>(-1)) opencc_close(static_cast<opencc_t>(h));
  }
};

std::string ToSimplified(const std::string& s) {
  thread_local std::unique_ptr<void, OpenccCloser> handle = [] {
    opencc_t h = opencc_open("t2s.json");
    if (h == reinterpret_cast<opencc_t>(-1)) {
      static std::once_flag warned;
      std::call_once(warned, [] {
        spdlog::warn(
            "OpenCC t2s.json cannot be opened ({}): traditional characters stay as they are",
            opencc_error());
      });
      return std::unique_ptr<void, OpenccCloser>(nullptr);
    }
    return std::unique_ptr<void, OpenccCloser>(h);
  }();
  if (!handle || s.empty()) return s;
  // Pure ASCII has nothing to convert.
  if (std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; }))
    return s;
  char* out = opencc_convert_utf8(static_cast<opencc_t>(handle.get()), s.data(), s.size());
  if (out == nullptr) return s;
  std::string r(out);
  opencc_convert_utf8_free(out);
  return r;
}

std::string NfkcCasefold(std::string_view s) {
  UErrorCode st = U_ZERO_ERROR;
  const icu::Normalizer2* n = icu::Normalizer2::getNFKCCasefoldInstance(st);
  if (U_FAILURE(st)) return std::string(s);
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), s.size()));
  icu::UnicodeString r = n->normalize(u, st);
  if (U_FAILURE(st)) return std::string(s);
  std::string out;
  r.toUTF8String(out);
  return out;
}

// Latin letters without their accents: "lǚ" → "lu" (NFD, combining marks dropped).
std::string StripAccents(std::string_view s) {
  bool ascii =
      std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii) return std::string(s);
  UErrorCode st = U_ZERO_ERROR;
  const icu::Normalizer2* n = icu::Normalizer2::getNFDInstance(st);
  if (U_FAILURE(st)) return std::string(s);
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), s.size()));
  icu::UnicodeString d = n->normalize(u, st);
  if (U_FAILURE(st)) return std::string(s);
  icu::UnicodeString kept;
  for (int32_t i = 0; i < d.length();) {
    UChar32 c = d.char32At(i);
    if (u_charType(c) != U_NON_SPACING_MARK) kept.append(c);
    i += U16_LENGTH(c);
  }
  std::string out;
  kept.toUTF8String(out);
  return out;
}

// --- word lists ------------------------------------------------------------------------------

// Two-character surnames (a name starting with one of these has it as its surname).
constexpr std::array<std::string_view, 38> kCompoundSurnames = {
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐",
    "长孙", "宇文", "司徒", "夏侯", "轩辕", "端木", "南宫", "西门", "万俟", "独孤",
    "呼延", "澹台", "申屠", "钟离", "闻人", "赫连", "百里", "东郭", "太史", "濮阳",
    "司空", "公冶", "仲孙", "淳于", "完颜", "拓跋", "梁丘", "左丘"};

// Common one-character surnames, for 老王 / 小李 (a form of address, not a name).
constexpr std::string_view kCommonSurnames =
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞"
    "左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕"
    "屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧"
    "闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥";

struct Title {
  std::string_view text;
  char gender;
  bool strip_from_full_name;  // also removed after a full name ("张伟先生" → 张伟)
};
// Forms of address written after a surname. Longest first.
constexpr std::array<Title, 42> kTitles = {{
    {"董事长", 0, true}, {"总经理", 0, true}, {"老板娘", 'f', true}, {"小姐姐", 'f', true},
    {"先生", 'm', true}, {"女士", 'f', true}, {"小姐", 'f', true},   {"太太", 'f', true},
    {"夫人", 'f', true}, {"老师", 0, true},   {"经理", 0, true},     {"老板", 0, true},
    {"师傅", 0, true},   {"主任", 0, true},   {"医生", 0, true},     {"大夫", 0, true},
    {"律师", 0, true},   {"会计", 0, true},   {"局长", 0, true},     {"处长", 0, true},
    {"科长", 0, true},   {"厂长", 0, true},   {"院长", 0, true},     {"校长", 0, true},
    {"书记", 0, true},   {"部长", 0, true},   {"主管", 0, true},     {"总监", 0, true},
    {"阿姨", 'f', true}, {"叔叔", 'm', true}, {"大爷", 'm', true},   {"大妈", 'f', true},
    {"教授", 0, true},   {"博士", 0, true},   {"总", 0, false},      {"董", 0, false},
    {"工", 0, false},    {"哥", 'm', false},  {"姐", 'f', false},    {"叔", 'm', false},
    {"姨", 'f', false},  {"嫂", 'f', false},
}};

// Placeholders people type where the name is unknown.
bool IsJunk(std::string_view folded) {
  static const std::unordered_set<std::string_view> kJunk = {
      "无",   "暂无", "不详", "未知", "个人",    "无单位", "自由职业", "个体", "na",   "none",
      "null", "nil",  "test", "测试", "unknown", "客户",   "未填",     "空",   "其他", "其它"};
  return kJunk.contains(folded);
}

const std::map<std::string, std::vector<std::string>, std::less<>>& ReadingTable() {
  // Surnames whose everyday reading differs from ICU's default one.
  static const std::map<std::string, std::vector<std::string>, std::less<>> kTable = {
      {"曾", {"zeng"}},  {"单", {"shan"}},    {"区", {"ou"}},     {"仇", {"qiu"}},
      {"解", {"xie"}},   {"朴", {"piao"}},    {"查", {"zha"}},    {"盖", {"ge"}},
      {"乐", {"yue"}},   {"覃", {"qin"}},     {"缪", {"miao"}},   {"翟", {"zhai"}},
      {"召", {"shao"}},  {"阚", {"kan"}},     {"柏", {"bo"}},     {"秘", {"bi"}},
      {"种", {"chong"}}, {"员", {"yun"}},     {"句", {"gou"}},    {"藏", {"zang"}},
      {"重", {"chong"}}, {"尉迟", {"yuchi"}}, {"万俟", {"moqi"}}, {"长孙", {"zhangsun"}},
      {"燕", {"yan"}},   {"尉", {"yu"}},      {"能", {"nai"}},    {"繁", {"po"}},
      {"折", {"she"}},   {"过", {"guo"}},     {"宿", {"su"}},     {"冼", {"xian"}},
      {"黑", {"he"}},    {"隗", {"wei"}},     {"蕃", {"pi"}},     {"洗", {"xian"}}};
  return kTable;
}

// --- places ----------------------------------------------------------------------------------

constexpr std::array<std::string_view, 34> kProvinces = {
    "北京",   "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江",
    "江苏",   "浙江", "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南",
    "广东",   "海南", "四川", "贵州", "云南", "陕西", "甘肃", "青海", "台湾",
    "内蒙古", "广西", "西藏", "宁夏", "新疆", "香港", "澳门"};

// Ethnic groups named in autonomous prefectures ("大理白族自治州").
constexpr std::array<std::string_view, 28> kEthnic = {
    "白族", "傣族",   "景颇族", "傈僳族", "苗族",     "哈尼族", "彝族",
    "藏族", "朝鲜族", "蒙古族", "土家族", "羌族",     "布依族", "侗族",
    "壮族", "回族",   "维吾尔", "哈萨克", "柯尔克孜", "黎族",   "瑶族",
    "水族", "纳西族", "土族",   "撒拉族", "东乡族",   "保安族", "裕固族"};

constexpr std::array<std::string_view, 15> kPlaceSuffixes = {
    "特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "自治县", "地区",
    "新区",       "省",           "市",         "盟",         "县",     "区",     "旗"};

std::string StripPlaceSuffix(std::string f) {
  for (int round = 0; round < 3; ++round) {
    bool changed = false;
    for (std::string_view suf : kPlaceSuffixes) {
      if (f.size() > suf.size() && f.ends_with(suf) && Chars(f) - Chars(suf) >= 2) {
        f.resize(f.size() - suf.size());
        changed = true;
        break;
      }
    }
    for (std::string_view e : kEthnic) {
      if (f.size() > e.size() && f.ends_with(e) && Chars(f) - Chars(e) >= 2) {
        f.resize(f.size() - e.size());
        changed = true;
      }
    }
    if (!changed) break;
  }
  return f;
}

// Provinces and the prefecture-level cities libphonenumber's geocoder names for the Chinese
// area codes ("河北省秦皇岛市" → 秦皇岛 in 河北), short forms: place → its province (a province
// maps to itself). Built once.
const std::unordered_map<std::string, std::string>& PlaceTable() {
  static const std::unordered_map<std::string, std::string> kPlaces = [] {
    std::unordered_map<std::string, std::string> out;
    for (std::string_view p : kProvinces) out.emplace(p, p);
    out.emplace("中国", "");
    using i18n::phonenumbers::PhoneNumber;
    using i18n::phonenumbers::PhoneNumberOfflineGeocoder;
    using i18n::phonenumbers::PhoneNumberUtil;
    const PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
    PhoneNumberOfflineGeocoder geocoder;
    const icu::Locale chinese("zh");
    for (int area = 10; area < 1000; ++area) {
      for (const char* subscriber : {"2345678", "62345678"}) {
        PhoneNumber n;
        if (util->Parse("0" + std::to_string(area) + subscriber, "CN", &n) !=
                PhoneNumberUtil::NO_PARSING_ERROR ||
            !util->IsValidNumber(n)) {
          continue;
        }
        std::string d = geocoder.GetDescriptionForValidNumber(n, chinese);
        // "吉林省延边朝鲜族自治州、珲春市、延吉市": drop the province, split the rest.
        std::string province;
        for (std::string_view p : kProvinces) {
          if (d.starts_with(p)) {
            province = std::string(p);
            d = d.substr(p.size());
            for (std::string_view suf :
                 {"维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市"}) {
              if (d.starts_with(suf)) {
                d = d.substr(suf.size());
                break;
              }
            }
            break;
          }
        }
        std::size_t start = 0;
        while (start < d.size()) {
          std::size_t sep = d.find("、", start);
          std::string part =
              d.substr(start, sep == std::string::npos ? std::string::npos : sep - start);
          start = sep == std::string::npos ? d.size() : sep + std::string_view("、").size();
          std::string s = StripPlaceSuffix(Fold(part));
          if (Chars(s) >= 2) out.emplace(s, province);
        }
        break;
      }
    }
    return out;
  }();
  return kPlaces;
}

bool IsProvince(std::string_view p) {
  return std::find(kProvinces.begin(), kProvinces.end(), p) != kProvinces.end();
}

// The longest place name (2-4 characters) `f` starts with, and its administrative suffix
// (省, 市 …) when one follows; 0 when none.
std::size_t PlacePrefix(const std::vector<UChar32>& cps, std::size_t from) {
  const auto& places = PlaceTable();
  for (std::size_t len = 4; len >= 2; --len) {
    if (from + len > cps.size()) continue;
    std::string head = FromCodePoints(cps, from, from + len);
    if (!places.contains(head)) continue;
    std::size_t end = from + len;
    std::string rest = FromCodePoints(cps, end);
    for (std::string_view suf : {"维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区",
                                 "省", "市", "区", "县"}) {
      if (rest.starts_with(suf)) {
        end += Chars(suf);
        break;
      }
    }
    return end - from;
  }
  return 0;
}

// Companies people call by a place name plus a kind of institution (北京大学, 上海银行): the
// place is part of the name.
bool InstitutionLike(std::string_view f) {
  static constexpr std::array<std::string_view, 34> kEnds = {
      "银行",   "大学",   "学院",   "医院", "中学",   "小学",   "学校",   "政府",   "局",
      "厅",     "委员会", "日报",   "晚报", "电视台", "研究院", "研究所", "图书馆", "博物馆",
      "幼儿园", "法院",   "检察院", "海关", "机场",   "商会",   "协会",   "移动",   "联通",
      "电信",   "电力",   "供电",   "烟草", "邮政",   "公安",   "人民"};
  if (f.starts_with("第")) return true;
  return std::any_of(kEnds.begin(), kEnds.end(),
                     [&](std::string_view e) { return f.ends_with(e); });
}

// Legal forms and group words at the end of a Chinese company name. Longest first.
constexpr std::array<std::string_view, 14> kLegalSuffixes = {"集团股份有限公司",
                                                             "集团有限责任公司",
                                                             "股份有限公司",
                                                             "有限责任公司",
                                                             "集团有限公司",
                                                             "有限公司",
                                                             "集团公司",
                                                             "总公司",
                                                             "公司",
                                                             "集团",
                                                             "控股",
                                                             "股份",
                                                             "有限",
                                                             "责任"};
// Branch words: "中国银行北京分行", "XX有限公司上海分公司".
constexpr std::array<std::string_view, 10> kBranchSuffixes = {
    "分公司", "子公司", "分行", "支行", "分店", "办事处", "营业部", "分部", "分厂", "分社"};
// English legal words, as separate tokens at the end.
bool IsLegalToken(std::string_view t) {
  static const std::unordered_set<std::string_view> kTokens = {
      "co",    "ltd", "limited", "inc",     "incorporated", "corp",     "corporation",
      "llc",   "plc", "gmbh",    "company", "group",        "holdings", "holding",
      "coltd", "pte", "sa",      "ag",      "bv",           "lp",       "llp"};
  return kTokens.contains(t);
}
// Trade words people leave out ("华为技术有限公司" is also "华为"). Longest first.
constexpr std::array<std::string_view, 62> kTradeWords = {
    "信息技术", "网络科技", "电子商务", "供应链管理", "进出口",   "房地产",   "新材料",   "互联网",
    "实业发展", "科技发展", "国际贸易", "文化传媒",   "企业管理", "生物科技", "信息科技", "科技",
    "技术",     "信息",     "网络",     "贸易",       "商贸",     "实业",     "发展",     "投资",
    "咨询",     "服务",     "管理",     "电子",       "机械",     "设备",     "工程",     "建设",
    "建筑",     "装饰",     "物流",     "文化",       "传媒",     "广告",     "食品",     "医药",
    "生物",     "化工",     "材料",     "能源",       "环保",     "电器",     "制造",     "国际",
    "供应链",   "软件",     "智能",     "教育",       "餐饮",     "酒店",     "物业",     "置业",
    "汽车",     "纺织",     "服饰",     "印刷",       "包装",     "数据"};

// Removes every bracketed part: (中国), （北京）, 【总部】, [x].
std::string DropBrackets(std::string_view s) {
  static const std::vector<std::pair<UChar32, UChar32>> kPairs = {
      {'(', ')'}, {'[', ']'}, {0x3010, 0x3011}, {0x3014, 0x3015}, {'{', '}'}, {'<', '>'}};
  std::vector<UChar32> cps = CodePoints(s);
  std::vector<UChar32> out;
  int depth = 0;
  UChar32 close = 0;
  for (UChar32 c : cps) {
    if (depth == 0) {
      auto it =
          std::find_if(kPairs.begin(), kPairs.end(), [&](const auto& p) { return p.first == c; });
      if (it != kPairs.end()) {
        depth = 1;
        close = it->second;
        continue;
      }
      out.push_back(c);
    } else if (c == close) {
      depth = 0;
    }
  }
  // An unclosed bracket: keep what followed it rather than lose the rest of the name.
  if (depth != 0) return std::string(s);
  return FromCodePoints(out);
}

// Words of letters/digits/Han characters; everything else separates them.
std::vector<std::string> Tokens(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (UChar32 c : CodePoints(s)) {
    if (u_isalnum(c) || IsHan(c)) {
      Append(cur, c);
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

bool StripSuffix(std::string& f, std::string_view suf, std::size_t keep_chars) {
  if (f.size() > suf.size() && f.ends_with(suf) && Chars(f) - Chars(suf) >= keep_chars) {
    f.resize(f.size() - suf.size());
    return true;
  }
  return false;
}

// Latin pinyin spelling folded the way Han-Latin spells: ü written v or yu → u.
std::string LatinPinyin(std::string t) {
  for (char& c : t) {
    if (c == 'v') c = 'u';
  }
  for (std::string_view p : {"lyu", "nyu"}) {
    if (t.starts_with(p)) t = std::string(1, p[0]) + "u" + t.substr(3);
  }
  return t;
}

}  // namespace

std::string Simplify(std::string_view s) { return ToSimplified(NfkcCasefold(s)); }

std::string Fold(std::string_view s) {
  std::string simple = StripAccents(Simplify(s));
  std::string out;
  out.reserve(simple.size());
  for (UChar32 c : CodePoints(simple)) {
    if (u_isalnum(c) || IsHan(c)) Append(out, c);
  }
  return out;
}

const std::vector<std::string>& SurnameReadings(std::string_view surname) {
  static const std::vector<std::string> kNone;
  const auto& t = ReadingTable();
  auto it = t.find(surname);
  return it == t.end() ? kNone : it->second;
}

NameForm NormalizeName(std::string_view raw) {
  NameForm n;
  std::string simple = StripAccents(DropBrackets(Simplify(raw)));
  std::vector<UChar32> cps = CodePoints(simple);
  std::vector<UChar32> han;
  std::vector<std::string> latin;  // words of Latin letters
  std::string word;
  for (UChar32 c : cps) {
    if (IsHan(c)) {
      han.push_back(c);
    }
    if (IsAsciiLetter(c)) {
      word.push_back(static_cast<char>(c | 0x20));
    } else if (!word.empty()) {
      latin.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) latin.push_back(std::move(word));

  if (!han.empty()) {
    std::string k = FromCodePoints(han);
    if (IsJunk(k)) return n;
    n.script = NameForm::Script::kHan;
    // A full name followed by a form of address: "张伟先生" → 张伟.
    for (const Title& t : kTitles) {
      if (!t.strip_from_full_name) continue;
      std::string stripped = k;
      if (StripSuffix(stripped, t.text, 2) && Chars(stripped) >= 2) {
        // Only when what remains is more than a bare surname (that is a placeholder below).
        bool bare = Chars(stripped) == 2 &&
                    std::find(kCompoundSurnames.begin(), kCompoundSurnames.end(), stripped) !=
                        kCompoundSurnames.end();
        if (!bare) {
          k = stripped;
          n.gender_hint = t.gender;
        }
        break;
      }
    }
    std::vector<UChar32> kc = CodePoints(k);
    std::string surname;
    for (std::string_view cs : kCompoundSurnames) {
      if (k.starts_with(cs)) surname = std::string(cs);
    }
    if (surname.empty()) surname = FromCodePoints(kc, 0, 1);
    std::string rest = k.substr(surname.size());
    // Placeholders: a bare surname, surname + title, 老王 / 小李.
    if (rest.empty()) {
      n.placeholder = true;
    } else {
      for (const Title& t : kTitles) {
        if (rest == t.text) {
          n.placeholder = true;
          n.gender_hint = t.gender;
          break;
        }
      }
      if (!n.placeholder && kc.size() == 2 && (kc[0] == U'老' || kc[0] == U'小')) {
        std::string second = FromCodePoints(kc, 1, 2);
        if (kCommonSurnames.find(second) != std::string_view::npos) {
          n.placeholder = true;
          surname = second;
        }
      }
    }
    n.surname = surname;
    n.given = n.placeholder ? "" : k.substr(surname.size());
    n.key = n.placeholder ? surname : k;
    std::vector<std::string> readings = {core::PinyinKey(surname)};
    for (const std::string& r : SurnameReadings(surname)) {
      if (std::find(readings.begin(), readings.end(), r) == readings.end()) readings.push_back(r);
    }
    if (n.placeholder) {
      n.pinyin = readings;
      return n;
    }
    const std::string given = core::PinyinKey(n.given);
    for (const std::string& r : readings) n.pinyin.push_back(r + given);
    for (const std::string& r : readings) n.pinyin.push_back(given + r);
    return n;
  }

  // Latin letters: pinyin, or a foreign name. Titles (Mr, Ms …) give a gender hint.
  std::vector<std::string> words;
  for (std::string& w : latin) {
    if (w == "mr" || w == "mister" || w == "sir") {
      n.gender_hint = 'm';
    } else if (w == "ms" || w == "mrs" || w == "miss" || w == "madam") {
      n.gender_hint = 'f';
    } else if (w != "dr" && w != "prof") {
      words.push_back(LatinPinyin(std::move(w)));
    }
  }
  if (words.empty()) return n;
  std::string joined;
  for (const std::string& w : words) joined += w;
  if (IsJunk(joined)) return n;
  n.script = NameForm::Script::kLatin;
  n.key = joined;
  n.words = words;
  // "Mr Zhang": a surname with a title.
  if (words.size() == 1 && n.gender_hint != 0) {
    n.placeholder = true;
    n.pinyin = {joined};
    return n;
  }
  n.pinyin.push_back(joined);
  if (words.size() >= 2) {
    std::string rotated = words.back();
    for (std::size_t i = 0; i + 1 < words.size(); ++i) rotated += words[i];
    if (rotated != joined) n.pinyin.push_back(rotated);
  }
  return n;
}

CompanyForm NormalizeCompany(std::string_view raw) {
  CompanyForm c;
  std::string simple = StripAccents(DropBrackets(Simplify(raw)));
  std::vector<std::string> tokens = Tokens(simple);
  // English legal words at the end: "Huawei Technologies Co., Ltd." → huawei technologies.
  while (tokens.size() > 1 && IsLegalToken(tokens.back())) tokens.pop_back();
  std::string f;
  for (const std::string& t : tokens) f += t;
  if (f.empty() || IsJunk(f)) return c;
  // Branches, legal forms and group words at the end (repeatedly: "XX集团有限公司上海分公司").
  for (int round = 0; round < 4; ++round) {
    bool changed = false;
    for (std::string_view b : kBranchSuffixes) {
      if (StripSuffix(f, b, 2)) {
        changed = true;
        // The branch's place: "…上海分公司" → "…".
        std::vector<UChar32> cps = CodePoints(f);
        for (std::size_t len = 4; len >= 2; --len) {
          if (cps.size() < len + 2) continue;
          std::string tail = FromCodePoints(cps, cps.size() - len);
          std::string bare = StripPlaceSuffix(tail);
          if (PlaceTable().contains(bare) || PlaceTable().contains(tail)) {
            f = FromCodePoints(cps, 0, cps.size() - len);
            break;
          }
        }
        break;
      }
    }
    for (std::string_view s : kLegalSuffixes) {
      if (StripSuffix(f, s, 2)) {
        changed = true;
        break;
      }
    }
    if (!changed) break;
  }
  c.key = f;
  // Places at the front: "北京市华为技术" → 华为技术 (place 北京), twice for "广东省深圳市…".
  std::vector<UChar32> cps = CodePoints(f);
  std::size_t from = 0;
  for (int round = 0; round < 2; ++round) {
    std::size_t len = PlacePrefix(cps, from);
    if (len == 0) break;
    std::string rest = FromCodePoints(cps, from + len);
    if (Chars(rest) < 2 || InstitutionLike(rest)) break;
    c.place += StripPlaceSuffix(FromCodePoints(cps, from, from + len));
    from += len;
  }
  c.core = FromCodePoints(cps, from);
  c.loose = c.core;
  for (int round = 0; round < 4; ++round) {
    bool changed = false;
    for (std::string_view w : kTradeWords) {
      if (StripSuffix(c.loose, w, 2)) {
        changed = true;
        break;
      }
    }
    if (!changed) break;
  }
  return c;
}

std::string NormalizePlace(std::string_view place) {
  std::string f = Fold(place);
  if (IsJunk(f)) return "";
  return StripPlaceSuffix(f);
}

PlaceForm NormalizePlaces(std::string_view province, std::string_view city) {
  // The known places a field starts with, in order ("广东省深圳市南山区" → 广东, 深圳), and
  // the field without its suffix when it names no known place.
  auto scan = [](std::string_view text, std::vector<std::string>& found) {
    std::string f = Fold(text);
    if (f.empty() || IsJunk(f)) return std::string();
    std::vector<UChar32> cps = CodePoints(f);
    std::size_t from = 0;
    while (from < cps.size()) {
      std::size_t len = PlacePrefix(cps, from);
      if (len == 0) break;
      found.push_back(StripPlaceSuffix(FromCodePoints(cps, from, from + len)));
      from += len;
    }
    return found.empty() ? StripPlaceSuffix(f) : std::string();
  };
  std::vector<std::string> in_province, in_city;
  std::string other_province = scan(province, in_province);
  std::string other_city = scan(city, in_city);
  PlaceForm out;
  const auto& table = PlaceTable();
  for (const auto* found : {&in_province, &in_city}) {
    for (const std::string& p : *found) {
      if (out.province.empty() && IsProvince(p)) out.province = p;
    }
  }
  if (out.province.empty()) out.province = other_province;
  // A place of another province is a district of the same name ("北京市朝阳区": not 辽宁朝阳).
  auto consistent = [&](const std::string& p) {
    auto it = table.find(p);
    return out.province.empty() || it == table.end() || it->second.empty() ||
           it->second == out.province;
  };
  for (const auto* found : {&in_city, &in_province}) {
    for (const std::string& p : *found) {
      if (out.city.empty() && !IsProvince(p) && consistent(p)) out.city = p;
    }
  }
  if (out.city.empty()) {
    for (const std::string& p : in_city) {
      if (consistent(p)) out.city = p;  // 吉林省吉林市
    }
  }
  if (out.city.empty()) out.city = other_city;
  if (out.province.empty() && !out.city.empty()) {
    auto it = table.find(out.city);
    if (it != table.end()) out.province = it->second;
  }
  static constexpr std::array<std::string_view, 6> kMunicipalities = {"北京", "上海", "天津",
                                                                      "重庆", "香港", "澳门"};
  if (out.city.empty() && std::find(kMunicipalities.begin(), kMunicipalities.end(), out.province) !=
                              kMunicipalities.end()) {
    out.city = out.province;
  }
  return out;
}

bool IsPlaceName(std::string_view folded) { return PlaceTable().contains(std::string(folded)); }

}  // namespace kehu::dedup
