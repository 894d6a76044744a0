#include "dedup/score.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <mutex>
#include <thread>

#include "core/text.h"

namespace kehu::dedup {
namespace {

// --- the model ------------------------------------------------------------------------------
//
// bits = prior + sum of log2(m / u) over the comparisons (Fellegi and Sunter): m is how often
// the evidence is seen when two records are one person, u how often when they are two. The
// m values and the sharing rates below say what the evidence means — a mobile or a personal
// mailbox is one person's, a fixed line a household's or an office's, a 400 number or an
// info@ mailbox a company's — and are not fitted to any data set. u comes from the data: how
// many customers have the value (a name, a company, a city), with floors from what is known
// of Chinese names (a two-character name with a common surname is shared by many people in
// any large list). A list smaller than kMinPopulation is taken as a sample of a list that
// size, so that a name seen twice among fifteen customers is not thought common.

constexpr double kMinPopulation = 10000;
constexpr double kDuplicatePairsPerCustomer = 0.3;  // the prior

// Contact points: m, and how often different people share one (per holder).
struct ContactModel {
  double m, sharing;
};
constexpr ContactModel kMobile{0.7, 0.01}, kMail{0.6, 0.01}, kDeskLine{0.6, 0.05},
    kLandline{0.5, 0.3}, kRoleMail{0.3, 1.0}, kServiceLine{0.3, 1.0}, kInvalidLine{0.2, 1.0},
    kIdNo{0.9, 0.0001};
constexpr double kMoreContacts = 2;   // each further distinct contact point shared (at most 2)
constexpr double kMorePersonal = 6;   // a second personal one (a mobile and a mailbox): nearly
                                      // independent evidence, counted well short of its m/u
constexpr double kPhonesDiffer = -2;  // log2(0.25 / 1): both have mobiles, none shared
constexpr uint32_t kFewHolders = 4;   // customers a contact point may have before it counts less

constexpr double kNameEqualM = 0.85;
constexpr double kNamePinyinM = 0.1;
constexpr double kSurnameM = 0.06;
// Weights that are not m/u: a one-character difference is how siblings' names differ as
// much as how a name is mistyped, and a different name says "someone else" strongly.
constexpr double kNameSimilar = -2;
constexpr double kNameDiffers = -8;
constexpr double kGenderDiffers = -6;
constexpr double kIdNumberDiffers = -20;

constexpr double kCompanyEqualM = 0.8;
constexpr double kCompanySimilar = 3;     // log2(0.1 / 0.0125)
constexpr double kCompanyDiffers = -2.7;  // log2(0.15 / 0.98)
constexpr double kCreditEqual = 12;
constexpr double kCreditDiffers = -8;

constexpr double kPlaceM = 0.85;
constexpr double kMinPlaceShare = 0.04;  // a city counts as at least this common
constexpr double kCityDiffersSameProvince = -2.5;
constexpr double kPlaceDiffers = -4;

// How often a value is shared by different people: its count among `population` customers,
// or what the data shows beyond the pair itself (from fewer than kMinSample customers that
// says little: a third record of a name among ten is as likely the same person again), or
// `floor`, whichever is most.
constexpr double kMinSample = 2000;
double Share(uint32_t count, std::size_t n, double population, double floor) {
  double u = count / population;
  if (count > 2) u = std::max(u, (count - 2) / std::max(static_cast<double>(n), kMinSample));
  return std::max(u, floor);
}

constexpr std::string_view kTopSurnames[] = {"王", "李", "张", "刘", "陈",
                                             "杨", "黄", "赵", "吴", "周"};

// How common a name is at least, by its form, among people in China: a one-character given
// name with one of the ten commonest surnames (张伟, 王芳) is shared by about one person in
// ten thousand or more; longer names and rarer surnames far less.
constexpr double kRareNameShare = 5e-6;
constexpr double kCommonNameShare = 1e-3;  // a name this common is reported as common_name
double NameShareFloor(const NameForm& han) {
  const bool top = std::find(std::begin(kTopSurnames), std::end(kTopSurnames), han.surname) !=
                   std::end(kTopSurnames);
  const bool short_given = core::Utf8Length(han.given) <= 1;
  if (core::Utf8Length(han.surname) > 1) return short_given ? 2e-5 : kRareNameShare;
  if (short_given) return top ? 2e-4 : 5e-5;
  return top ? 2e-5 : 1e-5;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool Intersects(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return std::any_of(a.begin(), a.end(), [&](const std::string& s) { return Contains(b, s); });
}

// kDiffersGiven: the same surname, another given name — a sibling, or a typing mistake.
enum class NameMatch { kUnknown, kEqual, kPinyin, kSimilar, kSurname, kDiffersGiven, kDiffers };

// Readings of a placeholder's surname, or the possible surnames of a full name.
std::vector<std::string> SurnameKeys(const NameForm& n) {
  if (n.script == NameForm::Script::kHan) {
    std::vector<std::string> out = {core::PinyinKey(n.surname)};
    for (const std::string& r : SurnameReadings(n.surname)) out.push_back(r);
    return out;
  }
  if (n.words.empty()) return {n.key};
  std::vector<std::string> out = {n.words.front()};
  if (n.words.size() > 1) out.push_back(n.words.back());
  return out;
}

// Whether `n` (any name) may have the surname read `reading`: one of its surname keys, or
// the start or end of a name written as one Latin word ("zhangwei").
bool MayHaveSurname(const NameForm& n, const std::string& reading) {
  if (reading.size() < 2) return false;
  if (Contains(SurnameKeys(n), reading)) return true;
  if (n.script == NameForm::Script::kLatin && n.words.size() == 1 && n.key.size() > reading.size())
    return n.key.starts_with(reading) || n.key.ends_with(reading);
  return false;
}

bool SurnamesAgree(const NameForm& a, const NameForm& b) {
  if (a.script == NameForm::Script::kHan && b.script == NameForm::Script::kHan)
    return a.surname == b.surname;
  const NameForm& x = a.script == NameForm::Script::kHan || a.placeholder ? a : b;
  const NameForm& y = &x == &a ? b : a;
  for (const std::string& r : SurnameKeys(x)) {
    if (MayHaveSurname(y, r)) return true;
  }
  return false;
}

// Chinese characters of a Han name, for the one-character-differs test.
std::vector<std::string> Characters(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t len = 1;
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0xF0) {
      len = 4;
    } else if (c >= 0xE0) {
      len = 3;
    } else if (c >= 0xC0) {
      len = 2;
    }
    out.emplace_back(s.substr(i, len));
    i += len;
  }
  return out;
}

// A Han name of two or more given characters and a Latin one with the same surname whose
// given name differs in one syllable: 王红欣 and "Lanxin Wang".
bool OneSyllableApart(const NameForm& han, const NameForm& latin) {
  std::vector<std::string> syllables;
  for (const std::string& ch : Characters(han.given)) syllables.push_back(core::PinyinKey(ch));
  if (syllables.size() < 2) return false;
  std::vector<std::string> givens;  // the Latin name without its surname, however split
  for (const std::string& r : SurnameKeys(han)) {
    if (latin.words.size() > 1) {
      if (latin.words.front() == r) {
        std::string g;
        for (std::size_t i = 1; i < latin.words.size(); ++i) g += latin.words[i];
        givens.push_back(g);
      }
      if (latin.words.back() == r) {
        std::string g;
        for (std::size_t i = 0; i + 1 < latin.words.size(); ++i) g += latin.words[i];
        givens.push_back(g);
      }
    } else if (latin.key.size() > r.size()) {
      if (latin.key.starts_with(r)) givens.push_back(latin.key.substr(r.size()));
      if (latin.key.ends_with(r))
        givens.push_back(latin.key.substr(0, latin.key.size() - r.size()));
    }
  }
  for (const std::string& g : givens) {
    for (std::size_t i = 0; i < syllables.size(); ++i) {
      std::string prefix, suffix;
      for (std::size_t k = 0; k < i; ++k) prefix += syllables[k];
      for (std::size_t k = i + 1; k < syllables.size(); ++k) suffix += syllables[k];
      if (g.size() > prefix.size() + suffix.size() && g.starts_with(prefix) &&
          g.ends_with(suffix) &&
          g.substr(prefix.size(), g.size() - prefix.size() - suffix.size()) != syllables[i]) {
        return true;
      }
    }
  }
  return false;
}

NameMatch CompareNames(const NameForm& a, const NameForm& b) {
  using S = NameForm::Script;
  if (a.script == S::kNone || b.script == S::kNone) return NameMatch::kUnknown;
  if (a.placeholder || b.placeholder) {
    return SurnamesAgree(a, b) ? NameMatch::kSurname : NameMatch::kDiffers;
  }
  if (a.script == S::kHan && b.script == S::kHan) {
    if (a.key == b.key) return NameMatch::kEqual;
    if (!a.pinyin.empty() && !b.pinyin.empty() && a.pinyin.front() == b.pinyin.front())
      return NameMatch::kPinyin;  // a homophone typed by a pinyin input method
    if (a.surname != b.surname) return NameMatch::kDiffers;
    auto ca = Characters(a.key), cb = Characters(b.key);
    if (ca.size() == cb.size() && ca.size() >= 3) {
      int diff = 0;
      for (std::size_t i = 0; i < ca.size(); ++i) diff += ca[i] != cb[i];
      if (diff == 1) return NameMatch::kSimilar;
    }
    return NameMatch::kDiffersGiven;
  }
  if (a.script == S::kLatin && b.script == S::kLatin && a.key == b.key) return NameMatch::kPinyin;
  if (Intersects(a.pinyin, b.pinyin)) return NameMatch::kPinyin;
  if (a.script != b.script) {
    const NameForm& han = a.script == S::kHan ? a : b;
    const NameForm& latin = a.script == S::kHan ? b : a;
    if (OneSyllableApart(han, latin)) return NameMatch::kSimilar;
  }
  return SurnamesAgree(a, b) ? NameMatch::kDiffersGiven : NameMatch::kDiffers;
}

enum class CompanyMatch { kUnknown, kEqual, kSimilar, kDiffers };

bool LongEnough(const std::string& s) {
  // Two Han characters, or four Latin letters / digits.
  std::size_t chars = core::Utf8Length(s);
  return chars >= 4 || (chars >= 2 && s.size() > chars);
}

CompanyMatch CompareCompanies(const CompanyForm& a, const CompanyForm& b) {
  if (a.empty() || b.empty()) return CompanyMatch::kUnknown;
  if (a.key == b.key) return CompanyMatch::kEqual;
  if (!a.core.empty() && a.core == b.core) {
    if (a.place.empty() || b.place.empty() || a.place == b.place) return CompanyMatch::kEqual;
    return CompanyMatch::kSimilar;  // the same company in two cities: branches
  }
  if (LongEnough(a.loose) && a.loose == b.loose) return CompanyMatch::kSimilar;
  const std::string& shorter = a.core.size() <= b.core.size() ? a.core : b.core;
  const std::string& longer = a.core.size() <= b.core.size() ? b.core : a.core;
  if (LongEnough(shorter) && longer.find(shorter) != std::string::npos)
    return CompanyMatch::kSimilar;
  return CompanyMatch::kDiffers;
}

ContactModel ModelOf(ContactKind k) {
  switch (k) {
    case ContactKind::kIdNumber:
      return kIdNo;
    case ContactKind::kPhone:
    case ContactKind::kUnresolved:
      return kMobile;
    case ContactKind::kEmail:
      return kMail;
    case ContactKind::kDesk:
      return kDeskLine;
    case ContactKind::kLandline:
      return kLandline;
    case ContactKind::kRoleEmail:
      return kRoleMail;
    case ContactKind::kService:
      return kServiceLine;
    case ContactKind::kInvalid:
      return kInvalidLine;
  }
  return kInvalidLine;
}

Reason ReasonOf(ContactKind k) {
  switch (k) {
    case ContactKind::kIdNumber:
      return Reason::kSameIdNumber;
    case ContactKind::kPhone:
    case ContactKind::kUnresolved:
      return Reason::kSamePhone;
    case ContactKind::kLandline:
    case ContactKind::kDesk:
      return Reason::kSameLandline;
    case ContactKind::kService:
      return Reason::kSameServiceNumber;
    case ContactKind::kInvalid:
      return Reason::kSameInvalidNumber;
    case ContactKind::kEmail:
      return Reason::kSameEmail;
    case ContactKind::kRoleEmail:
      return Reason::kSameSharedEmail;
  }
  return Reason::kSamePhone;
}

// The order reasons are listed in: strongest evidence first, then what speaks against.
constexpr std::array<Reason, static_cast<std::size_t>(Reason::kCount)> kOrder = {
    Reason::kSameIdNumber,      Reason::kSamePhone,       Reason::kSameEmail,
    Reason::kSameLandline,      Reason::kSameSharedEmail, Reason::kSameServiceNumber,
    Reason::kSameInvalidNumber, Reason::kSameCreditCode,  Reason::kNameEqual,
    Reason::kNamePinyinEqual,   Reason::kNameSimilar,     Reason::kNameSurnameMatch,
    Reason::kCompanyEqual,      Reason::kCompanySimilar,  Reason::kSameCity,
    Reason::kSameProvince,      Reason::kCommonName,      Reason::kNameDiffers,
    Reason::kGenderDiffers,     Reason::kIdNumberDiffers, Reason::kCreditCodeDiffers,
    Reason::kCompanyDiffers,    Reason::kCityDiffers,     Reason::kProvinceDiffers,
    Reason::kPhoneDiffers};

}  // namespace

