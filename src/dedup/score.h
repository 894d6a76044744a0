// How alike two customers are: a similarity score in [0, 1] with its reasons.
//
// The score is a log-odds sum in the manner of Fellegi and Sunter (and Splink): a prior that
// two customers are the same person, plus log2(m/u) for each comparison — shared contact
// points, name, company, place, gender — turned into a probability. u comes from the data
// being compared (张伟 at 40 customers says less than 欧阳明辉 at 2; a switchboard 300 people
// share says little), with floors from the form of the name (a one-character given name with
// a common surname is common in any list). Where evidence is not independent the model says
// so: on a shared household line, agreeing surname and city add nothing. Some evidence
// forbids a match outright ("cannot link"): different surnames, genders, ID numbers or credit
// codes, and different given names unless a personal contact point is shared too.
//
// Pure: no database, no other module. A Corpus is built once and then read from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dedup/normalize.h"

namespace kehu::dedup {

// Why two customers look alike (or not). Stable names in API answers: see ReasonName.
enum class Reason : uint8_t {
  kSameIdNumber,       // same 身份证号
  kSamePhone,          // same mobile (or other personal) number, same extension
  kSameLandline,       // same fixed-line number and extension
  kSameServiceNumber,  // same 400/800 or other shared-cost number
  kSameInvalidNumber,  // same number that is not a valid one (a placeholder like 13800000000)
  kSameEmail,          // same personal email address
  kSameSharedEmail,    // same role mailbox (info@, sales@ …)
  kNameEqual,          // same name after 繁简 / full-width / spacing normalisation
  kNamePinyinEqual,    // same pinyin: Latin spelling, homophone, given name first
  kNameSimilar,        // one character differs (three or more characters)
  kNameSurnameMatch,   // 张先生 and 张伟: only the surname can be compared
  kNameDiffers,        // different names: not the same person
  kCommonName,         // the name is common in the data, so it counts less
  kSameCreditCode,     // same 统一社会信用代码
  kCompanyEqual,       // same company after suffix / place / bracket normalisation
  kCompanySimilar,     // same core name (a branch, a trade word left out, one inside the other)
  kCompanyDiffers,
  kSameCity,
  kSameProvince,
  kCityDiffers,
  kProvinceDiffers,
  kGenderDiffers,
  kIdNumberDiffers,
  kCreditCodeDiffers,
  kPhoneDiffers,  // both have mobiles, none the same
  kCount,
};
std::string_view ReasonName(Reason r);
// Reasons as a bit set (1 << Reason).
using Reasons = uint32_t;
inline bool Has(Reasons set, Reason r) { return (set >> static_cast<int>(r)) & 1u; }
inline void Add(Reasons& set, Reason r) { set |= 1u << static_cast<int>(r); }
// Names of the reasons in the set, strongest evidence first.
std::vector<std::string> ReasonNames(Reasons set);

// What a customer's contact point is, for how much sharing it says.
enum class ContactKind : uint8_t {
  kPhone,       // mobile, VoIP, personal: one person's
  kLandline,    // fixed line: a household's or an office's
  kDesk,        // fixed line with an extension: one desk
  kService,     // 400/800, shared cost, premium: a company's hotline
  kEmail,       // a person's mailbox
  kRoleEmail,   // info@, sales@, service@ …: a team's mailbox
  kInvalid,     // a number libphonenumber finds invalid: often a placeholder typed by many
  kIdNumber,    // 身份证号 (its blind index)
  kUnresolved,  // a phone whose type is not known (not decrypted: shared with nobody)
};

// A customer as the scan and the create/edit check see it. Contact points are opaque keys
// (blind indexes, with the extension for phones), never clear numbers.
struct Input {
  int64_t id = 0;
  std::string name, company, province, city, gender, credit_code;
  struct Contact {
    ContactKind kind = ContactKind::kUnresolved;
    std::string key;
  };
  std::vector<Contact> contacts;
};

// A normalised customer, indices into its Corpus.
struct Record {
  int64_t id = 0;
  uint32_t name = 0;                // Corpus::names index (0: no usable name)
  uint32_t company = 0;             // Corpus::companies index (0: none)
  uint32_t city = 0, province = 0;  // interned normalised places (0: unknown)
  uint32_t credit = 0;              // interned credit code (0: none)
  char gender = 0;                  // 'm', 'f' or 0 (from the record, else the name's title)
  struct Contact {
    uint64_t key = 0;
    ContactKind kind = ContactKind::kUnresolved;
    uint32_t holders = 0;  // customers holding it (set by Corpus::Finish)
  };
  std::vector<Contact> contacts;
};

// The customers being compared, normalised, with value frequencies. Build with Add, then
// Finish; afterwards read-only and safe to share between threads.
class Corpus {
 public:
  Corpus();
  // Normalises and adds a customer; returns its index. Equal raw names and companies are
  // normalised once (the scan's customers share a few hundred thousand distinct values).
  uint32_t Add(const Input& in);
  // Adds many at once, normalising distinct values on `threads` threads.
  void AddAll(const std::vector<Input>& in, unsigned threads);
  // Replaces a record's phones and emails (once decrypted and resolved); its ID number stays.
  void SetContacts(uint32_t record, const std::vector<Input::Contact>& contacts);
  // Counts value frequencies (names, companies, contact points); call after the last Add or
  // SetContacts.
  void Finish();

