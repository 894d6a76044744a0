// Chinese-aware normalisation of names, companies and places for duplicate detection.
// Pure functions of their input (no database, no other module); thread-safe (OpenCC and ICU
// objects are per thread).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kehu::dedup {

// Full-width → half-width and compatibility forms (ICU NFKC with case folding: "ＡＢＣ１２"
// → "abc12"), then traditional → simplified (OpenCC t2s: "張偉" → "张伟"). Punctuation and
// spaces are kept.
std::string Simplify(std::string_view s);

// Simplify, then accents dropped ("lǚ" → "lu") and only letters, digits and Han characters
// kept: the comparison form of a short text ("  陳 麗華 " → "陈丽华").
std::string Fold(std::string_view s);

// A person's name as duplicate detection compares it.
struct NameForm {
  enum class Script { kNone, kHan, kLatin };
  Script script = Script::kNone;
  std::string key;      // Han: "张伟"; Latin: "zhangwei" (letters as typed, lower case)
  std::string surname;  // Han only: "张", "欧阳"
  std::string given;    // Han only: "伟"
  // "张先生", "王女士", "刘总", "老李": a surname with a form of address, not a full name.
  bool placeholder = false;
  char gender_hint = 0;  // 'm' (先生, Mr) / 'f' (女士, 小姐, Ms) / 0
  // Toneless pinyin keys that identify the name when written in Latin letters: surname first
  // and given name first ("zhangwei", "weizhang"), with the surname's other readings
  // (曾 ceng/zeng). For Latin names: as typed, and with the last word moved to the front
  // ("Wei Zhang" → "weizhang", "zhangwei"). The first key is the primary one.
  std::vector<std::string> pinyin;
  std::vector<std::string> words;  // Latin only: the words as typed ("zhang", "wei")
};
NameForm NormalizeName(std::string_view name);

// A company name as duplicate detection compares it.
struct CompanyForm {
  // Legal-form suffixes (有限公司, 股份有限公司, 集团, Co., Ltd. …), bracketed parts
  // (（北京）, (中国)) and branch suffixes removed: "北京华为技术".
  std::string key;
  std::string core;   // leading place names removed as well: "华为技术"
  std::string place;  // what was removed from the front: "北京"
  std::string loose;  // trailing trade words (科技, 贸易, 技术 …) removed as well: "华为"
  bool empty() const { return key.empty(); }
};
CompanyForm NormalizeCompany(std::string_view company);

// Province or city without its administrative suffix: "北京市" → "北京", "广西壮族自治区"
// → "广西", "大理白族自治州" → "大理".
std::string NormalizePlace(std::string_view place);

// Province and city of a customer from its province and city fields, however they were
// typed: "北京市朝阳区" in the city field is the city 北京; "河北秦皇岛" is 河北 and 秦皇岛; a
// municipality (北京, 上海 …) is both; a known city without its province gets it. Empty when
// unknown.
struct PlaceForm {
  std::string province, city;
};
PlaceForm NormalizePlaces(std::string_view province, std::string_view city);

// True when `s` (folded) is a known province or prefecture-level city name ("北京", "秦皇岛").
bool IsPlaceName(std::string_view folded);

// Other toneless readings of a Han surname than ICU's default one (曾 → "zeng", 单 → "shan").
const std::vector<std::string>& SurnameReadings(std::string_view surname);

}  // namespace kehu::dedup
