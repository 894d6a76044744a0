// The audit trail: the hash chain itself, the store and service on both engines (SQLite, and
// PostgreSQL when KEHU_TEST_PG_URL is set), tampering found by Verify, concurrent appends, the
// exports, the query parameters of the routes and the CLI.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "audit/chain.h"
#include "audit/cli.h"
#include "audit/codec.h"
#include "audit/routes.h"
#include "audit/service.h"
#include "audit/store.h"
#include "core/time.h"
#include "core/validate.h"
#include "test_db.h"

namespace kehu {
namespace {

using testing::Engine;

core::Actor MakeActor(int64_t id, std::string username, std::string display_name, bool admin) {
  core::Actor a = admin ? core::Actor::LocalAdmin() : core::Actor();
  a.user_id = id;
  a.username = std::move(username);
  a.display_name = std::move(display_name);
  a.role = admin ? "admin" : "sales";
  if (!admin) a.perms.Add(core::Perm::kCustomerRead);
  return a;
}
const core::Actor kAdmin = MakeActor(1, "admin", "管理员", true);
const core::Actor kMember = MakeActor(2, "li", "李娜", false);

audit::Entry Sample() {
  audit::Entry e;
  e.seq = 1;
  e.at = 1795000000123;
  e.actor_id = 7;
  e.actor_name = "王芳";
  e.action = "customer.update";
  e.entity = "customer";
  e.entity_id = "42";
  e.ip = "10.0.0.8";
  e.details = {{"fields", {"name", "phones"}}};
  e.details_text = e.details.dump();
  return e;
}

// ---- the chain, without a database -------------------------------------------------------------

TEST(AuditChain, CanonicalFormIsACompactJsonArrayOfEveryColumn) {
  EXPECT_EQ(audit::Canonical(Sample()),
            R"([1,1795000000123,7,"王芳","customer.update","customer","42","10.0.0.8",)"
            R"("{\"fields\":[\"name\",\"phones\"]}"])");
}

TEST(AuditChain, HashIsSha256OfPrevHashAndCanonicalForm) {
  // Computed independently (Python hashlib/json), as docs/security.md describes it: a change
  // here breaks the verification of every existing log.
  audit::Entry e = Sample();
  std::string first = audit::ChainHash(audit::kGenesisHash, e);
  EXPECT_EQ(first, "2e07a2b744aa41ccce3cd05d910d146314a18ab5c3cac358ab42a5fd506c4f6f");
  audit::Entry next;
  next.seq = 2;
  next.at = 1795000000456;
  next.actor_name = "=cmd";
  next.action = "auth.login_failed";
  next.ip = "::1";
  next.details_text = "{}";
  EXPECT_EQ(audit::ChainHash(first, next),
            "654567ba03139c646685cc357495dff9978743e2fed30050676485392c39e661");
}

TEST(AuditChain, EveryColumnAndThePrevHashChangeTheHash) {
  const audit::Entry base = Sample();
  const std::string h = audit::ChainHash(audit::kGenesisHash, base);
  std::vector<std::function<void(audit::Entry&)>> edits = {
      [](audit::Entry& e) { e.seq += 1; },
      [](audit::Entry& e) { e.at += 1; },
      [](audit::Entry& e) { e.actor_id += 1; },
      [](audit::Entry& e) { e.actor_name += "x"; },
      [](audit::Entry& e) { e.action = "customer.delete"; },
      [](audit::Entry& e) { e.entity = "user"; },
      [](audit::Entry& e) { e.entity_id = "43"; },
      [](audit::Entry& e) { e.ip = "10.0.0.9"; },
      [](audit::Entry& e) { e.details_text = R"({"fields":["name"]})"; },
      // A character moved from one column to the next must not give the same bytes.
      [](audit::Entry& e) {
        e.action = "customer.updatec";
        e.entity = "ustomer";
      },
  };
  std::set<std::string> seen = {h};
  for (std::size_t i = 0; i < edits.size(); ++i) {
    audit::Entry e = base;
    edits[i](e);
    EXPECT_TRUE(seen.insert(audit::ChainHash(audit::kGenesisHash, e)).second) << "edit " << i;
  }
  EXPECT_NE(audit::ChainHash(std::string(63, '0') + "1", base), h);
  // The parsed details are not what is hashed: the stored text is.
  audit::Entry e = base;
  e.details = nlohmann::json::object();
  EXPECT_EQ(audit::ChainHash(audit::kGenesisHash, e), h);
}

TEST(AuditCodec, CsvQuotesCellsAndDefusesFormulas) {
  audit::Entry e = Sample();
  e.id = 9;
  e.actor_name = "=HYPERLINK(\"x\")";
  e.entity_id = "a,b";
  e.prev_hash = std::string(audit::kGenesisHash);
  e.hash = "ab";
  EXPECT_EQ(audit::CsvRow(e),
            "9,1,2026-11-18T11:06:40.123Z,7,\"'=HYPERLINK(\"\"x\"\")\",customer.update,customer,"
            "\"a,b\",10.0.0.8,\"{\"\"fields\"\":[\"\"name\"\",\"\"phones\"\"]}\"," +
                std::string(audit::kGenesisHash) + ",ab\r\n");
  EXPECT_EQ(audit::CsvHeader(),
            "id,seq,at,actor_id,actor_name,action,entity,entity_id,ip,details,prev_hash,hash\r\n");
}

TEST(AuditCodec, VerifyReportJson) {
  audit::VerifyReport ok{true, 3, std::nullopt, "", "abc"};
  EXPECT_EQ(audit::ToJson(ok), nlohmann::json::parse(R"({"ok":true,"checked":3,
            "first_broken_id":null,"reason":null,"head_hash":"abc"})"));
  audit::VerifyReport bad{false, 2, 7, std::string(audit::kReasonHashMismatch), "abc"};
  EXPECT_EQ(audit::ToJson(bad)["first_broken_id"], 7);
  EXPECT_EQ(audit::ToJson(bad)["reason"], audit::kReasonHashMismatch);
}

// ---- route parameters --------------------------------------------------------------------------

http::Request Query(std::map<std::string, std::string> q) {
  http::Request r;
  r.query = std::move(q);
  return r;
}

TEST(AuditRoutes, ParsesFiltersLimitAndCursor) {
  auto q = audit::ParseListQuery(Query({{"actor_id", "3"},
                                        {"action", "customer."},
                                        {"entity", "customer"},
                                        {"entity_id", "42"},
                                        {"from", "1795000000000"},
                                        {"to", "2026-11-22"},
                                        {"limit", "500"},
                                        {"cursor", "77"}}));
  ASSERT_TRUE(q.has_value()) << q.error().message();
  EXPECT_EQ(q->actor_id, 3);
  EXPECT_EQ(q->action, "customer.");
  EXPECT_EQ(q->entity, "customer");
  EXPECT_EQ(q->entity_id, "42");
  EXPECT_EQ(q->from, 1795000000000);
  // A plain date as upper bound includes that whole day (Asia/Shanghai).
  EXPECT_EQ(q->to, *core::ParseTime("2026-11-23T00:00:00+08:00"));
  EXPECT_EQ(q->limit, 500);
  EXPECT_EQ(q->cursor, 77);

  auto rfc = audit::ParseListQuery(Query({{"from", "2026-11-22T15:14:08.123Z"}}));
  ASSERT_TRUE(rfc.has_value());
  EXPECT_EQ(rfc->from, *core::ParseTime("2026-11-22T15:14:08.123Z"));
  EXPECT_EQ(rfc->limit, audit::kDefaultLimit);
  EXPECT_FALSE(rfc->cursor.has_value());
}

TEST(AuditRoutes, RejectsBadParametersWith400) {
  for (const auto& q : std::vector<std::map<std::string, std::string>>{
           {{"limit", "0"}},
           {{"limit", "501"}},
           {{"limit", "ten"}},
           {{"cursor", "abc"}},
           {{"cursor", "0"}},
           {{"actor_id", "x"}},
           {{"actor_id", "-1"}},
           {{"from", "yesterday"}},
           {{"to", "2026-13-01"}},
           {{"action", ""}},
           {{"sort", "at"}},
       }) {
    auto parsed = audit::ParseListQuery(Query(q));
    ASSERT_FALSE(parsed.has_value()) << q.begin()->first << "=" << q.begin()->second;
    EXPECT_EQ(parsed.error().code(), core::Code::kBadRequest);
  }
  auto csv = audit::ParseExportQuery(Query({{"action", "auth."}}));
  ASSERT_TRUE(csv.has_value());
  EXPECT_EQ(csv->second, audit::ExportFormat::kCsv);
  EXPECT_EQ(csv->first.action, "auth.");
  EXPECT_EQ(audit::ParseExportQuery(Query({{"format", "json"}}))->second,
            audit::ExportFormat::kJson);
  EXPECT_EQ(audit::ParseExportQuery(Query({{"format", "xlsx"}})).error().code(),
            core::Code::kBadRequest);
  EXPECT_EQ(audit::ParseExportQuery(Query({{"limit", "5"}})).error().code(),
            core::Code::kBadRequest);
}

// ---- store and service on both engines ---------------------------------------------------------

class AuditTrail : public ::testing::TestWithParam<Engine> {};

// Five entries through the service; returns them as recorded.
std::vector<audit::Entry> RecordFive(audit::AuditLog& log) {
  std::vector<audit::Entry> out;
  auto add = [&](core::Result<audit::Entry> e) {
    EXPECT_TRUE(e.has_value()) << e.error().message();
    if (e) out.push_back(*e);
  };
  add(log.Record(kAdmin, {"auth.login", "", "", {}}, "10.0.0.1"));
  add(log.Record(kAdmin, {"customer.create", "customer", "42", {}}, "10.0.0.1"));
  add(log.Record(kMember, {"customer.update", "customer", "42", {{"fields", {"name"}}}},
                 "10.0.0.2"));
  add(log.Record(kMember, {"customer.delete", "customer", "43", {}}, "10.0.0.2"));
  add(log.RecordAnonymous("mallory", "203.0.113.9", {"auth.login_failed", "", "", {}}));
  return out;
}

void Exec(db::Database& db, const std::string& statement, int64_t id) {
  auto done = db.Write([&](soci::session& sql) {
    long long i = id;
    sql << statement, soci::use(i);
  });
  ASSERT_TRUE(done.has_value()) << statement << ": " << done.error().message();
}

audit::VerifyReport MustVerify(audit::AuditLog& log) {
  auto r = log.Verify(kAdmin);
  EXPECT_TRUE(r.has_value()) << r.error().message();
  return r.value_or(audit::VerifyReport{});
}

std::vector<int64_t> Ids(const audit::Page& p) {
  std::vector<int64_t> out;
  for (const auto& e : p.items) out.push_back(e.id);
  return out;
}

TEST_P(AuditTrail, AppendLinksEachEntryToTheOneBefore) {
  KEHU_OPEN_DB_OR_SKIP(db, GetParam());
  audit::AuditStore store(*db);
  audit::AuditLog log(store);
  auto head = store.GetHead();
  ASSERT_TRUE(head.has_value() && head->has_value());
  EXPECT_EQ((*head)->seq, 0);
  EXPECT_EQ((*head)->hash, audit::kGenesisHash);

  auto e = RecordFive(log);
  ASSERT_EQ(e.size(), 5u);
  std::string prev(audit::kGenesisHash);
  for (std::size_t i = 0; i < e.size(); ++i) {
    EXPECT_EQ(e[i].seq, static_cast<int64_t>(i + 1));
    EXPECT_EQ(e[i].prev_hash, prev);
    EXPECT_EQ(e[i].hash, audit::ChainHash(prev, e[i]));
    EXPECT_EQ(e[i].hash.size(), 64u);
    if (i > 0) {
      EXPECT_GT(e[i].id, e[i - 1].id);
    }
    prev = e[i].hash;
  }
  EXPECT_EQ(e[0].actor_id, 1);
  EXPECT_EQ(e[0].actor_name, "admin");
  EXPECT_EQ(e[0].ip, "10.0.0.1");
  EXPECT_EQ(e[4].actor_id, 0);
  EXPECT_EQ(e[4].actor_name, "mallory");
  head = store.GetHead();
  EXPECT_EQ((*head)->seq, 5);
  EXPECT_EQ((*head)->hash, e[4].hash);
  EXPECT_EQ(store.Count().value_or(-1), 5);

  // Read back exactly as written.
  auto page = log.List(kAdmin, {});
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->items.size(), 5u);
  const audit::Entry& got = page->items[2];
  EXPECT_EQ(got.id, e[2].id);
  EXPECT_EQ(got.seq, 3);
  EXPECT_EQ(got.at, e[2].at);
  EXPECT_EQ(got.actor_name, "li");
  EXPECT_EQ(got.action, "customer.update");
  EXPECT_EQ(got.entity, "customer");
  EXPECT_EQ(got.entity_id, "42");
  EXPECT_EQ(got.details, nlohmann::json({{"fields", {"name"}}}));
  EXPECT_EQ(got.details_text, R"({"fields":["name"]})");
  EXPECT_EQ(got.prev_hash, e[1].hash);
  EXPECT_EQ(got.hash, e[2].hash);
}

TEST_P(AuditTrail, ListFiltersNewestFirstWithCursor) {
  KEHU_OPEN_DB_OR_SKIP(db, GetParam());
  audit::AuditStore store(*db);
  audit::AuditLog log(store);
  struct Row {
    int64_t actor;
    const char* action;
    const char* entity;
    const char* entity_id;
  };
  std::vector<int64_t> id;
  int64_t at = 1000;
  for (Row r :
       {Row{1, "auth.login", "", ""}, Row{1, "customer.create", "customer", "42"},
        Row{2, "customer.update", "customer", "42"}, Row{2, "customer.delete", "customer", "43"},
        Row{0, "auth.login_failed", "", ""}, Row{2, "customers.list", "", ""}}) {
    audit::Entry e;
    e.at = at;
    at += 1000;
    e.actor_id = r.actor;
    e.actor_name = "u" + std::to_string(r.actor);
    e.action = r.action;
    e.entity = r.entity;
    e.entity_id = r.entity_id;
    ASSERT_TRUE(store.Append(e).has_value());
    id.push_back(e.id);
  }
  auto list = [&](audit::ListQuery q) {
    auto p = log.List(kAdmin, q);
    EXPECT_TRUE(p.has_value()) << p.error().message();
    return p ? Ids(*p) : std::vector<int64_t>{};
  };
  audit::ListQuery q;
  EXPECT_EQ(list(q), (std::vector<int64_t>{id[5], id[4], id[3], id[2], id[1], id[0]}));
  q.actor_id = 2;
  EXPECT_EQ(list(q), (std::vector<int64_t>{id[5], id[3], id[2]}));
  q = {};
  q.actor_id = 0;
  EXPECT_EQ(list(q), (std::vector<int64_t>{id[4]}));
  q = {};
  q.action = "customer.";  // a prefix: not "customers.list"
  EXPECT_EQ(list(q), (std::vector<int64_t>{id[3], id[2], id[1]}));
  q.action = "auth.login";  // exact: not auth.login_failed
  EXPECT_EQ(list(q), (std::vector<int64_t>{id[0]}));
  q.action = "auth.";
  EXPECT_EQ(list(q), (std::vector<int64_t>{id[4], id[0]}));
  q = {};
  q.entity = "customer";
  q.entity_id = "42";
  EXPECT_EQ(list(q), (std::vector<int64_t>{id[2], id[1]}));
  q = {};
  q.from = 2000;  // inclusive
  q.to = 4000;    // exclusive
  EXPECT_EQ(list(q), (std::vector<int64_t>{id[2], id[1]}));

  q = {};
  q.limit = 4;
  auto p1 = log.List(kAdmin, q);
  ASSERT_TRUE(p1.has_value());
  EXPECT_EQ(Ids(*p1), (std::vector<int64_t>{id[5], id[4], id[3], id[2]}));
  ASSERT_TRUE(p1->next_cursor.has_value());
  q.cursor = p1->next_cursor;
  auto p2 = log.List(kAdmin, q);
  ASSERT_TRUE(p2.has_value());
  EXPECT_EQ(Ids(*p2), (std::vector<int64_t>{id[1], id[0]}));
  EXPECT_FALSE(p2->next_cursor.has_value());
  q = {};
  q.limit = 6;  // exactly all: no further page
  EXPECT_FALSE(log.List(kAdmin, q)->next_cursor.has_value());

  q.limit = 0;
  EXPECT_EQ(log.List(kAdmin, q).error().code(), core::Code::kBadRequest);
  q.limit = 501;
  EXPECT_EQ(log.List(kAdmin, q).error().code(), core::Code::kBadRequest);
}

TEST_P(AuditTrail, OnlyAdminsReadVerifyOrExport) {
  KEHU_OPEN_DB_OR_SKIP(db, GetParam());
  audit::AuditStore store(*db);
  audit::AuditLog log(store);
  ASSERT_TRUE(log.Record(kMember, {"customer.create", "customer", "1", {}}).has_value());
  EXPECT_EQ(log.List(kMember, {}).error().code(), core::Code::kForbidden);
  EXPECT_EQ(log.Verify(kMember).error().code(), core::Code::kForbidden);
  std::string out;
  auto exported =
      log.Export(kMember, {}, audit::ExportFormat::kCsv, [&](std::string_view s) { out += s; });
  EXPECT_EQ(exported.error().code(), core::Code::kForbidden);
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(log.List(core::Actor::LocalAdmin(), {}).has_value());
}

TEST_P(AuditTrail, RecordValidatesAndCleansItsInput) {
  KEHU_OPEN_DB_OR_SKIP(db, GetParam());
  audit::AuditStore store(*db);
  audit::AuditLog log(store);
  for (const char* bad : {"", "login", "Customer.create", "customer.", ".create", "customer..x",
                          "customer.create!"}) {
    auto r = log.Record(kAdmin, {bad, "", "", {}});
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code(), core::Code::kInvalid) << bad;
  }
  EXPECT_EQ(log.Record(kAdmin, {"customer.create", "Customer", "", {}}).error().code(),
            core::Code::kInvalid);
  EXPECT_EQ(
      log.Record(kAdmin, {"customer.create", "customer", std::string(129, '1'), {}}).error().code(),
      core::Code::kInvalid);
  EXPECT_EQ(log.Record(kAdmin, {"customer.update", "customer", "1", {"name"}}).error().code(),
            core::Code::kInvalid);
  EXPECT_EQ(
      log.Record(kAdmin, {"customer.update", "customer", "1", {{"note", std::string(9000, 'x')}}})
          .error()
          .code(),
      core::Code::kInvalid);
  EXPECT_EQ(store.Count().value_or(-1), 0) << "nothing half-written";

