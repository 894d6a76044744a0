// Reading imported files: encodings, CSV, XLSX (written here with libxlsxwriter), mapping.
#include <gtest/gtest.h>
#include <unicode/ucnv.h>
#include <xlsxwriter.h>

#include <fstream>

#include "importer/charset.h"
#include "importer/csv.h"
#include "importer/mapping.h"
#include "importer/source.h"
#include "importer/xlsx.h"
#include "test_db.h"

namespace kehu::importer {
namespace {

// UTF-8 text in another encoding (ICU).
std::string Encode(const std::string& utf8, const char* encoding) {
  UErrorCode status = U_ZERO_ERROR;
  std::string out(utf8.size() * 4 + 16, '\0');
  int32_t n = ucnv_convert(encoding, "UTF-8", out.data(), static_cast<int32_t>(out.size()),
                           utf8.data(), static_cast<int32_t>(utf8.size()), &status);
  EXPECT_TRUE(U_SUCCESS(status)) << u_errorName(status);
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string DecodeAll(const std::string& bytes, const std::string& encoding, std::size_t step) {
  auto d = Decoder::Open(encoding);
  EXPECT_TRUE(d.has_value());
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += step) {
    (*d)->Feed(std::string_view(bytes).substr(i, step), false, out);
  }
  (*d)->Feed("", true, out);
  return out;
}

const std::string kChinese =
    "客户编号,姓名,公司,手机\nC001,张伟,秦皇岛海港贸易有限公司,13800138000\n";

TEST(EncodingDetection, PlainUtf8AndAscii) {
  EXPECT_EQ(DetectEncoding(kChinese, true).encoding, "UTF-8");
  EXPECT_EQ(DetectEncoding("name,phone\nJohn,123\n", true).encoding, "UTF-8");
  EXPECT_FALSE(DetectEncoding(kChinese, true).bom);
}

TEST(EncodingDetection, Utf8WithBom) {
  auto d = DetectEncoding("\xEF\xBB\xBF" + kChinese, true);
  EXPECT_EQ(d.encoding, "UTF-8");
  EXPECT_TRUE(d.bom);
  // The BOM is not part of the text.
  EXPECT_EQ(DecodeAll("\xEF\xBB\xBF" + kChinese, "UTF-8", 2), kChinese);
}

TEST(EncodingDetection, GbkLongAndShort) {
  const std::string gbk = Encode(kChinese, "GBK");
  ASSERT_NE(gbk, kChinese);
  EXPECT_EQ(DetectEncoding(gbk, true).encoding, "GB18030");
  // Short GBK text, which uchardet alone takes for Greek or nothing.
  const std::string tiny = Encode("姓名\n李\n", "GBK");
  EXPECT_EQ(DetectEncoding(tiny, true).encoding, "GB18030");
  const std::string two = Encode("姓名,手机\n张伟,13800138000\n", "GBK");
  EXPECT_EQ(DetectEncoding(two, true).encoding, "GB18030");
  EXPECT_EQ(DecodeAll(gbk, "GB18030", 3), kChinese);
}

TEST(EncodingDetection, Gb18030FourByteCharacters) {
  // 𠀀 (U+20000) needs a four-byte GB18030 sequence; split across every boundary.
  const std::string text = "姓名\n𠀀先生\n";
  const std::string bytes = Encode(text, "GB18030");
  EXPECT_EQ(DetectEncoding(bytes, true).encoding, "GB18030");
  for (std::size_t step = 1; step <= 5; ++step) EXPECT_EQ(DecodeAll(bytes, "GB18030", step), text);
}

TEST(EncodingDetection, SampleCutInsideACharacterIsStillUtf8) {
  std::string s = kChinese + kChinese;
  // Cut in the middle of a three-byte character.
  std::string cut = s.substr(0, s.find("张") + 1);
  EXPECT_EQ(DetectEncoding(cut, false).encoding, "UTF-8");
}

TEST(EncodingDetection, UndecodableBytesAreCountedNotDropped) {
  auto d = Decoder::Open("UTF-8");
  ASSERT_TRUE(d.has_value());
  std::string out;
  (*d)->Feed(
      "ab\xFF\xFE"
      "cd",
      true, out);
  EXPECT_EQ((*d)->replaced(), 2);
  EXPECT_EQ(out,
            "ab\xEF\xBF\xBD\xEF\xBF\xBD"
            "cd");
}

TEST(EncodingDetection, CanonicalNames) {
  EXPECT_EQ(*CanonicalEncoding("gbk"), "GBK");
  EXPECT_EQ(*CanonicalEncoding("utf8"), "UTF-8");
  EXPECT_EQ(*CanonicalEncoding("gb18030"), "GB18030");
  auto bad = CanonicalEncoding("klingon-7");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().details().at(0).field, "encoding");
}

std::vector<std::vector<std::string>> ParseCsv(std::string_view text, char sep,
                                               std::size_t step = 0) {
  CsvParser p(sep);
  std::vector<std::vector<std::string>> out;
  if (step == 0) step = text.size() + 1;
  for (std::size_t i = 0; i < text.size(); i += step) p.Feed(text.substr(i, step), out);
  p.Finish(out);
  return out;
}

using Rows = std::vector<std::vector<std::string>>;

TEST(Csv, QuotedFieldsWithSeparatorsQuotesAndNewlines) {
  const std::string text =
      "name,notes,phone\r\n\"张, 伟\",\"他说\"\"你好\"\"\n第二行\",138\r\n王芳,,\"139\"\n";
  const Rows want = {
      {"name", "notes", "phone"}, {"张, 伟", "他说\"你好\"\n第二行", "138"}, {"王芳", "", "139"}};
  EXPECT_EQ(ParseCsv(text, ','), want);
  // The same whatever the pieces it arrives in.
  for (std::size_t step : {1, 2, 3, 7}) EXPECT_EQ(ParseCsv(text, ',', step), want) << step;
}

TEST(Csv, LineEndsAndLastLineWithoutNewline) {
  EXPECT_EQ(ParseCsv("a,b\rc,d\re,f", ','), (Rows{{"a", "b"}, {"c", "d"}, {"e", "f"}}));
  EXPECT_EQ(ParseCsv("a,b\n\nc,", ','), (Rows{{"a", "b"}, {""}, {"c", ""}}));
}

TEST(Csv, UnterminatedQuoteIsReported) {
  CsvParser p(',');
  Rows out;
  p.Feed("a,b\n\"open,c\nd\n", out);
  p.Finish(out);
  EXPECT_TRUE(p.unterminated_quote());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1][0], "open,c\nd\n");
}

