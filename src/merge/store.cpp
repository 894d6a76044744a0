#include "merge/store.h"

#include <nlohmann/json.hpp>

#include "db/params.h"

namespace kehu::merge {
namespace {

using customer::Row;
using nlohmann::json;

json OptNum(const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); }
std::optional<int64_t> NumOpt(const json& j) {
  return j.is_number_integer() ? std::optional<int64_t>(j.get<int64_t>()) : std::nullopt;
}

// A stored customer row, every column, as JSON (ciphertexts stay ciphertexts).
json RowToJson(const Row& r) {
  return {{"id", r.id},
          {"code", r.code},
          {"name", r.name},
          {"name_key", r.name_key},
          {"gender", r.gender},
          {"company", r.company},
          {"title", r.title},
          {"phones_enc", r.phones_enc},
          {"emails_enc", r.emails_enc},
          {"id_number_enc", r.id_number_enc},
          {"id_number_bidx", r.id_number_bidx},
          {"credit_code", r.credit_code},
          {"province", r.province},
          {"city", r.city},
          {"district", r.district},
          {"address_enc", r.address_enc},
          {"source", r.source},
          {"owner_id", OptNum(r.owner_id)},
          {"stage", r.stage},
          {"notes", r.notes},
          {"custom_json", r.custom_json},
          {"tags_json", r.tags_json},
          {"quality_enc", r.quality_enc},
          {"quality_open", r.quality_open},
          {"created_by", r.created_by},
          {"created_at", r.created_at},
          {"updated_by", r.updated_by},
          {"updated_at", r.updated_at},
          {"version", r.version},
          {"deleted_at", OptNum(r.deleted_at)}};
}

Row RowFromJson(const json& j) {
  Row r;
  r.id = j.at("id").get<int64_t>();
  for (auto [k, s] : {std::pair{"code", &r.code},
                      {"name", &r.name},
                      {"name_key", &r.name_key},
                      {"gender", &r.gender},
                      {"company", &r.company},
                      {"title", &r.title},
                      {"phones_enc", &r.phones_enc},
                      {"emails_enc", &r.emails_enc},
                      {"id_number_enc", &r.id_number_enc},
                      {"id_number_bidx", &r.id_number_bidx},
                      {"credit_code", &r.credit_code},
                      {"province", &r.province},
                      {"city", &r.city},
                      {"district", &r.district},
                      {"address_enc", &r.address_enc},
                      {"source", &r.source},
                      {"stage", &r.stage},
                      {"notes", &r.notes},
                      {"custom_json", &r.custom_json},
                      {"tags_json", &r.tags_json},
                      {"quality_enc", &r.quality_enc}}) {
    *s = j.at(k).get<std::string>();
  }
  r.owner_id = NumOpt(j.at("owner_id"));
  for (auto [k, n] : {std::pair{"quality_open", &r.quality_open},
                      {"created_by", &r.created_by},
                      {"created_at", &r.created_at},
                      {"updated_by", &r.updated_by},
                      {"updated_at", &r.updated_at},
                      {"version", &r.version}}) {
    *n = j.at(k).get<int64_t>();
  }
  r.deleted_at = NumOpt(j.at("deleted_at"));
  return r;
}

constexpr const char* kColumns =
    "id, survivor_id, loser_ids, fields, bulk, merged_by, merged_by_name, merged_at, "
    "survivor_version, snapshot, undone_at, undone_by";

struct Receiver {
  long long id = 0, survivor = 0, merged_by = 0, merged_at = 0, version = 0, undone_at = 0,
            undone_by = 0;
  int bulk = 0;
  std::string losers, fields, name, snapshot;
  soci::indicator undone_ind = soci::i_null, by_ind = soci::i_null;

