#include "merge/service.h"

#include <functional>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>

#include "core/time.h"
#include "customer/mask.h"

namespace kehu::merge {
namespace {

using customer::Customer;
using nlohmann::json;

struct TextField {
  const char* name;
  std::string Customer::*member;
};
// The scalar fields a reviewer chooses between. The customer code stays with its customer.
const TextField kTextFields[] = {
    {"name", &Customer::name},           {"gender", &Customer::gender},
    {"company", &Customer::company},     {"title", &Customer::title},
    {"id_number", &Customer::id_number}, {"credit_code", &Customer::credit_code},
    {"province", &Customer::province},   {"city", &Customer::city},
    {"district", &Customer::district},   {"address", &Customer::address},
    {"source", &Customer::source},       {"stage", &Customer::stage},
    {"notes", &Customer::notes}};

constexpr std::string_view kCustomPrefix = "custom.";

json ValueOf(const Customer& c, const std::string& field) {
  for (const TextField& f : kTextFields) {
    if (field == f.name) {
      const std::string& v = c.*f.member;
      if (v.empty() || (field == "gender" && v == "unknown")) return nullptr;
      return v;
    }
  }
  if (field == "owner_id") return c.owner_id ? json(*c.owner_id) : json(nullptr);
  if (field.starts_with(kCustomPrefix)) {
    const std::string key = field.substr(kCustomPrefix.size());
    if (c.custom.is_object() && c.custom.contains(key)) {
      const json& v = c.custom.at(key);
      if (v.is_null() || (v.is_string() && v.get<std::string>().empty()) ||
          (v.is_array() && v.empty())) {
        return nullptr;
      }
      return v;
    }
  }
  return nullptr;
}

void SetValue(Customer& c, const std::string& field, const json& v) {
  for (const TextField& f : kTextFields) {
    if (field == f.name) {
      c.*f.member = v.is_string() ? v.get<std::string>() : (field == "gender" ? "unknown" : "");
      return;
    }
  }
  if (field == "owner_id") {
    c.owner_id = v.is_number_integer() ? std::optional<int64_t>(v.get<int64_t>()) : std::nullopt;
    return;
  }
  if (field.starts_with(kCustomPrefix)) {
    if (!c.custom.is_object()) c.custom = json::object();
    const std::string key = field.substr(kCustomPrefix.size());
    if (v.is_null()) {
      c.custom.erase(key);
    } else {
      c.custom[key] = v;
    }
  }
}

// The fields of a group: the built-in scalar fields, the owner, and every custom field any
// member has.
std::vector<std::string> FieldNames(const std::vector<Customer>& members) {
  std::vector<std::string> out;
  for (const TextField& f : kTextFields) out.emplace_back(f.name);
  out.emplace_back("owner_id");
  std::set<std::string> custom;
  for (const Customer& c : members) {
    if (!c.custom.is_object()) continue;
    for (const auto& [k, v] : c.custom.items()) custom.insert(std::string(kCustomPrefix) + k);
  }
  out.insert(out.end(), custom.begin(), custom.end());
  return out;
}

// Filled fields and valid contact points; flagged (invalid) values count against.
int Completeness(const Customer& c) {
  int n = 0;
  for (const std::string& f : FieldNames({c})) n += ValueOf(c, f).is_null() ? 0 : 1;
  for (const customer::Phone& p : c.phones) n += p.info.valid ? 2 : -1;
  n += 2 * static_cast<int>(c.emails.size());
  n += static_cast<int>(c.tags.size() > 0);
  n -= static_cast<int>(c.quality_issues.size());
  return n;
}

// Most complete first, then the most recently updated, then the oldest id.
void Rank(std::vector<Customer>& members) {
  std::stable_sort(members.begin(), members.end(), [](const Customer& a, const Customer& b) {
    const int ca = Completeness(a), cb = Completeness(b);
    if (ca != cb) return ca > cb;
    if (a.updated_at != b.updated_at) return a.updated_at > b.updated_at;
    return a.id < b.id;
  });
}

// Moves the survivor to the front (the others keep their rank order).
void SurvivorFirst(std::vector<Customer>& members, int64_t survivor_id) {
  std::stable_partition(members.begin(), members.end(),
                        [&](const Customer& c) { return c.id == survivor_id; });
}

// Whose value a field takes by default: the survivor's (members[0]) when it has one, else the
// first member in rank order that has one.
int64_t DefaultMember(const std::vector<Customer>& members, const std::string& field) {
  for (const Customer& c : members) {
    if (!ValueOf(c, field).is_null()) return c.id;
  }
  return members.front().id;
}

std::string LowerAscii(std::string s) {
  for (char& ch : s) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  }
  return s;
}

// The survivor (members[0]) as the merge makes it: chosen or default values, and the union of
// contact points, tags, custom values and issues. `from_losers` gets the fields whose value
// changed to a loser's.
Customer Build(const std::vector<Customer>& members, const std::map<std::string, int64_t>& choices,
               std::vector<std::string>* from_losers) {
  Customer out = members.front();
  std::map<int64_t, const Customer*> by_id;
  for (const Customer& c : members) by_id[c.id] = &c;
  for (const std::string& f : FieldNames(members)) {
    auto chosen = choices.find(f);
    const int64_t who = chosen != choices.end() ? chosen->second : DefaultMember(members, f);
    const json v = ValueOf(*by_id.at(who), f);
    if (v != ValueOf(out, f)) {
      SetValue(out, f, v);
      if (from_losers) from_losers->push_back(f);
    }
  }
  std::set<std::string> phones, emails, tags, issues;
  out.phones.clear();
  out.emails.clear();
  out.tags.clear();
  out.quality_issues.clear();
  bool primary = false;
  for (const Customer& c : members) {
    for (customer::Phone p : c.phones) {
      if (!phones
               .insert(p.info.e164 + "#" + p.info.extension + "#" +
                       (p.info.e164.empty() ? p.info.raw : ""))
               .second) {
        continue;
      }
      p.primary = p.primary && !primary;
      primary = primary || p.primary;
      out.phones.push_back(std::move(p));
    }
    for (const customer::Email& e : c.emails) {
      if (emails.insert(LowerAscii(e.address)).second) out.emails.push_back(e);
    }
    for (const std::string& t : c.tags) {
      if (tags.insert(t).second) out.tags.push_back(t);
    }
    for (const customer::QualityIssue& q : c.quality_issues) {
      if (issues.insert(q.field + "\n" + q.code + "\n" + q.raw).second) {
        out.quality_issues.push_back(q);
      }
    }
  }
  if (from_losers) {
    const Customer& s = members.front();
    if (out.phones.size() != s.phones.size()) from_losers->push_back("phones");
    if (out.emails.size() != s.emails.size()) from_losers->push_back("emails");
    if (out.tags.size() != s.tags.size()) from_losers->push_back("tags");
    if (out.quality_issues.size() != s.quality_issues.size()) {
      from_losers->push_back("quality_issues");
    }
  }
  return out;
}

core::Result<void> Need(const core::Actor& actor) {
  for (core::Perm p : {core::Perm::kCustomerMerge, core::Perm::kCustomerRead}) {
    if (!actor.Can(p)) {
      return std::unexpected(
          core::Error::Forbidden("merging customers needs " + std::string(core::PermName(p))));
    }
  }
  return core::Ok();
}

core::Error NoCustomer(int64_t id) {
  return core::Error::NotFound("no customer " + std::to_string(id));
}

core::Error NoMerge(int64_t id) { return core::Error::NotFound("no merge " + std::to_string(id)); }

// The members, loaded unmasked, in the order of `ids`; kNotFound naming the first missing one.
core::Result<std::vector<Customer>> LoadAll(customer::CustomerService& customers,
                                            const core::Actor& actor,
                                            const std::vector<int64_t>& ids) {
  auto found = customers.GetUnmasked(actor, ids);
  if (!found) return std::unexpected(found.error());
  std::vector<Customer> out;
  for (int64_t id : ids) {
    auto it =
        std::find_if(found->begin(), found->end(), [&](const Customer& c) { return c.id == id; });
    if (it == found->end()) return std::unexpected(NoCustomer(id));
    out.push_back(*it);
  }
  return out;
}

// The loser ids an audit entry names: all of a merge from the review queue (at most
// kMaxMembers), the first 300 of a larger bulk group (the entry stays under its 8 KiB; the
// merge record has them all).
std::vector<int64_t> LoserIds(const std::vector<int64_t>& ids) {
  return {ids.begin(),
          ids.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(ids.size(), 300))};
}

