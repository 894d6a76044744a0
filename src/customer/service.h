// Customer rules: validation, normalisation, encryption of contact data, optimistic locking,
// the recycle bin, listing and caller-ID lookup. Thread-safe.
#pragma once

#include <functional>
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

  // kInvalid with one FieldError per bad field; kConflict when the code is taken.
  core::Result<Customer> Create(const core::Actor& actor, const CustomerInput& in);
  // kNotFound when unknown or in the recycle bin.
  core::Result<Customer> Get(const core::Actor& actor, int64_t id);
  // Applies `in` to the customer at `expected_version`. kPreconditionFailed when the stored
  // version differs (nothing changed); kNotFound when unknown or deleted.
  core::Result<Customer> Update(const core::Actor& actor, int64_t id, int64_t expected_version,
                                const CustomerInput& in);
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
  core::Result<int64_t> RowsNotOnCurrentKey();
  core::Result<int64_t> RowsOnKey(uint32_t version);

 private:
  // Applies `in` onto `c` and validates/normalises everything; collects all field errors.
  core::Result<void> Apply(const core::Actor& actor, const CustomerInput& in, Customer& c,
                           bool creating);
  Row ToRow(const Customer& c) const;
  std::vector<IndexEntry> IndexOf(const Customer& c) const;
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
};

// Built-in field names (custom fields may not reuse them).
std::set<std::string> BuiltinFieldNames();

}  // namespace kehu::customer
