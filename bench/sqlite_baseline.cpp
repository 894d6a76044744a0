// sqlite_baseline: the raw SQLite speed for rows comparable to what POST /api/v1/customers
// writes, as the baseline for the create benchmark. sqlite3 C API, one connection,
// prepared statements reused, WAL with synchronous=NORMAL (the server's settings), and one
// transaction per customer (the server commits each create on its own): a customers row
// carrying encrypted-size phone/email blobs, plus one contact index row per phone and email
// (1-2 phones, 1 email), on a table and index layout like the server's.
//
//   sqlite_baseline --db FILE [--count 100000] [--batch 1] [--import] [--defer-indexes]
//
// --batch B commits every B customers instead (B=1, the default, is the comparable case;
// a larger B shows what grouping commits could reach). --import writes as `kehu import` does:
// a 192 MiB page cache instead of 16 MiB, the log let grow to 256 MiB before a checkpoint,
// and a code for every customer (as imported rows have). --defer-indexes makes the three
// indexes whose keys arrive in random order (name keys, last four digits, blind indexes) after
// the load, each by one CREATE INDEX (a sort), inside the timed run: the ceiling of a bulk
// path that would build them that way instead of inserting into them row by row.
//
// Output: one machine line starting with "RESULT ".
#include <sqlite3.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

// The server's layout (customer/store.cpp migrations 2, 5 and 30); the page cache is set apart.
constexpr const char* kSchema = R"SQL(
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
PRAGMA foreign_keys=ON;
PRAGMA temp_store=MEMORY;
CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE);
INSERT INTO users (id, username) VALUES (1, 'admin');
CREATE TABLE customers (
  id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT UNIQUE, name TEXT NOT NULL,
  name_key TEXT NOT NULL, gender TEXT NOT NULL, company TEXT NOT NULL, title TEXT NOT NULL,
  phones_enc TEXT NOT NULL, emails_enc TEXT NOT NULL, id_number_enc TEXT NOT NULL,
  id_number_bidx TEXT NOT NULL, credit_code TEXT NOT NULL, province TEXT NOT NULL,
  city TEXT NOT NULL, district TEXT NOT NULL, address_enc TEXT NOT NULL, source TEXT NOT NULL,
  owner_id BIGINT REFERENCES users(id), stage TEXT NOT NULL, notes TEXT NOT NULL,
  custom_json TEXT NOT NULL, created_by BIGINT NOT NULL, created_at BIGINT NOT NULL,
  updated_by BIGINT NOT NULL, updated_at BIGINT NOT NULL, version BIGINT NOT NULL,
  deleted_at BIGINT, deleted_by BIGINT, tags_json TEXT NOT NULL DEFAULT '[]',
  quality_enc TEXT NOT NULL DEFAULT '', quality_open INTEGER NOT NULL DEFAULT 0,
  import_key TEXT);
CREATE INDEX customers_created ON customers(created_at, id);
CREATE INDEX customers_updated ON customers(updated_at, id);
CREATE INDEX customers_owner ON customers(owner_id);
CREATE INDEX customers_quality ON customers(created_at, id) WHERE quality_open > 0;
CREATE INDEX customers_import_key ON customers(import_key);
CREATE TABLE contact_index (
  customer_id BIGINT NOT NULL REFERENCES customers(id), kind TEXT NOT NULL,
  bidx TEXT NOT NULL, last4 TEXT NOT NULL, label TEXT NOT NULL);
CREATE INDEX contact_index_customer ON contact_index(customer_id);
)SQL";

// The indexes whose keys arrive in random order: pinyin name keys, last four digits and blind
// indexes. Made before the load, or with --defer-indexes after it (CREATE INDEX sorts).
constexpr const char* kRandomIndexes = R"SQL(
CREATE INDEX customers_name ON customers(name_key, id);
CREATE INDEX contact_index_last4 ON contact_index(last4);
CREATE INDEX contact_index_lookup ON contact_index(bidx, kind, customer_id, label);
)SQL";

uint64_t state = 0x9E3779B97F4A7C15ull;
uint64_t Next() {  // xorshift64*
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return state * 0x2545F4914F6CDD1Dull;
}

// Random text of n characters from a 64-letter alphabet (looks like base64 ciphertext).
std::string Blob(std::size_t n) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string s(n, 'A');
  for (std::size_t i = 0; i < n; ++i) s[i] = a[Next() & 63];
  return s;
}

std::string Hex(std::size_t n) {
  static const char* h = "0123456789abcdef";
  std::string s(n, '0');
  for (std::size_t i = 0; i < n; ++i) s[i] = h[Next() & 15];
  return s;
}

void Check(sqlite3* db, int rc, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    std::fprintf(stderr, "sqlite_baseline: %s: %s\n", what, sqlite3_errmsg(db));
    std::exit(1);
  }
}

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

