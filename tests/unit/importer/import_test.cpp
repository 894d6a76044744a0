// The import engine end to end on both engines: files in, customers, flagged values, the
// problem report, duplicates, and a run stopped midway that resumes exactly.
#include <gtest/gtest.h>
#include <unicode/ucnv.h>

#include <fstream>
#include <sstream>

#include "core/time.h"
#include "customer/codec.h"
#include "importer/service.h"
#include "jobs/runner.h"
#include "test_db.h"

namespace kehu::importer {
namespace {

using nlohmann::json;
using testing::Engine;

std::string Gbk(const std::string& utf8) {
  UErrorCode status = U_ZERO_ERROR;
  std::string out(utf8.size() * 2 + 16, '\0');
  int32_t n = ucnv_convert("GBK", "UTF-8", out.data(), static_cast<int32_t>(out.size()),
                           utf8.data(), static_cast<int32_t>(utf8.size()), &status);
  out.resize(static_cast<std::size_t>(n));
  return out;
}

class ImportTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::Init().has_value());
    db_ = testing::OpenTestDb(GetParam(), 6);
    if (!db_) {
      if (GetParam() == Engine::kPostgres && !std::getenv("KEHU_TEST_PG_URL")) {
        GTEST_SKIP() << "set KEHU_TEST_PG_URL";
      }
      FAIL() << "cannot open test database";
    }
    dir_ = testing::TempDir();
    audit_store_ = std::make_unique<audit::AuditStore>(*db_);
    audit_ = std::make_unique<audit::AuditLog>(*audit_store_);
    access_store_ = std::make_unique<access::AccessStore>(*db_);
    access_ = std::make_unique<access::AccessService>(*access_store_, *audit_);
    user_store_ = std::make_unique<user::UserStore>(*db_);
    users_ = std::make_unique<user::UserService>(*user_store_, *access_, *audit_);
    field_store_ = std::make_unique<field::FieldStore>(*db_);
    fields_ = std::make_unique<field::FieldService>(*field_store_, customer::BuiltinFieldNames(),
                                                    *audit_);
    customer_store_ = std::make_unique<customer::CustomerStore>(*db_);
    customers_ = std::make_unique<customer::CustomerService>(
        *customer_store_, *fields_, *users_, *access_, *audit_, phones_, cipher_, bidx_);
    job_store_ = std::make_unique<jobs::JobStore>(*db_);
    import_store_ = std::make_unique<ImportStore>(*db_);
    imports_ = std::make_unique<ImportService>(*import_store_, *job_store_, *customers_, *fields_,
                                               *users_, *audit_, cipher_, dir_.string(), "node1");
  }

  std::string WriteFile(const std::string& name, const std::string& bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  // Registers and runs a CLI import to its end; returns the finished job.
  jobs::Job Import(const std::string& path, RunOptions o, const std::atomic<bool>* stop = nullptr) {
    auto f = imports_->Register(admin_, path);
    EXPECT_TRUE(f.has_value()) << (f ? "" : f.error().message());
    auto open = imports_->Unfinished(admin_, f->id, o);
    EXPECT_TRUE(open.has_value());
    jobs::Job job;
    if (*open) {
      job = **open;
    } else {
      auto started = imports_->Start(admin_, f->id, o, "cli:node1");
      EXPECT_TRUE(started.has_value()) << (started ? "" : started.error().message());
      job = *started;
    }
    return RunClaimed(job.id, stop);
  }

  jobs::Job RunClaimed(int64_t job_id, const std::atomic<bool>* stop = nullptr) {
    const std::string owner = jobs::NewOwnerId();
    auto claimed = job_store_->ClaimById(job_id, owner, core::NowMs(), jobs::kLeaseMs);
    EXPECT_TRUE(claimed.has_value() && claimed->has_value());
    std::atomic<bool> never{false};
    auto ran = jobs::RunJob(
        *job_store_, **claimed, owner, [this](jobs::JobContext& ctx) { return imports_->Run(ctx); },
        stop ? *stop : never);
    EXPECT_TRUE(ran.has_value()) << (ran ? "" : ran.error().message());
    return *ran;
  }

  std::vector<customer::Customer> All() {
    customer::ListQuery q;
    q.limit = 200;
    q.sort = customer::SortKey::kCode;
    q.descending = false;
    std::vector<customer::Customer> out;
    for (;;) {
      auto page = customers_->List(admin_, q);
      EXPECT_TRUE(page.has_value());
      for (auto& c : page->items) {
        auto clear = customers_->Reveal(admin_, c.id);
        EXPECT_TRUE(clear.has_value());
        out.push_back(clear->customer);
      }
      if (page->next_cursor.empty()) return out;
      q.cursor = page->next_cursor;
    }
  }

  std::string ReportOf(int64_t job_id) {
    std::string out;
    EXPECT_TRUE(imports_->Report(admin_, job_id, true, [&](std::string_view p) { out.append(p); })
                    .has_value());
    return out;
  }

  std::unique_ptr<db::Database> db_;
  std::filesystem::path dir_;
  crypto::KeyRing keys_ = crypto::KeyRing::FromKeys({{1, std::string(32, 'k')}});
  crypto::FieldCipher cipher_{keys_};
  crypto::BlindIndex bidx_{keys_};
  phone::Normalizer phones_{"CN"};
  std::unique_ptr<audit::AuditStore> audit_store_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<access::AccessStore> access_store_;
  std::unique_ptr<access::AccessService> access_;
  std::unique_ptr<user::UserStore> user_store_;
  std::unique_ptr<user::UserService> users_;
  std::unique_ptr<field::FieldStore> field_store_;
  std::unique_ptr<field::FieldService> fields_;
  std::unique_ptr<customer::CustomerStore> customer_store_;
  std::unique_ptr<customer::CustomerService> customers_;
  std::unique_ptr<jobs::JobStore> job_store_;
  std::unique_ptr<ImportStore> import_store_;
  std::unique_ptr<ImportService> imports_;
  core::Actor admin_ = core::Actor::LocalAdmin();
};

