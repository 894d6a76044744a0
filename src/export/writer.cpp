#include "export/writer.h"

#include <unicode/ucnv.h>
#include <unicode/ucnv_err.h>
#include <unicode/ustring.h>
#include <xlsxwriter.h>

#include <algorithm>
#include <filesystem>
#include <iterator>

#include "core/text.h"
#include "crypto/crypto.h"

namespace kehu::exports {
namespace {

constexpr std::size_t kPiece = 64 * 1024;
constexpr std::string_view kBom = "\xEF\xBB\xBF";
constexpr int64_t kShanghaiOffsetMs = 8LL * 3600 * 1000;
constexpr uint32_t kRowsPerSheet = LXW_ROW_MAX;  // the header row included
constexpr std::size_t kMaxCellChars = 32767;     // Excel's limit

// Substitutes like ICU's default, counting each character the target encoding lacks.
void U_CALLCONV CountingSubstitute(const void* context, UConverterFromUnicodeArgs* args,
                                   const UChar* units, int32_t length, UChar32 code_point,
                                   UConverterCallbackReason reason, UErrorCode* err) {
  if (reason == UCNV_UNASSIGNED || reason == UCNV_ILLEGAL || reason == UCNV_IRREGULAR) {
    ++*static_cast<int64_t*>(const_cast<void*>(context));
  }
  UCNV_FROM_U_CALLBACK_SUBSTITUTE(nullptr, args, units, length, code_point, reason, err);
}

// "A", "B", …, "Z", "AA", … for a 0-based column.
std::string ColumnName(std::size_t col) {
  std::string s;
  ++col;
  while (col > 0) {
    s.insert(s.begin(), static_cast<char>('A' + (col - 1) % 26));
    col = (col - 1) / 26;
  }
  return s;
}

// Excel's serial date-time (days since 1899-12-30) of an instant, in Asia/Shanghai time.
double ExcelTime(int64_t epoch_ms) {
  return static_cast<double>(epoch_ms + kShanghaiOffsetMs) / 86400000.0 + 25569.0;
}

// At most Excel's 32,767 characters, cut at a character boundary.
std::string_view CellText(const std::string& s) {
  if (s.size() <= kMaxCellChars) return s;  // bytes >= characters
  std::size_t chars = 0, i = 0;
  while (i < s.size() && chars < kMaxCellChars) {
    ++i;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
    ++chars;
  }
  return std::string_view(s).substr(0, i);
}

core::Error XlsxError(const char* what, lxw_error e) {
  return core::Error::Internal(std::string("XLSX export: ") + what + ": " + lxw_strerror(e));
}

}  // namespace

// --- CSV ------------------------------------------------------------------------------------

core::Result<std::unique_ptr<CsvWriter>> CsvWriter::Create(Encoding encoding, Sink sink) {
  std::unique_ptr<CsvWriter> w(new CsvWriter(encoding, std::move(sink)));
  w->buf_.reserve(kPiece + 4096);
  if (encoding == Encoding::kGbk) {
    UErrorCode err = U_ZERO_ERROR;
    w->gbk_ = ucnv_open("GBK", &err);
    if (U_SUCCESS(err)) ucnv_setSubstChars(w->gbk_, "?", 1, &err);
    if (U_SUCCESS(err)) {
      ucnv_setFromUCallBack(w->gbk_, CountingSubstitute, &w->replaced_, nullptr, nullptr, &err);
    }
    if (U_FAILURE(err)) {
      return std::unexpected(
          core::Error::Internal(std::string("no GBK converter in ICU: ") + u_errorName(err)));
    }
  } else {
    w->buf_.append(kBom);
  }
  return w;
}

CsvWriter::~CsvWriter() {
  if (gbk_) ucnv_close(gbk_);
}

void CsvWriter::Field(std::string_view v, bool phone) {
  if (!at_start_) buf_.push_back(',');
  at_start_ = false;
  if (v.empty()) return;
  std::string_view prefix;
  const char c0 = v.front();
  if (c0 == '=' || c0 == '+' || c0 == '-' || c0 == '@' || c0 == '\t' || c0 == '\r') {
    prefix = phone ? "\t" : "'";
  }
  // A plain loop: find_first_of calls memchr once per character (6% of an export's CPU).
  bool quote = false;
  for (char ch : v) quote |= ch == ',' || ch == '"' || ch == '\r' || ch == '\n';
  if (!quote) {
    buf_.append(prefix);
    buf_.append(v);
    return;
  }
  buf_.push_back('"');
  buf_.append(prefix);
  for (char ch : v) {
    if (ch == '"') buf_.push_back('"');
    buf_.push_back(ch);
  }
  buf_.push_back('"');
}

bool CsvWriter::EndRecord() {
  buf_.append("\r\n");
  at_start_ = true;
  return buf_.size() < kPiece || Flush();
}

bool CsvWriter::Header(const std::vector<Column>& columns) {
  for (const Column& c : columns) Field(c.header, false);
  return EndRecord();
}

bool CsvWriter::Row(const std::vector<Cell>& cells) {
  if (stopped_) return false;
  for (const Cell& c : cells) {
    switch (c.kind) {
      case Cell::Kind::kEmpty:
        Field({}, false);
        break;
      case Cell::Kind::kText:
        Field(c.text, false);
        break;
      case Cell::Kind::kPhone:
        Field(c.text, true);
        break;
      case Cell::Kind::kNumber:  // a JSON number: digits, sign, '.', 'e' only
        if (!at_start_) buf_.push_back(',');
        at_start_ = false;
        buf_.append(c.text);
        break;
      case Cell::Kind::kTime: {
        if (!at_start_) buf_.push_back(',');
        at_start_ = false;
        char t[19];
        LocalTime(c.time_ms, t);
        buf_.append(t, sizeof t);
        break;
      }
    }
  }
  return EndRecord();
}

bool CsvWriter::Flush() {
  if (stopped_) return false;
  if (buf_.empty()) return true;
  bool ok = true;
  if (encoding_ == Encoding::kGbk) {
    // UTF-8 -> UTF-16 (invalid bytes become U+FFFD, which GBK lacks: counted) -> GBK.
    utf16_.resize(buf_.size() + 1);
    int32_t len16 = 0;
    UErrorCode err = U_ZERO_ERROR;
    u_strFromUTF8WithSub(utf16_.data(), static_cast<int32_t>(utf16_.size()), &len16, buf_.data(),
                         static_cast<int32_t>(buf_.size()), 0xFFFD, nullptr, &err);
    if (U_SUCCESS(err)) {
      out_.resize(UCNV_GET_MAX_BYTES_FOR_STRING(len16, ucnv_getMaxCharSize(gbk_)));
      const int32_t n = ucnv_fromUChars(gbk_, out_.data(), static_cast<int32_t>(out_.size()),
                                        utf16_.data(), len16, &err);
      if (U_SUCCESS(err)) ok = sink_(std::string_view(out_.data(), static_cast<std::size_t>(n)));
    }
    if (U_FAILURE(err)) ok = false;
  } else {
    ok = sink_(buf_);
  }
  buf_.clear();
  if (!ok) stopped_ = true;
  return ok;
}

// --- XLSX -----------------------------------------------------------------------------------

core::Result<std::unique_ptr<XlsxWriter>> XlsxWriter::Create(const std::string& dir,
                                                             const std::string& sheet_name,
                                                             const std::vector<Column>& columns) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return std::unexpected(
        core::Error::Internal("XLSX export: cannot create " + dir + ": " + ec.message()));
  }
  std::unique_ptr<XlsxWriter> w(new XlsxWriter());
  w->tmpdir_ = dir;
  w->path_ =
      (std::filesystem::path(dir) / ("export-" + crypto::RandomToken(12) + ".xlsx")).string();
  w->sheet_name_ = sheet_name;
  w->columns_ = columns;
  lxw_workbook_options options{};
  options.constant_memory = LXW_TRUE;
  options.tmpdir = w->tmpdir_.data();
  options.use_zip64 = LXW_TRUE;
  w->wb_ = workbook_new_opt(w->path_.c_str(), &options);
  if (!w->wb_)
    return std::unexpected(core::Error::Internal("XLSX export: cannot start a workbook"));
  lxw_doc_properties props{};
  std::string title = sheet_name;
  std::string creator = "Kehu";
  props.title = title.data();
  props.author = creator.data();
  workbook_set_properties(w->wb_, &props);
  w->header_ = workbook_add_format(w->wb_);
  format_set_bold(w->header_);
  format_set_bg_color(w->header_, 0xF2F2F2);
  format_set_bottom(w->header_, LXW_BORDER_THIN);
  format_set_num_format(w->header_, "@");
  w->text_ = workbook_add_format(w->wb_);
  format_set_num_format(w->text_, "@");
  w->time_ = workbook_add_format(w->wb_);
  format_set_num_format(w->time_, "yyyy-mm-dd hh:mm:ss");
  if (auto ok = w->NewSheet(); !ok) return std::unexpected(ok.error());
  return w;
}

