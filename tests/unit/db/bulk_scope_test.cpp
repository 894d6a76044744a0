// Database::Bulk: while a scope is open, SQLite's writer has the larger page cache; scopes
// nest, and the last one ending gives the normal cache back. Writes work the same inside and
// outside, on both engines.
#include <gtest/gtest.h>

#include <utility>

#include "test_db.h"

namespace kehu {
namespace {

using testing::Engine;

class BulkScope : public ::testing::TestWithParam<Engine> {};

// The writer connection's cache_size (negative: KiB), read where WriteBatch writes.
int WriterCache(db::Database& db) {
  auto r = db.WriteBatch([](soci::session& sql) {
    int n = 0;
    sql << "PRAGMA cache_size", soci::into(n);
    return n;
  });
  EXPECT_TRUE(r.has_value());
  return r.value_or(0);
}

TEST_P(BulkScope, LargerWriterCacheWhileAnyScopeIsOpen) {
  KEHU_OPEN_DB_OR_SKIP(db, GetParam());
  ASSERT_TRUE(db->Write([](soci::session& sql) {
                  sql << "CREATE TABLE bulk_items (n INTEGER NOT NULL UNIQUE)";
                }).has_value());
  auto insert = [&](int n) {
    return db->WriteBatch([n](soci::session& sql) {
      int v = n;
      sql << "INSERT INTO bulk_items (n) VALUES (:n)", soci::use(v);
    });
  };
  ASSERT_TRUE(insert(1).has_value());
  if (GetParam() == Engine::kSqlite) {
    const int normal = WriterCache(*db);
    EXPECT_LT(normal, 0);
    {
      db::Database::BulkScope outer = db->Bulk();
      const int bulk = WriterCache(*db);
      EXPECT_LT(bulk, normal);  // more KiB
      {
        db::Database::BulkScope moved = std::move(outer);  // still one scope
        db::Database::BulkScope inner = db->Bulk();
        EXPECT_EQ(WriterCache(*db), bulk);
        ASSERT_TRUE(insert(2).has_value());
      }
      EXPECT_EQ(WriterCache(*db), normal);
    }
    EXPECT_EQ(WriterCache(*db), normal);
  } else {
    db::Database::BulkScope scope = db->Bulk();  // nothing to tune
    ASSERT_TRUE(insert(2).has_value());
  }
  EXPECT_FALSE(insert(2).has_value());  // still one transaction a batch: the unique index holds
  auto count = db->Read([](soci::session& sql) {
    int n = 0;
    sql << "SELECT COUNT(*) FROM bulk_items", soci::into(n);
    return n;
  });
  ASSERT_TRUE(count.has_value());
  EXPECT_EQ(*count, 2);
}

INSTANTIATE_TEST_SUITE_P(Engines, BulkScope, ::testing::Values(Engine::kSqlite, Engine::kPostgres),
                         testing::EngineName);

}  // namespace
}  // namespace kehu
