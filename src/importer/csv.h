// A streaming CSV parser (RFC 4180 and what spreadsheets write): quoted fields with "" inside,
// separators and line breaks inside quotes, CRLF, LF or CR line ends, a missing final line end.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kehu::importer {

// The separator of a CSV sample (UTF-8 text, the first lines of a file): the one of ',', ';',
// '\t' and '|' that appears the same non-zero number of times on (nearly) every line, the
// most often; else the one most frequent on the first line; ',' when none appears.
char DetectSeparator(std::string_view sample);

class CsvParser {
 public:
  explicit CsvParser(char separator) : sep_(separator) {}

  // Parses `text` (UTF-8, any split: a record may span calls) and appends every completed
  // record to `out`. A blank line yields a record with one empty field.
  void Feed(std::string_view text, std::vector<std::vector<std::string>>& out);
  // Ends the input: appends the last record when it had no line end.
  void Finish(std::vector<std::vector<std::string>>& out);
  // True when the input ended inside a quoted field (the field then runs to the end).
  bool unterminated_quote() const { return unterminated_; }

 private:
  enum class State { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted };
  void EndField();
  void EndRecord(std::vector<std::vector<std::string>>& out);

  const char sep_;
  State state_ = State::kFieldStart;
  bool skip_lf_ = false;  // the last character was a CR ending a record
  bool unterminated_ = false;
  std::string field_;
  std::vector<std::string> record_;
};

}  // namespace kehu::importer