void Text(sqlite3_stmt* st, int i, const std::string& s) {
  sqlite3_bind_text(st, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  long long count = 100000, batch = 1;
  bool import = false, defer = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--import") {
      import = true;
      continue;
    }
    if (a == "--defer-indexes") {
      defer = true;
      continue;
    }
    if (i + 1 >= argc) break;
    if (a == "--db")
      path = argv[++i];
    else if (a == "--count")
      count = std::atoll(argv[++i]);
    else if (a == "--batch")
      batch = std::atoll(argv[++i]);
  }
  if (path.empty() || count <= 0 || batch <= 0) {
    std::fprintf(stderr,
                 "usage: sqlite_baseline --db FILE [--count N] [--batch B] [--import] "
                 "[--defer-indexes]\n");
    return 2;
  }
  sqlite3* db = nullptr;
  Check(db, sqlite3_open(path.c_str(), &db), "open");
  Check(db, sqlite3_exec(db, kSchema, nullptr, nullptr, nullptr), "schema");
  if (!defer) Check(db, sqlite3_exec(db, kRandomIndexes, nullptr, nullptr, nullptr), "indexes");
  // An import's log grows to 256 MiB (65536 pages) before the checkpoint, which here runs
  // inline on this thread.
  const char* pragmas = import ? "PRAGMA cache_size=-192000; PRAGMA wal_autocheckpoint=65536; "
                                 "PRAGMA journal_size_limit=67108864;"
                               : "PRAGMA cache_size=-16000;";
  Check(db, sqlite3_exec(db, pragmas, nullptr, nullptr, nullptr), "pragmas");
  // Ciphertext-like texts made beforehand, so that the loop times SQLite alone.
  std::vector<std::string> one_phone, two_phones, emails;
  for (int k = 0; k < 64; ++k) {
    // Sizes seen in a kehu database: ~420 base64 chars per phone, ~120 per email.
    one_phone.push_back("k1:" + Blob(420));
    two_phones.push_back("k1:" + Blob(820));
    emails.push_back("k1:" + Blob(120));
  }

  sqlite3_stmt *begin, *commit, *ins, *idx;
  Check(db, sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, nullptr), "prepare");
  Check(db, sqlite3_prepare_v2(db, "COMMIT", -1, &commit, nullptr), "prepare");
  Check(db,
        sqlite3_prepare_v2(
            db,
            "INSERT INTO customers (code, name, name_key, gender, company, title, phones_enc, "
            "emails_enc, id_number_enc, id_number_bidx, credit_code, province, city, district, "
            "address_enc, source, owner_id, stage, notes, custom_json, created_by, created_at, "
            "updated_by, updated_at, version) VALUES (?9, ?1, ?2, 'unknown', ?3, ?4, ?5, ?6, "
            "'', '', '', '', '', '', '', ?7, 1, 'potential', '', '{}', 1, ?8, 1, ?8, 1)",
            -1, &ins, nullptr),
        "prepare");
  Check(db,
        sqlite3_prepare_v2(db,
                           "INSERT INTO contact_index (customer_id, kind, bidx, last4, label) "
                           "VALUES (?1, ?2, ?3, ?4, ?5)",
                           -1, &idx, nullptr),
        "prepare");

  // Name keys (pinyin) spread over the index as real names do.
  std::vector<std::string> keys;
  for (int k = 0; k < 4096; ++k) {
    std::string key;
    for (int n = 0; n < 12; ++n) key.push_back(static_cast<char>('a' + Next() % 26));
    keys.push_back(std::move(key));
  }
  const std::string name = "欧阳晓东", company = "秦皇岛海港贸易有限责任公司", title = "采购经理",
                    source = "展会";
  auto start = std::chrono::steady_clock::now();
  const double cpu_start = CpuSeconds();
  long long now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  long long index_rows = 0;
  for (long long i = 0; i < count; ++i) {
    const int phones = 1 + static_cast<int>(i & 1);
    const std::string& phones_enc = (phones == 1 ? one_phone : two_phones)[i & 63];
    const std::string& emails_enc = emails[(i >> 6) & 63];
    if (i % batch == 0) {
      Check(db, sqlite3_step(begin), "begin");
      sqlite3_reset(begin);
    }
    Text(ins, 1, name);
    Text(ins, 2, keys[Next() & 4095]);
    Text(ins, 3, company);
    Text(ins, 4, title);
    Text(ins, 5, phones_enc);
    Text(ins, 6, emails_enc);
    Text(ins, 7, source);
    sqlite3_bind_int64(ins, 8, now_ms + i);
    if (import) {
      char code[16];
      std::snprintf(code, sizeof code, "C%08lld", i + 1);
      Text(ins, 9, code);
    } else {
      sqlite3_bind_null(ins, 9);
    }
    Check(db, sqlite3_step(ins), "insert customer");
    sqlite3_reset(ins);
    long long id = sqlite3_last_insert_rowid(db);
    for (int k = 0; k < phones + 1; ++k) {
      const bool email = k == phones;
      sqlite3_bind_int64(idx, 1, id);
      Text(idx, 2, email ? "email" : "phone");
      Text(idx, 3, Hex(32));
      Text(idx, 4, email ? "" : std::to_string(1000 + Next() % 9000));
      Text(idx, 5, email ? "工作" : k == 0 ? "手机" : "办公");
      Check(db, sqlite3_step(idx), "insert index");
      sqlite3_reset(idx);
      ++index_rows;
    }
    if ((i + 1) % batch == 0 || i + 1 == count) {
      Check(db, sqlite3_step(commit), "commit");
      sqlite3_reset(commit);
    }
  }
  double index_secs = 0;
  if (defer) {
    auto t = std::chrono::steady_clock::now();
    Check(db, sqlite3_exec(db, kRandomIndexes, nullptr, nullptr, nullptr), "indexes");
    index_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = CpuSeconds() - cpu_start;
  for (sqlite3_stmt* st : {begin, commit, ins, idx}) sqlite3_finalize(st);
  sqlite3_close(db);
  std::printf(
      "RESULT customers=%lld batch=%lld import=%d deferred=%d index_seconds=%.3f index_rows=%lld "
      "seconds=%.3f rate=%.0f "
      "cpu_s=%.2f "
      "cpu_ms_each=%.3f sqlite=%s\n",
      count, batch, import ? 1 : 0, defer ? 1 : 0, index_secs, index_rows, secs,
      static_cast<double>(count) / secs, cpu, cpu * 1000 / static_cast<double>(count),
      sqlite3_libversion());
  return 0;
}
