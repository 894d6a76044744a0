// Duplicate detection: the scan for groups of likely duplicates, and the check that points
// out a same-number or same-email customer when one is created or edited. Thread-safe.
#pragma once

#include <mutex>

#include "audit/service.h"
#include "core/actor.h"
#include "core/error.h"
#include "customer/service.h"
#include "dedup/model.h"

namespace kehu::dedup {

class DedupService : public customer::DuplicateHook {
 public:
  // References must outlive the service. `threads`: how many threads a scan may use.
  DedupService(customer::CustomerService& customers, audit::AuditLog& audit, unsigned threads);

  // Groups of likely duplicates among the live customers in the actor's data scope (a sales
  // manager: their team's customers; an administrator: all), strongest first. Needs
  // customer.merge and customer.read (kForbidden). kBadRequest when min_score is outside
  // [0.5, 1]. Computed on demand; one scan runs at a time (others wait). Audited.
  core::Result<ScanResult> Scan(const core::Actor& actor, const ScanOptions& options);

  // customer::DuplicateHook. kConflict when live customers other than `c` hold one of the
  // phones (same number and extension) or emails the write adds. The error's fields say
  // which input matched (codes duplicate/phone, duplicate/shared_phone — a fixed line of a
  // differently named customer: a household's or an office's line, not the same person —,
  // duplicate/email); its `duplicates` extension lists the matching customers in the actor's
  // scope with masked contact data, a score and reasons. A match outside the actor's scope
  // is only said to exist (codes duplicate/phone_out_of_scope, duplicate/email_out_of_scope:
  // no id, name or owner), and that answer is audited.
  core::Result<void> CheckDuplicates(const core::Actor& actor, const customer::Customer& c,
                                     const customer::Customer* before) override;

 private:
  customer::CustomerService& customers_;
  audit::AuditLog& audit_;
  const unsigned threads_;
  std::mutex scan_mu_;  // one scan at a time: a scan of a million customers holds ~0.5 GB
};

}  // namespace kehu::dedup