core::Result<void> CheckIds(const std::vector<int64_t>& ids, const char* field) {
  if (ids.size() < 2) {
    return std::unexpected(
        core::Error::InvalidField(field, "out_of_range", "merging needs at least two customers"));
  }
  if (ids.size() > kMaxMembers) {
    return std::unexpected(core::Error::InvalidField(
        field, "out_of_range", "at most " + std::to_string(kMaxMembers) + " customers at once"));
  }
  std::set<int64_t> seen;
  for (int64_t id : ids) {
    if (id <= 0 || !seen.insert(id).second) {
      return std::unexpected(
          core::Error::InvalidField(field, "not_unique", "each customer once, by a positive id"));
    }
  }
  return core::Ok();
}

bool InScope(const core::Actor& actor, const MergeRecord& r) {
  if (!actor.InScope(r.survivor_before.owner_id)) return false;
  for (const customer::Row& l : r.losers_before) {
    if (!actor.InScope(l.owner_id)) return false;
  }
  return true;
}

}  // namespace

MergeService::MergeService(MergeStore& store, customer::CustomerService& customers,
                           dedup::DedupService& dedup, audit::AuditLog& audit)
    : store_(store), customers_(customers), dedup_(dedup), audit_(audit) {}

void MergeService::Audit(const core::Actor& actor, const char* action, const std::string& entity_id,
                         json details) {
  auto r = audit_.Record(
      actor, {action, entity_id.empty() ? "" : "customer", entity_id, std::move(details)});
  if (!r) spdlog::error("audit trail: cannot record {}: {}", action, r.error().message());
}