std::string_view ReasonName(Reason r) {
  switch (r) {
    case Reason::kSameIdNumber:
      return "same_id_number";
    case Reason::kSamePhone:
      return "same_phone";
    case Reason::kSameLandline:
      return "same_landline";
    case Reason::kSameServiceNumber:
      return "same_service_number";
    case Reason::kSameInvalidNumber:
      return "same_invalid_number";
    case Reason::kSameEmail:
      return "same_email";
    case Reason::kSameSharedEmail:
      return "same_shared_email";
    case Reason::kNameEqual:
      return "name_equal";
    case Reason::kNamePinyinEqual:
      return "name_pinyin_equal";
    case Reason::kNameSimilar:
      return "name_similar";
    case Reason::kNameSurnameMatch:
      return "name_surname_match";
    case Reason::kNameDiffers:
      return "name_differs";
    case Reason::kCommonName:
      return "common_name";
    case Reason::kSameCreditCode:
      return "same_credit_code";
    case Reason::kCompanyEqual:
      return "company_equal";
    case Reason::kCompanySimilar:
      return "company_similar";
    case Reason::kCompanyDiffers:
      return "company_differs";
    case Reason::kSameCity:
      return "same_city";
    case Reason::kSameProvince:
      return "same_province";
    case Reason::kCityDiffers:
      return "city_differs";
    case Reason::kProvinceDiffers:
      return "province_differs";
    case Reason::kGenderDiffers:
      return "gender_differs";
    case Reason::kIdNumberDiffers:
      return "id_number_differs";
    case Reason::kCreditCodeDiffers:
      return "credit_code_differs";
    case Reason::kPhoneDiffers:
      return "phone_differs";
    case Reason::kCount:
      break;
  }
  return "unknown";
}

