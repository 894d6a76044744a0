// Persistence of customers. Contact data arrives already encrypted (the service holds the keys);
// the store keeps ciphertexts, blind indexes and clear fields. Thread-safe.
#pragma once

#include <functional>
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
  std::string tags_json = "[]";
  std::string quality_enc;   // encrypted JSON list of QualityIssue; "" when none
  int64_t quality_open = 0;  // number of open issues (clear, for the queue)
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

// An existing customer an imported row matches.
struct ImportMatch {
  int64_t id = 0;
  std::optional<int64_t> owner_id;
  bool deleted = false;  // in the recycle bin (only code matches find those)
  std::string via;       // "code", "phone", "email" or "row" (the same row imported before)
};

// Statements of one import batch, all inside one transaction (see CustomerStore::ImportBatch).
// Errors are thrown (the transaction rolls back); not thread-safe.
class ImportTx {
 public:
  ImportTx(db::Database& db, soci::session& sql) : db_(db), sql_(sql) {}
  // The transaction's session, for the caller's own statements in the same transaction.
  soci::session& session() { return sql_; }
  // Customers matching the code (the recycle bin included: codes stay unique there), any of
  // the phone or email blind indexes, or any of the row keys (live customers only), each
  // once, in the order code, phones, emails, row keys.
  std::vector<ImportMatch> Find(const std::string& code, const std::vector<std::string>& phone_bidx,
                                const std::vector<std::string>& email_bidx,
                                const std::vector<std::string>& row_keys);
  // Inserts and returns the new id; `import_key` identifies the row it came from. Call Find
  // for its code first (a taken code then fails the transaction with a unique violation).
  int64_t Insert(const Row& row, const std::vector<IndexEntry>& index,
                 const std::string& import_key);
  // The customer (live or deleted); nullopt when unknown.
  std::optional<Row> Get(int64_t id);
  // As CustomerStore::Update, inside this transaction.
  UpdateOutcome Update(const Row& row, int64_t expected_version,
                       const std::vector<IndexEntry>& index);
  // Merges (see CustomerService::CommitMerge) use the same transactions:
  // Moves a live customer at `expected_version` to the recycle bin (bumps the version).
  UpdateOutcome SetDeleted(int64_t id, int64_t expected_version, int64_t by, int64_t now);
  // Writes every column of a customer in the recycle bin at `expected_version` and takes it
  // out of the bin (bumps the version); kNotFound when it is not in the bin.
  UpdateOutcome Restore(const Row& row, int64_t expected_version,
                        const std::vector<IndexEntry>& index);

 private:
  db::Database& db_;
  soci::session& sql_;
};
class CustomerStore {
 public:
  explicit CustomerStore(db::Database& db) : db_(db) {}

  // Inserts and returns the new id. kConflict naming "code" when the code is taken. `also`,
  // when given, runs in the same transaction with the new id (e.g. the audit entry); if it
  // throws, nothing is inserted.
  core::Result<int64_t> Insert(const Row& row, const std::vector<IndexEntry>& index,
                               const db::AlsoWrite& also = {});
  // Insert, only when no live customer holds a contact point of one of these (kind, blind
  // index) pairs, checked in the same transaction; nullopt (nothing written) when one does.
  core::Result<std::optional<int64_t>> InsertIfFree(
      const Row& row, const std::vector<IndexEntry>& index,
      const std::vector<std::pair<std::string, std::string>>& free, const db::AlsoWrite& also);
  // Update, only when no live customer but this one holds a contact point of one of these
  // (kind, blind index) pairs, checked in the same transaction; nullopt (nothing written) when
  // one does.
  core::Result<std::optional<UpdateOutcome>> UpdateIfFree(
      const Row& row, int64_t expected_version, const std::vector<IndexEntry>& index,
      const std::vector<std::pair<std::string, std::string>>& free, const db::AlsoWrite& also);
  // nullopt when unknown, or deleted and !include_deleted.
  core::Result<std::optional<Row>> Get(int64_t id, bool include_deleted);
  // Writes every column of `row` when its stored version is `expected_version` and it is not
  // deleted; bumps the version. kConflict naming "code" when the code is taken.
  // `also`, when given, runs in the same transaction with the id when the row was written.
  core::Result<UpdateOutcome> Update(const Row& row, int64_t expected_version,
                                     const std::vector<IndexEntry>& index,
                                     const db::AlsoWrite& also = {});
  // Soft delete / restore; false when there was nothing to delete / restore.
  // `also` as for Update, when something was deleted / restored.
  core::Result<bool> SetDeleted(int64_t id, bool deleted, int64_t by, int64_t now,
                                const db::AlsoWrite& also = {});
  // Up to `limit` rows in the query's order, after `after` when given.
  core::Result<std::vector<Row>> List(const ListQuery& q, const Search& s,
                                      const std::optional<After>& after, int limit);
  // How many rows List would give without a limit.
  core::Result<int64_t> Count(const ListQuery& q, const Search& s);
  // Live customers holding a phone with this blind index.
  core::Result<std::vector<LookupHit>> LookupPhone(const std::string& bidx, int limit);
  // The same, only customers owned by one of `owner_in` (empty: none), so that a number held by
  // many customers outside the caller's scope does not push theirs past the limit.
  core::Result<std::vector<LookupHit>> LookupPhoneOwnedBy(const std::string& bidx, int limit,
                                                          const std::vector<int64_t>& owner_in);
  // Live customers holding a contact point of `kind` ("phone", "email") with this blind index,
  // in id order (phone_label is the contact's label).
  core::Result<std::vector<LookupHit>> Holders(const std::string& kind, const std::string& bidx,
                                               int limit);
  // Holders for each (kind, blind index) pair, in one read: out[i] answers keys[i].
  core::Result<std::vector<std::vector<LookupHit>>> HoldersOf(
      const std::vector<std::pair<std::string, std::string>>& keys, int limit);
  // Live customers with these ids (unknown and deleted ones are left out), in id order.
  core::Result<std::vector<Row>> GetMany(const std::vector<int64_t>& ids);
  // Duplicate scan: up to `limit` live customers with an id over `after_id`, in id order, with
  // the blind indexes of their contact points; when `owner_in` is given, only customers owned
  // by one of those users.
  core::Result<std::vector<ScanRecord>> ScanPage(int64_t after_id, int limit,
                                                 const std::vector<int64_t>* owner_in);

  // Runs `fn` in one transaction (write) or without one (a dry run: fn must not write).
  // Exceptions from fn roll back; db::Abort becomes its error.
  core::Result<void> ImportBatch(bool write, const std::function<void(ImportTx&)>& fn);

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