const char* kMessy =
    "序号,客户编号,姓名,公司,手机,座机,邮箱,性别,阶段,标签,身份证号,微信\n"
    "1,C001,张伟,秦皇岛海港贸易有限公司,13800138000/13900139000,0335-3051234 转 12,"
    "zhangwei@example.com,男,意向,VIP；展会2024,,zw123\n"
    "2,C002,王芳,杭州云栖科技有限公司,1380013800,,wangfang@,女,成交,,110101199003070001,\n"
    "3,,,,,,,,,,,只有微信\n"
    "4,C004,,上海浦江物流有限公司,13700137000,,,保密,沉睡,,,\n"
    "5,C005,李强,,+86 139 0100 2345、12345,010-65529988,li@example.com;li2@example.com,"
    "先生,未知阶段,\"a,b\",,\n"
    "6,C001,张伟,,13800138000,,,,,,,\n";

TEST_P(ImportTest, GbkFileGoodValuesStoredBadOnesFlaggedNothingLost) {
  const std::string path = WriteFile("messy.csv", Gbk(kMessy));
  jobs::Job job = Import(path, RunOptions{});
  ASSERT_EQ(job.state, jobs::State::kDone) << job.error;
  Totals t = Totals::FromJson(job.result);
  EXPECT_EQ(t.read, 6);
  EXPECT_EQ(t.created, 4);
  EXPECT_EQ(t.skipped, 1);   // row 7: same code as row 2
  EXPECT_EQ(t.rejected, 1);  // row 4: no name, no phone, no email
  EXPECT_EQ(t.flagged, 3);   // rows 3, 5, 6

  auto all = All();
  ASSERT_EQ(all.size(), 4u);
  const customer::Customer& zw = all[0];
  EXPECT_EQ(zw.code, "C001");
  ASSERT_EQ(zw.phones.size(), 3u);
  EXPECT_EQ(zw.phones[0].info.e164, "+8613800138000");
  EXPECT_EQ(zw.phones[0].label, "手机");
  EXPECT_EQ(zw.phones[1].info.e164, "+8613900139000");
  EXPECT_EQ(zw.phones[2].info.extension, "12");
  EXPECT_EQ(zw.phones[2].label, "办公");
  EXPECT_EQ(zw.gender, "male");
  EXPECT_EQ(zw.stage, "intent");
  EXPECT_EQ(zw.tags, (std::vector<std::string>{"VIP", "展会2024"}));
  EXPECT_EQ(zw.notes, "微信: zw123");  // an unknown column is kept in the notes
  EXPECT_TRUE(zw.quality_issues.empty());

  const customer::Customer& wf = all[1];
  EXPECT_EQ(wf.code, "C002");
  EXPECT_TRUE(wf.phones.empty());
  EXPECT_TRUE(wf.emails.empty());
  EXPECT_TRUE(wf.id_number.empty());
  std::set<std::string> flagged;
  for (const auto& q : wf.quality_issues) flagged.insert(q.field + "|" + q.raw + "|" + q.code);
  EXPECT_EQ(flagged,
            (std::set<std::string>{"phones|1380013800|too_short", "emails|wangfang@|invalid_email",
                                   "id_number|110101199003070001|invalid_checksum"}));
  for (const auto& q : wf.quality_issues) EXPECT_FALSE(q.column.empty()) << q.field;

  const customer::Customer& nameless = all[2];
  EXPECT_EQ(nameless.name, "上海浦江物流有限公司");
  EXPECT_EQ(nameless.stage, "dormant");
  ASSERT_EQ(nameless.quality_issues.size(), 1u);
  EXPECT_EQ(nameless.quality_issues[0].field, "name");

  const customer::Customer& lq = all[3];
  EXPECT_EQ(lq.phones.size(), 2u);
  EXPECT_EQ(lq.emails.size(), 2u);
  std::set<std::string> lq_flags;
  for (const auto& q : lq.quality_issues) lq_flags.insert(q.field + "|" + q.raw);
  EXPECT_EQ(lq_flags, (std::set<std::string>{"phones|12345", "stage|未知阶段"}));

  // The report names every problem with its row and column.
  const std::string report = ReportOf(job.id);
  EXPECT_NE(report.find("3,手机,phones,1380013800,too_short"), std::string::npos) << report;
  EXPECT_NE(report.find("3,邮箱,emails,wangfang@,invalid_email"), std::string::npos) << report;
  EXPECT_NE(report.find("4,,,,no_name_or_contact"), std::string::npos) << report;
  EXPECT_NE(report.find("6,手机,phones,12345,too_short"), std::string::npos) << report;
  EXPECT_NE(report.find("7,客户编号,code,C001,duplicate"), std::string::npos) << report;

  // The 数据质量 queue holds the three flagged customers.
  customer::ListQuery q;
  q.quality = true;
  auto queue = customers_->List(admin_, q);
  ASSERT_TRUE(queue.has_value());
  EXPECT_EQ(queue->items.size(), 3u);
  // Masked for people who did not reveal: 1380013800 -> 138***3800.
  bool masked_seen = false;
  for (const auto& c : queue->items) {
    for (const auto& qi : c.quality_issues) {
      if (qi.field == "phones" && qi.code == "too_short" && c.code == "C002") {
        EXPECT_EQ(qi.raw, "138***3800");
        masked_seen = true;
      }
    }
  }
  EXPECT_TRUE(masked_seen);

  // Running the same file again creates nothing.
  jobs::Job again = Import(path, RunOptions{});
  Totals t2 = Totals::FromJson(again.result);
  EXPECT_EQ(t2.created, 0);
  EXPECT_EQ(t2.skipped, 5);
  EXPECT_EQ(All().size(), 4u);
}

