// Reading .xlsx workbooks (Office Open XML spreadsheets): the zip container through libzip, the
// XML parts through expat (SAX, so a sheet streams in pieces and is never held whole).
//
// Cell values come back as text: shared and inline strings as written (phonetic runs left
// out); numbers in their shortest exact form, so a phone typed as a number (13800138000,
// stored as 1.3800138E10) comes back as its digits; numbers in a date or time format as ISO
// dates ("2024-03-15", "2024-03-15 08:30:00", "08:30:00", 1900 or 1904 date system);
// booleans as TRUE/FALSE; formula cells as their cached value; error cells as written (#N/A).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

namespace kehu::importer {

class XlsxReader {
 public:
  // Opens the workbook and reads its sheet list, shared strings and styles. kInvalid
  // (field "file") when it is not a readable .xlsx.
  static core::Result<std::unique_ptr<XlsxReader>> Open(const std::string& path);
  ~XlsxReader();
  XlsxReader(const XlsxReader&) = delete;
  XlsxReader& operator=(const XlsxReader&) = delete;

  // Sheet names in workbook order.
  const std::vector<std::string>& sheets() const;
  // Starts reading a sheet: by 1-based position ("2") or by name; "" = the first.
  // kInvalid (field "sheet") when there is no such sheet.
  core::Result<void> SelectSheet(const std::string& which);
  // The selected sheet's name.
  const std::string& sheet() const;

  // The next row that has a value: its 1-based row number and cells (column A first; missing
  // cells are ""; trailing empty cells dropped). False at the end of the sheet.
  core::Result<bool> Next(int64_t& row_number, std::vector<std::string>& cells);

  // Uncompressed bytes of the sheet read so far, and in all.
  int64_t bytes_done() const;
  int64_t bytes_total() const;

 private:
  XlsxReader();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Days since the epoch of the workbook's date system to an ISO date/time text; `date1904`
// for workbooks made by old Mac Excel. Exposed for tests.
std::string ExcelSerialToIso(double serial, bool date1904);
// A number as Excel stored it ("1.3800138E10") in its shortest exact decimal form
// ("13800138000"); the input unchanged when it is not a number.
std::string ExcelNumberText(const std::string& stored);

}  // namespace kehu::importer