TEST(Csv, TextAfterAClosingQuoteIsKept) {
  EXPECT_EQ(ParseCsv("\"abc\"def,x\n", ','), (Rows{{"abcdef", "x"}}));
}

TEST(Csv, SeparatorDetection) {
  EXPECT_EQ(DetectSeparator("姓名,手机\n张伟,138\n"), ',');
  EXPECT_EQ(DetectSeparator("姓名;手机;备注\n张伟;138;a,b\n王芳;139;c\n"), ';');
  EXPECT_EQ(DetectSeparator("姓名\t手机\n张伟\t138\n"), '\t');
  EXPECT_EQ(DetectSeparator("\"a;b\",c\n\"d;e\",f\n"), ',');
  EXPECT_EQ(DetectSeparator("name|phone\nx|1\n"), '|');
  EXPECT_EQ(DetectSeparator("onlyonecolumn\nvalue\n"), ',');
}

TEST(CsvSource, GbkFileWithSemicolonsAndBlankLines) {
  auto dir = testing::TempDir();
  const std::string path = (dir / "gbk.csv").string();
  std::ofstream(path, std::ios::binary) << Encode(
      "姓名;手机;备注\n张伟;13800138000;\"多行\n备注\"\n\n;;\n王芳;139 0100 2345;\n", "GBK");
  auto src = OpenSource(path, "", "");
  ASSERT_TRUE(src.has_value()) << src.error().message();
  EXPECT_EQ((*src)->info().format, "csv");
  EXPECT_EQ((*src)->info().encoding, "GB18030");
  EXPECT_EQ((*src)->info().separator, ";");
  int64_t n = 0;
  std::vector<std::string> cells;
  std::vector<std::pair<int64_t, std::vector<std::string>>> rows;
  while (*(*src)->Next(n, cells)) rows.emplace_back(n, cells);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].second, (std::vector<std::string>{"姓名", "手机", "备注"}));
  EXPECT_EQ(rows[1].second[2], "多行\n备注");
  // Blank rows are counted (row 3 and 4), not returned.
  EXPECT_EQ(rows[2].first, 5);
  EXPECT_EQ(rows[2].second[0], "王芳");
}