  void Bind(soci::statement& st) {
    st.exchange(soci::into(id));
    st.exchange(soci::into(survivor));
    st.exchange(soci::into(losers));
    st.exchange(soci::into(fields));
    st.exchange(soci::into(bulk));
    st.exchange(soci::into(merged_by));
    st.exchange(soci::into(name));
    st.exchange(soci::into(merged_at));
    st.exchange(soci::into(version));
    st.exchange(soci::into(snapshot));
    st.exchange(soci::into(undone_at, undone_ind));
    st.exchange(soci::into(undone_by, by_ind));
  }
  MergeRecord Take() const {
    MergeRecord r;
    r.id = id;
    r.survivor_id = survivor;
    r.loser_ids = json::parse(losers).get<std::vector<int64_t>>();
    r.fields = json::parse(fields).get<std::vector<std::string>>();
    r.bulk = bulk != 0;
    r.merged_by = merged_by;
    r.merged_by_name = name;
    r.merged_at = merged_at;
    r.survivor_version = version;
    if (undone_ind == soci::i_ok) r.undone_at = undone_at;
    r.undone_by = by_ind == soci::i_ok ? undone_by : 0;
    json snap = json::parse(snapshot);
    r.survivor_before = RowFromJson(snap.at("survivor"));
    for (const json& l : snap.at("losers")) r.losers_before.push_back(RowFromJson(l));
    return r;
  }
};

std::vector<MergeRecord> Select(soci::session& sql, const std::string& where, long long a,
                                long long b) {
  soci::statement st(sql);
  Receiver rx;
  rx.Bind(st);
  st.exchange(soci::use(a));
  st.exchange(soci::use(b));
  st.alloc();
  st.prepare(std::string("SELECT ") + kColumns + " FROM merges WHERE " + where);
  st.define_and_bind();
  std::vector<MergeRecord> out;
  st.execute(false);
  while (st.fetch()) out.push_back(rx.Take());
  return out;
}

}  // namespace

