// One store contract, two engines: every case runs on SQLite, and on PostgreSQL when
// KEHU_TEST_PG_URL is set (scripts/test sets it).
#include <gtest/gtest.h>

#include "core/time.h"
#include "customer/store.h"
#include "idempotency/store.h"
#include "test_db.h"
#include "user/store.h"

namespace kehu {
namespace {

using testing::Engine;

class StoreContract : public ::testing::TestWithParam<Engine> {};

user::User AddUser(user::UserStore& users, const std::string& name) {
  auto u = users.Insert({name, "pw", name + " display", "sales", std::nullopt}, "hash", 1000);
  EXPECT_TRUE(u.has_value());
  return u.value_or(user::User{});
}

customer::Row MakeRow(const std::string& name, const std::string& code, int64_t created) {
  customer::Row r;
  r.code = code;
  r.name = name;
  r.name_key = name;
  r.gender = "unknown";
  r.stage = "potential";
  r.custom_json = "{}";
  r.created_at = r.updated_at = created;
  r.version = 1;
  return r;
}

TEST_P(StoreContract, MigrationsAreIdempotent) {
  KEHU_OPEN_DB_OR_SKIP(db, GetParam());
  auto again = db->Migrate(app::AllMigrations());
  ASSERT_TRUE(again.has_value()) << again.error().message();
  EXPECT_TRUE(again->empty());
}

TEST_P(StoreContract, UsernameIsUnique) {
  KEHU_OPEN_DB_OR_SKIP(db, GetParam());
  user::UserStore users(*db);
  AddUser(users, "li");
  auto dup = users.Insert({"li", "pw", "x", "sales", std::nullopt}, "hash", 1);
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code(), core::Code::kConflict);
  ASSERT_EQ(dup.error().details().size(), 1u);
  EXPECT_EQ(dup.error().details()[0].field, "username");
}

TEST_P(StoreContract, SessionsAndTokensRoundTrip) {
  KEHU_OPEN_DB_OR_SKIP(db, GetParam());
  user::UserStore users(*db);
  auto u = AddUser(users, "wang");
  ASSERT_TRUE(users.InsertSession("h1", u.id, "csrf", 10, 99, "127.0.0.1", "ua").has_value());
  auto s = users.FindSession("h1");
  ASSERT_TRUE(s.has_value() && s->has_value());
  EXPECT_EQ((*s)->user_id, u.id);
  EXPECT_EQ((*s)->csrf_token, "csrf");
  EXPECT_EQ((*s)->created_at, 10);
  ASSERT_TRUE(users.DeleteSession("h1").has_value());
  EXPECT_FALSE(users.FindSession("h1")->has_value());

  auto t = users.InsertToken(u.id, "script", "th", 5);
  ASSERT_TRUE(t.has_value());
  ASSERT_TRUE(users.FindTokenUser("th")->has_value());
  EXPECT_EQ((*users.FindTokenUser("th"))->user_id, u.id);
  EXPECT_EQ((*users.FindTokenUser("th"))->last_used_at, 0);
  ASSERT_TRUE(users.TouchToken("th", 1234).has_value());
  EXPECT_EQ((*users.FindTokenUser("th"))->last_used_at, 1234);
  EXPECT_FALSE(users.RevokeToken(u.id + 1, t->id, 6)->has_value()) << "not the owner";
  EXPECT_EQ(users.RevokeToken(u.id, t->id, 6)->value_or(""), "th");
  EXPECT_FALSE(users.FindTokenUser("th")->has_value());
}

TEST_P(StoreContract, CustomerInsertGetAndCodeUniqueness) {
  KEHU_OPEN_DB_OR_SKIP(db, GetParam());
  customer::CustomerStore store(*db);
  auto id = store.Insert(MakeRow("张伟", "KH-1", 100),
                         {{"phone", "b1", "8000", "手机"}, {"email", "e1", "", ""}});
  ASSERT_TRUE(id.has_value()) << id.error().message();
  auto got = store.Get(*id, false);
  ASSERT_TRUE(got.has_value() && got->has_value());
  EXPECT_EQ((*got)->name, "张伟");
  EXPECT_EQ((*got)->code, "KH-1");
  EXPECT_FALSE((*got)->owner_id.has_value());
  EXPECT_FALSE((*got)->deleted_at.has_value());

  auto dup = store.Insert(MakeRow("李娜", "KH-1", 101), {});
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code(), core::Code::kConflict);
  EXPECT_EQ(dup.error().details().at(0).field, "code");
  // Customers without a code do not collide.
  EXPECT_TRUE(store.Insert(MakeRow("甲", "", 102), {}).has_value());
  EXPECT_TRUE(store.Insert(MakeRow("乙", "", 103), {}).has_value());
}

TEST_P(StoreContract, UpdateChecksVersion) {
  KEHU_OPEN_DB_OR_SKIP(db, GetParam());
  customer::CustomerStore store(*db);
  auto id = store.Insert(MakeRow("张伟", "", 100), {});
  ASSERT_TRUE(id.has_value());
  customer::Row r = **store.Get(*id, false);
  r.name = "张伟伟";
  EXPECT_EQ(store.Update(r, 1, {}).value(), customer::UpdateOutcome::kOk);
  r.name = "lost update";
  EXPECT_EQ(store.Update(r, 1, {}).value(), customer::UpdateOutcome::kStale);
  auto now = **store.Get(*id, false);
  EXPECT_EQ(now.name, "张伟伟");
  EXPECT_EQ(now.version, 2);
  r.id = *id + 1000;
  EXPECT_EQ(store.Update(r, 2, {}).value(), customer::UpdateOutcome::kNotFound);
}