TEST_P(ImportTest, FixingAFieldThroughTheNormalEditClearsItsIssue) {
  const std::string path = WriteFile("m.csv", kMessy);
  Import(path, RunOptions{});
  auto all = All();
  const customer::Customer wf = all[1];
  ASSERT_EQ(wf.quality_issues.size(), 3u);
  // A strict API write is still refused for a bad number.
  auto bad = customers_->Update(admin_, wf.id, wf.version,
                                *customer::ParseInput(json{{"phones", {"12345"}}}));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), core::Code::kInvalid);
  auto fixed = customers_->Update(admin_, wf.id, wf.version,
                                  *customer::ParseInput(json{{"phones", {"13800138001"}}}));
  ASSERT_TRUE(fixed.has_value()) << fixed.error().message();
  ASSERT_EQ(fixed->quality_issues.size(), 2u);
  for (const auto& q : fixed->quality_issues) EXPECT_NE(q.field, "phones");
  auto cleared = customers_->Update(admin_, wf.id, fixed->version,
                                    *customer::ParseInput(json{{"quality_issues", json::array()}}));
  ASSERT_TRUE(cleared.has_value());
  EXPECT_TRUE(cleared->quality_issues.empty());
  customer::ListQuery q;
  q.quality = true;
  EXPECT_EQ(customers_->List(admin_, q)->items.size(), 2u);
}