std::vector<std::string> ReasonNames(Reasons set) {
  std::vector<std::string> out;
  for (Reason r : kOrder) {
    if (Has(set, r)) out.emplace_back(ReasonName(r));
  }
  return out;
}

// --- Corpus ------------------------------------------------------------------------------

uint64_t Corpus::Hash(std::string_view s, uint64_t seed) {
  // FNV-1a, then a 64-bit finaliser (splitmix64) for well-spread keys.
  uint64_t h = 1469598103934665603ULL ^ (seed * 0x9E3779B97F4A7C15ULL);
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  h ^= h >> 30;
  h *= 0xBF58476D1CE4E5B9ULL;
  h ^= h >> 27;
  h *= 0x94D049BB133111EBULL;
  h ^= h >> 31;
  return h;
}

Corpus::Corpus() {
  names_.emplace_back();
  companies_.emplace_back();
  places_.emplace_back();
}

uint32_t Corpus::InternName(const std::string& raw) {
  if (raw.empty()) return 0;
  auto [it, fresh] = name_ids_.emplace(raw, static_cast<uint32_t>(names_.size()));
  if (fresh) names_.push_back(NormalizeName(raw));
  return it->second;
}

uint32_t Corpus::InternCompany(const std::string& raw) {
  if (raw.empty()) return 0;
  auto [it, fresh] = company_ids_.emplace(raw, static_cast<uint32_t>(companies_.size()));
  if (fresh) companies_.push_back(NormalizeCompany(raw));
  return it->second;
}

