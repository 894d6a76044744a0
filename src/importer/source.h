// Rows of an imported file, whatever its format: CSV (any encoding, detected or given) or XLSX.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

namespace kehu::importer {

struct SourceInfo {
  std::string format;               // "csv" or "xlsx"
  std::string encoding;             // csv: the encoding read with; xlsx: ""
  std::string detected_encoding;    // csv: what detection found (also when overridden)
  std::string separator;            // csv: ",", ";", "\t" or "|"
  std::vector<std::string> sheets;  // xlsx: every sheet's name
  std::string sheet;                // xlsx: the one read
};

class RowSource {
 public:
  virtual ~RowSource() = default;
  // The next row with a value: its number (the first line / row of the file is 1; blank rows
  // are counted but not returned) and its cells as text. False at the end.
  virtual core::Result<bool> Next(int64_t& number, std::vector<std::string>& cells) = 0;
  virtual int64_t bytes_done() const = 0;
  virtual int64_t bytes_total() const = 0;
  // What could not be read cleanly so far (bytes not in the encoding, an unclosed quote).
  virtual std::vector<std::string> warnings() const = 0;
  const SourceInfo& info() const { return info_; }

 protected:
  SourceInfo info_;
};

// "xlsx" (a zip), "xls" (the old binary format, not supported) or "csv" (anything else),
// from the first bytes of the file.
std::string SniffFormat(const std::string& first_bytes);

// Opens a file for reading rows. `encoding` "" = detect (CSV only); `sheet` "" = the first
// (XLSX only; a 1-based number or a name). kInvalid naming "file", "encoding" or "sheet".
core::Result<std::unique_ptr<RowSource>> OpenSource(const std::string& path,
                                                    const std::string& encoding,
                                                    const std::string& sheet);

}  // namespace kehu::importer
