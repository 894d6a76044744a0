// Customer rules: validation, normalisation, encryption of contact data, optimistic locking,
// the recycle bin, listing and caller-ID lookup. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string_view>

#include "access/service.h"
#include "audit/service.h"
#include "core/actor.h"
#include "core/error.h"
#include "crypto/crypto.h"
#include "customer/model.h"
#include "customer/store.h"
#include "field/service.h"
#include "phone/normalizer.h"
#include "user/service.h"

namespace kehu::customer {

// Looks for likely duplicates of a customer about to be written (dedup::DedupService).
class DuplicateHook {
 public:
  virtual ~DuplicateHook() = default;
  // `c` is the customer as it will be stored (clear values; id 0 on create), `before` the
  // stored one on an edit (nullptr on create). An error (kConflict with the candidates)
  // refuses the write.
  virtual core::Result<void> CheckDuplicates(const core::Actor& actor, const Customer& c,
                                             const Customer* before) = 0;
};

// Tells which customers were merged into another (merge::MergeService).
class MergeHook {
 public:
  virtual ~MergeHook() = default;
  // The customer `id` was merged into (a merge not undone); nullopt when it was not merged.
  virtual std::optional<int64_t> MergedInto(int64_t id) = 0;
  // The same for several customers at once: id -> the customer it was merged into, for those
  // merged.
  virtual std::map<int64_t, int64_t> MergedIntoMany(const std::vector<int64_t>& ids) = 0;
};

// Whether a write looks for duplicates first.
enum class DuplicatePolicy {
  kSkip,       // no check (imports and other callers that handle duplicates themselves)
  kCheck,      // refuse with the hook's kConflict when it finds likely duplicates
  kConfirmed,  // the user saw the duplicates and saves anyway: no check, noted in the audit trail
};
struct WriteOptions {
  DuplicatePolicy duplicates = DuplicatePolicy::kSkip;
};

class CustomerService {
 public:
  // All references must outlive the service.
  CustomerService(CustomerStore& store, field::FieldService& fields, user::UserService& users,
                  access::AccessService& access, audit::AuditLog& audit,
                  const phone::Normalizer& phones, const crypto::FieldCipher& cipher,
                  const crypto::BlindIndex& bidx);

  // Permissions: reading needs customer.read, creating customer.create, changing
  // customer.update, the recycle bin customer.delete (kForbidden otherwise). A customer outside
  // the actor's data scope is kNotFound, as if it did not exist. Customers come back masked
  // (customer/mask.h); Reveal gives the clear values.

  // kInvalid with one FieldError per bad field; kConflict when the code is taken, or (with
  // DuplicatePolicy::kCheck) from the duplicate hook.
  core::Result<Customer> Create(const core::Actor& actor, const CustomerInput& in,
                                const WriteOptions& options = {});
  // kNotFound when unknown or in the recycle bin.
  core::Result<Customer> Get(const core::Actor& actor, int64_t id);
  // Applies `in` to the customer at `expected_version`. kPreconditionFailed when the stored
  // version differs (nothing changed); kNotFound when unknown or deleted.
  core::Result<Customer> Update(const core::Actor& actor, int64_t id, int64_t expected_version,
                                const CustomerInput& in, const WriteOptions& options = {});
  // Moves to the recycle bin. kNotFound when unknown or already deleted.
  core::Result<void> Delete(const core::Actor& actor, int64_t id);
  // Takes back from the recycle bin. kNotFound when not there.
  core::Result<Customer> Restore(const core::Actor& actor, int64_t id);
  // kBadRequest for a malformed cursor or a cursor of another sort order.
  core::Result<Page> List(const core::Actor& actor, const ListQuery& q);
  // How many customers List would page through for `q` (its limit and cursor are ignored).
  core::Result<int64_t> Count(const core::Actor& actor, const ListQuery& q);

  // Exports. Needs customer.read and customer.export, and phone.reveal when `clear`. Hands every
  // customer that List would page through for `q` (its limit and cursor are ignored) to `sink`, in
  // the query's order, in batches of up to `batch` (1..1000): the store is read one keyset page at
  // a time, never all at once, and the next page is read while `sink` works on the current one.
  // Masked as everywhere unless `clear` (the caller charges the reveals and audits). Stops
  // after `max_rows` customers when set, or when `sink` returns false. Returns how many
  // customers were handed to `sink`. `sink` runs on the calling thread.
  struct ScanOptions {
    bool clear = false;
    int batch = 500;
    std::optional<int64_t> max_rows;
  };
  using ScanSink = std::function<bool(std::vector<Customer>& batch)>;
  core::Result<int64_t> Scan(const core::Actor& actor, const ListQuery& q, const ScanOptions& o,
                             const ScanSink& sink);
  // Live customers in the actor's scope holding this number, in any format. kBadRequest when it
  // is not a number.
  core::Result<LookupResult> LookupPhone(const core::Actor& actor, std::string_view number);
  // The customer with clear phones, emails, ID number and address. Needs phone.reveal and
  // counts against the role's daily quota (kRateLimited when used up).
  struct Revealed {
    Customer customer;
    access::AccessService::RevealCharge charge;
  };
  core::Result<Revealed> Reveal(const core::Actor& actor, int64_t id);