XlsxWriter::~XlsxWriter() {
  if (!finished_ && wb_) lxw_workbook_free(wb_);
  if (!finished_ && !path_.empty()) {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
}

core::Result<void> XlsxWriter::NewSheet() {
  if (ws_ && row_ > 1) {
    worksheet_autofilter(ws_, 0, 0, row_ - 1, static_cast<lxw_col_t>(columns_.size() - 1));
  }
  ++sheets_;
  // Sheet names: at most 31 characters; the first is the plain name, later ones numbered.
  std::string name = sheets_ == 1 ? sheet_name_ : sheet_name_ + " " + std::to_string(sheets_);
  ws_ = workbook_add_worksheet(wb_, name.c_str());
  if (!ws_) return std::unexpected(core::Error::Internal("XLSX export: cannot add a worksheet"));
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    const Column& c = columns_[i];
    lxw_format* f = c.kind == Cell::Kind::kPhone  ? text_
                    : c.kind == Cell::Kind::kTime ? time_
                                                  : nullptr;
    const auto col = static_cast<lxw_col_t>(i);
    worksheet_set_column(ws_, col, col, c.width, f);
  }
  worksheet_freeze_panes(ws_, 1, 0);
  // Phone columns hold digits as text on purpose: no green "number stored as text" marks.
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].kind != Cell::Kind::kPhone) continue;
    const std::string range = ColumnName(i) + "1:" + ColumnName(i) + std::to_string(LXW_ROW_MAX);
    worksheet_ignore_errors(ws_, LXW_IGNORE_NUMBER_STORED_AS_TEXT, range.c_str());
  }
  row_ = 0;
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    lxw_error e =
        worksheet_write_string(ws_, 0, static_cast<lxw_col_t>(i),
                               std::string(CellText(columns_[i].header)).c_str(), header_);
    if (e != LXW_NO_ERROR) return std::unexpected(XlsxError("header", e));
  }
  row_ = 1;
  return core::Ok();
}