TEST_P(ImportTest, MergeFillsEmptyFieldsAndAddsNumbers) {
  Import(WriteFile("a.csv", "编号,姓名,手机\nK1,赵六,13800138000\n"), RunOptions{});
  RunOptions merge;
  merge.on_duplicate = OnDuplicate::kMerge;
  jobs::Job j = Import(
      WriteFile("b.csv", "编号,姓名,公司,手机,邮箱\nK1,赵六,新公司,13900139000,zl@example.com\n"),
      merge);
  Totals t = Totals::FromJson(j.result);
  EXPECT_EQ(t.merged, 1);
  EXPECT_EQ(t.created, 0);
  auto all = All();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].company, "新公司");
  EXPECT_EQ(all[0].phones.size(), 2u);
  EXPECT_EQ(all[0].emails.size(), 1u);
  // Merging the same again changes nothing.
  jobs::Job again = Import(
      WriteFile("c.csv", "编号,姓名,公司,手机,邮箱\nK1,赵六,新公司,13900139000,zl@example.com\n"),
      merge);
  EXPECT_EQ(Totals::FromJson(again.result).skipped, 1);
  EXPECT_EQ(All()[0].version, all[0].version);
}

TEST_P(ImportTest, CreateKeepsATakenCodeAsAnIssue) {
  Import(WriteFile("a.csv", "编号,姓名\nK1,赵六\n"), RunOptions{});
  RunOptions create;
  create.on_duplicate = OnDuplicate::kCreate;
  jobs::Job j = Import(WriteFile("b.csv", "编号,姓名\nK1,赵六二\n"), create);
  EXPECT_EQ(Totals::FromJson(j.result).created, 1);
  auto all = All();
  ASSERT_EQ(all.size(), 2u);
  const auto& second = all[0].code.empty() ? all[0] : all[1];
  ASSERT_EQ(second.quality_issues.size(), 1u);
  EXPECT_EQ(second.quality_issues[0].field, "code");
  EXPECT_EQ(second.quality_issues[0].raw, "K1");
}

TEST_P(ImportTest, DryRunSavesNothingButFindsDuplicatesInTheFile) {
  RunOptions dry;
  dry.dry_run = true;
  jobs::Job j =
      Import(WriteFile("a.csv", "姓名,手机\n甲,13800138000\n乙,13800138000\n丙,12\n"), dry);
  Totals t = Totals::FromJson(j.result);
  EXPECT_EQ(t.created, 2);
  EXPECT_EQ(t.skipped, 1);
  EXPECT_EQ(t.flagged, 1);
  EXPECT_TRUE(All().empty());
  EXPECT_NE(ReportOf(j.id).find("row 2"), std::string::npos);
}