  // An unknown user's login name is untrusted: invalid UTF-8 and control characters are
  // replaced, and it is cut to 200 bytes on a character boundary.
  std::string name = "bad\xff\x01name\n" + std::string(300, 'x');
  auto anon = log.RecordAnonymous(name, "::1", {"auth.login_failed", "", "", nullptr});
  ASSERT_TRUE(anon.has_value()) << anon.error().message();
  EXPECT_TRUE(core::IsValidUtf8(anon->actor_name));
  EXPECT_LE(anon->actor_name.size(), 200u);
  EXPECT_TRUE(anon->actor_name.starts_with("bad\xEF\xBF\xBD\xEF\xBF\xBDname\xEF\xBF\xBDxxx"));
  EXPECT_EQ(anon->details, nlohmann::json::object());
  auto cut =
      log.RecordAnonymous(std::string(199, 'a') + "张", "", {"auth.login_failed", "", "", {}});
  ASSERT_TRUE(cut.has_value());
  EXPECT_EQ(cut->actor_name, std::string(199, 'a'));
  EXPECT_TRUE(MustVerify(log).ok);
}

TEST_P(AuditTrail, VerifyPassesAnIntactChain) {
  KEHU_OPEN_DB_OR_SKIP(db, GetParam());
  audit::AuditStore store(*db);
  audit::AuditLog log(store);
  auto empty = MustVerify(log);
  EXPECT_TRUE(empty.ok);
  EXPECT_EQ(empty.checked, 0);
  EXPECT_EQ(empty.head_hash, audit::kGenesisHash);

  auto e = RecordFive(log);
  auto r = MustVerify(log);
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.checked, 5);
  EXPECT_FALSE(r.first_broken_id.has_value());
  EXPECT_EQ(r.reason, "");
  EXPECT_EQ(r.head_hash, e.back().hash);
}

