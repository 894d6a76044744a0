// Customer rules: validation, normalisation, encryption of contact data, optimistic locking,
// the recycle bin, listing and caller-ID lookup. Thread-safe.
#pragma once

#include <string_view>

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
                  const phone::Normalizer& phones, const crypto::FieldCipher& cipher,
                  const crypto::BlindIndex& bidx);

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
  // Live customers holding this number, in any format. kBadRequest when it is not a number.
  core::Result<LookupResult> LookupPhone(const core::Actor& actor, std::string_view number);

 private:
  // Applies `in` onto `c` and validates/normalises everything; collects all field errors.
  core::Result<void> Apply(const core::Actor& actor, const CustomerInput& in, Customer& c,
                           bool creating);
  Row ToRow(const Customer& c) const;
  std::vector<IndexEntry> IndexOf(const Customer& c) const;
  core::Result<Customer> FromRow(const Row& r) const;

  CustomerStore& store_;
  field::FieldService& fields_;
  user::UserService& users_;
  const phone::Normalizer& phones_;
  const crypto::FieldCipher& cipher_;
  const crypto::BlindIndex& bidx_;
};

// Built-in field names (custom fields may not reuse them).
std::set<std::string> BuiltinFieldNames();

}  // namespace kehu::customer