void MergeService::AuditIn(soci::session& sql, const core::Actor& actor, const char* action,
                           const std::string& entity_id, json details) {
  auto entry = audit_.Within(actor, {action, "customer", entity_id, std::move(details)});
  if (!entry) throw db::Abort{entry.error()};
  (*entry)(sql, 0);
}

core::Result<Suggestion> MergeService::Suggest(const core::Actor& actor,
                                               const std::vector<int64_t>& ids) {
  if (auto ok = Need(actor); !ok) return std::unexpected(ok.error());
  if (auto ok = CheckIds(ids, "ids"); !ok) return std::unexpected(ok.error());
  auto members = LoadAll(customers_, actor, ids);
  if (!members) return std::unexpected(members.error());
  Rank(*members);
  Suggestion s;
  s.survivor_id = members->front().id;
  s.preview = Build(*members, {}, nullptr);
  customer::MaskCustomer(s.preview);
  std::vector<Customer> masked = *members;
  for (Customer& c : masked) customer::MaskCustomer(c);
  for (const std::string& f : FieldNames(*members)) {
    FieldChoice fc;
    fc.field = f;
    fc.default_member = DefaultMember(*members, f);
    std::set<std::string> distinct;
    for (std::size_t i = 0; i < members->size(); ++i) {
      const json clear = ValueOf((*members)[i], f);
      if (!clear.is_null()) distinct.insert(clear.dump());
      fc.values.emplace_back(masked[i].id, ValueOf(masked[i], f));
    }
    fc.differs = distinct.size() > 1;
    s.fields.push_back(std::move(fc));
  }
  std::stable_partition(s.fields.begin(), s.fields.end(),
                        [](const FieldChoice& f) { return f.differs; });
  for (const Customer& c : *members) s.completeness.push_back(Completeness(c));
  s.members = std::move(masked);
  return s;
}

core::Result<MergeRecord> MergeService::Merge(const core::Actor& actor, const MergeRequest& req) {
  if (auto ok = Need(actor); !ok) return std::unexpected(ok.error());
  if (req.loser_ids.empty()) {
    return std::unexpected(
        core::Error::InvalidField("loser_ids", "required", "name at least one customer to merge"));
  }
  std::vector<int64_t> ids{req.survivor_id};
  ids.insert(ids.end(), req.loser_ids.begin(), req.loser_ids.end());
  if (req.survivor_id <= 0) {
    return std::unexpected(
        core::Error::InvalidField("survivor_id", "required", "survivor_id is a customer id"));
  }
  if (auto ok = CheckIds(ids, "loser_ids"); !ok) return std::unexpected(ok.error());
  std::vector<core::FieldError> errs;
  for (int64_t id : ids) {
    if (!req.versions.contains(id)) {
      errs.push_back({"versions." + std::to_string(id), "required",
                      "the version of customer " + std::to_string(id) + " is required"});
    }
  }
  if (!errs.empty()) return std::unexpected(core::Error::InvalidFields(std::move(errs)));
  auto members = LoadAll(customers_, actor, ids);
  if (!members) return std::unexpected(members.error());
  return Commit(actor, std::move(*members), req, false);
}