TEST_P(AuditTrail, VerifyFindsAnEditedEntry) {
  KEHU_OPEN_DB_OR_SKIP(db, GetParam());
  audit::AuditStore store(*db);
  audit::AuditLog log(store);
  auto e = RecordFive(log);
  ASSERT_EQ(e.size(), 5u);
  Exec(*db, "UPDATE audit_log SET actor_name = 'someone else' WHERE id = :i", e[2].id);
  auto r = MustVerify(log);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_broken_id, e[2].id);
  EXPECT_EQ(r.reason, audit::kReasonHashMismatch);
  EXPECT_EQ(r.checked, 3);
}

TEST_P(AuditTrail, VerifyFindsAnEditInAnyColumn) {
  KEHU_OPEN_DB_OR_SKIP(db, GetParam());
  audit::AuditStore store(*db);
  audit::AuditLog log(store);
  auto e = RecordFive(log);
  ASSERT_EQ(e.size(), 5u);
  const audit::Entry& third = e[2];
  const std::string f64(64, 'f');
  for (const std::string& set : std::vector<std::string>{
           "seq = seq + 1000", "at = at + 1", "actor_id = actor_id + 1", "actor_name = 'li2'",
           "action = 'customer.delete'", "entity = 'user'", "entity_id = '43'", "ip = '10.0.0.3'",
           R"(details = '{"fields":["notes"]}')", "details = 'not json'",
           "prev_hash = '" + f64 + "'", "hash = '" + f64 + "'"}) {
    SCOPED_TRACE(set);
    Exec(*db, "UPDATE audit_log SET " + set + " WHERE id = :i", third.id);
    auto r = MustVerify(log);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.first_broken_id, third.id);
    // Put the row back as it was: the chain verifies again.
    auto restored = db->Write([&](soci::session& sql) {
      long long id = third.id, seq = third.seq, at = third.at, actor = third.actor_id;
      sql << "UPDATE audit_log SET seq = :s, at = :a, actor_id = :ai, actor_name = :an, "
             "action = :ac, entity = :en, entity_id = :ei, ip = :ip, details = :d, "
             "prev_hash = :ph, hash = :h WHERE id = :i",
          soci::use(seq), soci::use(at), soci::use(actor), soci::use(third.actor_name),
          soci::use(third.action), soci::use(third.entity), soci::use(third.entity_id),
          soci::use(third.ip), soci::use(third.details_text), soci::use(third.prev_hash),
          soci::use(third.hash), soci::use(id);
    });
    ASSERT_TRUE(restored.has_value());
    EXPECT_TRUE(MustVerify(log).ok);
  }
}