core::Result<void> XlsxWriter::Row(const std::vector<Cell>& cells) {
  if (row_ >= kRowsPerSheet) {
    if (auto ok = NewSheet(); !ok) return ok;
  }
  std::string cut;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const Cell& c = cells[i];
    const auto col = static_cast<lxw_col_t>(i);
    lxw_error e = LXW_NO_ERROR;
    switch (c.kind) {
      case Cell::Kind::kEmpty:
        break;
      case Cell::Kind::kText:
      case Cell::Kind::kPhone: {
        const std::string_view t = CellText(c.text);
        const char* s = c.text.c_str();
        if (t.size() != c.text.size()) {
          cut.assign(t);
          s = cut.c_str();
        }
        e = worksheet_write_string(ws_, row_, col, s,
                                   c.kind == Cell::Kind::kPhone ? text_ : nullptr);
        break;
      }
      case Cell::Kind::kNumber:
        e = worksheet_write_number(ws_, row_, col, c.number, nullptr);
        break;
      case Cell::Kind::kTime:
        e = worksheet_write_number(ws_, row_, col, ExcelTime(c.time_ms), time_);
        break;
    }
    if (e != LXW_NO_ERROR) return std::unexpected(XlsxError("a cell", e));
  }
  ++row_;
  return core::Ok();
}

core::Result<void> XlsxWriter::Finish() {
  if (row_ > 1) {
    worksheet_autofilter(ws_, 0, 0, row_ - 1, static_cast<lxw_col_t>(columns_.size() - 1));
  }
  finished_ = true;
  lxw_error e = workbook_close(wb_);
  wb_ = nullptr;
  if (e != LXW_NO_ERROR) {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
    return std::unexpected(XlsxError("writing the file", e));
  }
  return core::Ok();
}

}  // namespace kehu::exports