std::vector<db::Migration> Migrations() {
  // A merge keeps the stored rows of its customers from before (ciphertexts as stored) so that
  // it can be undone exactly; merged_customers says which customer went into which.
  return {{40, "merges", R"SQL(
CREATE TABLE merges (
  id {{ID}},
  survivor_id BIGINT NOT NULL REFERENCES customers(id),
  loser_ids TEXT NOT NULL,
  fields TEXT NOT NULL,
  bulk INTEGER NOT NULL,
  merged_by BIGINT NOT NULL,
  merged_by_name TEXT NOT NULL,
  merged_at BIGINT NOT NULL,
  survivor_version BIGINT NOT NULL,
  snapshot TEXT NOT NULL,
  undone_at BIGINT,
  undone_by BIGINT
);
CREATE INDEX merges_survivor ON merges(survivor_id);
CREATE TABLE merged_customers (
  customer_id BIGINT NOT NULL REFERENCES customers(id),
  merge_id BIGINT NOT NULL REFERENCES merges(id),
  survivor_id BIGINT NOT NULL
);
CREATE INDEX merged_customers_customer ON merged_customers(customer_id);
CREATE INDEX merged_customers_survivor ON merged_customers(survivor_id)
)SQL"}};
}

int64_t MergeStore::Insert(soci::session& sql, const MergeRecord& r) {
  json snap = {{"survivor", RowToJson(r.survivor_before)}, {"losers", json::array()}};
  for (const Row& l : r.losers_before) snap["losers"].push_back(RowToJson(l));
  long long survivor = r.survivor_id, by = r.merged_by, at = r.merged_at,
            version = r.survivor_version, id = 0;
  int bulk = r.bulk ? 1 : 0;
  std::string losers = json(r.loser_ids).dump(), fields = json(r.fields).dump(),
              snapshot = snap.dump(), name = r.merged_by_name;
  sql << "INSERT INTO merges (survivor_id, loser_ids, fields, bulk, merged_by, merged_by_name, "
         "merged_at, survivor_version, snapshot) VALUES (:s, :l, :f, :b, :by, :n, :at, :v, :sn) "
         "RETURNING id",
      soci::use(survivor), soci::use(losers), soci::use(fields), soci::use(bulk), soci::use(by),
      soci::use(name), soci::use(at), soci::use(version), soci::use(snapshot), soci::into(id);
  for (int64_t l : r.loser_ids) {
    long long lid = l;
    sql << "INSERT INTO merged_customers (customer_id, merge_id, survivor_id) VALUES (:c, :m, :s)",
        soci::use(lid), soci::use(id), soci::use(survivor);
  }
  return id;
}

void MergeStore::MarkUndone(soci::session& sql, int64_t id, int64_t by, int64_t now) {
  long long lid = id, lby = by, ts = now;
  soci::statement st = (sql.prepare << "UPDATE merges SET undone_at = :t, undone_by = :b WHERE "
                                       "id = :i AND undone_at IS NULL",
                        soci::use(ts), soci::use(lby), soci::use(lid));
  st.execute(true);
  if (st.get_affected_rows() == 0) {
    throw db::Abort{core::Error::Conflict("merge " + std::to_string(id) + " was undone already")};
  }
  sql << "DELETE FROM merged_customers WHERE merge_id = :i", soci::use(lid);
}

core::Result<std::optional<MergeRecord>> MergeStore::Get(int64_t id) {
  return db_.Read([&](soci::session& sql) -> std::optional<MergeRecord> {
    auto rows = Select(sql, "id = :a AND :b = 0", id, 0);
    if (rows.empty()) return std::nullopt;
    return rows.front();
  });
}

core::Result<std::vector<MergeRecord>> MergeStore::List(std::optional<int64_t> before, int limit) {
  return db_.Read([&](soci::session& sql) {
    return Select(sql, "id < :a ORDER BY id DESC LIMIT :b",
                  before.value_or(std::numeric_limits<int64_t>::max()), limit);
  });
}

core::Result<void> MergeStore::ReplaceSnapshot(int64_t id, const Row& survivor_before,
                                               const std::vector<Row>& losers_before) {
  json losers = json::array();
  for (const Row& l : losers_before) losers.push_back(RowToJson(l));
  std::string snapshot = json{{"survivor", RowToJson(survivor_before)}, {"losers", losers}}.dump();
  long long lid = id;
  return db_.Write([&](soci::session& sql) {
    sql << "UPDATE merges SET snapshot = :s WHERE id = :i", soci::use(snapshot), soci::use(lid);
  });
}

core::Result<std::optional<int64_t>> MergeStore::MergedInto(int64_t customer_id) {
  return db_.Read([&](soci::session& sql) -> std::optional<int64_t> {
    long long id = customer_id, survivor = 0;
    sql << "SELECT survivor_id FROM merged_customers WHERE customer_id = :c ORDER BY merge_id "
           "DESC LIMIT 1",
        soci::use(id), soci::into(survivor);
    if (!sql.got_data()) return std::nullopt;
    return survivor;
  });
}

core::Result<std::map<int64_t, int64_t>> MergeStore::MergedIntoMany(
    const std::vector<int64_t>& ids) {
  return db_.Read([&](soci::session& sql) {
    std::map<int64_t, int64_t> out;
    if (ids.empty()) return out;
    soci::statement st(sql);
    long long customer = 0, survivor = 0;
    st.exchange(soci::into(customer));
    st.exchange(soci::into(survivor));
    db::Params p(st);
    std::string in;
    for (int64_t id : ids) in += (in.empty() ? "" : ", ") + p.Number(id);
    // Oldest merge first, so the latest one of a customer merged more than once wins.
    st.alloc();
    st.prepare("SELECT customer_id, survivor_id FROM merged_customers WHERE customer_id IN (" + in +
               ") ORDER BY merge_id");
    st.define_and_bind();
    st.execute(false);
    while (st.fetch()) out[customer] = survivor;
    return out;
  });
}

core::Result<std::vector<int64_t>> MergeStore::MergedFrom(int64_t survivor_id) {
  return db_.Read([&](soci::session& sql) {
    long long s = survivor_id, c = 0;
    soci::statement st = (sql.prepare << "SELECT customer_id FROM merged_customers WHERE "
                                         "survivor_id = :s ORDER BY customer_id",
                          soci::use(s), soci::into(c));
    std::vector<int64_t> out;
    st.execute(false);
    while (st.fetch()) out.push_back(c);
    return out;
  });
}

}  // namespace kehu::merge