TEST_P(AuditTrail, VerifyFindsARehashedEntryAtTheNextLink) {
  KEHU_OPEN_DB_OR_SKIP(db, GetParam());
  audit::AuditStore store(*db);
  audit::AuditLog log(store);
  auto e = RecordFive(log);
  ASSERT_EQ(e.size(), 5u);
  // Changed and given a correct hash of its own: the next entry no longer links to it.
  audit::Entry forged = e[2];
  forged.actor_name = "someone else";
  forged.hash = audit::ChainHash(forged.prev_hash, forged);
  auto done = db->Write([&](soci::session& sql) {
    long long id = forged.id;
    sql << "UPDATE audit_log SET actor_name = :n, hash = :h WHERE id = :i",
        soci::use(forged.actor_name), soci::use(forged.hash), soci::use(id);
  });
  ASSERT_TRUE(done.has_value());
  auto r = MustVerify(log);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_broken_id, e[3].id);
  EXPECT_EQ(r.reason, audit::kReasonBrokenLink);
}

TEST_P(AuditTrail, VerifyFindsARemovedEntryAtTheNextOne) {
  KEHU_OPEN_DB_OR_SKIP(db, GetParam());
  audit::AuditStore store(*db);
  audit::AuditLog log(store);
  auto e = RecordFive(log);
  ASSERT_EQ(e.size(), 5u);
  Exec(*db, "DELETE FROM audit_log WHERE id = :i", e[2].id);
  auto r = MustVerify(log);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_broken_id, e[3].id);
  EXPECT_EQ(r.reason, audit::kReasonBrokenLink);

  Exec(*db, "DELETE FROM audit_log WHERE id = :i", e[0].id);  // the first one too
  r = MustVerify(log);
  EXPECT_EQ(r.first_broken_id, e[1].id);
  EXPECT_EQ(r.reason, audit::kReasonBrokenLink);
}