core::Result<MergeRecord> MergeService::Commit(const core::Actor& actor,
                                               std::vector<Customer> members,
                                               const MergeRequest& req, bool bulk) {
  Rank(members);
  SurvivorFirst(members, req.survivor_id);
  const std::vector<std::string> fields = FieldNames(members);
  std::vector<core::FieldError> errs;
  for (const auto& [f, who] : req.choices) {
    if (std::find(fields.begin(), fields.end(), f) == fields.end()) {
      errs.push_back({"choices." + f, "unknown_field", "no field " + f + " to choose"});
    } else if (std::none_of(members.begin(), members.end(),
                            [&](const Customer& c) { return c.id == who; })) {
      errs.push_back({"choices." + f, "invalid_choice",
                      "customer " + std::to_string(who) + " is not being merged"});
    }
  }
  if (!errs.empty()) return std::unexpected(core::Error::InvalidFields(std::move(errs)));
  for (const Customer& c : members) {
    const int64_t want = req.versions.at(c.id);
    if (c.version != want) {
      return std::unexpected(core::Error(core::Code::kPreconditionFailed,
                                         "customer " + std::to_string(c.id) + " is at version " +
                                             std::to_string(c.version) + ", not " +
                                             std::to_string(want) + "; reload and merge again"));
    }
  }
  MergeRecord rec;
  Customer merged = Build(members, req.choices, &rec.fields);
  rec.survivor_id = req.survivor_id;
  rec.loser_ids = req.loser_ids;
  rec.bulk = bulk;
  rec.merged_by = actor.user_id;
  rec.merged_by_name = actor.display_name.empty() ? actor.username : actor.display_name;
  rec.merged_at = core::NowMs();
  std::vector<std::pair<int64_t, int64_t>> losers;
  for (int64_t id : req.loser_ids) losers.emplace_back(id, req.versions.at(id));
  auto done = customers_.CommitMerge(
      actor, merged, req.versions.at(req.survivor_id), losers,
      [&](soci::session& sql, const customer::Row& before, const std::vector<customer::Row>& lb,
          const customer::Row& after) {
        rec.survivor_before = before;
        rec.losers_before = lb;
        rec.survivor_version = after.version;
        rec.id = store_.Insert(sql, rec);
        // In the same transaction: no merge without its entry.
        AuditIn(sql, actor, "customer.merge", std::to_string(rec.survivor_id),
                {{"merge_id", rec.id},
                 {"loser_ids", LoserIds(rec.loser_ids)},
                 {"losers", rec.loser_ids.size()},
                 {"fields", rec.fields},
                 {"bulk", bulk}});
      });
  if (!done) return std::unexpected(done.error());
  return rec;
}

core::Result<MergeRecord> MergeService::Undo(const core::Actor& actor, int64_t merge_id) {
  if (auto ok = Need(actor); !ok) return std::unexpected(ok.error());
  auto rec = store_.Get(merge_id);
  if (!rec) return std::unexpected(rec.error());
  if (!*rec || !InScope(actor, **rec)) return std::unexpected(NoMerge(merge_id));
  MergeRecord r = std::move(**rec);
  if (r.undone_at) {
    return std::unexpected(
        core::Error::Conflict("merge " + std::to_string(merge_id) + " was undone already"));
  }
  const int64_t now = core::NowMs();
  auto done = customers_.CommitUnmerge(
      actor, r.survivor_before, r.survivor_version, r.losers_before, [&](soci::session& sql) {
        store_.MarkUndone(sql, merge_id, actor.user_id, now);
        AuditIn(sql, actor, "customer.merge_undo", std::to_string(r.survivor_id),
                {{"merge_id", r.id},
                 {"loser_ids", LoserIds(r.loser_ids)},
                 {"losers", r.loser_ids.size()}});
      });
  if (!done) return std::unexpected(done.error());
  r.undone_at = now;
  r.undone_by = actor.user_id;
  return r;
}

