#include "merge/service.h"

#include <gtest/gtest.h>

#include "customer/codec.h"
#include "test_db.h"

namespace kehu::merge {
namespace {

using customer::Customer;
using nlohmann::json;
using testing::Engine;

// The merge service on both engines: suggestion, merge, undo, refusals, bulk.
class MergeServiceTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::Init().has_value());
    db_ = testing::OpenTestDb(GetParam());
    if (!db_) {
      if (GetParam() == Engine::kPostgres && !std::getenv("KEHU_TEST_PG_URL")) {
        GTEST_SKIP() << "set KEHU_TEST_PG_URL";
      }
      FAIL() << "cannot open test database";
    }
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
    dedup_ = std::make_unique<dedup::DedupService>(*customers_, *audit_, 2);
    store_ = std::make_unique<MergeStore>(*db_);
    svc_ = std::make_unique<MergeService>(*store_, *customers_, *dedup_, *audit_);
    customers_->SetMergeHook(svc_.get());
  }

  Customer Make(const json& j) {
    auto in = customer::ParseInput(j);
    EXPECT_TRUE(in.has_value());
    auto c = customers_->Create(admin_, *in);
    EXPECT_TRUE(c.has_value()) << (c ? "" : c.error().message());
    return c.value_or(Customer{});
  }
  Customer Clear(int64_t id) {
    auto r = customers_->Reveal(admin_, id);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message());
    return r ? r->customer : Customer{};
  }
  // The customer's JSON without what a write moves on.
  json Comparable(int64_t id) {
    json j = customer::ToJson(Clear(id));
    j.erase("version");
    j.erase("updated_at");
    return j;
  }
  MergeRequest Request(const Customer& survivor, const std::vector<Customer>& losers) {
    MergeRequest r;
    r.survivor_id = survivor.id;
    r.versions[survivor.id] = survivor.version;
    for (const Customer& l : losers) {
      r.loser_ids.push_back(l.id);
      r.versions[l.id] = l.version;
    }
    return r;
  }

  core::Actor admin_ = core::Actor::LocalAdmin();
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
  std::unique_ptr<customer::CustomerStore> customer_store_;
  std::unique_ptr<customer::CustomerService> customers_;
  std::unique_ptr<dedup::DedupService> dedup_;
  std::unique_ptr<MergeStore> store_;
  std::unique_ptr<MergeService> svc_;
};

TEST_P(MergeServiceTest, SuggestsTheMostCompleteMemberAndTheDefaults) {
  Customer a = Make({{"name", "李明"}, {"phones", {{{"number", "13900001111"}}}}});
  Customer b = Make({{"name", "李明"},
                     {"company", "海港贸易"},
                     {"phones", {{{"number", "13900001111"}}, {{"number", "010-66661234"}}}},
                     {"emails", {{{"address", "li@example.com"}}}}});
  auto s = svc_->Suggest(admin_, {a.id, b.id});
  ASSERT_TRUE(s.has_value()) << s.error().message();
  EXPECT_EQ(s->survivor_id, b.id);
  EXPECT_EQ(s->preview.phones.size(), 2u);
  EXPECT_TRUE(s->preview.masked);
  auto company = std::find_if(s->fields.begin(), s->fields.end(),
                              [](const FieldChoice& f) { return f.field == "company"; });
  ASSERT_NE(company, s->fields.end());
  EXPECT_EQ(company->default_member, b.id);
  EXPECT_FALSE(company->differs);  // only one member has a value: nothing to disagree on
  EXPECT_EQ(svc_->Suggest(admin_, {a.id}).error().code(), core::Code::kInvalid);
  EXPECT_EQ(svc_->Suggest(admin_, {a.id, a.id}).error().code(), core::Code::kInvalid);
  EXPECT_EQ(svc_->Suggest(admin_, {a.id, 987654}).error().code(), core::Code::kNotFound);
}