TEST_P(AuditTrail, VerifyFindsEntriesRemovedAtTheEnd) {
  KEHU_OPEN_DB_OR_SKIP(db, GetParam());
  audit::AuditStore store(*db);
  audit::AuditLog log(store);
  auto e = RecordFive(log);
  ASSERT_EQ(e.size(), 5u);
  Exec(*db, "DELETE FROM audit_log WHERE id = :i", e[4].id);
  auto r = MustVerify(log);
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.first_broken_id.has_value());
  EXPECT_EQ(r.reason, audit::kReasonHeadBehind);
  EXPECT_EQ(r.checked, 4);
  EXPECT_EQ(r.head_hash, e[4].hash);

  // Appending goes on from the head, so the gap stays visible at the new entry.
  auto next = log.Record(kAdmin, {"auth.logout", "", "", {}});
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->prev_hash, e[4].hash);
  r = MustVerify(log);
  EXPECT_EQ(r.first_broken_id, next->id);
  EXPECT_EQ(r.reason, audit::kReasonBrokenLink);

  // Everything removed.
  Exec(*db, "DELETE FROM audit_log WHERE id > :i", 0);
  r = MustVerify(log);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.reason, audit::kReasonHeadBehind);
  EXPECT_EQ(r.checked, 0);
}

TEST_P(AuditTrail, VerifyFindsAMovedOrMissingHead) {
  KEHU_OPEN_DB_OR_SKIP(db, GetParam());
  audit::AuditStore store(*db);
  audit::AuditLog log(store);
  auto e = RecordFive(log);
  ASSERT_EQ(e.size(), 5u);

  // A well-formed entry inserted behind the log's back: the head does not cover it.
  audit::Entry forged;
  forged.seq = 6;
  forged.at = e[4].at + 1;
  forged.actor_name = "ghost";
  forged.action = "auth.login";
  forged.details_text = "{}";
  forged.prev_hash = e[4].hash;
  forged.hash = audit::ChainHash(forged.prev_hash, forged);
  auto inserted = db->Write([&](soci::session& sql) {
    long long seq = forged.seq, at = forged.at, actor = 0;
    sql << "INSERT INTO audit_log (seq, at, actor_id, actor_name, action, entity, entity_id, ip, "
           "details, prev_hash, hash) VALUES (:s, :a, :ai, :an, :ac, '', '', '', :d, :ph, :h)",
        soci::use(seq), soci::use(at), soci::use(actor), soci::use(forged.actor_name),
        soci::use(forged.action), soci::use(forged.details_text), soci::use(forged.prev_hash),
        soci::use(forged.hash);
  });
  ASSERT_TRUE(inserted.has_value()) << inserted.error().message();
  auto page = log.List(kAdmin, {});
  ASSERT_TRUE(page.has_value());
  auto r = MustVerify(log);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_broken_id, page->items.front().id);
  EXPECT_EQ(r.reason, audit::kReasonHeadAhead);
  Exec(*db, "DELETE FROM audit_log WHERE seq = :i", 6);
  EXPECT_TRUE(MustVerify(log).ok);

  // The head itself changed.
  Exec(*db, "UPDATE audit_head SET hash = 'x' WHERE id = :i", 1);
  r = MustVerify(log);
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.first_broken_id.has_value());
  EXPECT_EQ(r.reason, audit::kReasonHeadBehind);

  // Or gone: nothing can be appended any more, and Verify says why.
  Exec(*db, "DELETE FROM audit_head WHERE id = :i", 1);
  r = MustVerify(log);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.reason, audit::kReasonNoHead);
  auto refused = log.Record(kAdmin, {"auth.login", "", "", {}});
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), core::Code::kInternal);
  EXPECT_EQ(store.Count().value_or(-1), 5);
}

