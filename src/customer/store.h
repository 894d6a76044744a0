// Persistence of customers. Contact data arrives already encrypted (the service holds the keys);
// the store keeps ciphertexts, blind indexes and clear fields. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "customer/model.h"
#include "db/database.h"

namespace kehu::customer {

std::vector<db::Migration> Migrations();

// A customers row as stored. Optional text columns are "" when unset; `code` is NULL when "".
struct Row {
  int64_t id = 0;
  std::string code, name, name_key, gender, company, title;
  std::string phones_enc, emails_enc, id_number_enc, id_number_bidx, credit_code;
  std::string province, city, district, address_enc, source;
  std::optional<int64_t> owner_id;
  std::string owner_name;  // read only, joined from users
  std::string stage, notes, custom_json;
  int64_t created_by = 0, created_at = 0, updated_by = 0, updated_at = 0, version = 1;
  std::optional<int64_t> deleted_at;
};

// One blind-indexed contact point of a customer, for exact lookup and duplicate checks.
struct IndexEntry {
  std::string kind;   // "phone" or "email"
  std::string bidx;   // keyed hash of the normalised value
  std::string last4;  // last four digits of a phone ("" for email)
  std::string label;
};

// Search terms prepared by the service (hashes computed with its keys).
struct Search {
  std::string like;      // "%term%" for name, company, code; "" = none
  std::string key_like;  // "%pinyin%" for the name key; "" = none
  // Exact phone / email: its blind index under every key version (several while a key
  // rotation is under way); empty = none.
  std::vector<std::string> phone_bidx;
  std::vector<std::string> email_bidx;
  std::string last4;  // last 4 digits of a phone; "" = none
};

// Position after which the next page starts.
struct After {
  std::string text;    // sort value for name/code
  int64_t number = 0;  // sort value for created_at/updated_at
  int64_t id = 0;
};

enum class UpdateOutcome { kOk, kNotFound, kStale };

class CustomerStore {
 public:
  explicit CustomerStore(db::Database& db) : db_(db) {}

  // Inserts and returns the new id. kConflict naming "code" when the code is taken.
  core::Result<int64_t> Insert(const Row& row, const std::vector<IndexEntry>& index);
  // nullopt when unknown, or deleted and !include_deleted.
  core::Result<std::optional<Row>> Get(int64_t id, bool include_deleted);
  // Writes every column of `row` when its stored version is `expected_version` and it is not
  // deleted; bumps the version. kConflict naming "code" when the code is taken.
  core::Result<UpdateOutcome> Update(const Row& row, int64_t expected_version,
                                     const std::vector<IndexEntry>& index);
  // Soft delete / restore; false when there was nothing to delete / restore.
  core::Result<bool> SetDeleted(int64_t id, bool deleted, int64_t by, int64_t now);
  // Up to `limit` rows in the query's order, after `after` when given.
  core::Result<std::vector<Row>> List(const ListQuery& q, const Search& s,
                                      const std::optional<After>& after, int limit);
  // How many rows List would give without a limit.
  core::Result<int64_t> Count(const ListQuery& q, const Search& s);
  // Live customers holding a phone with this blind index.
  core::Result<std::vector<LookupHit>> LookupPhone(const std::string& bidx, int limit);

  // Key rotation. Customers (the recycle bin included) with an encrypted column written under
  // another key version than `version`, in id order after `after_id`.
  core::Result<std::vector<Row>> RowsNotOnKey(uint32_t version, int64_t after_id, int limit);
  core::Result<int64_t> CountNotOnKey(uint32_t version);
  // Customers with an encrypted column under exactly `version`.
  core::Result<int64_t> CountOnKey(uint32_t version);
  // Rewrites the encrypted columns and contact index of a row still at `expected_version`
  // (the logical content and the version stay). False when it changed meanwhile.
  core::Result<bool> Reencrypt(const Row& r, int64_t expected_version,
                               const std::vector<IndexEntry>& index);

 private:
  db::Database& db_;
};

}  // namespace kehu::customer