TEST_P(MergeServiceTest, MergeKeepsEveryContactPointAndUndoRestoresExactly) {
  Customer a = Make({{"name", "李明"},
                     {"company", "秦皇岛海港贸易有限公司"},
                     {"phones", {{{"number", "13900001111"}, {"primary", true}}}},
                     {"emails", {{{"address", "li.ming@example.com"}}}},
                     {"tags", {"VIP"}}});
  Customer b = Make(
      {{"name", "李明"},
       {"company", "海港贸易"},
       {"city", "秦皇岛"},
       {"phones", {{{"number", "139 0000 1111"}}, {{"number", "010-66661234"}, {"primary", true}}}},
       {"emails", {{{"address", "LI.MING@example.com"}}, {{"address", "m@hg.cn"}}}},
       {"tags", {"展会", "VIP"}}});
  const json before_a = Comparable(a.id), before_b = Comparable(b.id);
  MergeRequest req = Request(a, {b});
  req.choices["company"] = b.id;
  auto rec = svc_->Merge(admin_, req);
  ASSERT_TRUE(rec.has_value()) << rec.error().message();
  Customer s = Clear(a.id);
  EXPECT_EQ(s.company, "海港贸易");
  EXPECT_EQ(s.city, "秦皇岛");
  ASSERT_EQ(s.phones.size(), 2u);
  EXPECT_TRUE(s.phones[0].primary);
  EXPECT_FALSE(s.phones[1].primary);
  EXPECT_EQ(s.phones[1].info.e164, "+861066661234");
  EXPECT_EQ(s.emails.size(), 2u);
  EXPECT_EQ(s.tags, (std::vector<std::string>{"VIP", "展会"}));
  // The loser is gone, merged into the survivor, and cannot be restored from the bin.
  auto gone = customers_->Get(admin_, b.id);
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code(), core::Code::kNotFound);
  ASSERT_TRUE(gone.error().extensions());
  EXPECT_EQ(gone.error().extensions()->at("merged_into"), a.id);
  EXPECT_EQ(customers_->Restore(admin_, b.id).error().code(), core::Code::kConflict);
  auto hits = customers_->LookupPhone(admin_, "010-66661234");
  ASSERT_TRUE(hits.has_value());
  ASSERT_EQ(hits->items.size(), 1u);
  EXPECT_EQ(hits->items[0].id, a.id);
  // The snapshot is stored encrypted: no clear number or address in the record.
  auto stored = db_->Read([](soci::session& sql) {
    std::string snap;
    sql << "SELECT snapshot FROM merges", soci::into(snap);
    return snap;
  });
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->find("13900001111"), std::string::npos);
  EXPECT_EQ(stored->find("hg.cn"), std::string::npos);
  // History includes the loser's entries.
  auto h = svc_->History(admin_, a.id, std::nullopt, 100);
  ASSERT_TRUE(h.has_value()) << h.error().message();
  EXPECT_TRUE(std::any_of(h->items.begin(), h->items.end(), [&](const audit::Entry& e) {
    return e.action == "customer.create" && e.entity_id == std::to_string(b.id);
  }));

  auto undone = svc_->Undo(admin_, rec->id);
  ASSERT_TRUE(undone.has_value()) << undone.error().message();
  EXPECT_EQ(Comparable(a.id), before_a);
  EXPECT_EQ(Comparable(b.id), before_b);
  EXPECT_EQ(svc_->Undo(admin_, rec->id).error().code(), core::Code::kConflict);
  EXPECT_FALSE(svc_->MergedInto(b.id).has_value());
}

TEST_P(MergeServiceTest, UndoIsRefusedAfterTheSurvivorChanged) {
  Customer a = Make({{"name", "陈静"}, {"phones", {{{"number", "13700002222"}}}}});
  Customer b = Make({{"name", "陈静"}, {"phones", {{{"number", "13700002222"}}}}});
  auto rec = svc_->Merge(admin_, Request(a, {b}));
  ASSERT_TRUE(rec.has_value()) << rec.error().message();
  auto in = customer::ParseInput({{"title", "经理"}});
  ASSERT_TRUE(customers_->Update(admin_, a.id, rec->survivor_version, *in).has_value());
  auto undo = svc_->Undo(admin_, rec->id);
  ASSERT_FALSE(undo.has_value());
  EXPECT_EQ(undo.error().code(), core::Code::kConflict);
  EXPECT_EQ(Clear(a.id).title, "经理");
  EXPECT_FALSE(customers_->Get(admin_, b.id).has_value());
}

TEST_P(MergeServiceTest, StaleVersionsChangeNothing) {
  Customer a = Make({{"name", "孙丽"}, {"phones", {{{"number", "13500003333"}}}}});
  Customer b = Make({{"name", "孙丽"}, {"tags", {"x"}}});
  const json before_a = Comparable(a.id), before_b = Comparable(b.id);
  MergeRequest req = Request(a, {b});
  req.versions[b.id] = b.version + 1;
  EXPECT_EQ(svc_->Merge(admin_, req).error().code(), core::Code::kPreconditionFailed);
  EXPECT_EQ(Comparable(a.id), before_a);
  EXPECT_EQ(Comparable(b.id), before_b);
  req = Request(a, {b});
  req.choices["nope"] = a.id;
  EXPECT_EQ(svc_->Merge(admin_, req).error().code(), core::Code::kInvalid);
  req = Request(a, {b});
  req.choices["company"] = 424242;
  EXPECT_EQ(svc_->Merge(admin_, req).error().code(), core::Code::kInvalid);
  core::Actor rep = admin_;
  rep.perms.Remove(core::Perm::kCustomerMerge);
  EXPECT_EQ(svc_->Merge(rep, Request(a, {b})).error().code(), core::Code::kForbidden);
  core::Actor scoped = admin_;
  scoped.scope = core::Scope::kOwn;
  scoped.scope_user_ids = {12345};
  EXPECT_EQ(svc_->Merge(scoped, Request(a, {b})).error().code(), core::Code::kNotFound);
  EXPECT_EQ(Comparable(a.id), before_a);
}