TEST_P(AuditTrail, ConcurrentAppendsKeepTheChainIntact) {
  KEHU_OPEN_DB_OR_SKIP(db, GetParam());
  audit::AuditStore store(*db);
  audit::AuditLog log(store);
  constexpr int kThreads = 8, kPerThread = 50;
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      core::Actor actor = MakeActor(t + 1, "user" + std::to_string(t), "", false);
      for (int i = 0; i < kPerThread; ++i) {
        auto r = log.Record(actor, {"customer.update", "customer", std::to_string(i), {}});
        if (!r) ++failed;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(store.Count().value_or(-1), kThreads * kPerThread);
  auto r = MustVerify(log);
  EXPECT_TRUE(r.ok) << r.reason << " at " << r.first_broken_id.value_or(0);
  EXPECT_EQ(r.checked, kThreads * kPerThread);
  auto head = store.GetHead();
  ASSERT_TRUE(head.has_value() && head->has_value());
  EXPECT_EQ((*head)->seq, kThreads * kPerThread);
  EXPECT_EQ((*head)->hash, r.head_hash);
  // seq follows id order without gaps.
  int64_t expected = 0;
  ASSERT_TRUE(store
                  .Scan({},
                        [&](const audit::Entry& e) {
                          EXPECT_EQ(e.seq, ++expected);
                          return true;
                        })
                  .has_value());
  EXPECT_EQ(expected, kThreads * kPerThread);
}

TEST_P(AuditTrail, ScanReadsInBatchesInIdOrderAndStopsWhenAsked) {
  KEHU_OPEN_DB_OR_SKIP(db, GetParam());
  audit::AuditStore store(*db);
  audit::AuditLog log(store);
  auto e = RecordFive(log);
  std::vector<int64_t> seen;
  ASSERT_TRUE(store
                  .Scan(
                      {},
                      [&](const audit::Entry& x) {
                        seen.push_back(x.id);
                        return true;
                      },
                      /*batch=*/2)
                  .has_value());
  std::vector<int64_t> all;
  for (const auto& x : e) all.push_back(x.id);
  EXPECT_EQ(seen, all);
  seen.clear();
  audit::Filter f;
  f.actor_id = 2;
  ASSERT_TRUE(store
                  .Scan(
                      f,
                      [&](const audit::Entry& x) {
                        seen.push_back(x.id);
                        return seen.size() < 1;
                      },
                      1)
                  .has_value());
  EXPECT_EQ(seen, std::vector<int64_t>{e[2].id});
}

TEST_P(AuditTrail, ExportsCsvAndJson) {
  KEHU_OPEN_DB_OR_SKIP(db, GetParam());
  audit::AuditStore store(*db);
  audit::AuditLog log(store);
  auto e = RecordFive(log);
  ASSERT_TRUE(log.RecordAnonymous("=1+1", "", {"auth.login_failed", "", "", {}}).has_value());
  std::string csv;
  ASSERT_TRUE(
      log.Export(kAdmin, {}, audit::ExportFormat::kCsv, [&](std::string_view s) { csv += s; })
          .has_value());
  ASSERT_TRUE(csv.starts_with("\xEF\xBB\xBFid,seq,at,"));
  std::size_t lines = 0;
  for (std::size_t p = csv.find("\r\n"); p != std::string::npos; p = csv.find("\r\n", p + 2)) {
    ++lines;
  }
  EXPECT_EQ(lines, 7u);  // header and six entries
  EXPECT_NE(csv.find(audit::CsvRow(e[2])), std::string::npos);
  EXPECT_NE(csv.find(",'=1+1,auth.login_failed,"), std::string::npos);

  std::string json;
  audit::Filter f;
  f.action = "auth.";
  ASSERT_TRUE(
      log.Export(kAdmin, f, audit::ExportFormat::kJson, [&](std::string_view s) { json += s; })
          .has_value());
  auto parsed = nlohmann::json::parse(json, nullptr, false);
  ASSERT_TRUE(parsed.is_array()) << json;
  ASSERT_EQ(parsed.size(), 3u);
  EXPECT_EQ(parsed[0]["id"], e[0].id);  // oldest first
  EXPECT_EQ(parsed[0]["hash"], e[0].hash);
  EXPECT_EQ(parsed[1]["actor_name"], "mallory");
  EXPECT_EQ(parsed[2]["actor_name"], "=1+1");  // JSON carries values verbatim

  std::string none;
  f.action = "role.";
  ASSERT_TRUE(
      log.Export(kAdmin, f, audit::ExportFormat::kJson, [&](std::string_view s) { none += s; })
          .has_value());
  EXPECT_EQ(nlohmann::json::parse(none), nlohmann::json::array());
}

TEST_P(AuditTrail, CliVerifyExitsNonZeroOnABrokenChain) {
  KEHU_OPEN_DB_OR_SKIP(db, GetParam());
  audit::AuditStore store(*db);
  audit::AuditLog log(store);
  auto e = RecordFive(log);
  ASSERT_EQ(e.size(), 5u);
  auto run = [&](const std::string& args, std::string& out, std::string& err) {
    CLI::App cli;
    auto cmds = audit::AddCommands(cli);
    cli.parse(args, /*program_name_included=*/false);
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    auto code = audit::RunCommands(*cmds, log);
    out = ::testing::internal::GetCapturedStdout();
    err = ::testing::internal::GetCapturedStderr();
    return code;
  };
  std::string out, err;
  EXPECT_EQ(run("audit verify", out, err), 0);
  EXPECT_EQ(out, "audit chain ok: 5 entries, head " + e[4].hash + "\n");
  EXPECT_EQ(run("audit list --limit 2 --actor-id 2", out, err), 0);
  EXPECT_TRUE(out.starts_with(std::to_string(e[3].id) + "\t")) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2);
  EXPECT_NE(out.find("\t2\tli\tcustomer.delete\tcustomer\t43\t10.0.0.2\t{}\n"), std::string::npos)
      << out;

  Exec(*db, "UPDATE audit_log SET details = '{}' WHERE id = :i", e[2].id);
  EXPECT_EQ(run("audit verify", out, err), 1);
  EXPECT_EQ(out, "");
  EXPECT_EQ(err, "audit chain BROKEN at entry " + std::to_string(e[2].id) + ": " +
                     std::string(audit::kReasonHashMismatch) + "\n");
}

INSTANTIATE_TEST_SUITE_P(Audit, AuditTrail, ::testing::Values(Engine::kSqlite, Engine::kPostgres),
                         testing::EngineName);

}  // namespace
}  // namespace kehu
