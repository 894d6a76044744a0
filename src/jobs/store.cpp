#include "jobs/store.h"

#include "core/time.h"

namespace kehu::jobs {

std::string_view StateName(State s) {
  switch (s) {
    case State::kQueued:
      return "queued";
    case State::kRunning:
      return "running";
    case State::kDone:
      return "done";
    case State::kFailed:
      return "failed";
    case State::kCancelled:
      return "cancelled";
  }
  return "queued";
}

std::optional<State> ParseState(std::string_view s) {
  for (State st :
       {State::kQueued, State::kRunning, State::kDone, State::kFailed, State::kCancelled}) {
    if (StateName(st) == s) return st;
  }
  return std::nullopt;
}

std::vector<db::Migration> Migrations() {
  return {{31, "jobs", R"SQL(
CREATE TABLE jobs (
  id {{ID}},
  kind TEXT NOT NULL,
  runner TEXT NOT NULL,
  state TEXT NOT NULL,
  created_by BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  started_at BIGINT,
  finished_at BIGINT,
  cursor_pos BIGINT NOT NULL DEFAULT 0,
  progress_done BIGINT NOT NULL DEFAULT 0,
  progress_total BIGINT NOT NULL DEFAULT 0,
  params_json TEXT NOT NULL,
  result_json TEXT NOT NULL,
  error TEXT NOT NULL DEFAULT '',
  lease_owner TEXT NOT NULL DEFAULT '',
  lease_until BIGINT NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_claim ON jobs(runner, state, id);
CREATE INDEX jobs_created ON jobs(created_by, id)
)SQL"}};
}

namespace {

constexpr const char* kColumns =
    "id, kind, runner, state, created_by, created_at, updated_at, started_at, finished_at, "
    "cursor_pos, progress_done, progress_total, params_json, result_json, error, lease_owner, "
    "lease_until, attempts";

struct JobReceiver {
  Job job;
  std::string state, params, result;
  long long id = 0, created_by = 0, created_at = 0, updated_at = 0, started_at = 0, finished_at = 0,
            cursor = 0, done = 0, total = 0, lease_until = 0;
  int attempts = 0;
  soci::indicator started_ind = soci::i_null, finished_ind = soci::i_null;

  void Bind(soci::statement& st) {
    st.exchange(soci::into(id));
    st.exchange(soci::into(job.kind));
    st.exchange(soci::into(job.runner));
    st.exchange(soci::into(state));
    st.exchange(soci::into(created_by));
    st.exchange(soci::into(created_at));
    st.exchange(soci::into(updated_at));
    st.exchange(soci::into(started_at, started_ind));
    st.exchange(soci::into(finished_at, finished_ind));
    st.exchange(soci::into(cursor));
    st.exchange(soci::into(done));
    st.exchange(soci::into(total));
    st.exchange(soci::into(params));
    st.exchange(soci::into(result));
    st.exchange(soci::into(job.error));
    st.exchange(soci::into(job.lease_owner));
    st.exchange(soci::into(lease_until));
    st.exchange(soci::into(attempts));
  }
  Job Take() const {
    Job j = job;
    j.id = id;
    j.state = ParseState(state).value_or(State::kFailed);
    j.created_by = created_by;
    j.created_at = created_at;
    j.updated_at = updated_at;
    j.started_at = started_ind == soci::i_ok ? std::optional<int64_t>(started_at) : std::nullopt;
    j.finished_at = finished_ind == soci::i_ok ? std::optional<int64_t>(finished_at) : std::nullopt;
    j.cursor = cursor;
    j.progress_done = done;
    j.progress_total = total;
    j.params = nlohmann::json::parse(params, nullptr, false);
    if (!j.params.is_object()) j.params = nlohmann::json::object();
    j.result = nlohmann::json::parse(result, nullptr, false);
    if (!j.result.is_object()) j.result = nlohmann::json::object();
    j.lease_until = lease_until;
    j.attempts = attempts;
    return j;
  }
};

std::optional<Job> SelectOne(soci::session& sql, const std::string& where, long long a,
                             const std::string* text = nullptr) {
  soci::statement st(sql);
  JobReceiver rr;
  rr.Bind(st);
  st.exchange(soci::use(a));
  std::string t = text ? *text : "";
  if (text) st.exchange(soci::use(t));
  st.alloc();
  st.prepare(std::string("SELECT ") + kColumns + " FROM jobs WHERE " + where);
  st.define_and_bind();
  if (!st.execute(true)) return std::nullopt;
  return rr.Take();
}

}  // namespace

core::Result<Job> JobStore::Create(const Job& in) {
  return db_.Write([&](soci::session& sql) -> Job {
    Job j = in;
    j.state = State::kQueued;
    std::string state(StateName(j.state)), params = j.params.dump(), result = j.result.dump();
    long long by = j.created_by, at = j.created_at;
    long long id = 0;
    sql << "INSERT INTO jobs (kind, runner, state, created_by, created_at, updated_at, "
           "params_json, result_json) VALUES (:k, :r, :s, :b, :a, :u, :p, :res) RETURNING id",
        soci::use(j.kind), soci::use(j.runner), soci::use(state), soci::use(by), soci::use(at),
        soci::use(at), soci::use(params), soci::use(result), soci::into(id);
    j.id = id;
    j.updated_at = j.created_at;
    return j;
  });
}

core::Result<std::optional<Job>> JobStore::Get(int64_t id) {
  return db_.Read([&](soci::session& sql) { return SelectOne(sql, "id = :i", id); });
}

core::Result<std::vector<Job>> JobStore::List(const std::string& kind,
                                              std::optional<int64_t> created_by, int limit) {
  return db_.Read([&](soci::session& sql) {
    std::vector<Job> out;
    soci::statement st(sql);
    JobReceiver rr;
    rr.Bind(st);
    std::string where = "1 = 1";
    std::string k = kind;
    long long by = created_by.value_or(0);
    int lim = limit;
    if (!kind.empty()) {
      where += " AND kind = :k";
      st.exchange(soci::use(k));
    }
    if (created_by) {
      where += " AND created_by = :b";
      st.exchange(soci::use(by));
    }
    st.exchange(soci::use(lim));
    st.alloc();
    st.prepare(std::string("SELECT ") + kColumns + " FROM jobs WHERE " + where +
               " ORDER BY id DESC LIMIT :l");
    st.define_and_bind();
    st.execute(false);
    while (st.fetch()) out.push_back(rr.Take());
    return out;
  });
}

core::Result<std::optional<Job>> JobStore::Claim(const std::string& runner,
                                                 const std::string& owner, int64_t now,
                                                 int64_t lease_ms) {
  return db_.Write([&](soci::session& sql) -> std::optional<Job> {
    long long ts = now, until = now + lease_ms, id = 0;
    sql << "SELECT id FROM jobs WHERE runner = :r AND (state = 'queued' OR (state = 'running' "
           "AND lease_until < :n)) ORDER BY id LIMIT 1",
        soci::use(runner), soci::use(ts), soci::into(id);
    if (!sql.got_data()) return std::nullopt;
    soci::statement st =
        (sql.prepare << "UPDATE jobs SET state = 'running', lease_owner = :o, lease_until = :u, "
                        "started_at = COALESCE(started_at, :n), updated_at = :n2, attempts = "
                        "attempts + 1 WHERE id = :i AND (state = 'queued' OR (state = 'running' "
                        "AND lease_until < :n3))",
         soci::use(owner), soci::use(until), soci::use(ts), soci::use(ts), soci::use(id),
         soci::use(ts));
    st.execute(true);
    if (st.get_affected_rows() == 0) return std::nullopt;
    return SelectOne(sql, "id = :i", id);
  });
}

core::Result<std::optional<Job>> JobStore::ClaimById(int64_t id, const std::string& owner,
                                                     int64_t now, int64_t lease_ms) {
  return db_.Write([&](soci::session& sql) -> std::optional<Job> {
    long long ts = now, until = now + lease_ms, jid = id;
    soci::statement st =
        (sql.prepare << "UPDATE jobs SET state = 'running', lease_owner = :o, lease_until = :u, "
                        "started_at = COALESCE(started_at, :n), updated_at = :n2, attempts = "
                        "attempts + 1 WHERE id = :i AND (state = 'queued' OR (state = 'running' "
                        "AND (lease_until < :n3 OR lease_owner = :o2)))",
         soci::use(owner), soci::use(until), soci::use(ts), soci::use(ts), soci::use(jid),
         soci::use(ts), soci::use(owner));
    st.execute(true);
    if (st.get_affected_rows() == 0) return std::nullopt;
    return SelectOne(sql, "id = :i", jid);
  });
}

core::Result<bool> JobStore::Renew(int64_t id, const std::string& owner, int64_t until) {
  return db_.Write([&](soci::session& sql) -> bool {
    long long jid = id, u = until;
    soci::statement st = (sql.prepare << "UPDATE jobs SET lease_until = :u WHERE id = :i AND "
                                         "lease_owner = :o AND state = 'running'",
                          soci::use(u), soci::use(jid), soci::use(owner));
    st.execute(true);
    return st.get_affected_rows() > 0;
  });
}

void JobStore::Checkpoint(soci::session& sql, int64_t id, const std::string& owner, int64_t cursor,
                          int64_t progress_done, int64_t progress_total,
                          const nlohmann::json& result, int64_t lease_until) {
  long long jid = id, c = cursor, d = progress_done, t = progress_total, u = lease_until,
            now = core::NowMs();
  std::string res = result.dump();
  soci::statement st =
      (sql.prepare << "UPDATE jobs SET cursor_pos = :c, progress_done = :d, progress_total = :t, "
                      "result_json = :r, lease_until = :u, updated_at = :n WHERE id = :i AND "
                      "lease_owner = :o AND state = 'running'",
       soci::use(c), soci::use(d), soci::use(t), soci::use(res), soci::use(u), soci::use(now),
       soci::use(jid), soci::use(owner));
  st.execute(true);
  if (st.get_affected_rows() == 0) {
    throw db::Abort{
        core::Error::Conflict("job " + std::to_string(id) + " was taken over by another process")};
  }
}

core::Result<bool> JobStore::Finish(int64_t id, const std::string& owner, State state,
                                    const nlohmann::json& result, const std::string& error) {
  return db_.Write([&](soci::session& sql) -> bool {
    long long jid = id, now = core::NowMs();
    std::string s(StateName(state)), res = result.dump();
    soci::statement st =
        (sql.prepare << "UPDATE jobs SET state = :s, result_json = :r, error = :e, finished_at = "
                        ":f, updated_at = :n, lease_owner = '', lease_until = 0 WHERE id = :i AND "
                        "lease_owner = :o AND state = 'running'",
         soci::use(s), soci::use(res), soci::use(error), soci::use(now), soci::use(now),
         soci::use(jid), soci::use(owner));
    st.execute(true);
    return st.get_affected_rows() > 0;
  });
}

core::Result<void> JobStore::Release(int64_t id, const std::string& owner) {
  return db_.Write([&](soci::session& sql) {
    long long jid = id;
    sql << "UPDATE jobs SET state = 'queued', lease_owner = '', lease_until = 0 WHERE id = :i "
           "AND lease_owner = :o AND state = 'running'",
        soci::use(jid), soci::use(owner);
  });
}

}  // namespace kehu::jobs