core::Result<BulkResult> MergeService::BulkMergeExactPhone(const core::Actor& actor, bool dry_run) {
  if (auto ok = Need(actor); !ok) return std::unexpected(ok.error());
  if (!actor.is_admin() || actor.scope != core::Scope::kAll) {
    return std::unexpected(core::Error::Forbidden(
        "merging all exact-phone matches is for administrators (user.admin, data scope all)"));
  }
  dedup::ScanOptions opts;
  opts.limit = 0;
  opts.members = false;
  auto scan = dedup_.Scan(actor, opts);
  if (!scan) return std::unexpected(scan.error());
  BulkResult out;
  out.dry_run = dry_run;
  for (const dedup::DuplicateGroup& g : scan->groups) {
    if (std::find(g.reasons.begin(), g.reasons.end(), "name_differs") != g.reasons.end()) continue;
    std::vector<int64_t> ids;
    for (const dedup::Member& m : g.members) ids.push_back(m.id);
    auto members = customers_.GetUnmasked(actor, ids);
    if (!members) return std::unexpected(members.error());
    // Members joined by a shared mobile number (union-find over the group).
    std::vector<std::size_t> parent(members->size());
    for (std::size_t i = 0; i < parent.size(); ++i) parent[i] = i;
    auto find = [&](std::size_t i) {
      while (parent[i] != i) i = parent[i] = parent[parent[i]];
      return i;
    };
    std::map<std::string, std::size_t> holder;
    for (std::size_t i = 0; i < members->size(); ++i) {
      for (const customer::Phone& p : (*members)[i].phones) {
        if (!p.info.valid || p.info.type != "mobile") continue;
        auto [it, fresh] = holder.emplace(p.info.e164 + "#" + p.info.extension, i);
        if (!fresh) parent[find(i)] = find(it->second);
      }
    }
    std::map<std::size_t, std::vector<Customer>> parts;
    for (std::size_t i = 0; i < members->size(); ++i) parts[find(i)].push_back((*members)[i]);
    for (auto& [root, part] : parts) {
      if (part.size() < 2) continue;
      Rank(part);
      if (dry_run) {
        ++out.groups;
        out.merged_customers += static_cast<int64_t>(part.size()) - 1;
        continue;
      }
      MergeRequest req;
      req.survivor_id = part.front().id;
      for (const Customer& c : part) {
        req.versions[c.id] = c.version;
        if (c.id != req.survivor_id) req.loser_ids.push_back(c.id);
      }
      auto rec = Commit(actor, part, req, true);
      if (!rec) {
        if (rec.error().code() == core::Code::kInternal) return std::unexpected(rec.error());
        ++out.skipped;
        continue;
      }
      ++out.groups;
      out.merged_customers += static_cast<int64_t>(req.loser_ids.size());
      out.merge_ids.push_back(rec->id);
    }
  }
  json details = {{"dry_run", dry_run},
                  {"groups", out.groups},
                  {"merged_customers", out.merged_customers},
                  {"skipped", out.skipped}};
  // The ids fit the audit entry's 8 KiB up to a few hundred; each merge has its own entry.
  std::vector<int64_t> ids(
      out.merge_ids.begin(),
      out.merge_ids.begin() + std::min<std::size_t>(out.merge_ids.size(), 300));
  details["merge_ids"] = ids;
  Audit(actor, "customer.merge_bulk", "", std::move(details));
  return out;
}

core::Result<Page> MergeService::List(const core::Actor& actor, std::optional<int64_t> cursor,
                                      int limit) {
  if (auto ok = Need(actor); !ok) return std::unexpected(ok.error());
  if (limit < 1 || limit > 200) {
    return std::unexpected(core::Error::BadRequest("limit must be between 1 and 200"));
  }
  // A page is filled from the merges the actor may see, reading further while others are
  // skipped; after kMaxRead records it ends short, with a cursor to go on from.
  constexpr std::size_t kMaxRead = 2000;
  const auto want = static_cast<std::size_t>(limit);
  Page p;
  std::optional<int64_t> before = cursor;
  std::size_t read = 0;
  for (;;) {
    auto rows = store_.List(before, limit + 1);
    if (!rows) return std::unexpected(rows.error());
    const bool more = rows->size() > want;
    if (more) rows->resize(want);
    std::size_t used = 0;
    for (MergeRecord& r : *rows) {
      ++used;
      before = r.id;
      if (InScope(actor, r)) p.items.push_back(std::move(r));
      if (p.items.size() == want) break;
    }
    read += used;
    if (p.items.size() == want) {
      if (more || used < rows->size()) p.next_cursor = before;
      break;
    }
    if (!more) break;
    if (read >= kMaxRead) {
      p.next_cursor = before;
      break;
    }
  }
  return p;
}