TEST(CsvSource, EncodingOverride) {
  auto dir = testing::TempDir();
  const std::string path = (dir / "x.csv").string();
  std::ofstream(path, std::ios::binary) << Encode("姓名\n张伟\n", "GBK");
  auto src = OpenSource(path, "GBK", "");
  ASSERT_TRUE(src.has_value());
  EXPECT_EQ((*src)->info().encoding, "GBK");
  EXPECT_EQ((*src)->info().detected_encoding, "GB18030");
  auto bad = OpenSource(path, "nonsense-enc", "");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().details().at(0).field, "encoding");
}

TEST(Source, OldXlsIsRefusedWithAReason) {
  auto dir = testing::TempDir();
  const std::string path = (dir / "old.xls").string();
  std::ofstream(path, std::ios::binary)
      << std::string("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) << std::string(100, '\0');
  auto src = OpenSource(path, "", "");
  ASSERT_FALSE(src.has_value());
  EXPECT_EQ(src.error().details().at(0).code, "unsupported_format");
}

TEST(ExcelValues, NumbersComeBackAsTheirDigits) {
  EXPECT_EQ(ExcelNumberText("13800138000"), "13800138000");
  EXPECT_EQ(ExcelNumberText("1.3800138E10"), "13800138000");
  EXPECT_EQ(ExcelNumberText("1.38001E+10"), "13800100000");
  EXPECT_EQ(ExcelNumberText("0.30000000000000004"), "0.3");
  EXPECT_EQ(ExcelNumberText("42"), "42");
  EXPECT_EQ(ExcelNumberText("-7.5"), "-7.5");
  EXPECT_EQ(ExcelNumberText("abc"), "abc");
}

TEST(ExcelValues, SerialDates) {
  EXPECT_EQ(ExcelSerialToIso(45366, false), "2024-03-15");
  EXPECT_EQ(ExcelSerialToIso(1, false), "1900-01-01");
  EXPECT_EQ(ExcelSerialToIso(59, false), "1900-02-28");
  EXPECT_EQ(ExcelSerialToIso(61, false), "1900-03-01");
  EXPECT_EQ(ExcelSerialToIso(45366.5, false), "2024-03-15 12:00:00");
  EXPECT_EQ(ExcelSerialToIso(0.25, false), "06:00:00");
  EXPECT_EQ(ExcelSerialToIso(43904, true), "2024-03-15");
}

// A workbook as Excel users have them: shared strings, a phone typed as a number shown in
// scientific notation, dates, a second sheet; `constant_memory` makes libxlsxwriter write
// inline strings instead of shared ones.
std::string WriteWorkbook(const std::filesystem::path& dir, bool constant_memory) {
  const std::string path = (dir / (constant_memory ? "inline.xlsx" : "shared.xlsx")).string();
  lxw_workbook_options opts{};
  opts.constant_memory = constant_memory ? LXW_TRUE : LXW_FALSE;
  lxw_workbook* wb = workbook_new_opt(path.c_str(), &opts);
  lxw_worksheet* ws = workbook_add_worksheet(wb, "客户");
  lxw_format* sci = workbook_add_format(wb);
  format_set_num_format(sci, "0.00E+00");
  lxw_format* date = workbook_add_format(wb);
  format_set_num_format(date, "yyyy/m/d");
  lxw_format* cn_date = workbook_add_format(wb);
  format_set_num_format_index(cn_date, 14);
  const char* headers[] = {"姓名", "手机", "生日", "签约日", "邮箱", "金额"};
  for (int c = 0; c < 6; ++c) worksheet_write_string(ws, 0, c, headers[c], nullptr);
  worksheet_write_string(ws, 1, 0, "张伟", nullptr);
  worksheet_write_number(ws, 1, 1, 13800138000.0, sci);
  worksheet_write_number(ws, 1, 2, 45366, date);
  worksheet_write_number(ws, 1, 3, 45366.75, cn_date);
  worksheet_write_string(ws, 1, 4, "zw@example.com", nullptr);
  worksheet_write_number(ws, 1, 5, 1234.5, nullptr);
  // Row 3 blank; row 4 with a gap at column B.
  worksheet_write_string(ws, 3, 0, "王芳", nullptr);
  worksheet_write_string(ws, 3, 4, "wf@example.com", nullptr);
  lxw_worksheet* second = workbook_add_worksheet(wb, "第二页");
  worksheet_write_string(second, 0, 0, "name", nullptr);
  worksheet_write_string(second, 1, 0, "Second Sheet", nullptr);
  EXPECT_EQ(workbook_close(wb), LXW_NO_ERROR);
  return path;
}

void ExpectFirstSheet(const std::string& path) {
  auto r = XlsxReader::Open(path);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ((*r)->sheets(), (std::vector<std::string>{"客户", "第二页"}));
  int64_t n = 0;
  std::vector<std::string> cells;
  ASSERT_TRUE(*(*r)->Next(n, cells));
  EXPECT_EQ(n, 1);
  EXPECT_EQ(cells, (std::vector<std::string>{"姓名", "手机", "生日", "签约日", "邮箱", "金额"}));
  ASSERT_TRUE(*(*r)->Next(n, cells));
  EXPECT_EQ(n, 2);
  EXPECT_EQ(cells, (std::vector<std::string>{"张伟", "13800138000", "2024-03-15",
                                             "2024-03-15 18:00:00", "zw@example.com", "1234.5"}));
  ASSERT_TRUE(*(*r)->Next(n, cells));
  EXPECT_EQ(n, 4);
  EXPECT_EQ(cells, (std::vector<std::string>{"王芳", "", "", "", "wf@example.com"}));
  EXPECT_FALSE(*(*r)->Next(n, cells));
  EXPECT_GT((*r)->bytes_total(), 0);
  EXPECT_EQ((*r)->bytes_done(), (*r)->bytes_total());
}

TEST(Xlsx, SharedStringsNumbersAndDates) {
  ExpectFirstSheet(WriteWorkbook(testing::TempDir(), false));
}

TEST(Xlsx, InlineStrings) { ExpectFirstSheet(WriteWorkbook(testing::TempDir(), true)); }

TEST(Xlsx, SheetByNumberOrName) {
  const std::string path = WriteWorkbook(testing::TempDir(), false);
  for (const char* which : {"2", "第二页"}) {
    auto r = XlsxReader::Open(path);
    ASSERT_TRUE(r.has_value());
    ASSERT_TRUE((*r)->SelectSheet(which).has_value());
    EXPECT_EQ((*r)->sheet(), "第二页");
    int64_t n = 0;
    std::vector<std::string> cells;
    ASSERT_TRUE(*(*r)->Next(n, cells));
    ASSERT_TRUE(*(*r)->Next(n, cells));
    EXPECT_EQ(cells.at(0), "Second Sheet");
  }
  auto r = XlsxReader::Open(path);
  auto bad = (*r)->SelectSheet("3");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().details().at(0).field, "sheet");
}