uint32_t Corpus::InternPlace(const std::string& folded) {
  if (folded.empty()) return 0;
  auto [it, fresh] = place_ids_.emplace(folded, static_cast<uint32_t>(places_.size()));
  if (fresh) places_.push_back(folded);
  return it->second;
}

uint32_t Corpus::InternCredit(const std::string& raw) {
  std::string f = Fold(raw);
  if (f.empty()) return 0;
  auto [it, fresh] = credit_ids_.emplace(f, static_cast<uint32_t>(credit_ids_.size() + 1));
  return it->second;
}

Record Corpus::Make(const Input& in) {
  Record r;
  r.id = in.id;
  r.name = InternName(in.name);
  r.company = InternCompany(in.company);
  // Province and city: normalised once per distinct pair (there are few).
  std::string pair = in.province + '\x1f' + in.city;
  auto it = place_pairs_.find(pair);
  if (it == place_pairs_.end()) {
    PlaceForm place = NormalizePlaces(in.province, in.city);
    it = place_pairs_
             .emplace(std::move(pair),
                      std::make_pair(InternPlace(place.province), InternPlace(place.city)))
             .first;
  }
  r.province = it->second.first;
  r.city = it->second.second;
  r.credit = in.credit_code.empty() ? 0 : InternCredit(in.credit_code);
  if (in.gender == "male") {
    r.gender = 'm';
  } else if (in.gender == "female") {
    r.gender = 'f';
  } else {
    r.gender = names_[r.name].gender_hint;
  }
  r.contacts = Contacts(in.contacts);
  return r;
}

