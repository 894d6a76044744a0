// Masked values sent back unchanged in an edit keep the stored values they stand for, also when
// two stored values share one mask. Found by fuzz/json_fuzz: a customer with 13870138000 and
// 13800138000 (both shown as 138****8000) edited without a reveal ended up with 13870138000
// twice; 13800138000 was gone.
#include <gtest/gtest.h>

#include "customer/codec.h"
#include "customer/service.h"
#include "test_db.h"

namespace kehu::customer {
namespace {

using nlohmann::json;

class MaskedEditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::Init().has_value());
    auto db = db::Database::Open("sqlite:" + (testing::TempDir() / "t.db").string(), 2);
    ASSERT_TRUE(db.has_value());
    db_ = std::move(*db);
    ASSERT_TRUE(db_->Migrate(app::AllMigrations()).has_value());
    audit_store_ = std::make_unique<audit::AuditStore>(*db_);
    audit_ = std::make_unique<audit::AuditLog>(*audit_store_);
    access_store_ = std::make_unique<access::AccessStore>(*db_);
    access_ = std::make_unique<access::AccessService>(*access_store_, *audit_);
    user_store_ = std::make_unique<user::UserStore>(*db_);
    users_ = std::make_unique<user::UserService>(*user_store_, *access_, *audit_);
    field_store_ = std::make_unique<field::FieldStore>(*db_);
    fields_ = std::make_unique<field::FieldService>(*field_store_, BuiltinFieldNames(), *audit_);
    store_ = std::make_unique<CustomerStore>(*db_);
    svc_ = std::make_unique<CustomerService>(*store_, *fields_, *users_, *access_, *audit_, phones_,
                                             cipher_, bidx_);
  }

  // Creates from `body`, then sends the masked answer back as the edit form does.
  std::pair<Customer, core::Result<Customer>> CreateAndSendBack(const json& body) {
    const core::Actor admin = core::Actor::LocalAdmin();
    auto in = ParseInput(body);
    EXPECT_TRUE(in.has_value());
    auto created = svc_->Create(admin, *in);
    EXPECT_TRUE(created.has_value()) << created.error().message();
    json back = ToJson(*created);
    back.erase("masked");
    auto edit = ParseInput(back);
    EXPECT_TRUE(edit.has_value()) << edit.error().message();
    return {*created, svc_->Update(admin, created->id, created->version, *edit)};
  }

  std::vector<std::string> ClearPhones(int64_t id) {
    std::vector<std::string> out;
    auto r = svc_->Reveal(core::Actor::LocalAdmin(), id);
    EXPECT_TRUE(r.has_value());
    for (const Phone& p : r->customer.phones) out.push_back(p.info.e164);
    return out;
  }

  std::vector<std::string> ClearEmails(int64_t id) {
    std::vector<std::string> out;
    auto r = svc_->Reveal(core::Actor::LocalAdmin(), id);
    EXPECT_TRUE(r.has_value());
    for (const Email& e : r->customer.emails) out.push_back(e.address);
    return out;
  }

  crypto::KeyRing keys_ = crypto::KeyRing::FromKeys({{1, std::string(32, 'k')}});
  crypto::FieldCipher cipher_{keys_};
  crypto::BlindIndex bidx_{keys_};
  phone::Normalizer phones_{"CN"};
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<audit::AuditStore> audit_store_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<access::AccessStore> access_store_;
  std::unique_ptr<access::AccessService> access_;
  std::unique_ptr<user::UserStore> user_store_;
  std::unique_ptr<user::UserService> users_;
  std::unique_ptr<field::FieldStore> field_store_;
  std::unique_ptr<field::FieldService> fields_;
  std::unique_ptr<CustomerStore> store_;
  std::unique_ptr<CustomerService> svc_;
};

TEST_F(MaskedEditTest, TwoPhonesWithOneMaskKeepBothNumbers) {
  auto [c, edited] =
      CreateAndSendBack({{"name", "x"}, {"phones", {"13870138000", "+86 138 0013 8000"}}});
  ASSERT_EQ(c.phones.at(0).info.display, c.phones.at(1).info.display) << "one mask for both";
  ASSERT_TRUE(edited.has_value()) << edited.error().message();
  EXPECT_EQ(ClearPhones(c.id), (std::vector<std::string>{"+8613870138000", "+8613800138000"}));
}

TEST_F(MaskedEditTest, TwoEmailsWithOneMaskKeepBothAddresses) {
  auto [c, edited] =
      CreateAndSendBack({{"name", "x"}, {"emails", {"zhang@example.com", "zhao@example.com"}}});
  ASSERT_EQ(c.emails.at(0).address, c.emails.at(1).address) << "one mask for both";
  ASSERT_TRUE(edited.has_value()) << edited.error().message();
  EXPECT_EQ(ClearEmails(c.id), (std::vector<std::string>{"zhang@example.com", "zhao@example.com"}));
}

TEST_F(MaskedEditTest, OneMaskSentTwiceForOneNumberIsRefused) {
  const core::Actor admin = core::Actor::LocalAdmin();
  auto created = svc_->Create(admin, *ParseInput({{"name", "x"}, {"phones", {"13800138000"}}}));
  ASSERT_TRUE(created.has_value());
  auto twice = svc_->Update(admin, created->id, created->version,
                            *ParseInput({{"phones", {"138****8000", "138****8000"}}}));
  ASSERT_FALSE(twice.has_value()) << "would store the number twice";
  EXPECT_EQ(twice.error().details().at(0).field, "phones[1].number");
  EXPECT_EQ(twice.error().details().at(0).code, "masked");
  EXPECT_EQ(ClearPhones(created->id), (std::vector<std::string>{"+8613800138000"}));
}

}  // namespace
}  // namespace kehu::customer
