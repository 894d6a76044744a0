// Importing customer lists (CSV and XLSX): upload, analysis and preview, runs as persisted
// jobs (resumable after a crash, see jobs/runner.h), the problem report, mapping templates.
//
// Nothing is lost: every row ends up created, merged, skipped as a duplicate or not imported
// with the reason, and each value that could not be stored as given is kept raw on the
// customer (a data-quality issue) and listed in the problem report with its row and column.
//
// Permissions: everything needs customer.import (merging duplicates also customer.update).
// An import, its progress and its report are visible to the user who made it and to
// administrators (user.admin). Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/service.h"
#include "core/actor.h"
#include "core/error.h"
#include "crypto/crypto.h"
#include "customer/service.h"
#include "field/service.h"
#include "importer/mapping.h"
#include "importer/model.h"
#include "importer/source.h"
#include "importer/store.h"
#include "jobs/runner.h"
#include "jobs/store.h"
#include "user/service.h"

namespace kehu::importer {

inline constexpr const char* kJobKind = "import.customers";
inline constexpr int64_t kMaxUploadDefault = 64LL << 20;

using OnDuplicate = customer::CustomerService::OnDuplicate;
std::string_view OnDuplicateName(OnDuplicate d);
std::optional<OnDuplicate> ParseOnDuplicate(std::string_view s);

struct RunOptions {
  std::string encoding;              // "" = detect (CSV)
  std::string sheet;                 // "" = the first (XLSX)
  nlohmann::json mapping = nullptr;  // overrides of the guessed mapping (mapping.h)
  OnDuplicate on_duplicate = OnDuplicate::kSkip;
  bool dry_run = false;
  std::optional<int64_t> default_owner;  // for rows without an owner column (CLI --owner)

  nlohmann::json ToJson() const;
  // kInvalid naming the bad member.
  static core::Result<RunOptions> FromJson(const nlohmann::json& j);
};

// One row of a preview.
struct PreviewRow {
  int64_t row = 0;
  std::vector<std::string> cells;
  // Problems by column (index into the header; -1 when not one column).
  struct Cell {
    int column = -1;
    std::string field, code, message, raw;
  };
  std::vector<Cell> problems;
  bool rejected = false;  // could not be imported at all (problems say why)
};

struct Preview {
  ImportFile file;
  SourceInfo source;
  int64_t header_row = 0;
  std::vector<std::string> headers;
  Mapping mapping;
  std::vector<PreviewRow> rows;
  std::vector<std::string> warnings;
};

// Running totals of a run (also the job's result).
struct Totals {
  int64_t read = 0;  // data rows read (blank rows not counted)
  int64_t created = 0;
  int64_t merged = 0;
  int64_t skipped = 0;   // duplicates left out
  int64_t rejected = 0;  // rows that could not be imported
  int64_t flagged = 0;   // rows stored with at least one flagged value
  int64_t problems = 0;  // lines in the problem report
  int64_t elapsed_ms = 0;
  std::vector<std::string> warnings;
  nlohmann::json ToJson() const;
  static Totals FromJson(const nlohmann::json& j);
};

class ImportService {
 public:
  // `data_dir` holds uploads (DATA/imports/); `node` is jobs::NodeId(data_dir).
  ImportService(ImportStore& store, jobs::JobStore& jobs, customer::CustomerService& customers,
                field::FieldService& fields, user::UserService& users, audit::AuditLog& audit,
                const crypto::FieldCipher& cipher, std::string data_dir, std::string node);

  // Saves an uploaded file (CSV or XLSX; kInvalid "file" for anything else or an empty file).
  core::Result<ImportFile> Upload(const core::Actor& actor, const std::string& filename,
                                  std::string_view bytes);
  // Registers a file on this machine for the CLI (read in place).
  core::Result<ImportFile> Register(const core::Actor& actor, const std::string& path);
  // The file as stored; kNotFound unless the actor may see it.
  core::Result<ImportFile> Get(const core::Actor& actor, int64_t import_id);
  core::Result<std::vector<ImportFile>> List(const core::Actor& actor, int limit);

  // Reads the header and the first `sample` data rows with `options`: the encoding and
  // separator found, the mapping (guessed plus the options' overrides), and the problems each
  // row would have. Writes nothing.
  core::Result<Preview> Analyse(const core::Actor& actor, int64_t import_id,
                                const RunOptions& options, int sample = 20);

  // Queues a run for `runner` ("server:<node>" or "cli:<node>"); checks the options first
  // (encoding, sheet, mapping) so a bad one is a 422 now rather than a failed job.
  core::Result<jobs::Job> Start(const core::Actor& actor, int64_t import_id,
                                const RunOptions& options, const std::string& runner);
  // The CLI: an unfinished CLI run of this import with these options, to continue.
  core::Result<std::optional<jobs::Job>> Unfinished(const core::Actor& actor, int64_t import_id,
                                                    const RunOptions& options);
  // A run; kNotFound unless the actor may see it.
  core::Result<jobs::Job> Job(const core::Actor& actor, int64_t job_id);

  // The problem report of a run as CSV (UTF-8 with BOM, for Excel; headers and descriptions
  // in Chinese, or English), written in pieces: row, column, field, raw value, code, problem,
  // detail, outcome, customer id. Cells starting with = + - @ get a leading '.
  core::Result<void> Report(const core::Actor& actor, int64_t job_id, bool english,
                            const std::function<void(std::string_view)>& write);

  core::Result<std::vector<Template>> Templates(const core::Actor& actor);
  // Saves (or replaces) a named mapping; kInvalid for an empty name or a bad mapping.
  core::Result<Template> SaveTemplate(const core::Actor& actor, const std::string& name,
                                      const nlohmann::json& mapping);
  core::Result<void> DeleteTemplate(const core::Actor& actor, int64_t id);

  // The job handler (kind kJobKind) for jobs::Runner and jobs::RunJob.
  core::Result<nlohmann::json> Run(jobs::JobContext& ctx);

  const std::string& node() const { return node_; }

 private:
  struct RunState;
  core::Result<void> MayImport(const core::Actor& actor) const;
  bool MaySee(const core::Actor& actor, int64_t created_by) const;
  std::string PathOf(const ImportFile& f) const;
  core::Result<std::unique_ptr<RowSource>> Open(const ImportFile& f, const RunOptions& o,
                                                std::vector<std::string>& headers,
                                                int64_t& header_row);
  core::Result<core::Actor> ActorFor(int64_t user_id);

  ImportStore& store_;
  jobs::JobStore& jobs_;
  customer::CustomerService& customers_;
  field::FieldService& fields_;
  user::UserService& users_;
  audit::AuditLog& audit_;
  const crypto::FieldCipher& cipher_;
  const std::string data_dir_;
  const std::string node_;
};

}  // namespace kehu::importer
