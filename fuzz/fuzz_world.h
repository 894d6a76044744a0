// A small, real Kehu for the fuzz targets that need the services: the customer service and
// everything it calls, on a fresh SQLite database in a temporary directory (removed at exit),
// with two teams, a few users, custom fields of every type and some customers.
#pragma once

#include <spdlog/spdlog.h>

#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "access/service.h"
#include "audit/service.h"
#include "core/error.h"
#include "crypto/crypto.h"
#include "customer/codec.h"
#include "customer/service.h"
#include "db/database.h"
#include "field/service.h"
#include "fuzz_check.h"
#include "idempotency/store.h"
#include "phone/normalizer.h"
#include "user/service.h"

namespace kehu::fuzz {

class World {
 public:
  // The one instance of this process (set up on first use).
  static World& Get() {
    static World* w = new World();  // never destroyed: the checkpointer thread may still run
    return *w;
  }

  const phone::Normalizer& phones() const { return phones_; }
  customer::CustomerService& customers() { return *customers_; }

  core::Actor admin;  // admin role, scope all
  core::Actor north;  // sales_manager of team 华北区 (team scope)
  core::Actor south;  // sales_manager of team 华南区 (team scope)
  core::Actor rep;    // sales in 华北区 (own scope)

 private:
  World() {
    spdlog::set_level(spdlog::level::off);
    Must(crypto::Init(), "crypto::Init");
    const char* tmp = std::getenv("TMPDIR");
    std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/kehu-fuzz-XXXXXX";
    if (!mkdtemp(dir.data())) Fail("mkdtemp", dir);
    dir_ = dir;
    static std::string dir_for_exit;
    dir_for_exit = dir_;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(dir_for_exit, ec);
    });

    db_ = Must(db::Database::Open("sqlite:" + dir_ + "/fuzz.db", 2), "open database");
    // The same modules as app::AllMigrations() (src/app/ is not built for fuzzing).
    std::vector<db::Migration> all;
    for (auto part : {user::Migrations(), customer::Migrations(), field::Migrations(),
                      idempotency::Migrations(), access::Migrations(), audit::Migrations()}) {
      all.insert(all.end(), part.begin(), part.end());
    }
    Must(db_->Migrate(all), "migrate");

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

    const core::Actor local = core::Actor::LocalAdmin();
    auto team_north = Must(access_->CreateTeam(local, "华北区", std::nullopt), "team");
    auto team_south = Must(access_->CreateTeam(local, "华南区", std::nullopt), "team");
    admin = MakeActor("admin", "admin", std::nullopt);
    north = MakeActor("boss_north", "sales_manager", team_north.id);
    south = MakeActor("boss_south", "sales_manager", team_south.id);
    rep = MakeActor("rep_north", "sales", team_north.id);
    // Refresh the managers' scopes now that the rep is in the north team.
    Must(access_->Resolve(north, "sales_manager", team_north.id), "resolve");

    auto field = [&](const char* name, field::Type type, std::vector<std::string> options) {
      field::FieldDef f;
      f.name = name;
      f.label = std::string("字段 ") + name;
      f.type = type;
      f.options = std::move(options);
      Must(fields_->Create(admin, f), "custom field");
    };
    field("industry", field::Type::kText, {});
    field("employees", field::Type::kNumber, {});
    field("founded", field::Type::kDate, {});
    field("level", field::Type::kSelect, {"A", "B", "重点客户"});
    field("channels", field::Type::kMultiselect, {"电话", "微信", "邮件"});

    Seed(admin, R"({"name":"张伟","code":"KH-0001","company":"秦皇岛港务有限公司",
        "phones":[{"number":"0335-3051234 转 12","label":"办公"},"+86 138-0013-8000"],
        "emails":["Zhang.Wei@Example.COM"],"id_number":"11010519491231002X",
        "credit_code":"91350100M000100Y43","province":"河北省","city":"秦皇岛市",
        "address":"海港区文化路 1 号","source":"展会","stage":"intent",
        "custom":{"industry":"港口","employees":120,"level":"重点客户","channels":["电话","微信"]}})");
    Seed(
        north,
        R"({"name":"李娜","phones":["13912345678"],"emails":["li.na@example.cn"],"source":"官网"})");
    Seed(rep, R"({"name":"王芳","phones":["010-6552 9988"],"city":"北京市"})");
    Seed(
        south,
        R"({"name":"陈静","code":"KH-SOUTH","phones":["+86 20 8888 1234"],"emails":["chen@example.com"]})");
    Seed(south,
         R"({"name":"Zhao Min","phones":["13812348000"],"province":"广东省","source":"展会"})");
  }

  core::Actor MakeActor(const std::string& name, const std::string& role,
                        std::optional<int64_t> team) {
    user::NewUser nu;
    nu.username = name;
    nu.password = "Gq7!zzxv-kehu-fuzz";
    nu.display_name = name + " 显示名";
    nu.role = role;
    nu.team_id = team;
    auto u = Must(users_->Create(core::Actor::LocalAdmin(), nu), "create user " + name);
    core::Actor a;
    a.user_id = u.id;
    a.username = u.username;
    a.display_name = u.display_name;
    Must(access_->Resolve(a, role, team), "resolve");
    return a;
  }

  void Seed(const core::Actor& by, std::string_view body) {
    auto in = Must(customer::ParseInput(nlohmann::json::parse(body)), "seed input");
    Must(customers_->Create(by, in), "seed customer");
  }

  std::string dir_;
  crypto::KeyRing keys_ = crypto::KeyRing::FromKeys({{1, std::string(32, 'f')}});
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
};

}  // namespace kehu::fuzz