std::vector<Record::Contact> Corpus::Contacts(const std::vector<Input::Contact>& in) {
  std::vector<Record::Contact> out;
  out.reserve(in.size());
  for (const Input::Contact& c : in) {
    if (c.key.empty()) continue;
    // Phones, emails and ID numbers never share a key: the kind class seeds the hash.
    const uint64_t seed = c.kind == ContactKind::kIdNumber ? 3
                          : (c.kind == ContactKind::kEmail || c.kind == ContactKind::kRoleEmail)
                              ? 2
                              : 1;
    const uint64_t key = Hash(c.key, seed);
    if (std::none_of(out.begin(), out.end(),
                     [&](const Record::Contact& x) { return x.key == key; }))
      out.push_back({key, c.kind});
  }
  return out;
}

void Corpus::SetContacts(uint32_t record, const std::vector<Input::Contact>& contacts) {
  Record& r = records_.at(record);
  std::vector<Record::Contact> fresh = Contacts(contacts);
  for (const Record::Contact& c : r.contacts) {
    if (c.kind == ContactKind::kIdNumber) fresh.push_back(c);
  }
  r.contacts = std::move(fresh);
}

uint32_t Corpus::Add(const Input& in) {
  records_.push_back(Make(in));
  return static_cast<uint32_t>(records_.size() - 1);
}

