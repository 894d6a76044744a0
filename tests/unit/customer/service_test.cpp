#include "customer/service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "customer/codec.h"
#include "test_db.h"

namespace kehu::customer {
namespace {

using nlohmann::json;

class CustomerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::Init().has_value());
    dir_ = testing::TempDir();
    auto db = db::Database::Open("sqlite:" + (dir_ / "t.db").string(), 2);
    ASSERT_TRUE(db.has_value());
    db_ = std::move(*db);
    ASSERT_TRUE(db_->Migrate(app::AllMigrations()).has_value());
    user_store_ = std::make_unique<user::UserStore>(*db_);
    users_ = std::make_unique<user::UserService>(*user_store_);
    field_store_ = std::make_unique<field::FieldStore>(*db_);
    fields_ = std::make_unique<field::FieldService>(*field_store_, BuiltinFieldNames());
    store_ = std::make_unique<CustomerStore>(*db_);
    svc_ = std::make_unique<CustomerService>(*store_, *fields_, *users_, phones_, cipher_, bidx_);
    auto u = users_->Create(core::Actor::LocalAdmin(), {"rep", "password1", "销售小王"});
    ASSERT_TRUE(u.has_value());
    rep_ = core::Actor{u->id, u->username, u->display_name, core::Role::kMember};
  }

  CustomerInput Input(const json& j) {
    auto in = ParseInput(j);
    EXPECT_TRUE(in.has_value()) << (in ? "" : in.error().message());
    return in.value_or(CustomerInput{});
  }

  std::set<std::string> Fields(const core::Error& e) {
    std::set<std::string> out;
    for (const auto& d : e.details()) out.insert(d.field);
    return out;
  }

  std::filesystem::path dir_;
  crypto::KeyRing keys_ = crypto::KeyRing::FromKeys({{1, std::string(32, 'k')}});
  crypto::FieldCipher cipher_{keys_};
  crypto::BlindIndex bidx_{keys_};
  phone::Normalizer phones_{"CN"};
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<user::UserStore> user_store_;
  std::unique_ptr<user::UserService> users_;
  std::unique_ptr<field::FieldStore> field_store_;
  std::unique_ptr<field::FieldService> fields_;
  std::unique_ptr<CustomerStore> store_;
  std::unique_ptr<CustomerService> svc_;
  core::Actor rep_;
};

TEST_F(CustomerServiceTest, CreateNormalisesAndDefaults) {
  auto c = svc_->Create(rep_, Input({{"name", "  张伟 "},
                                     {"phones", {{{"number", "0335-3051234 转 12"}}}},
                                     {"emails", {" Zhang@Example.COM "}}}));
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->name, "张伟");
  EXPECT_EQ(c->phones.at(0).info.e164, "+863353051234");
  EXPECT_EQ(c->phones.at(0).info.extension, "12");
  EXPECT_TRUE(c->phones.at(0).primary) << "the only phone becomes primary";
  EXPECT_EQ(c->emails.at(0).address, "Zhang@example.com");
  EXPECT_EQ(c->owner_id.value_or(0), rep_.user_id) << "the creator owns a new customer";
  EXPECT_EQ(c->stage, "potential");
  EXPECT_EQ(c->version, 1);
  auto again = svc_->Get(rep_, c->id);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(ToJson(*again), ToJson(*c));
}

TEST_F(CustomerServiceTest, ReportsEveryBadFieldAtOnce) {
  auto c = svc_->Create(rep_, Input({{"name", ""},
                                     {"gender", "x"},
                                     {"stage", "hot"},
                                     {"phones", {{{"number", "12345"}}, {{"number", "abc"}}}},
                                     {"emails", {"not-an-email"}},
                                     {"id_number", "110105194912310022"},
                                     {"owner_id", 999}}));
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code(), core::Code::kInvalid);
  EXPECT_EQ(Fields(c.error()), (std::set<std::string>{"name", "gender", "stage", "phones[0].number",
                                                      "phones[1].number", "emails[0].address",
                                                      "id_number", "owner_id"}));
  customer::ListQuery q;
  auto page = svc_->List(rep_, q);
  ASSERT_TRUE(page.has_value());
  EXPECT_TRUE(page->items.empty()) << "nothing half-written";
}

TEST_F(CustomerServiceTest, RejectsTwoPrimariesAndDuplicateNumbers) {
  auto c = svc_->Create(rep_, Input({{"name", "李娜"},
                                     {"phones",
                                      {{{"number", "13800138000"}, {"primary", true}},
                                       {{"number", "+86 138 0013 8000"}, {"primary", true}}}}}));
  ASSERT_FALSE(c.has_value());
  EXPECT_TRUE(Fields(c.error()).contains("phones[1].number"));
}

