// Merging duplicate customers: the side-by-side suggestion, the merge itself (one
// transaction, every contact point kept, an exact snapshot recorded), its undo, the bulk merge
// of customers sharing a mobile number, merge history. Thread-safe.
#pragma once

#include "audit/service.h"
#include "core/actor.h"
#include "core/error.h"
#include "customer/service.h"
#include "dedup/service.h"
#include "merge/model.h"
#include "merge/store.h"

namespace kehu::merge {

class MergeService : public customer::MergeHook {
 public:
  // References must outlive the service.
  MergeService(MergeStore& store, customer::CustomerService& customers, dedup::DedupService& dedup,
               audit::AuditLog& audit);

  // Every method needs customer.merge and customer.read (kForbidden). A customer that is
  // unknown, deleted or outside the actor's data scope is kNotFound, all alike.

  // The comparison of 2..kMaxMembers customers: the suggested survivor (most filled fields and
  // valid contact points, then the most recently updated; flagged values count against), each
  // scalar field with every member's value and the default choice, and the merged preview.
  // kInvalid for fewer than 2, more than kMaxMembers or repeated ids.
  core::Result<Suggestion> Suggest(const core::Actor& actor, const std::vector<int64_t>& ids);

  // Merges the losers into the survivor in one transaction: the survivor takes the chosen
  // values (the default choice for fields not named), every phone (one per number and
  // extension; one primary), email (one per address, case-insensitively), tag, custom value
  // and data-quality issue; the losers go to the recycle bin marked as merged into it (restoring
  // one from the bin is refused: undo the merge instead). kInvalid for a bad request (naming
  // the field), kPreconditionFailed when a member is not at the version given (nothing
  // changed). Audited (customer.merge) in the same transaction: no merge without its entry.
  core::Result<MergeRecord> Merge(const core::Actor& actor, const MergeRequest& req);

  // Puts the survivor and the losers back exactly as they were before the merge (only their
  // versions and updated_at move on). kConflict when the survivor was changed after the merge
  // or the merge was undone already. Audited (customer.merge_undo), in the same transaction.
  core::Result<MergeRecord> Undo(const core::Actor& actor, int64_t merge_id);

  // Administrators only (user.admin, customer.merge and the data scope "all"): merges every
  // duplicate group (as the scan finds them) whose members share a mobile number exactly
  // (same E.164 number and extension; fixed lines, service numbers and groups the scan marks
  // name_differs — a household or a shared phone — are left alone), each with its suggested
  // survivor and the default choices, one merge record each. A dry run only counts. Audited
  // (customer.merge_bulk).
  core::Result<BulkResult> BulkMergeExactPhone(const core::Actor& actor, bool dry_run);

  // Merge records, newest first; a scoped actor sees those whose survivor was in scope.
  core::Result<Page> List(const core::Actor& actor, std::optional<int64_t> cursor, int limit);
  core::Result<MergeRecord> Get(const core::Actor& actor, int64_t id);

  // The audit entries of a customer and of every customer merged into it (recursively), newest
  // first. Needs customer.read with the customer in scope, and audit.read.
  core::Result<audit::Page> History(const core::Actor& actor, int64_t customer_id,
                                    std::optional<int64_t> cursor, int limit);

  // Key rotation (settings.admin): re-encrypts the customers kept in merge snapshots that use
  // an older key, so a merge can still be undone once that key is retired; returns how many
  // merges were rewritten. And how many merges keep a customer on key `version`.
  core::Result<int64_t> Reencrypt(const core::Actor& actor);
  core::Result<int64_t> SnapshotsOnKey(uint32_t version);

  // customer::MergeHook.
  std::optional<int64_t> MergedInto(int64_t id) override;
  std::map<int64_t, int64_t> MergedIntoMany(const std::vector<int64_t>& ids) override;

 private:
  core::Result<MergeRecord> Commit(const core::Actor& actor,
                                   std::vector<customer::Customer> members, const MergeRequest& req,
                                   bool bulk);
  void Audit(const core::Actor& actor, const char* action, const std::string& entity_id,
             nlohmann::json details);
  // Appends the entry in the merge's own transaction `sql`; throws db::Abort (rolling the merge
  // back) when it cannot be written.
  void AuditIn(soci::session& sql, const core::Actor& actor, const char* action,
               const std::string& entity_id, nlohmann::json details);

  MergeStore& store_;
  customer::CustomerService& customers_;
  dedup::DedupService& dedup_;
  audit::AuditLog& audit_;
};

}  // namespace kehu::merge
