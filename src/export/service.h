// Exports of filtered customer lists to CSV, XLSX and JSON, streamed: the customers are read in
// keyset-paginated batches and written out as they come, so memory stays flat whatever the
// number of rows. Permission checks, masking, the reveal quota and the audit entry live here.
// Thread-safe.
#pragma once

#include <atomic>
#include <string>

#include "access/service.h"
#include "audit/service.h"
#include "core/actor.h"
#include "core/error.h"
#include "customer/service.h"
#include "export/model.h"
#include "export/writer.h"
#include "field/service.h"

namespace kehu::exports {

class ExportService {
 public:
  // All references must outlive the service. XLSX files are built in `tmp_dir` (a folder in
  // the data directory, created when needed) and removed once sent. At most `max_running`
  // exports run at once (each holds a server worker thread while it streams).
  ExportService(customer::CustomerService& customers, field::FieldService& fields,
                access::AccessService& access, audit::AuditLog& audit, std::string tmp_dir,
                int max_running = 2);

  // How many customers an export of `filter` would hold, and whether the actor may ask for
  // clear values. kForbidden without customer.export; kBadRequest for a bad filter.
  core::Result<Preview> Check(const core::Actor& actor, const customer::ListQuery& filter);

  // Writes the export to `sink` and records a customer.export audit entry (format, filter,
  // rows, whether clear values were included, whether it completed). Fails before writing
  // anything with kForbidden without customer.export (or phone.reveal when `reveal`),
  // kBadRequest for bad options or filters, kRateLimited when the role's daily reveal quota
  // cannot cover every customer of a clear export (nothing is counted then) or when
  // `max_running` exports are already running. A sink that stops taking data ends the export
  // early (complete = false, not an error). An error after the first byte (a failing
  // database) is returned too; the sink has then received part of the file.
  core::Result<Summary> Run(const core::Actor& actor, const Options& options, const Sink& sink);

 private:
  core::Result<Summary> Write(const core::Actor& actor, const Options& o,
                              const customer::CustomerService::ScanOptions& scan, const Sink& sink,
                              Summary& sum);
  void Audit(const core::Actor& actor, const Options& o, const Summary& sum,
             const std::string& failure, int64_t reveals_charged);

  customer::CustomerService& customers_;
  field::FieldService& fields_;
  access::AccessService& access_;
  audit::AuditLog& audit_;
  const std::string tmp_dir_;
  const int max_running_;
  std::atomic<int> running_{0};
};

// The filters of a list as an audit detail: no PII (a searched phone number or email is
// masked like everywhere).
nlohmann::json FilterDetails(const customer::ListQuery& f);

}  // namespace kehu::exports