TEST_F(CustomerServiceTest, StaleVersionChangesNothing) {
  auto c = svc_->Create(rep_, Input({{"name", "王芳"}}));
  ASSERT_TRUE(c.has_value());
  auto first = svc_->Update(rep_, c->id, 1, Input({{"title", "经理"}}));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->version, 2);
  auto stale = svc_->Update(rep_, c->id, 1, Input({{"title", "总监"}}));
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().code(), core::Code::kPreconditionFailed);
  EXPECT_EQ(svc_->Get(rep_, c->id)->title, "经理");
}

TEST_F(CustomerServiceTest, ConcurrentUpdatesNeverLoseOne) {
  auto c = svc_->Create(rep_, Input({{"name", "赵磊"}}));
  ASSERT_TRUE(c.has_value());
  std::atomic<int> ok{0}, stale{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      auto r = svc_->Update(rep_, c->id, 1, Input({{"notes", "writer " + std::to_string(i)}}));
      if (r)
        ++ok;
      else if (r.error().code() == core::Code::kPreconditionFailed)
        ++stale;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(stale.load(), 5);
}

TEST_F(CustomerServiceTest, CustomFieldsAreValidated) {
  field::FieldDef level{0, "customer", "level", "客户等级", field::Type::kSelect, {"A", "B"}, true};
  ASSERT_TRUE(fields_->Create(core::Actor::LocalAdmin(), level).has_value());
  auto missing = svc_->Create(rep_, Input({{"name", "周杰"}}));
  ASSERT_FALSE(missing.has_value());
  EXPECT_TRUE(Fields(missing.error()).contains("custom.level"));
  auto wrong =
      svc_->Create(rep_, Input({{"name", "周杰"}, {"custom", {{"level", "C"}, {"x", 1}}}}));
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(Fields(wrong.error()), (std::set<std::string>{"custom.level", "custom.x"}));
  auto ok = svc_->Create(rep_, Input({{"name", "周杰"}, {"custom", {{"level", "A"}}}}));
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->custom, json({{"level", "A"}}));
}

TEST_F(CustomerServiceTest, ContactDataIsEncryptedAtRest) {
  auto c = svc_->Create(rep_, Input({{"name", "钱多多"},
                                     {"phones", {"13912345678"}},
                                     {"emails", {"qian.duoduo@example.org"}},
                                     {"address", "海港区文化路 88 号"}}));
  ASSERT_TRUE(c.has_value());
  db_.reset();  // close so the WAL is checkpointed
  std::string bytes;
  for (const auto& f : std::filesystem::directory_iterator(dir_)) {
    std::ifstream in(f.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    bytes += ss.str();
  }
  EXPECT_NE(bytes.find("钱多多"), std::string::npos) << "names stay searchable";
  for (const char* secret : {"13912345678", "qian.duoduo", "文化路"}) {
    EXPECT_EQ(bytes.find(secret), std::string::npos) << secret;
  }
}

TEST_F(CustomerServiceTest, SearchFindsByPhoneInAnyFormatLastFourAndPinyin) {
  ASSERT_TRUE(svc_->Create(rep_, Input({{"name", "张伟"}, {"phones", {"13800138000"}}})));
  ASSERT_TRUE(svc_->Create(rep_, Input({{"name", "李娜"}, {"phones", {"13900139000"}}})));
  auto find = [&](const std::string& text) {
    ListQuery q;
    q.q = text;
    std::vector<std::string> names;
    auto page = svc_->List(rep_, q);
    EXPECT_TRUE(page.has_value());
    for (const auto& c : page->items) names.push_back(c.name);
    return names;
  };
  EXPECT_EQ(find("+86 138-0013-8000"), std::vector<std::string>{"张伟"});
  EXPECT_EQ(find("１３８００１３８０００"), std::vector<std::string>{"张伟"});
  EXPECT_EQ(find("9000"), std::vector<std::string>{"李娜"});
  EXPECT_EQ(find("zhang wei"), std::vector<std::string>{"张伟"});
  EXPECT_EQ(find("李"), std::vector<std::string>{"李娜"});
  auto hits = svc_->LookupPhone(rep_, "008613900139000");
  ASSERT_TRUE(hits.has_value());
  ASSERT_EQ(hits->items.size(), 1u);
  EXPECT_EQ(hits->items[0].name, "李娜");
  EXPECT_FALSE(svc_->LookupPhone(rep_, "not a number").has_value());
}

TEST_F(CustomerServiceTest, CursorOfAnotherSortIsRejected) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(svc_->Create(rep_, Input({{"name", "客户" + std::to_string(i)}})));
  }
  ListQuery q;
  q.limit = 1;
  auto page = svc_->List(rep_, q);
  ASSERT_FALSE(page->next_cursor.empty());
  q.cursor = page->next_cursor;
  q.sort = SortKey::kName;
  auto bad = svc_->List(rep_, q);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), core::Code::kBadRequest);
  q.cursor = "!!garbage";
  EXPECT_FALSE(svc_->List(rep_, q).has_value());
}

}  // namespace
}  // namespace kehu::customer