  const std::vector<Record>& records() const { return records_; }
  const NameForm& name(uint32_t i) const { return names_[i]; }
  const CompanyForm& company(uint32_t i) const { return companies_[i]; }
  std::size_t size() const { return records_.size(); }
  // How many customers share a record's name key / primary pinyin key / company core.
  uint32_t NameCount(uint32_t name) const { return name_count_[name]; }
  uint32_t PinyinCount(uint32_t name) const;
  uint32_t CompanyCount(uint32_t company) const { return company_count_[company]; }
  // Customers whose Han name has the same surname; with this city or province.
  uint32_t SurnameCount(uint32_t name) const {
    return name < name_surname_count_.size() ? name_surname_count_[name] : 0;
  }
  uint32_t PlaceCount(uint32_t place) const {
    return place < place_count_.size() ? place_count_[place] : 0;
  }

  // A 64-bit key of a text (blocking and contact keys).
  static uint64_t Hash(std::string_view s, uint64_t seed = 0);

 private:
  uint32_t InternName(const std::string& raw);
  uint32_t InternCompany(const std::string& raw);
  uint32_t InternPlace(const std::string& folded);
  uint32_t InternCredit(const std::string& raw);
  Record Make(const Input& in);
  static std::vector<Record::Contact> Contacts(const std::vector<Input::Contact>& in);

  std::vector<Record> records_;
  std::vector<NameForm> names_;  // [0] = none
  std::vector<CompanyForm> companies_;
  std::unordered_map<std::string, uint32_t> name_ids_, company_ids_, place_ids_, credit_ids_;
  std::vector<std::string> places_;
  std::unordered_map<std::string, std::pair<uint32_t, uint32_t>> place_pairs_;  // raw → ids
  std::vector<uint32_t> name_count_, company_count_;
  std::unordered_map<std::string, uint32_t> pinyin_count_;  // by primary pinyin key
  std::vector<uint32_t> name_pinyin_count_;
  std::vector<uint32_t> name_surname_count_, place_count_;
};

struct PairScore {
  double score = 0;     // probability-like, [0, 1]
  double bits = 0;      // the log-odds sum it comes from
  Reasons reasons = 0;  // what was seen
  struct Weights {      // what each comparison added to `bits` (the prior aside)
    double contact = 0, name = 0, gender = 0, company = 0, place = 0;
  } weights;
  bool cannot_link = false;  // evidence that these are different people
  bool shares_contact = false;
};

// Score at and above which two customers are taken for the same person.
inline constexpr double kMatchThreshold = 0.75;

// Compares two records of one corpus. Thread-safe.
PairScore Compare(const Corpus& corpus, const Record& a, const Record& b);

}  // namespace kehu::dedup
