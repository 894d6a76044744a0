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
    rep_ = MakeActor("rep", "sales", std::nullopt);
  }

  // A user with this role and team, as the server would authenticate them.
  core::Actor MakeActor(const std::string& name, const std::string& role,
                        std::optional<int64_t> team) {
    user::NewUser nu;
    nu.username = name;
    nu.password = "Gq7!zzxv-kehu";
    nu.display_name = name + " 显示名";
    nu.role = role;
    nu.team_id = team;
    auto u = users_->Create(core::Actor::LocalAdmin(), nu);
    EXPECT_TRUE(u.has_value()) << (u ? "" : u.error().message());
    core::Actor a;
    a.user_id = u->id;
    a.username = u->username;
    a.display_name = u->display_name;
    EXPECT_TRUE(access_->Resolve(a, role, team).has_value());
    return a;
  }

  // The customer with clear contact data.
  Customer Clear(int64_t id) {
    auto r = svc_->Reveal(core::Actor::LocalAdmin(), id);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message());
    return r ? r->customer : Customer{};
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
  core::Actor rep_;
};

TEST_F(CustomerServiceTest, CreateNormalisesAndDefaults) {
  auto c = svc_->Create(rep_, Input({{"name", "  张伟 "},
                                     {"phones", {{{"number", "0335-3051234 转 12"}}}},
                                     {"emails", {" Zhang@Example.COM "}}}));
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->name, "张伟");
  EXPECT_TRUE(c->masked);
  EXPECT_EQ(c->phones.at(0).info.e164, "+8633****1234") << "masked until revealed";
  EXPECT_EQ(c->phones.at(0).info.display, "033****1234");
  EXPECT_EQ(c->emails.at(0).address, "Z***@example.com");
  Customer clear = Clear(c->id);
  EXPECT_FALSE(clear.masked);
  EXPECT_EQ(clear.phones.at(0).info.e164, "+863353051234");
  EXPECT_EQ(clear.emails.at(0).address, "Zhang@example.com");
  EXPECT_EQ(c->phones.at(0).info.extension, "12");
  EXPECT_TRUE(c->phones.at(0).primary) << "the only phone becomes primary";
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

namespace kehu::customer {
namespace {

TEST_F(CustomerServiceTest, OwnScopeHidesOtherRepsCustomersEverywhere) {
  core::Actor other = MakeActor("rep2", "sales", std::nullopt);
  auto c = svc_->Create(rep_, Input({{"name", "张伟"}, {"phones", {"13800138000"}}}));
  ASSERT_TRUE(c.has_value());
  auto get = svc_->Get(other, c->id);
  ASSERT_FALSE(get.has_value());
  EXPECT_EQ(get.error().code(), core::Code::kNotFound) << "404, so existence does not leak";
  ListQuery q;
  EXPECT_TRUE(svc_->List(other, q)->items.empty());
  q.q = "13800138000";
  EXPECT_TRUE(svc_->List(other, q)->items.empty());
  EXPECT_TRUE(svc_->LookupPhone(other, "13800138000")->items.empty());
  CustomerInput in = Input({{"name", "改名"}});
  EXPECT_EQ(svc_->Update(other, c->id, 1, in).error().code(), core::Code::kNotFound);
  EXPECT_EQ(svc_->Reveal(other, c->id).error().code(), core::Code::kNotFound);
  // The owner and an all-scope read-only user see it; the read-only user only masked.
  EXPECT_EQ(svc_->LookupPhone(rep_, "138 0013 8000")->items.size(), 1u);
  core::Actor viewer = MakeActor("viewer", "readonly", std::nullopt);
  auto seen = svc_->Get(viewer, c->id);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->phones.at(0).info.display, "138****8000");
  EXPECT_EQ(svc_->Reveal(viewer, c->id).error().code(), core::Code::kForbidden);
  EXPECT_EQ(svc_->Create(viewer, Input({{"name", "x"}})).error().code(), core::Code::kForbidden);
  // A sales rep cannot hand a customer to someone outside their scope.
  in = Input({{"owner_id", other.user_id}});
  auto moved = svc_->Update(rep_, c->id, 1, in);
  ASSERT_FALSE(moved.has_value());
  EXPECT_TRUE(Fields(moved.error()).contains("owner_id"));
}

TEST_F(CustomerServiceTest, CallerIdFindsOwnCustomerBehindManyOthersHoldingTheNumber) {
  // A company switchboard: 60 customers of another rep share it, then one of rep_'s.
  core::Actor other = MakeActor("switchboard-rep", "sales", std::nullopt);
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(svc_->Create(other, Input({{"name", "总机" + std::to_string(i)},
                                           {"phones", {"0335-3051234"}}}))
                    .has_value());
  }
  auto mine = svc_->Create(rep_, Input({{"name", "我的客户"}, {"phones", {"0335 305 1234"}}}));
  ASSERT_TRUE(mine.has_value());
  auto hits = svc_->LookupPhone(rep_, "03353051234");
  ASSERT_TRUE(hits.has_value());
  ASSERT_EQ(hits->items.size(), 1u) << "only rep_'s own customer, found past the other 60";
  EXPECT_EQ(hits->items[0].id, mine->id);
  EXPECT_EQ(svc_->LookupPhone(other, "03353051234")->items.size(), 50u) << "capped at 50";
}