TEST(Xlsx, BrokenFilesAreInvalidNotCrashes) {
  auto dir = testing::TempDir();
  const std::string path = (dir / "broken.xlsx").string();
  std::ofstream(path, std::ios::binary) << "PK\x03\x04 this is not a zip";
  auto r = XlsxReader::Open(path);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().details().at(0).field, "file");
  // Truncated: a real workbook cut in half.
  const std::string good = WriteWorkbook(dir, false);
  std::ifstream in(good, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::ofstream((dir / "half.xlsx").string(), std::ios::binary)
      << bytes.substr(0, bytes.size() / 2);
  EXPECT_FALSE(XlsxReader::Open((dir / "half.xlsx").string()).has_value());
}

TEST(Mapping, ChineseAndEnglishHeaders) {
  struct Case {
    const char* header;
    Target target;
    const char* label;
  };
  const Case cases[] = {
      {"客户编号", Target::kCode, ""},
      {"编号", Target::kCode, ""},
      {"姓名", Target::kName, ""},
      {"客户名称", Target::kName, ""},
      {"联系人", Target::kName, ""},
      {"手机", Target::kPhones, "手机"},
      {"手机号码（必填）", Target::kPhones, "手机"},
      {"手机2", Target::kPhones, "手机"},
      {"座机", Target::kPhones, "办公"},
      {"办公电话", Target::kPhones, "办公"},
      {"电话", Target::kPhones, ""},
      {"联系电话", Target::kPhones, ""},
      {"Mobile", Target::kPhones, "手机"},
      {"Phone", Target::kPhones, ""},
      {"邮箱", Target::kEmails, ""},
      {"E-mail", Target::kEmails, ""},
      {"电子邮件", Target::kEmails, ""},
      {"公司", Target::kCompany, ""},
      {"单位", Target::kCompany, ""},
      {"Company Name", Target::kCompany, ""},
      {"职位", Target::kTitle, ""},
      {"性别", Target::kGender, ""},
      {"省份", Target::kProvince, ""},
      {"城市", Target::kCity, ""},
      {"区县", Target::kDistrict, ""},
      {"地址", Target::kAddress, ""},
      {"来源", Target::kSource, ""},
      {"阶段", Target::kStage, ""},
      {"标签", Target::kTags, ""},
      {"备注", Target::kNotes, ""},
      {"Notes", Target::kNotes, ""},
      {"序号", Target::kIgnore, ""},
      {"微信", Target::kExtra, ""},
      {"负责人", Target::kOwner, ""},
      {"身份证号", Target::kIdNumber, ""},
      {"统一社会信用代码", Target::kCreditCode, ""},
  };
  for (const Case& c : cases) {
    ColumnMap m = GuessColumn(0, c.header, {});
    EXPECT_EQ(m.target, c.target) << c.header;
    EXPECT_EQ(m.label, c.label) << c.header;
    EXPECT_TRUE(m.automatic);
  }
}