TEST_P(MergeServiceTest, BulkMergesSharedMobilesNotSharedLandlines) {
  Customer m1 = Make({{"name", "周涛"}, {"phones", {{{"number", "15800005555"}}}}});
  Customer m2 = Make({{"name", "周涛"},
                      {"phones", {{{"number", "158 0000 5555"}}}},
                      {"emails", {{{"address", "z@example.com"}}}}});
  Customer l1 =
      Make({{"name", "赵敏"}, {"city", "天津"}, {"phones", {{{"number", "022-28887777"}}}}});
  Customer l2 =
      Make({{"name", "赵敏"}, {"city", "天津"}, {"phones", {{{"number", "02228887777"}}}}});
  core::Actor manager = admin_;
  manager.perms.Remove(core::Perm::kUserAdmin);
  EXPECT_EQ(svc_->BulkMergeExactPhone(manager, true).error().code(), core::Code::kForbidden);
  auto dry = svc_->BulkMergeExactPhone(admin_, true);
  ASSERT_TRUE(dry.has_value()) << dry.error().message();
  EXPECT_EQ(dry->groups, 1);
  EXPECT_EQ(dry->merged_customers, 1);
  EXPECT_TRUE(customers_->Get(admin_, m1.id).has_value());
  auto done = svc_->BulkMergeExactPhone(admin_, false);
  ASSERT_TRUE(done.has_value()) << done.error().message();
  EXPECT_EQ(done->groups, 1);
  ASSERT_EQ(done->merge_ids.size(), 1u);
  EXPECT_EQ(svc_->MergedInto(m1.id), m2.id);
  EXPECT_TRUE(customers_->Get(admin_, l1.id).has_value());
  EXPECT_TRUE(customers_->Get(admin_, l2.id).has_value());
  ASSERT_TRUE(svc_->Undo(admin_, done->merge_ids[0]).has_value());
  EXPECT_TRUE(customers_->Get(admin_, m1.id).has_value());
}

// A merge and its undo are written with their audit entry in one transaction: when the entry
// cannot be written (here a constraint refuses it), nothing changes.
TEST_P(MergeServiceTest, AMergeWhoseAuditEntryCannotBeWrittenChangesNothing) {
  Customer a = Make({{"name", "郑洁"}, {"phones", {{{"number", "13600006666"}}}}});
  Customer b = Make({{"name", "郑洁"}, {"emails", {{{"address", "zj@example.com"}}}}});
  const json before_a = Comparable(a.id), before_b = Comparable(b.id);
  const bool pg = db_->dialect() == db::Dialect::kPostgres;
  auto refuse = [&](const std::string& action) {
    auto ok = db_->Write([&](soci::session& sql) {
      if (pg) {
        sql << "ALTER TABLE audit_log ADD CONSTRAINT refuse_" + action.substr(9) +
                   " CHECK (action <> '" + action + "')";
      } else {
        sql << "CREATE TRIGGER refuse_" + action.substr(9) +
                   " BEFORE INSERT ON audit_log WHEN NEW.action = '" + action +
                   "' BEGIN SELECT RAISE(ABORT, 'refused'); END";
      }
    });
    ASSERT_TRUE(ok.has_value()) << ok.error().message();
  };
  auto allow = [&](const std::string& action) {
    auto ok = db_->Write([&](soci::session& sql) {
      sql << (pg ? "ALTER TABLE audit_log DROP CONSTRAINT refuse_" : "DROP TRIGGER refuse_") +
                 action.substr(9);
    });
    ASSERT_TRUE(ok.has_value()) << ok.error().message();
  };
  auto entries = [&](const std::string& action) {
    auto n = db_->Read([&](soci::session& sql) {
      int count = 0;
      sql << "SELECT COUNT(*) FROM audit_log WHERE action = :a", soci::use(action),
          soci::into(count);
      return count;
    });
    return n.value_or(-1);
  };
  auto merges = [&] {
    auto n = db_->Read([](soci::session& sql) {
      int count = 0;
      sql << "SELECT COUNT(*) FROM merges", soci::into(count);
      return count;
    });
    return n.value_or(-1);
  };

  refuse("customer.merge");
  auto failed = svc_->Merge(admin_, Request(a, {b}));
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(Comparable(a.id), before_a);
  EXPECT_EQ(Comparable(b.id), before_b);
  EXPECT_EQ(merges(), 0);
  EXPECT_FALSE(svc_->MergedInto(b.id).has_value());
  allow("customer.merge");

  auto rec = svc_->Merge(admin_, Request(a, {b}));
  ASSERT_TRUE(rec.has_value()) << rec.error().message();
  EXPECT_EQ(entries("customer.merge"), 1);
  refuse("customer.merge_undo");
  EXPECT_FALSE(svc_->Undo(admin_, rec->id).has_value());
  EXPECT_EQ(svc_->MergedInto(b.id), a.id);
  EXPECT_FALSE(customers_->Get(admin_, b.id).has_value());
  allow("customer.merge_undo");
  ASSERT_TRUE(svc_->Undo(admin_, rec->id).has_value());
  EXPECT_EQ(entries("customer.merge_undo"), 1);
  EXPECT_EQ(Comparable(b.id), before_b);
}

INSTANTIATE_TEST_SUITE_P(Engines, MergeServiceTest,
                         ::testing::Values(Engine::kSqlite, Engine::kPostgres),
                         testing::EngineName);

}  // namespace
}  // namespace kehu::merge
