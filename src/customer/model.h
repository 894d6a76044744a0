// Customers and their contact points.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "phone/normalizer.h"

namespace kehu::customer {

struct Phone {
  std::string label;
  bool primary = false;
  phone::PhoneInfo info;  // raw input plus everything libphonenumber computed
};

struct Email {
  std::string address;  // normalised: trimmed, domain lower-cased
  std::string label;
};

// Lifecycle stages and genders as stored and sent (snake_case keys; the UI shows Chinese).
inline constexpr const char* kStages[] = {"potential", "intent",  "won",
                                          "active",    "dormant", "churned"};
inline constexpr const char* kGenders[] = {"male", "female", "unknown"};

// A value that could not be stored as given (an import keeps such values instead of dropping
// them): flagged on the customer for staff to fix in the 数据质量 queue. Changing the field
// through the normal edit clears its issues.
struct QualityIssue {
  std::string field;    // "phones", "emails", "id_number", "gender", "custom.budget", …
  std::string code;     // too_short, invalid_email, invalid_checksum, invalid_choice, …
  std::string message;  // English, as the API's field errors
  std::string raw;      // the value exactly as it came (personal data: encrypted at rest)
  std::string column;   // the header of the file's column it came from; "" when unknown
  int64_t at = 0;       // epoch ms when flagged
  int index = -1;       // phones/emails: position in the input list (not stored)
};

// Tags: short labels, at most kMaxTags of at most kMaxTagLength characters each.
inline constexpr std::size_t kMaxTags = 50;
inline constexpr std::size_t kMaxTagLength = 30;

// Optional text fields are empty strings when unset (sent as null).
struct Customer {
  int64_t id = 0;
  std::string code;
  std::string name;
  std::string gender = "unknown";
  std::string company;
  std::string title;
  std::vector<Phone> phones;
  std::vector<Email> emails;
  std::string id_number;    // 居民身份证号, canonical
  std::string credit_code;  // 统一社会信用代码, canonical
  std::string province, city, district, address;
  std::string source;
  std::optional<int64_t> owner_id;
  std::string owner_name;  // display name of the owner (read only)
  std::string stage = "potential";
  std::string notes;
  nlohmann::json custom = nlohmann::json::object();
  std::vector<std::string> tags;
  std::vector<QualityIssue> quality_issues;  // open data-quality issues (see QualityIssue)
  int64_t created_by = 0, created_at = 0, updated_by = 0, updated_at = 0;
  int64_t version = 1;
  std::optional<int64_t> deleted_at;
  // In the recycle bin (list answers): the customer this one was merged into, if it was.
  std::optional<int64_t> merged_into;
  // Phones, emails, ID number and street address are shown masked (see customer/mask.h);
  // the clear values come from CustomerService::Reveal.
  bool masked = false;
};

enum class SortKey { kCreatedAt, kUpdatedAt, kName, kCode };

struct ListQuery {
  int limit = 50;
  std::string cursor;  // opaque, from the previous page
  std::string q;       // free text: name, company, code, pinyin, phone, last 4 digits, email
  std::optional<int64_t> owner_id;
  std::string source, province, city, stage;
  std::optional<int64_t> created_from, created_to;  // epoch ms, inclusive / exclusive
  SortKey sort = SortKey::kCreatedAt;
  bool descending = true;
  bool deleted = false;  // the recycle bin instead of live customers
  bool quality = false;  // only customers with open data-quality issues (the 数据质量 queue)
  // Set by the service from the actor's data scope, never from the request: when `scoped`, only
  // customers owned by one of `owner_in` (an empty list: none).
  bool scoped = false;
  std::vector<int64_t> owner_in;
};

struct Page {
  std::vector<Customer> items;
  std::string next_cursor;  // empty at the end
};

// One hit of a caller-ID lookup.
struct LookupHit {
  int64_t id = 0;
  std::string name, company, code, phone_label;
  std::optional<int64_t> owner_id;
};

}  // namespace kehu::customer

namespace kehu::customer {

// A write (create or PATCH). Absent members are nullopt; JSON null clears (empty string / empty
// list / nullopt owner). Produced by codec::ParseInput, which checks JSON types only.
struct PhoneInput {
  std::string number;
  std::string label;
  bool primary = false;
};
struct EmailInput {
  std::string address;
  std::string label;
};
struct CustomerInput {
  std::optional<std::string> code, name, gender, company, title, id_number, credit_code, province,
      city, district, address, source, stage, notes;
  std::optional<std::optional<int64_t>> owner_id;
  std::optional<std::vector<PhoneInput>> phones;
  std::optional<std::vector<EmailInput>> emails;
  std::optional<nlohmann::json> custom;
  std::optional<std::vector<std::string>> tags;
  // `quality_issues: []` in a PATCH: the open issues are dealt with (only clearing is possible;
  // issues are raised by imports).
  bool clear_quality_issues = false;
};

struct LookupResult {
  phone::PhoneInfo number;
  std::vector<LookupHit> items;
};

// One live customer as the duplicate scan reads it: clear fields and the blind indexes of its
// contact points (nothing decrypted).
struct ScanRecord {
  int64_t id = 0;
  std::string code, name, gender, company, province, city, credit_code, id_number_bidx;
  std::optional<int64_t> owner_id;
  struct Contact {
    std::string kind;  // "phone" or "email"
    std::string bidx;
  };
  std::vector<Contact> contacts;
};

// A contact point of a customer being written that another live customer also holds.
struct ContactMatch {
  std::string field;  // of the write: "phones[0].number", "emails[1].address"
  std::string kind;   // "phone" or "email"
  int64_t customer_id = 0;
  std::optional<int64_t> owner_id;
};

}  // namespace kehu::customer
