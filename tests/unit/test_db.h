// Test databases: a fresh SQLite file, or a fresh schema on the PostgreSQL server named by
// KEHU_TEST_PG_URL (the PostgreSQL cases are skipped when it is unset).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "app/app.h"
#include "db/database.h"

namespace kehu::testing {

enum class Engine { kSqlite, kPostgres };

inline std::string EngineName(const ::testing::TestParamInfo<Engine>& info) {
  return info.param == Engine::kSqlite ? "SQLite" : "PostgreSQL";
}

inline std::string RandomSuffix() {
  static std::mt19937_64 rng{std::random_device{}()};
  return std::to_string(rng() % 1000000000000ULL);
}

inline std::filesystem::path TempDir() {
  auto dir = std::filesystem::temp_directory_path() / ("kehu-test-" + RandomSuffix());
  std::filesystem::create_directories(dir);
  return dir;
}

// Opens a migrated, empty database; skips the test when PostgreSQL is not configured.
inline std::unique_ptr<db::Database> OpenTestDb(Engine engine, std::size_t pool = 4) {
  std::string url;
  if (engine == Engine::kSqlite) {
    url = "sqlite:" + (TempDir() / "test.db").string();
  } else {
    const char* pg = std::getenv("KEHU_TEST_PG_URL");
    if (!pg || !*pg) return nullptr;
    std::string schema = "t" + RandomSuffix();
    auto admin = db::Database::Open(pg, 1);
    if (!admin) {
      ADD_FAILURE() << "KEHU_TEST_PG_URL is set but unusable: " << admin.error().message();
      return nullptr;
    }
    auto made = (*admin)->Write([&](soci::session& sql) { sql << "CREATE SCHEMA " + schema; });
    if (!made) {
      ADD_FAILURE() << made.error().message();
      return nullptr;
    }
    url = std::string(pg) + (std::string(pg).find('?') == std::string::npos ? "?" : "&") +
          "options=-csearch_path%3D" + schema;
  }
  auto db = db::Database::Open(url, pool);
  if (!db) {
    ADD_FAILURE() << db.error().message();
    return nullptr;
  }
  auto migrated = (*db)->Migrate(app::AllMigrations());
  if (!migrated) {
    ADD_FAILURE() << migrated.error().message();
    return nullptr;
  }
  return std::move(*db);
}

#define KEHU_OPEN_DB_OR_SKIP(var, engine)                                                 \
  auto var = ::kehu::testing::OpenTestDb(engine);                                         \
  if (!var) {                                                                             \
    if (engine == ::kehu::testing::Engine::kPostgres && !std::getenv("KEHU_TEST_PG_URL")) \
      GTEST_SKIP() << "set KEHU_TEST_PG_URL";                                             \
    FAIL() << "cannot open test database";                                                \
  }

}  // namespace kehu::testing
