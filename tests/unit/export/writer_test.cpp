// The CSV and XLSX writers of exports, and the customer table they write: bytes checked
// exactly, XLSX read back through libzip and expat.
#include "export/writer.h"

#include <expat.h>
#include <gtest/gtest.h>
#include <zip.h>

#include <filesystem>
#include <map>

#include "export/table.h"
#include "test_db.h"

namespace kehu::exports {
namespace {

using Kind = Cell::Kind;

Cell Text(std::string s) { return {Kind::kText, std::move(s), 0, 0}; }
Cell PhoneCell(std::string s) { return {Kind::kPhone, std::move(s), 0, 0}; }
Cell Number(double v, std::string text) { return {Kind::kNumber, std::move(text), v, 0}; }
Cell Time(int64_t ms) { return {Kind::kTime, "", 0, ms}; }
Cell Empty() { return {}; }

std::vector<Column> Columns(std::initializer_list<std::pair<const char*, Kind>> cols) {
  std::vector<Column> out;
  for (auto [h, k] : cols) out.push_back({h, 12, k});
  return out;
}

std::string Csv(Encoding e, const std::vector<Column>& cols,
                const std::vector<std::vector<Cell>>& rows, int64_t* replaced = nullptr) {
  std::string out;
  auto w = CsvWriter::Create(e, [&](std::string_view piece) {
    out.append(piece);
    return true;
  });
  EXPECT_TRUE(w.has_value());
  EXPECT_TRUE((*w)->Header(cols));
  for (const auto& r : rows) EXPECT_TRUE((*w)->Row(r));
  EXPECT_TRUE((*w)->Finish());
  if (replaced) *replaced = (*w)->replaced();
  return out;
}

TEST(CsvWriter, Utf8StartsWithBomAndQuotesWhatNeedsIt) {
  auto cols = Columns({{"姓名", Kind::kText}, {"公司", Kind::kText}, {"备注", Kind::kText}});
  std::string csv = Csv(Encoding::kUtf8, cols,
                        {{Text("张伟"), Text("华信, 有限公司"), Text("说 \"你好\"\n第二行")},
                         {Text("李强"), Empty(), Empty()}});
  EXPECT_EQ(csv,
            "\xEF\xBB\xBF"
            "姓名,公司,备注\r\n"
            "张伟,\"华信, 有限公司\",\"说 \"\"你好\"\"\n第二行\"\r\n"
            "李强,,\r\n");
}

TEST(CsvWriter, GbkHasNoBomAndCountsWhatItCannotEncode) {
  auto cols = Columns({{"姓名", Kind::kText}, {"备注", Kind::kText}});
  int64_t replaced = -1;
  // 𠮷 (U+20BB7, in names) and 😀 are not in GBK; € is (0x80 in code page 936).
  std::string csv = Csv(Encoding::kGbk, cols, {{Text("张伟"), Text("𠮷野家 😀 €5")}}, &replaced);
  const std::string want =
      "\xD0\xD5\xC3\xFB,\xB1\xB8\xD7\xA2\r\n"  // 姓名,备注
      "\xD5\xC5\xCE\xB0,?\xD2\xB0\xBC\xD2 ? \x80"
      "5\r\n";  // 张伟,?野家 ? €5
  EXPECT_EQ(csv, want);
  EXPECT_EQ(replaced, 2);
}

TEST(CsvWriter, FormulasAreDefusedAndPhonesStayText) {
  auto cols = Columns({{"姓名", Kind::kText}, {"电话", Kind::kPhone}, {"预算", Kind::kNumber}});
  std::string csv =
      Csv(Encoding::kUtf8, cols,
          {{Text("=HYPERLINK(\"x\")"), PhoneCell("+1 650-253-0000"), Number(-5, "-5")},
           {Text("@SUM(A1)"), PhoneCell("0335-305 1234 转 12"), Number(2.5, "2.5")}});
  EXPECT_EQ(csv,
            "\xEF\xBB\xBF"
            "姓名,电话,预算\r\n"
            "\"'=HYPERLINK(\"\"x\"\")\",\t+1 650-253-0000,-5\r\n"
            "'@SUM(A1),0335-305 1234 转 12,2.5\r\n");
}

TEST(CsvWriter, TimesAreShanghaiLocal) {
  auto cols = Columns({{"创建时间", Kind::kTime}});
  // 2026-11-22T07:30:05Z is 15:30:05 in Shanghai.
  std::string csv = Csv(Encoding::kUtf8, cols, {{Time(1795332605000)}});
  EXPECT_EQ(csv, "\xEF\xBB\xBF创建时间\r\n2026-11-22 15:30:05\r\n");
}

TEST(CsvWriter, StopsWhenTheSinkStops) {
  int calls = 0;
  auto w = CsvWriter::Create(Encoding::kUtf8, [&](std::string_view) {
    ++calls;
    return false;
  });
  ASSERT_TRUE(w.has_value());
  auto cols = Columns({{"备注", Kind::kText}});
  (*w)->Header(cols);
  bool ok = true;
  // ~100 KiB of rows: the first 64 KiB piece is refused, every later row says stop.
  for (int i = 0; i < 1000 && ok; ++i) ok = (*w)->Row({Text(std::string(100, 'x'))});
  EXPECT_FALSE(ok);
  EXPECT_FALSE((*w)->Finish());
  EXPECT_EQ(calls, 1);
}

TEST(CsvWriter, WritesInPiecesOfAbout64KiB) {
  std::vector<std::size_t> sizes;
  auto w = CsvWriter::Create(Encoding::kUtf8, [&](std::string_view p) {
    sizes.push_back(p.size());
    return true;
  });
  ASSERT_TRUE(w.has_value());
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE((*w)->Row({Text(std::string(100, 'x'))}));
  ASSERT_TRUE((*w)->Finish());
  ASSERT_GE(sizes.size(), 7u);
  for (std::size_t i = 0; i + 1 < sizes.size(); ++i) {
    EXPECT_GE(sizes[i], 64u * 1024);
    EXPECT_LT(sizes[i], 64u * 1024 + 200);
  }
}

// --- XLSX read back -------------------------------------------------------------------------

std::string ZipEntry(const std::string& path, const std::string& name) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_RDONLY, &err);
  if (!z) return "";
  std::string out;
  if (zip_file_t* f = zip_fopen(z, name.c_str(), 0)) {
    char buf[8192];
    zip_int64_t n;
    while ((n = zip_fread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    zip_fclose(f);
  }
  zip_close(z);
  return out;
}

// The cells of a worksheet: "B2" -> {type attribute, style index, text}.
struct XCell {
  std::string type, style, text;
};
struct SheetReader {
  std::map<std::string, XCell> cells;
  std::string current, pane_y, pane_state, autofilter;
  std::vector<std::pair<std::string, std::string>> cols;  // min, width
  bool in_text = false;
  bool in_value = false;

  static void Start(void* self, const char* name, const char** attrs) {
    auto* r = static_cast<SheetReader*>(self);
    std::map<std::string, std::string> a;
    for (int i = 0; attrs[i]; i += 2) a[attrs[i]] = attrs[i + 1];
    std::string n = name;
    if (n == "c") {
      r->current = a["r"];
      r->cells[r->current] = {a["t"], a["s"], ""};
    } else if (n == "t" || n == "v") {
      r->in_text = true;
    } else if (n == "pane") {
      r->pane_y = a["ySplit"];
      r->pane_state = a["state"];
    } else if (n == "autoFilter") {
      r->autofilter = a["ref"];
    } else if (n == "col") {
      r->cols.push_back({a["min"], a["width"]});
    }
  }
  static void End(void* self, const char* name) {
    auto* r = static_cast<SheetReader*>(self);
    std::string n = name;
    if (n == "t" || n == "v") r->in_text = false;
  }
  static void Text(void* self, const char* s, int len) {
    auto* r = static_cast<SheetReader*>(self);
    if (r->in_text && !r->current.empty()) {
      r->cells[r->current].text.append(s, static_cast<std::size_t>(len));
    }
  }
};

SheetReader ReadSheet(const std::string& xml) {
  SheetReader r;
  XML_Parser p = XML_ParserCreate("UTF-8");
  XML_SetUserData(p, &r);
  XML_SetElementHandler(p, &SheetReader::Start, &SheetReader::End);
  XML_SetCharacterDataHandler(p, &SheetReader::Text);
  EXPECT_EQ(XML_Parse(p, xml.data(), static_cast<int>(xml.size()), 1), XML_STATUS_OK)
      << XML_ErrorString(XML_GetErrorCode(p));
  XML_ParserFree(p);
  return r;
}

TEST(XlsxWriter, PhonesAreTextCellsHeaderIsBoldFrozenAndFiltered) {
  auto dir = testing::TempDir();
  auto cols = Columns({{"姓名", Kind::kText},
                       {"手机", Kind::kPhone},
                       {"电话", Kind::kPhone},
                       {"预算", Kind::kNumber},
                       {"创建时间", Kind::kTime}});
  cols[0].width = 12;
  cols[1].width = 18;
  auto w = XlsxWriter::Create(dir.string(), "客户", cols);
  ASSERT_TRUE(w.has_value()) << w.error().message();
  ASSERT_TRUE((*w)->Row({Text("张伟"), PhoneCell("13800138000"), PhoneCell("+8613900139000"),
                         Number(1200.5, "1200.5"), Time(1795332605000)})
                  .has_value());
  ASSERT_TRUE(
      (*w)->Row({Text("王芳"), PhoneCell("0335-3051234"), Empty(), Empty(), Time(0)}).has_value());
  ASSERT_TRUE((*w)->Finish().has_value());
  const std::string path = (*w)->path();
  ASSERT_TRUE(std::filesystem::exists(path));

  SheetReader s = ReadSheet(ZipEntry(path, "xl/worksheets/sheet1.xml"));
  // Constant-memory mode writes strings inline: no shared strings table.
  EXPECT_EQ(s.cells["A1"].type, "inlineStr");
  EXPECT_EQ(s.cells["A1"].text, "姓名");
  EXPECT_EQ(s.cells["B2"].type, "inlineStr");
  EXPECT_EQ(s.cells["B2"].text, "13800138000");
  EXPECT_EQ(s.cells["C2"].type, "inlineStr");
  EXPECT_EQ(s.cells["C2"].text, "+8613900139000");
  EXPECT_EQ(s.cells["B3"].type, "inlineStr");
  EXPECT_EQ(s.cells["B3"].text, "0335-3051234");
  EXPECT_EQ(s.cells["D2"].type, "");  // a number
  EXPECT_EQ(s.cells["D2"].text, "1200.5");
  EXPECT_FALSE(s.cells.contains("C3"));  // empty cells are not written
  // 2026-11-22 15:30:05 in Shanghai as an Excel serial date-time.
  EXPECT_NEAR(std::stod(s.cells["E2"].text), 46348.64589, 1e-4);
  EXPECT_EQ(s.pane_y, "1");
  EXPECT_EQ(s.pane_state, "frozen");
  EXPECT_EQ(s.autofilter, "A1:E3");
  ASSERT_GE(s.cols.size(), 2u);
  EXPECT_EQ(s.cols[1].first, "2");
  EXPECT_NEAR(std::stod(s.cols[1].second), 18.7, 0.5);

  // The header's style is bold; phone cells carry the text number format "@".
  const std::string styles = ZipEntry(path, "xl/styles.xml");
  EXPECT_NE(styles.find("<b/>"), std::string::npos);
  EXPECT_NE(styles.find("formatCode=\"@\""), std::string::npos);
  EXPECT_NE(s.cells["B2"].style, "");
  EXPECT_NE(s.cells["A1"].style, "");
  const std::string book = ZipEntry(path, "xl/workbook.xml");
  EXPECT_NE(book.find("name=\"客户\""), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(XlsxWriter, LeavesNothingBehindWhenNotFinished) {
  auto dir = testing::TempDir();
  {
    auto w = XlsxWriter::Create(dir.string(), "客户", Columns({{"姓名", Kind::kText}}));
    ASSERT_TRUE(w.has_value());
    ASSERT_TRUE((*w)->Row({Text("张伟")}).has_value());
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  std::filesystem::remove_all(dir);
}

// --- the customer table ---------------------------------------------------------------------

customer::Phone MakePhone(const char* display, const char* type) {
  customer::Phone p;
  p.info.display = display;
  p.info.type = type;
  p.info.e164 = "+86";
  return p;
}

TEST(CustomerTable, ChineseHeadersTheImporterMapsAndOneRowPerCustomer) {
  field::FieldDef budget;
  budget.name = "budget";
  budget.label = "预算";
  budget.type = field::Type::kNumber;
  field::FieldDef tags;
  tags.name = "interests";
  tags.label = "兴趣";
  tags.type = field::Type::kMultiselect;
  CustomerTable t(Lang::kZh, {budget, tags});
  std::vector<std::string> headers;
  for (const Column& c : t.columns()) headers.push_back(c.header);
  EXPECT_EQ(headers, (std::vector<std::string>{
                         "客户编号", "姓名", "性别", "公司", "职位",     "手机",    "电话",
                         "邮箱",     "省份", "城市", "区县", "地址",     "来源",    "负责人",
                         "阶段",     "备注", "预算", "兴趣", "创建时间", "更新时间"}));

  customer::Customer c;
  c.code = "KH-1";
  c.name = "张伟";
  c.gender = "male";
  c.stage = "won";
  c.phones = {MakePhone("138 0013 8000", "mobile"), MakePhone("0335-305 1234 转 12", "fixed_line"),
              MakePhone("139 0000 1111", "mobile")};
  c.emails = {{"a@example.com", ""}, {"b@example.com", "工作"}};
  c.owner_id = 3;
  c.owner_name = "王销售";
  c.custom = {{"budget", 1200}, {"interests", {"机械", "电子"}}};
  c.created_at = 1795332605000;
  std::vector<Cell> cells;
  t.Cells(c, cells);
  ASSERT_EQ(cells.size(), headers.size());
  EXPECT_EQ(cells[0].text, "KH-1");
  EXPECT_EQ(cells[2].text, "男");
  EXPECT_EQ(cells[5].kind, Kind::kPhone);
  EXPECT_EQ(cells[5].text, "138 0013 8000; 139 0000 1111");
  EXPECT_EQ(cells[6].text, "0335-305 1234 转 12");
  EXPECT_EQ(cells[7].text, "a@example.com; b@example.com");
  EXPECT_EQ(cells[13].text, "王销售");
  EXPECT_EQ(cells[14].text, "成交");
  EXPECT_EQ(cells[16].kind, Kind::kNumber);
  EXPECT_EQ(cells[16].number, 1200);
  EXPECT_EQ(cells[17].text, "机械; 电子");
  EXPECT_EQ(cells[18].kind, Kind::kTime);
  EXPECT_EQ(cells[1].kind, Kind::kText);
  EXPECT_EQ(cells[4].kind, Kind::kEmpty);  // no title

  CustomerTable en(Lang::kEn, {});
  EXPECT_EQ(en.columns()[0].header, "Code");
  EXPECT_EQ(en.columns()[5].header, "Mobile");
  en.Cells(c, cells);
  EXPECT_EQ(cells[2].text, "Male");
  EXPECT_EQ(cells[14].text, "Won");
}

TEST(ExportNames, FileNameUsesShanghaiTime) {
  EXPECT_EQ(FileName(Format::kCsv, Lang::kZh, 1795332605000), "客户-20261122-1530.csv");
  EXPECT_EQ(FileName(Format::kXlsx, Lang::kEn, 1795332605000), "customers-20261122-1530.xlsx");
  EXPECT_EQ(LocalTime(0), "1970-01-01 08:00:00");
}

}  // namespace
}  // namespace kehu::exports
