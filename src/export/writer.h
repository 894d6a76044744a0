// The file formats of an export, written row by row so that memory stays flat whatever the
// number of rows: CSV straight to a byte sink, XLSX through libxlsxwriter in constant-memory
// mode into a temporary file. Neither is thread-safe; one export uses one writer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "export/model.h"
#include "export/table.h"

struct UConverter;
typedef struct lxw_workbook lxw_workbook;
typedef struct lxw_worksheet lxw_worksheet;
typedef struct lxw_format lxw_format;

namespace kehu::exports {

// Takes the next piece of an export's bytes; false when nobody reads any more (stop). An empty
// piece asks to start the answer now (an HTTP status and headers) without body bytes.
using Sink = std::function<bool(std::string_view)>;

// RFC 4180 CSV (CRLF line ends, fields with a comma, quote or line break quoted) in pieces of
// about 64 KiB. UTF-8 starts with a byte order mark. GBK is converted with ICU; a character
// GBK lacks is written as '?' and counted (replaced()), never dropped silently.
// Cells Excel would run as a formula (text starting with = + - @) get a leading apostrophe;
// phone numbers starting with + get a leading tab instead, so that Excel keeps them as text
// and importers (which trim) read the number unchanged.
class CsvWriter {
 public:
  // kInternal when ICU has no GBK converter.
  static core::Result<std::unique_ptr<CsvWriter>> Create(Encoding encoding, Sink sink);
  ~CsvWriter();
  CsvWriter(const CsvWriter&) = delete;
  CsvWriter& operator=(const CsvWriter&) = delete;

  // Each returns false once the sink stopped taking data.
  bool Header(const std::vector<Column>& columns);
  bool Row(const std::vector<Cell>& cells);
  // Hands over what is buffered (whole records only).
  bool Flush();
  bool Finish() { return Flush(); }

  int64_t replaced() const { return replaced_; }

 private:
  CsvWriter(Encoding encoding, Sink sink) : encoding_(encoding), sink_(std::move(sink)) {}
  void Field(std::string_view text, bool phone);
  bool EndRecord();

  const Encoding encoding_;
  Sink sink_;
  UConverter* gbk_ = nullptr;
  std::string buf_;       // UTF-8, whole records only
  std::string out_;       // buf_ converted to GBK
  std::u16string utf16_;  // conversion scratch
  bool at_start_ = true;  // no field written in this record yet
  bool stopped_ = false;
  int64_t replaced_ = 0;
};

// An XLSX workbook in constant-memory mode: one sheet of customers (a new sheet every
// 1,048,575 rows, Excel's limit), the header row bold, frozen and with filter buttons, column
// widths set, phone numbers as text cells with a text format (never numbers), numbers of
// custom number fields as numbers, times as Excel date-times in Asia/Shanghai time.
class XlsxWriter {
 public:
  // The file goes to a new name in `dir` (created when missing), and so do libxlsxwriter's
  // temporary files. kInternal when it cannot be created.
  static core::Result<std::unique_ptr<XlsxWriter>> Create(const std::string& dir,
                                                          const std::string& sheet_name,
                                                          const std::vector<Column>& columns);
  // Removes the file (and libxlsxwriter's temporary files) when not finished.
  ~XlsxWriter();
  XlsxWriter(const XlsxWriter&) = delete;
  XlsxWriter& operator=(const XlsxWriter&) = delete;

  core::Result<void> Row(const std::vector<Cell>& cells);
  // Writes the workbook out to path(). The file is then the caller's to read and remove.
  core::Result<void> Finish();
  const std::string& path() const { return path_; }

 private:
  XlsxWriter() = default;
  core::Result<void> NewSheet();

  std::string path_;
  std::string tmpdir_;  // kept alive for libxlsxwriter
  std::string sheet_name_;
  std::vector<Column> columns_;
  lxw_workbook* wb_ = nullptr;
  lxw_worksheet* ws_ = nullptr;
  lxw_format* header_ = nullptr;
  lxw_format* text_ = nullptr;
  lxw_format* time_ = nullptr;
  int sheets_ = 0;
  uint32_t row_ = 0;  // next row on the current sheet
  bool finished_ = false;
};

}  // namespace kehu::exports