  // Key rotation (settings.admin): re-encrypts, under the current key version, up to `limit`
  // customers (the recycle bin included) whose contact data uses an older one, after
  // `after_id`, and recomputes their blind indexes. A row changed meanwhile is skipped (its
  // writer used the current key, or a later pass takes it). Safe to run while serving and to
  // run again after a crash.
  struct RotationStep {
    int64_t rewritten = 0, skipped = 0;
    int64_t last_id = 0;  // continue after this id
    bool done = false;    // no rows were left after last_id
  };
  core::Result<RotationStep> Reencrypt(const core::Actor& actor, int64_t after_id, int limit);
  // For rows kept elsewhere (merge snapshots): whether a ciphertext of `r` uses key `version`
  // (0: any version but the current one), and `r` with its ciphertexts and the ID number's
  // blind index under the current key, every other column as it is.
  bool UsesKey(const Row& r, uint32_t version) const;
  core::Result<Row> OnCurrentKey(const Row& r) const;
  core::Result<int64_t> RowsNotOnCurrentKey();
  core::Result<int64_t> RowsOnKey(uint32_t version);

  // --- for duplicate detection (the dedup module) ---
  // Installs the hook DuplicatePolicy::kCheck writes call; set once before serving.
  void SetDuplicateHook(DuplicateHook* hook) { duplicate_hook_ = hook; }
  // Every live customer in the actor's data scope, in id order, `page` at a time: fn gets
  // each page. Needs customer.read.
  core::Result<void> ScanAll(const core::Actor& actor, int page,
                             const std::function<void(std::vector<ScanRecord>&&)>& fn);
  // The live customers with these ids that are in the actor's scope (others left out), in id
  // order, NOT masked: for services that compare contact data and mask what they show.
  // Needs customer.read.
  core::Result<std::vector<Customer>> GetUnmasked(const core::Actor& actor,
                                                  const std::vector<int64_t>& ids);
  // Live customers other than `c` itself holding one of its phones (same E.164 number and
  // extension) or emails, in any scope (the caller decides what the actor may learn). On an
  // edit (`before` set) only contact points the edit adds are looked up.
  core::Result<std::vector<ContactMatch>> ContactMatches(const Customer& c, const Customer* before);

  // --- merges (the merge module; customer.merge) ---------------------------------------
  // Installs the hook Get and Restore ask about merged-away customers; set once before serving.
  void SetMergeHook(MergeHook* hook) { merge_hook_ = hook; }
  // Writes a merge in one transaction: `survivor` (clear values, merged by the caller; its id
  // names the survivor) replaces the stored survivor, which must be at `survivor_version`;
  // each loser (id, version) moves to the recycle bin. `also` runs in the same transaction
  // with the rows exactly as they were before (encrypted) and the survivor as written (the
  // merge record); it may throw db::Abort. kForbidden without customer.merge; kNotFound when a
  // member is unknown, deleted or outside the actor's scope; kPreconditionFailed when one is
  // at another version (nothing is written). Returns the survivor as stored (unmasked).
  using MergeRecorder =
      std::function<void(soci::session&, const Row& survivor_before,
                         const std::vector<Row>& losers_before, const Row& survivor_after)>;
  core::Result<Customer> CommitMerge(const core::Actor& actor, Customer survivor,
                                     int64_t survivor_version,
                                     const std::vector<std::pair<int64_t, int64_t>>& losers,
                                     const MergeRecorder& also);
  // Undoes a merge in one transaction: the survivor, still at `survivor_version` (else
  // kConflict: it was changed after the merge), gets back every column of `survivor_before`;
  // each loser of `losers_before` comes back from the recycle bin as it was (only the version
  // and updated_at change). `also` runs in the same transaction. kConflict when a loser is no
  // longer in the bin. kForbidden without customer.merge.
  core::Result<void> CommitUnmerge(const core::Actor& actor, const Row& survivor_before,
                                   int64_t survivor_version, const std::vector<Row>& losers_before,
                                   const std::function<void(soci::session&)>& also);
  // The stored row of a customer (live or in the recycle bin), for merge snapshots; nullopt
  // when unknown. No permission check: callers check first.
  core::Result<std::optional<Row>> StoredRow(int64_t id);
  // A stored row as a customer (clear values, not masked).
  core::Result<Customer> Decode(const Row& r) const { return FromRow(r); }