TEST_F(CustomerServiceTest, AWholeGetAnswerSentBackAsPatchIsAccepted) {
  auto c = svc_->Create(rep_, Input({{"name", "回传"}, {"phones", {"13800138000"}}}));
  ASSERT_TRUE(c.has_value());
  json answer = ToJson(*c);
  ASSERT_TRUE(answer.contains("masked"));
  auto in = ParseInput(answer);
  ASSERT_TRUE(in.has_value()) << in.error().message();
  auto saved = svc_->Update(rep_, c->id, c->version, *in);
  ASSERT_TRUE(saved.has_value()) << saved.error().message();
  EXPECT_EQ(Clear(c->id).phones.at(0).info.e164, "+8613800138000");
}

TEST_F(CustomerServiceTest, TeamScopeCoversSubTeams) {
  const core::Actor admin = core::Actor::LocalAdmin();
  auto north = access_->CreateTeam(admin, "华北区", std::nullopt);
  ASSERT_TRUE(north.has_value());
  auto hebei = access_->CreateTeam(admin, "河北组", north->id);
  ASSERT_TRUE(hebei.has_value());
  auto south = access_->CreateTeam(admin, "华南区", std::nullopt);
  ASSERT_TRUE(south.has_value());
  core::Actor rep = MakeActor("hb-rep", "sales", hebei->id);
  core::Actor boss = MakeActor("north-boss", "sales_manager", north->id);
  core::Actor other_boss = MakeActor("south-boss", "sales_manager", south->id);
  auto c = svc_->Create(rep, Input({{"name", "赵敏"}, {"phones", {"13912345678"}}}));
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(svc_->Get(boss, c->id).has_value()) << "a sub-team's customer is in team scope";
  EXPECT_EQ(svc_->Get(other_boss, c->id).error().code(), core::Code::kNotFound);
  EXPECT_EQ(svc_->List(boss, ListQuery{})->items.size(), 1u);
  EXPECT_TRUE(svc_->List(other_boss, ListQuery{})->items.empty());
  EXPECT_TRUE(svc_->LookupPhone(other_boss, "13912345678")->items.empty());
  // A team cannot be moved under its own sub-team.
  auto cycle = access_->UpdateTeam(admin, north->id, "华北区", hebei->id);
  ASSERT_FALSE(cycle.has_value());
  EXPECT_TRUE(Fields(cycle.error()).contains("parent_id"));
}

TEST_F(CustomerServiceTest, MaskedValuesSentBackKeepTheStoredOnes) {
  auto c = svc_->Create(rep_, Input({{"name", "孙丽"},
                                     {"phones", {"13800138000", "0335-3051234"}},
                                     {"emails", {"sun.li@example.com"}},
                                     {"id_number", "11010519491231002X"},
                                     {"address", "文化路 88 号"}}));
  ASSERT_TRUE(c.has_value()) << c.error().message();
  // What a client shows and sends back untouched, with one other field changed.
  json body = ToJson(*c);
  json patch = {{"title", "经理"},
                {"phones", json::array()},
                {"emails", json::array()},
                {"id_number", body["id_number"]},
                {"address", body["address"]}};
  for (const auto& p : body["phones"]) {
    patch["phones"].push_back({{"number", p["number"]}, {"label", "手机"}});
  }
  for (const auto& e : body["emails"]) patch["emails"].push_back({{"address", e["address"]}});
  auto updated = svc_->Update(rep_, c->id, 1, Input(patch));
  ASSERT_TRUE(updated.has_value()) << updated.error().message();
  Customer clear = Clear(c->id);
  EXPECT_EQ(clear.title, "经理");
  ASSERT_EQ(clear.phones.size(), 2u);
  EXPECT_EQ(clear.phones[0].info.e164, "+8613800138000");
  EXPECT_EQ(clear.phones[1].info.e164, "+863353051234");
  EXPECT_EQ(clear.emails.at(0).address, "sun.li@example.com");
  EXPECT_EQ(clear.id_number, "11010519491231002X");
  EXPECT_EQ(clear.address, "文化路 88 号");
  // A masked value that matches nothing stored is refused, not saved.
  auto bad = svc_->Update(rep_, c->id, 2, Input({{"phones", {"139****0000"}}}));
  ASSERT_FALSE(bad.has_value());
  EXPECT_TRUE(Fields(bad.error()).contains("phones[0].number"));
}