TEST(Mapping, CustomFieldLabels) {
  field::FieldDef budget;
  budget.name = "budget";
  budget.label = "预算";
  budget.type = field::Type::kNumber;
  ColumnMap m = GuessColumn(3, "预算", {budget});
  EXPECT_EQ(m.target, Target::kCustom);
  EXPECT_EQ(m.custom, "budget");
  EXPECT_EQ(TargetText(m), "custom.budget");
}

TEST(Mapping, OverridesByHeaderAndPosition) {
  const std::vector<std::string> headers = {"名字", "电话", "电话", "微信"};
  auto m = BuildMapping(headers, {{"名字", "name"}, {"#3", "phones:家庭"}, {"微信", "ignore"}}, {});
  ASSERT_TRUE(m.has_value()) << m.error().message();
  EXPECT_EQ((*m)[0].target, Target::kName);
  EXPECT_FALSE((*m)[0].automatic);
  EXPECT_EQ((*m)[1].target, Target::kPhones);
  EXPECT_EQ((*m)[1].label, "");
  EXPECT_EQ((*m)[2].label, "家庭");
  EXPECT_EQ((*m)[3].target, Target::kIgnore);
  EXPECT_EQ(MappingToSpec(*m),
            (nlohmann::json{
                {"名字", "name"}, {"电话", "phones"}, {"#3", "phones:家庭"}, {"微信", "ignore"}}));
  // A column's own choice ("#N") wins over a choice for its header (a template's).
  auto both = BuildMapping(headers, {{"#1", "notes"}, {"名字", "name"}}, {});
  ASSERT_TRUE(both.has_value());
  EXPECT_EQ((*both)[0].target, Target::kNotes);
  auto bad = BuildMapping(headers, {{"没有这列", "name"}, {"名字", "nonsense"}}, {});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().details().size(), 2u);
}