  // --- Imports (customer.import) ---------------------------------------------------------
  // An imported row made ready to store: validated, normalised, encrypted, blind-indexed.
  struct ImportDraft {
    Customer customer;  // clear values; quality_issues holds what was flagged
    Row row;            // as stored
    std::vector<IndexEntry> index;
    // Keys duplicates are found by (under every key version): phones, emails, and for a row
    // without phone, email or code the row key (a keyed hash of the row's text, so that row
    // is found again too).
    std::vector<std::string> phone_keys, email_keys, row_keys;
    std::string row_key;  // under the current key version, stored with the customer
  };
  // Like Create's validation, but a value that fails is kept raw as a QualityIssue (with
  // `index` set for phones and emails) and left out, instead of failing the write; `issues`
  // found by the caller (a cell it could not read) are added. kInvalid only for what cannot
  // be flagged: no name, a required custom field missing. `row_text` identifies the row (the
  // same text gives the same row key). No database writes. Thread-safe.
  // `column_of` names the file column an issue came from (issues without a column).
  core::Result<ImportDraft> DraftImport(
      const core::Actor& actor, const CustomerInput& in, std::vector<QualityIssue> issues,
      std::string_view row_text,
      const std::function<std::string(const QualityIssue&)>& column_of = nullptr);

  enum class OnDuplicate { kSkip, kMerge, kCreate };
  struct ImportOutcome {
    enum class Kind { kCreated, kMerged, kSkipped } kind = Kind::kCreated;
    int64_t customer_id = 0;          // created, merged into, or the duplicate (0: not in scope)
    std::string via;                  // how the duplicate was found: code, phone, email, row
    std::string reason;               // skipped: why (English)
    std::vector<std::string> filled;  // merged: the fields that changed
    std::vector<QualityIssue> added;  // issues raised while storing (a code already taken)
  };
  // Stores drafts in one transaction, in order, each checked against the customers stored
  // before it (this batch's included): a customer with the same code, phone, email or row key
  // is a duplicate. kSkip leaves duplicates out; kMerge fills the duplicate's empty fields and
  // adds new phones, emails, tags, custom values and issues (needs customer.update; outside
  // the actor's scope or in the recycle bin it is skipped); kCreate creates anyway (a code
  // already taken is then kept as an issue). `also` runs inside the same transaction after the
  // drafts with their outcomes (the caller's report and progress), so all or nothing is
  // stored. A dry run decides the same
  // way against what is stored but writes nothing (`also` is not run). Merges are audited
  // one by one (customer.update); creations are left to the caller's summary entry.
  core::Result<std::vector<ImportOutcome>> CommitImport(
      const core::Actor& actor, std::vector<ImportDraft>& drafts, OnDuplicate mode, bool dry_run,
      const std::function<void(soci::session&, const std::vector<ImportOutcome>&)>& also);

 private:
  // Applies `in` onto `c` and validates/normalises everything; collects all field errors.
  // With `flag` (imports), a bad value is kept there as an issue instead of being an error.
  core::Result<void> Apply(const core::Actor& actor, const CustomerInput& in, Customer& c,
                           bool creating, std::vector<QualityIssue>* flag = nullptr);
  // kMerge: fills `target` from `incoming`; the names of the fields changed.
  std::vector<std::string> MergeInto(Customer& target, const Customer& incoming,
                                     bool code_free) const;
  Row ToRow(const Customer& c) const;
  std::vector<IndexEntry> IndexOf(const Customer& c) const;
  // The contact points of `c` a duplicate check looks up (on an edit, those it adds), and
  // their blind indexes under every key version: keys[first_key[i] .. first_key[i+1]) are
  // wanted[i]'s.
  struct ContactKeys {
    struct Wanted {
      std::string field, kind, value;  // value: E.164#extension or the lower-cased address
    };
    std::vector<Wanted> wanted;
    std::vector<std::pair<std::string, std::string>> keys;  // (kind, blind index)
    std::vector<std::size_t> first_key;
  };
  ContactKeys KeysOf(const Customer& c, const Customer* before) const;
  core::Result<Customer> FromRow(const Row& r) const;
  // The store query for `query` as the actor may run it: data scope applied, search terms
  // prepared, cursor decoded. kBadRequest for a bad cursor or search text.
  struct Prepared {
    ListQuery q;
    Search s;
    std::optional<After> after;
  };
  core::Result<Prepared> Prepare(const core::Actor& actor, const ListQuery& query) const;
  // The live customer, unmasked, when it exists and is in the actor's scope.
  core::Result<Customer> Load(const core::Actor& actor, int64_t id);
  // Appends to the audit trail; a failure is logged, not returned (the change is made).
  void Audit(const core::Actor& actor, const char* action, int64_t id,
             nlohmann::json details = nlohmann::json::object());
  core::Result<void> CheckOwnerInScope(const core::Actor& actor, std::optional<int64_t> owner,
                                       std::vector<core::FieldError>& errs) const;

  CustomerStore& store_;
  field::FieldService& fields_;
  user::UserService& users_;
  access::AccessService& access_;
  audit::AuditLog& audit_;
  const phone::Normalizer& phones_;
  const crypto::FieldCipher& cipher_;
  const crypto::BlindIndex& bidx_;
  DuplicateHook* duplicate_hook_ = nullptr;  // set before serving, then constant
  MergeHook* merge_hook_ = nullptr;          // set before serving, then constant
};

// Built-in field names (custom fields may not reuse them).
std::set<std::string> BuiltinFieldNames();

}  // namespace kehu::customer