void Corpus::AddAll(const std::vector<Input>& in, unsigned threads) {
  // Normalise the distinct names and companies not seen yet in parallel, then intern.
  std::vector<std::string> new_names, new_companies;
  {
    std::unordered_map<std::string, bool> seen_n, seen_c;
    for (const Input& i : in) {
      if (!i.name.empty() && !name_ids_.contains(i.name) && seen_n.emplace(i.name, true).second)
        new_names.push_back(i.name);
      if (!i.company.empty() && !company_ids_.contains(i.company) &&
          seen_c.emplace(i.company, true).second)
        new_companies.push_back(i.company);
    }
  }
  std::vector<NameForm> name_forms(new_names.size());
  std::vector<CompanyForm> company_forms(new_companies.size());
  const std::size_t total = new_names.size() + new_companies.size();
  threads = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(total / 256 + 1)));
  auto work = [&](unsigned t) {
    for (std::size_t i = t; i < total; i += threads) {
      if (i < new_names.size()) {
        name_forms[i] = NormalizeName(new_names[i]);
      } else {
        std::size_t j = i - new_names.size();
        company_forms[j] = NormalizeCompany(new_companies[j]);
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();
  for (std::size_t i = 0; i < new_names.size(); ++i) {
    name_ids_.emplace(new_names[i], static_cast<uint32_t>(names_.size()));
    names_.push_back(std::move(name_forms[i]));
  }
  for (std::size_t i = 0; i < new_companies.size(); ++i) {
    company_ids_.emplace(new_companies[i], static_cast<uint32_t>(companies_.size()));
    companies_.push_back(std::move(company_forms[i]));
  }
  records_.reserve(records_.size() + in.size());
  for (const Input& i : in) records_.push_back(Make(i));
}

void Corpus::Finish() {
  // Counts by normalised key: 张伟 and 張偉 are one name.
  std::unordered_map<std::string, uint32_t> by_name, by_company;
  pinyin_count_.clear();
  for (const Record& r : records_) {
    const NameForm& n = names_[r.name];
    if (n.script != NameForm::Script::kNone) {
      by_name[n.key]++;
      if (!n.pinyin.empty()) pinyin_count_[n.pinyin.front()]++;
    }
    const CompanyForm& c = companies_[r.company];
    if (!c.empty()) by_company[c.core.empty() ? c.key : c.core]++;
  }
  name_count_.assign(names_.size(), 0);
  name_pinyin_count_.assign(names_.size(), 0);
  for (std::size_t i = 1; i < names_.size(); ++i) {
    const NameForm& n = names_[i];
    if (n.script == NameForm::Script::kNone) continue;
    name_count_[i] = by_name[n.key];
    if (!n.pinyin.empty()) name_pinyin_count_[i] = pinyin_count_[n.pinyin.front()];
  }
  // Contact points: a number many customers hold (a switchboard, a placeholder typed for
  // unknown numbers) says less about each of them.
  std::unordered_map<uint64_t, uint32_t> holders;
  for (const Record& r : records_) {
    for (const Record::Contact& c : r.contacts) holders[c.key]++;
  }
  for (Record& r : records_) {
    for (Record::Contact& c : r.contacts) c.holders = holders[c.key];
  }
  place_count_.assign(places_.size(), 0);
  std::unordered_map<std::string, uint32_t> by_surname;
  for (const Record& r : records_) {
    if (r.city != 0) place_count_[r.city]++;
    if (r.province != 0 && r.province != r.city) place_count_[r.province]++;
    const NameForm& n = names_[r.name];
    if (n.script == NameForm::Script::kHan) by_surname[n.surname]++;
  }
  name_surname_count_.assign(names_.size(), 0);
  for (std::size_t i = 1; i < names_.size(); ++i) {
    if (names_[i].script == NameForm::Script::kHan)
      name_surname_count_[i] = by_surname[names_[i].surname];
  }
  company_count_.assign(companies_.size(), 0);
  for (std::size_t i = 1; i < companies_.size(); ++i) {
    const CompanyForm& c = companies_[i];
    if (!c.empty()) company_count_[i] = by_company[c.core.empty() ? c.key : c.core];
  }
}

uint32_t Corpus::PinyinCount(uint32_t name) const {
  return name < name_pinyin_count_.size() ? name_pinyin_count_[name] : 0;
}

// --- Compare -----------------------------------------------------------------------------

PairScore Compare(const Corpus& corpus, const Record& a, const Record& b) {
  PairScore p;
  const std::size_t n = corpus.size();
  const double population = std::max(static_cast<double>(n), kMinPopulation);
  const double prior = std::log2(kDuplicatePairsPerCustomer / population);

  // Contact points: the strongest one shared, plus a little for each further one.
  double best = -1e9;
  int shared = 0;
  bool personal = false;  // a mobile, personal mailbox, desk extension or ID number shared
  int personal_shared = 0;
  bool a_id = false, b_id = false, same_id = false;
  for (const Record::Contact& ca : a.contacts) {
    if (ca.kind == ContactKind::kIdNumber) a_id = true;
    for (const Record::Contact& cb : b.contacts) {
      if (ca.key != cb.key) continue;
      // A number resolved on one side only: trust the side that knows its type.
      const ContactKind kind = ca.kind == ContactKind::kUnresolved ? cb.kind : ca.kind;
      ++shared;
      const ContactModel model = ModelOf(kind);
      double w = std::log2(model.m * population / model.sharing);
      // Held by many: a switchboard or a placeholder number, not one person's (a person
      // seldom has more than a few records).
      const uint32_t holders = std::max(ca.holders, cb.holders);
      if (holders > kFewHolders) w -= std::log2(holders / static_cast<double>(kFewHolders));
      best = std::max(best, w);
      if (kind == ContactKind::kPhone || kind == ContactKind::kEmail ||
          kind == ContactKind::kDesk || kind == ContactKind::kIdNumber ||
          kind == ContactKind::kUnresolved) {
        personal = true;
        ++personal_shared;
      }
      Add(p.reasons, ReasonOf(kind));
      if (kind == ContactKind::kIdNumber) same_id = true;
    }
  }
  for (const Record::Contact& cb : b.contacts) {
    if (cb.kind == ContactKind::kIdNumber) b_id = true;
  }
  if (shared > 0) {
    p.shares_contact = true;
    const int more_personal = std::min(personal_shared - 1, 1);
    p.weights.contact += best + kMorePersonal * std::max(more_personal, 0) +
                         kMoreContacts * std::min(shared - 1 - std::max(more_personal, 0), 2);
  }
  // A household's or an office's line shared, nothing personal: people on one line live or
  // work in one place and relatives share a surname, so agreeing on those says nothing more.
  const bool household = shared > 0 && !personal && Has(p.reasons, Reason::kSameLandline);
  // Both have phone numbers and none is the same: a person's records mostly carry their
  // number, so this speaks (mildly) for two people.
  if (shared == 0 && kPhonesDiffer != 0) {
    auto has_phone = [](const Record& r) {
      return std::any_of(r.contacts.begin(), r.contacts.end(), [](const Record::Contact& c) {
        return c.kind == ContactKind::kPhone || c.kind == ContactKind::kUnresolved;
      });
    };
    if (has_phone(a) && has_phone(b)) {
      p.weights.contact += kPhonesDiffer;
      Add(p.reasons, Reason::kPhoneDiffers);
    }
  }
  if (a_id && b_id && !same_id) {
    p.weights.contact += kIdNumberDiffers;
    Add(p.reasons, Reason::kIdNumberDiffers);
    p.cannot_link = true;
  }

  // Names.
  const NameForm& na = corpus.name(a.name);
  const NameForm& nb = corpus.name(b.name);
  switch (CompareNames(na, nb)) {
    case NameMatch::kEqual:
    case NameMatch::kPinyin: {
      const bool equal = na.key == nb.key;
      Add(p.reasons, equal ? Reason::kNameEqual : Reason::kNamePinyinEqual);
      // How common the name is: in this data, and at least what its form says (a
      // one-character given name with a very common surname is shared by many people).
      const NameForm& han = na.script == NameForm::Script::kHan ? na : nb;
      double floor = kRareNameShare;
      if (han.script == NameForm::Script::kHan) floor = NameShareFloor(han);
      const double u = equal
                           ? Share(corpus.NameCount(a.name), n, population, floor)
                           : Share(std::max(corpus.PinyinCount(a.name), corpus.PinyinCount(b.name)),
                                   n, population, 2 * floor);
      p.weights.name += std::log2((equal ? kNameEqualM : kNamePinyinM) / u);
      if (u >= kCommonNameShare) Add(p.reasons, Reason::kCommonName);
      break;
    }
    case NameMatch::kSimilar:
      p.weights.name += kNameSimilar;
      Add(p.reasons, Reason::kNameSimilar);
      break;
    case NameMatch::kSurname: {
      // Only the surname can be compared (张先生): worth as much as the surname is rare.
      const NameForm& han = na.script == NameForm::Script::kHan ? na : nb;
      const uint32_t count = han.script == NameForm::Script::kHan
                                 ? corpus.SurnameCount(&han == &na ? a.name : b.name)
                                 : 0;
      const double u = std::max(count / static_cast<double>(std::max<std::size_t>(n, 1)), 0.003);
      p.weights.name += household ? 0.0 : std::log2(kSurnameM / (count ? u : 0.05));
      Add(p.reasons, Reason::kNameSurnameMatch);
      break;
    }
    case NameMatch::kDiffersGiven:
      // A sibling, or a mistyped given name: only a personal contact point (a mobile, a
      // mailbox, a desk) shared as well keeps the two from being different people.
      p.weights.name += kNameDiffers;
      Add(p.reasons, Reason::kNameDiffers);
      if (!personal) p.cannot_link = true;
      break;
    case NameMatch::kDiffers:
      p.weights.name += kNameDiffers;
      Add(p.reasons, Reason::kNameDiffers);
      p.cannot_link = true;
      break;
    case NameMatch::kUnknown:
      break;
  }
  if (a.gender != 0 && b.gender != 0 && a.gender != b.gender) {
    p.weights.gender += kGenderDiffers;
    Add(p.reasons, Reason::kGenderDiffers);
    p.cannot_link = true;
  }

  // Companies: the credit code decides when both have one.
  if (a.credit != 0 && b.credit != 0) {
    if (a.credit == b.credit) {
      p.weights.company += kCreditEqual;
      Add(p.reasons, Reason::kSameCreditCode);
    } else {
      p.weights.company += kCreditDiffers;
      Add(p.reasons, Reason::kCreditCodeDiffers);
      p.cannot_link = true;
    }
  } else {
    switch (CompareCompanies(corpus.company(a.company), corpus.company(b.company))) {
      case CompanyMatch::kEqual: {
        const uint32_t count =
            std::max(corpus.CompanyCount(a.company), corpus.CompanyCount(b.company));
        p.weights.company += std::log2(kCompanyEqualM / Share(count, n, population, 1e-5));
        Add(p.reasons, Reason::kCompanyEqual);
        break;
      }
      case CompanyMatch::kSimilar:
        p.weights.company += kCompanySimilar;
        Add(p.reasons, Reason::kCompanySimilar);
        break;
      case CompanyMatch::kDiffers:
        p.weights.company += kCompanyDiffers;
        Add(p.reasons, Reason::kCompanyDiffers);
        break;
      case CompanyMatch::kUnknown:
        break;
    }
  }

  // Places: the city when both are known, else the province.
  const double nn = static_cast<double>(std::max<std::size_t>(n, 1));
  if (a.city != 0 && b.city != 0) {
    if (a.city == b.city) {
      p.weights.place +=
          household ? 0.0
                    : std::log2(kPlaceM / std::max(corpus.PlaceCount(a.city) / nn, kMinPlaceShare));
      Add(p.reasons, Reason::kSameCity);
    } else {
      const bool same_province = a.province != 0 && a.province == b.province;
      p.weights.place += same_province ? kCityDiffersSameProvince : kPlaceDiffers;
      Add(p.reasons, Reason::kCityDiffers);
    }
  } else if (a.province != 0 && b.province != 0) {
    if (a.province == b.province) {
      p.weights.place += household
                             ? 0.0
                             : std::log2(kPlaceM / std::max(corpus.PlaceCount(a.province) / nn,
                                                            2 * kMinPlaceShare));
      Add(p.reasons, Reason::kSameProvince);
    } else {
      p.weights.place += kPlaceDiffers;
      Add(p.reasons, Reason::kProvinceDiffers);
    }
  }

  p.bits = prior + p.weights.contact + p.weights.name + p.weights.gender + p.weights.company +
           p.weights.place;
  p.score = 1.0 / (1.0 + std::exp2(-p.bits));
  return p;
}

}  // namespace kehu::dedup