TEST_P(StoreContract, SoftDeleteAndRestore) {
  KEHU_OPEN_DB_OR_SKIP(db, GetParam());
  customer::CustomerStore store(*db);
  auto id = store.Insert(MakeRow("张伟", "", 100), {{"phone", "b1", "8000", ""}});
  ASSERT_TRUE(id.has_value());
  EXPECT_TRUE(store.SetDeleted(*id, true, 1, 200).value());
  EXPECT_FALSE(store.SetDeleted(*id, true, 1, 201).value()) << "already deleted";
  EXPECT_FALSE(store.Get(*id, false)->has_value());
  EXPECT_TRUE(store.Get(*id, true)->has_value());
  EXPECT_TRUE(store.LookupPhone("b1", 10)->empty()) << "deleted customers are not looked up";
  customer::ListQuery bin;
  bin.deleted = true;
  EXPECT_EQ(store.List(bin, {}, std::nullopt, 10)->size(), 1u);
  EXPECT_TRUE(store.SetDeleted(*id, false, 1, 300).value());
  EXPECT_EQ(store.LookupPhone("b1", 10)->size(), 1u);
}

TEST_P(StoreContract, ListPagesWithoutGapsOrDuplicates) {
  KEHU_OPEN_DB_OR_SKIP(db, GetParam());
  customer::CustomerStore store(*db);
  // Equal created_at values force the id tie-breaker.
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(store.Insert(MakeRow("c" + std::to_string(i), "", 1000 + i / 3), {}).has_value());
  }
  customer::ListQuery q;
  std::set<int64_t> seen;
  std::optional<customer::After> after;
  int64_t last_created = INT64_MAX;
  for (int page = 0; page < 10; ++page) {
    auto rows = store.List(q, {}, after, 10);
    ASSERT_TRUE(rows.has_value());
    for (const auto& r : *rows) {
      EXPECT_TRUE(seen.insert(r.id).second) << "duplicate " << r.id;
      EXPECT_LE(r.created_at, last_created);
      last_created = r.created_at;
    }
    if (rows->size() < 10) break;
    after = customer::After{"", rows->back().created_at, rows->back().id};
  }
  EXPECT_EQ(seen.size(), 25u);
}

TEST_P(StoreContract, ListFiltersAndSearch) {
  KEHU_OPEN_DB_OR_SKIP(db, GetParam());
  customer::CustomerStore store(*db);
  auto a = MakeRow("张伟", "KH-9", 100);
  a.company = "秦皇岛海港贸易有限公司";
  a.province = "河北省";
  a.source = "展会";
  auto b = MakeRow("Li_Na%", "", 200);
  b.province = "北京市";
  ASSERT_TRUE(store.Insert(a, {{"phone", "bx", "1234", ""}}).has_value());
  ASSERT_TRUE(store.Insert(b, {}).has_value());
  customer::ListQuery q;
  q.province = "河北省";
  EXPECT_EQ(store.List(q, {}, std::nullopt, 10)->size(), 1u);
  q = {};
  q.created_from = 150;
  EXPECT_EQ(store.List(q, {}, std::nullopt, 10)->at(0).name, "Li_Na%");
  q = {};
  EXPECT_EQ(store.List(q, {"%海港%", "", {}, {}, ""}, std::nullopt, 10)->size(), 1u);
  EXPECT_EQ(store.List(q, {"", "", {}, {}, "1234"}, std::nullopt, 10)->at(0).name, "张伟");
  EXPECT_EQ(store.List(q, {"", "", {"bx"}, {}, ""}, std::nullopt, 10)->size(), 1u);
  // LIKE wildcards in the search text are literal.
  EXPECT_EQ(store.List(q, {"%\\_na\\%%", "", {}, {}, ""}, std::nullopt, 10)->size(), 1u);
  EXPECT_EQ(store.List(q, {"%\\%x%", "", {}, {}, ""}, std::nullopt, 10)->size(), 0u);
}

TEST_P(StoreContract, IdempotencyClaimOnce) {
  KEHU_OPEN_DB_OR_SKIP(db, GetParam());
  idempotency::IdempotencyStore store(*db);
  EXPECT_FALSE(store.Claim(1, "k", "h", 10)->has_value());
  auto second = store.Claim(1, "k", "h", 11);
  ASSERT_TRUE(second.has_value() && second->has_value());
  EXPECT_FALSE((*second)->complete);
  ASSERT_TRUE(store.Complete(1, "k", {"h", true, 201, "application/json", "[]", "{}"}).has_value());
  auto third = store.Claim(1, "k", "h", 12);
  EXPECT_TRUE((*third)->complete);
  EXPECT_EQ((*third)->status, 201);
  EXPECT_FALSE(store.Claim(2, "k", "h", 12)->has_value()) << "keys are per user";
}

INSTANTIATE_TEST_SUITE_P(Engines, StoreContract,
                         ::testing::Values(Engine::kSqlite, Engine::kPostgres),
                         testing::EngineName);

}  // namespace
}  // namespace kehu