TEST_P(ImportTest, RowsWithoutCodePhoneOrEmailAreFoundAgainByTheirContent) {
  const std::string path = WriteFile("plain.csv",
                                     "姓名,公司,手机\n"
                                     "赵六,某某贸易有限公司,\n"  // a name only
                                     "钱七,,12345\n"             // a bad number only (flagged)
                                     "孙八,,13700137001\n");     // a phone
  Totals t1 = Totals::FromJson(Import(path, RunOptions{}).result);
  EXPECT_EQ(t1.created, 3);
  EXPECT_EQ(t1.flagged, 1);
  // Only the rows that nothing else identifies keep a row key (one random index entry less a
  // row for the rest).
  auto keyed = db_->Read([](soci::session& sql) {
    int n = 0;
    sql << "SELECT COUNT(*) FROM customers WHERE import_key IS NOT NULL", soci::into(n);
    return n;
  });
  ASSERT_TRUE(keyed.has_value());
  EXPECT_EQ(*keyed, 2);
  Totals t2 = Totals::FromJson(Import(path, RunOptions{}).result);
  EXPECT_EQ(t2.created, 0);
  EXPECT_EQ(t2.skipped, 3);
  // A row whose content differs is another customer.
  Totals t3 = Totals::FromJson(
      Import(WriteFile("plain2.csv", "姓名,公司,手机\n赵六,另一家公司,\n"), RunOptions{}).result);
  EXPECT_EQ(t3.created, 1);
  EXPECT_EQ(All().size(), 4u);
}

TEST_P(ImportTest, RequiredCustomFieldMissingRejectsTheRow) {
  field::FieldDef f;
  f.name = "region_code";
  f.label = "大区";
  f.type = field::Type::kSelect;
  f.options = {"华北", "华东"};
  f.required = true;
  ASSERT_TRUE(fields_->Create(admin_, f).has_value());
  field::FieldDef n;
  n.name = "budget";
  n.label = "预算";
  n.type = field::Type::kNumber;
  ASSERT_TRUE(fields_->Create(admin_, n).has_value());
  jobs::Job j = Import(
      WriteFile("a.csv", "姓名,大区,预算\n甲,华北,\"1,200\"\n乙,,5\n丙,华南,很多\n"), RunOptions{});
  Totals t = Totals::FromJson(j.result);
  EXPECT_EQ(t.created, 1);
  EXPECT_EQ(t.rejected, 2);  // 乙: required value missing; 丙: 华南 is no option
  auto all = All();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].custom["budget"], 1200);
  const std::string report = ReportOf(j.id);
  EXPECT_NE(report.find("3,大区,custom.region_code,,required"), std::string::npos) << report;
}

TEST_P(ImportTest, StoppedMidwayResumesWithEveryRowOnce) {
  std::string csv = "姓名,手机\n";
  for (int i = 0; i < 1600; ++i) {
    csv += "客户" + std::to_string(i) + ",139" + std::to_string(10000000 + i) + "\n";
  }
  const std::string path = WriteFile("big.csv", csv);
  std::atomic<bool> stop{true};  // stops after the first batch
  jobs::Job first = Import(path, RunOptions{}, &stop);
  EXPECT_EQ(first.state, jobs::State::kQueued);
  EXPECT_GT(first.cursor, 1);
  EXPECT_LT(first.cursor, 1601);
  const int64_t stored = Totals::FromJson(first.result).created;
  EXPECT_EQ(stored, first.cursor - 1);
  EXPECT_EQ(static_cast<int64_t>(All().size()), stored);
  jobs::Job rest = Import(path, RunOptions{});  // same file, same options: continues
  EXPECT_EQ(rest.id, first.id);
  ASSERT_EQ(rest.state, jobs::State::kDone);
  EXPECT_EQ(Totals::FromJson(rest.result).created, 1600);
  auto all = All();
  ASSERT_EQ(all.size(), 1600u);
  std::set<std::string> names;
  for (const auto& c : all) names.insert(c.name);
  EXPECT_EQ(names.size(), 1600u);
}

TEST_P(ImportTest, ImportNeedsThePermission) {
  core::Actor reader;
  reader.user_id = 42;
  reader.perms.Add(core::Perm::kCustomerRead);
  reader.scope = core::Scope::kAll;
  auto f = imports_->Register(reader, WriteFile("x.csv", "姓名\n甲\n"));
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code(), core::Code::kForbidden);
  auto d = customers_->DraftImport(reader, {}, {}, "");
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code(), core::Code::kForbidden);
}

INSTANTIATE_TEST_SUITE_P(Engines, ImportTest, ::testing::Values(Engine::kSqlite, Engine::kPostgres),
                         testing::EngineName);

}  // namespace
}  // namespace kehu::importer