TEST_F(CustomerServiceTest, RevealQuotaStopsBulkHarvesting) {
  const core::Actor admin = core::Actor::LocalAdmin();
  auto roles = access_->ListRoles(admin);
  ASSERT_TRUE(roles.has_value());
  auto sales = std::find_if(roles->begin(), roles->end(),
                            [](const access::Role& r) { return r.key == "sales"; });
  ASSERT_NE(sales, roles->end());
  access::RoleInput change;
  change.reveal_quota = 2;
  ASSERT_TRUE(access_->UpdateRole(admin, sales->id, sales->version, change).has_value());
  std::vector<int64_t> ids;
  for (int i = 0; i < 3; ++i) {
    auto c = svc_->Create(rep_, Input({{"name", "客户" + std::to_string(i)},
                                       {"phones", {"1380013800" + std::to_string(i)}}}));
    ASSERT_TRUE(c.has_value());
    ids.push_back(c->id);
  }
  auto first = svc_->Reveal(rep_, ids[0]);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->customer.phones.at(0).info.e164, "+8613800138000");
  EXPECT_FALSE(first->charge.quota_now_reached);
  auto second = svc_->Reveal(rep_, ids[1]);
  ASSERT_TRUE(second.has_value());
  EXPECT_TRUE(second->charge.quota_now_reached) << "the reveal that uses the quota up says so";
  auto third = svc_->Reveal(rep_, ids[2]);
  ASSERT_FALSE(third.has_value());
  EXPECT_EQ(third.error().code(), core::Code::kRateLimited);
}

}  // namespace
}  // namespace kehu::customer

namespace kehu::customer {
namespace {

TEST_F(CustomerServiceTest, EveryChangeAndRevealIsAuditedWithoutPersonalData) {
  auto c = svc_->Create(rep_, Input({{"name", "周芷若"}, {"phones", {"13811112222"}}}));
  ASSERT_TRUE(c.has_value());
  ASSERT_TRUE(
      svc_->Update(rep_, c->id, 1, Input({{"title", "总监"}, {"phones", {"13933334444"}}})));
  ASSERT_TRUE(svc_->Reveal(rep_, c->id));
  // Sales may not delete: the attempt is refused and leaves no entry.
  EXPECT_EQ(svc_->Delete(rep_, c->id).error().code(), core::Code::kForbidden);
  const core::Actor admin = core::Actor::LocalAdmin();
  ASSERT_TRUE(svc_->Delete(admin, c->id).has_value());
  ASSERT_TRUE(svc_->Restore(admin, c->id).has_value());
  audit::ListQuery q;
  q.entity = "customer";
  q.entity_id = std::to_string(c->id);
  auto page = audit_->List(admin, q);
  ASSERT_TRUE(page.has_value()) << page.error().message();
  std::vector<std::string> actions;
  for (const auto& e : page->items) actions.push_back(e.action);
  EXPECT_EQ(actions,
            (std::vector<std::string>{"customer.restore", "customer.delete", "customer.reveal",
                                      "customer.update", "customer.create"}));
  const auto& update = page->items[3];
  EXPECT_EQ(update.actor_id, rep_.user_id);
  EXPECT_EQ(update.details["fields"], json({"title", "phones"}));
  for (const auto& e : page->items) {
    for (const char* secret : {"13811112222", "13933334444"}) {
      EXPECT_EQ(e.details.dump().find(secret), std::string::npos) << e.action;
    }
  }
  auto verify = audit_->Verify(admin);
  ASSERT_TRUE(verify.has_value());
  EXPECT_TRUE(verify->ok) << verify->reason;
}

}  // namespace
}  // namespace kehu::customer