TEST(SplitCells, SeveralNumbersInOneCell) {
  using V = std::vector<std::string>;
  EXPECT_EQ(SplitPhones("13800138000/13900139000"), (V{"13800138000", "13900139000"}));
  EXPECT_EQ(SplitPhones("13800138000、13900139000"), (V{"13800138000", "13900139000"}));
  EXPECT_EQ(SplitPhones("13800138000;13900139000"), (V{"13800138000", "13900139000"}));
  EXPECT_EQ(SplitPhones("13800138000，13900139000"), (V{"13800138000", "13900139000"}));
  EXPECT_EQ(SplitPhones("13800138000\n0335-3051234"), (V{"13800138000", "0335-3051234"}));
  EXPECT_EQ(SplitPhones("13800138000 13900139000"), (V{"13800138000", "13900139000"}));
  // Spaces inside one number are not a split.
  EXPECT_EQ(SplitPhones("138 0013 8000"), (V{"138 0013 8000"}));
  EXPECT_EQ(SplitPhones("0335 3051234"), (V{"0335 3051234"}));
  EXPECT_EQ(SplitPhones("+86 139 0100 2345"), (V{"+86 139 0100 2345"}));
  // A short run after a fixed line is its extension.
  EXPECT_EQ(SplitPhones("0335-3051234/8001"), (V{"0335-3051234 转 8001"}));
  // Mobiles have no extensions: a short run after one is a number of its own (flagged).
  EXPECT_EQ(SplitPhones("+86 139 0100 2345、12345"), (V{"+86 139 0100 2345", "12345"}));
  EXPECT_EQ(SplitPhones(" / "), V{});
}

TEST(SplitCells, TagsAndEmails) {
  using V = std::vector<std::string>;
  EXPECT_EQ(SplitTags("VIP；展会2024, 老客户，VIP、重点"),
            (V{"VIP", "展会2024", "老客户", "重点"}));
  EXPECT_EQ(SplitEmails("a@x.com; b@y.com,c@z.com"), (V{"a@x.com", "b@y.com", "c@z.com"}));
}

TEST(SplitCells, GenderAndStageWords) {
  EXPECT_EQ(NormalizeGender("男"), "male");
  EXPECT_EQ(NormalizeGender("女士"), "female");
  EXPECT_EQ(NormalizeGender("F"), "female");
  EXPECT_EQ(NormalizeGender("保密"), "unknown");
  EXPECT_EQ(NormalizeGender("其他"), "其他");
  EXPECT_EQ(NormalizeStage("已成交"), "won");
  EXPECT_EQ(NormalizeStage("意向客户"), "intent");
  EXPECT_EQ(NormalizeStage("churned"), "churned");
  EXPECT_EQ(NormalizeStage("VIP"), "VIP");
}

}  // namespace
}  // namespace kehu::importer
