// The import tables: imports, import_problems, import_templates. Thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "db/database.h"
#include "importer/model.h"

namespace kehu::importer {

std::vector<db::Migration> Migrations();

class ImportStore {
 public:
  explicit ImportStore(db::Database& db) : db_(db) {}

  core::Result<ImportFile> Insert(const ImportFile& f);
  core::Result<std::optional<ImportFile>> Get(int64_t id);
  // Newest first; `created_by` nullopt = everyone's.
  core::Result<std::vector<ImportFile>> List(std::optional<int64_t> created_by, int limit);
  // The newest import of this path with this content on this node (the CLI resuming).
  core::Result<std::optional<ImportFile>> FindSame(const std::string& path,
                                                   const std::string& sha256,
                                                   const std::string& node);
  core::Result<void> SetJob(int64_t import_id, int64_t job_id);

  // For the length of an import's writes: the database tuned for big write batches.
  [[nodiscard]] db::Database::BulkScope BulkWrites() { return db_.Bulk(); }

  // Appends report lines inside the caller's transaction (values already encrypted).
  void AddProblems(soci::session& sql, const std::vector<Problem>& problems);
  // Runs `fn` in a write transaction (a dry run's report lines and progress).
  core::Result<void> Write(const std::function<void(soci::session&)>& fn);
  core::Result<void> ClearProblems(int64_t job_id);
  // Calls fn with the lines of a run in row order, `batch` rows per query; stops when fn
  // returns false.
  core::Result<void> ScanProblems(int64_t job_id, const std::function<bool(const Problem&)>& fn,
                                  int batch = 1000);
  core::Result<int64_t> CountProblems(int64_t job_id);

  core::Result<std::vector<Template>> ListTemplates();
  core::Result<std::optional<Template>> GetTemplate(const std::string& name);
  // Inserts, or replaces the mapping of the template with this name.
  core::Result<Template> SaveTemplate(const Template& t);
  // False when there was none.
  core::Result<bool> DeleteTemplate(int64_t id);

 private:
  db::Database& db_;
};

}  // namespace kehu::importer