namespace {

// Calls fn with every merge record, newest first, a page at a time.
core::Result<void> EachMerge(MergeStore& store,
                             const std::function<core::Result<void>(const MergeRecord&)>& fn) {
  std::optional<int64_t> before;
  for (;;) {
    auto page = store.List(before, 200);
    if (!page) return std::unexpected(page.error());
    for (const MergeRecord& r : *page) {
      if (auto ok = fn(r); !ok) return ok;
    }
    if (page->size() < 200) return core::Ok();
    before = page->back().id;
  }
}

}  // namespace

core::Result<int64_t> MergeService::Reencrypt(const core::Actor& actor) {
  if (!actor.Can(core::Perm::kSettingsAdmin)) {
    return std::unexpected(core::Error::Forbidden("re-encrypting needs settings.admin"));
  }
  int64_t rewritten = 0;
  auto done = EachMerge(store_, [&](const MergeRecord& r) -> core::Result<void> {
    bool old = customers_.UsesKey(r.survivor_before, 0);
    for (const customer::Row& l : r.losers_before) old = old || customers_.UsesKey(l, 0);
    if (!old) return core::Ok();
    auto survivor = customers_.OnCurrentKey(r.survivor_before);
    if (!survivor) return std::unexpected(survivor.error());
    std::vector<customer::Row> losers;
    for (const customer::Row& l : r.losers_before) {
      auto fresh = customers_.OnCurrentKey(l);
      if (!fresh) return std::unexpected(fresh.error());
      losers.push_back(std::move(*fresh));
    }
    if (auto ok = store_.ReplaceSnapshot(r.id, *survivor, losers); !ok) return ok;
    ++rewritten;
    return core::Ok();
  });
  if (!done) return std::unexpected(done.error());
  return rewritten;
}

core::Result<int64_t> MergeService::SnapshotsOnKey(uint32_t version) {
  int64_t n = 0;
  auto done = EachMerge(store_, [&](const MergeRecord& r) -> core::Result<void> {
    bool on = customers_.UsesKey(r.survivor_before, version);
    for (const customer::Row& l : r.losers_before) on = on || customers_.UsesKey(l, version);
    if (on) ++n;
    return core::Ok();
  });
  if (!done) return std::unexpected(done.error());
  return n;
}

core::Result<MergeRecord> MergeService::Get(const core::Actor& actor, int64_t id) {
  if (auto ok = Need(actor); !ok) return std::unexpected(ok.error());
  auto rec = store_.Get(id);
  if (!rec) return std::unexpected(rec.error());
  if (!*rec || !InScope(actor, **rec)) return std::unexpected(NoMerge(id));
  return std::move(**rec);
}

core::Result<audit::Page> MergeService::History(const core::Actor& actor, int64_t customer_id,
                                                std::optional<int64_t> cursor, int limit) {
  if (auto c = customers_.Get(actor, customer_id); !c) return std::unexpected(c.error());
  audit::ListQuery q;
  q.entity = "customer";
  q.entity_id = std::to_string(customer_id);
  q.limit = limit;
  q.cursor = cursor;
  std::vector<int64_t> todo{customer_id};
  std::set<int64_t> seen{customer_id};
  while (!todo.empty() && seen.size() < 1000) {
    const int64_t id = todo.back();
    todo.pop_back();
    auto from = store_.MergedFrom(id);
    if (!from) return std::unexpected(from.error());
    for (int64_t f : *from) {
      if (seen.insert(f).second) {
        todo.push_back(f);
        q.entity_ids.push_back(std::to_string(f));
      }
    }
  }
  return audit_.List(actor, q);
}

std::map<int64_t, int64_t> MergeService::MergedIntoMany(const std::vector<int64_t>& ids) {
  auto r = store_.MergedIntoMany(ids);
  if (!r) {
    spdlog::error("merges: cannot look up {} customers: {}", ids.size(), r.error().message());
    return {};
  }
  return std::move(*r);
}

std::optional<int64_t> MergeService::MergedInto(int64_t id) {
  auto r = store_.MergedInto(id);
  if (!r) {
    spdlog::error("merges: cannot look up customer {}: {}", id, r.error().message());
    return std::nullopt;
  }
  return *r;
}

}  // namespace kehu::merge
