// The customer store's reads for duplicate detection (ScanPage, Holders, GetMany), on SQLite
// and, with KEHU_TEST_PG_URL, on PostgreSQL.
#include <gtest/gtest.h>

#include "customer/store.h"
#include "test_db.h"
#include "user/store.h"

namespace kehu {
namespace {

using testing::Engine;

class ScanStore : public ::testing::TestWithParam<Engine> {};

customer::Row MakeRow(const std::string& name, std::optional<int64_t> owner) {
  customer::Row r;
  r.name = name;
  r.name_key = name;
  r.gender = "unknown";
  r.company = name + "公司";
  r.city = "北京";
  r.stage = "potential";
  r.custom_json = "{}";
  r.owner_id = owner;
  r.created_at = r.updated_at = 1;
  r.version = 1;
  return r;
}

TEST_P(ScanStore, PagesThroughLiveCustomersWithTheirContactsAndScope) {
  KEHU_OPEN_DB_OR_SKIP(db, GetParam());
  user::UserStore users(*db);
  auto a = users.Insert({"a", "pw", "A", "sales", std::nullopt}, "hash", 1);
  auto b = users.Insert({"b", "pw", "B", "sales", std::nullopt}, "hash", 1);
  ASSERT_TRUE(a && b);
  customer::CustomerStore store(*db);
  std::vector<int64_t> ids;
  for (int i = 0; i < 7; ++i) {
    std::vector<customer::IndexEntry> index = {{"phone", "p" + std::to_string(i), "0000", ""}};
    if (i % 2 == 0) index.push_back({"email", "e" + std::to_string(i), "", ""});
    if (i == 3) index.push_back({"phone", "shared", "1111", ""});
    if (i == 5) index.push_back({"phone", "shared", "1111", ""});
    auto id = store.Insert(MakeRow("客户" + std::to_string(i), i < 4 ? a->id : b->id), index);
    ASSERT_TRUE(id.has_value()) << id.error().message();
    ids.push_back(*id);
  }
  ASSERT_TRUE(store.SetDeleted(ids[6], true, 1, 2).value_or(false));

  // Pages of 2: every live customer once, in id order, each with exactly its contacts.
  std::vector<customer::ScanRecord> all;
  int64_t after = 0;
  for (int page = 0; page < 10; ++page) {
    auto rows = store.ScanPage(after, 2, nullptr);
    ASSERT_TRUE(rows.has_value()) << rows.error().message();
    if (rows->empty()) break;
    after = rows->back().id;
    all.insert(all.end(), rows->begin(), rows->end());
  }
  ASSERT_EQ(all.size(), 6u);
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].id, ids[i]);
    EXPECT_EQ(all[i].name, "客户" + std::to_string(i));
    EXPECT_EQ(all[i].company, "客户" + std::to_string(i) + "公司");
    EXPECT_EQ(all[i].city, "北京");
    std::size_t want = 1 + (i % 2 == 0) + (i == 3 || i == 5);
    EXPECT_EQ(all[i].contacts.size(), want) << i;
  }
  EXPECT_EQ(all[0].owner_id, a->id);

  // Scope: only customers of the given owners.
  std::vector<int64_t> only_b = {b->id};
  auto scoped = store.ScanPage(0, 100, &only_b);
  ASSERT_TRUE(scoped.has_value());
  ASSERT_EQ(scoped->size(), 2u);  // 4 and 5 (6 is deleted)
  EXPECT_EQ((*scoped)[0].id, ids[4]);
  std::vector<int64_t> nobody;
  EXPECT_TRUE(store.ScanPage(0, 100, &nobody)->empty());

  // Holders of a blind index, and several customers by id.
  auto holders = store.Holders("phone", "shared", 10);
  ASSERT_TRUE(holders.has_value());
  ASSERT_EQ(holders->size(), 2u);
  EXPECT_EQ((*holders)[0].id, ids[3]);
  EXPECT_EQ((*holders)[1].id, ids[5]);
  EXPECT_TRUE(store.Holders("email", "shared", 10)->empty()) << "kinds are kept apart";
  auto many = store.GetMany({ids[5], ids[0], ids[6], 999999, ids[0]});
  ASSERT_TRUE(many.has_value());
  ASSERT_EQ(many->size(), 2u) << "unknown, deleted and repeated ids are left out";
  EXPECT_EQ((*many)[0].id, ids[0]);
  EXPECT_EQ((*many)[1].id, ids[5]);
}

INSTANTIATE_TEST_SUITE_P(Engines, ScanStore, ::testing::Values(Engine::kSqlite, Engine::kPostgres),
                         testing::EngineName);

}  // namespace
}  // namespace kehu
