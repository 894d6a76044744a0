#include "dedup/service.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_set>

#include "customer/mask.h"
#include "dedup/cluster.h"
#include "dedup/score.h"

namespace kehu::dedup {
namespace {

using customer::Customer;
using nlohmann::json;

std::string LowerAscii(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// Mailboxes of a role or a team rather than a person: shared by several customers of one
// company without making them one person.
bool IsRoleMailbox(std::string_view address) {
  static const std::unordered_set<std::string_view> kRoles = {
      "info",     "sales",     "service", "support",  "admin",     "contact",    "office",
      "hr",       "marketing", "market",  "business", "bd",        "postmaster", "webmaster",
      "noreply",  "no-reply",  "mail",    "enquiry",  "enquiries", "help",       "kefu",
      "xiaoshou", "caiwu",     "finance", "account",  "accounts",  "purchase",   "caigou",
      "hello",    "team",      "job",     "jobs",     "career",    "careers",    "press",
      "pr",       "media",     "order",   "orders",   "billing",   "service1",   "sales1"};
  const auto at = address.find('@');
  if (at == std::string_view::npos) return false;
  return kRoles.contains(LowerAscii(std::string(address.substr(0, at))));
}

ContactKind PhoneKind(const phone::PhoneInfo& p) {
  if (!p.valid) return ContactKind::kInvalid;
  if (p.type == "fixed_line") {
    return p.extension.empty() ? ContactKind::kLandline : ContactKind::kDesk;
  }
  if (p.type == "toll_free" || p.type == "shared_cost" || p.type == "uan" ||
      p.type == "premium_rate" || p.type == "voicemail") {
    return ContactKind::kService;
  }
  return ContactKind::kPhone;
}

// Contact points of a decrypted customer, keyed by their clear values (never stored).
std::vector<Input::Contact> ClearContacts(const Customer& c, const std::string& id_number_key) {
  std::vector<Input::Contact> out;
  for (const customer::Phone& p : c.phones) {
    out.push_back({PhoneKind(p.info), "pn:" + p.info.e164 + "#" + p.info.extension});
  }
  for (const customer::Email& e : c.emails) {
    out.push_back({IsRoleMailbox(e.address) ? ContactKind::kRoleEmail : ContactKind::kEmail,
                   "em:" + LowerAscii(e.address)});
  }
  if (!id_number_key.empty()) out.push_back({ContactKind::kIdNumber, id_number_key});
  return out;
}

Input InputOf(const Customer& c, const std::string& id_number_key) {
  Input in;
  in.id = c.id;
  in.name = c.name;
  in.company = c.company;
  in.province = c.province;
  in.city = c.city;
  in.gender = c.gender;
  in.credit_code = c.credit_code;
  in.contacts = ClearContacts(c, id_number_key);
  return in;
}

std::string GroupKey(const std::vector<int64_t>& ids) {
  std::string bytes;
  for (int64_t id : ids) bytes += std::to_string(id) + ",";
  return fmt::format("g{:016x}", Corpus::Hash(bytes, 7));
}

double Round3(double v) { return std::round(v * 1000.0) / 1000.0; }

json OrNull(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

}  // namespace

DedupService::DedupService(customer::CustomerService& customers, audit::AuditLog& audit,
                           unsigned threads)
    : customers_(customers), audit_(audit), threads_(std::max(1u, threads)) {}

core::Result<ScanResult> DedupService::Scan(const core::Actor& actor, const ScanOptions& options) {
  for (core::Perm p : {core::Perm::kCustomerMerge, core::Perm::kCustomerRead}) {
    if (!actor.Can(p)) {
      return std::unexpected(
          core::Error::Forbidden("the duplicate scan needs " + std::string(core::PermName(p))));
    }
  }
  if (!(options.min_score >= 0.5 && options.min_score <= 1.0)) {
    return std::unexpected(core::Error::BadRequest("min_score is between 0.5 and 1"));
  }
  std::lock_guard lock(scan_mu_);
  const auto start = std::chrono::steady_clock::now();

  // 1. Every customer in scope, normalised page by page (contact points as blind indexes).
  Corpus corpus;
  std::vector<std::string> codes;
  std::vector<int64_t> ids;
  auto read = customers_.ScanAll(actor, 5000, [&](std::vector<customer::ScanRecord>&& page) {
    std::vector<Input> inputs;
    inputs.reserve(page.size());
    for (customer::ScanRecord& r : page) {
      Input in;
      in.id = r.id;
      in.name = std::move(r.name);
      in.company = std::move(r.company);
      in.province = std::move(r.province);
      in.city = std::move(r.city);
      in.gender = std::move(r.gender);
      in.credit_code = std::move(r.credit_code);
      for (const auto& c : r.contacts) {
        in.contacts.push_back({c.kind == "email" ? ContactKind::kEmail : ContactKind::kUnresolved,
                               c.kind + ":" + c.bidx});
      }
      if (!r.id_number_bidx.empty())
        in.contacts.push_back({ContactKind::kIdNumber, "id:" + r.id_number_bidx});
      codes.push_back(std::move(r.code));
      ids.push_back(r.id);
      inputs.push_back(std::move(in));
    }
    corpus.AddAll(inputs, threads_);
  });
  if (!read) return std::unexpected(read.error());
  const auto read_done = std::chrono::steady_clock::now();

  // 2. Contact points several customers hold: decrypt those customers once to tell a mobile
  // from a landline, an extension from the switchboard, a role mailbox from a person's.
  {
    std::vector<std::pair<uint64_t, uint32_t>> keys;
    const auto& recs = corpus.records();
    for (uint32_t i = 0; i < recs.size(); ++i) {
      for (const Record::Contact& c : recs[i].contacts) {
        if (c.kind != ContactKind::kIdNumber) keys.emplace_back(c.key, i);
      }
    }
    std::sort(keys.begin(), keys.end());
    std::vector<uint32_t> shared;
    for (std::size_t i = 0; i < keys.size();) {
      std::size_t j = i + 1;
      while (j < keys.size() && keys[j].first == keys[i].first) ++j;
      if (j - i > 1) {
        for (std::size_t k = i; k < j; ++k) shared.push_back(keys[k].second);
      }
      i = j;
    }
    keys.clear();
    keys.shrink_to_fit();
    std::sort(shared.begin(), shared.end());
    shared.erase(std::unique(shared.begin(), shared.end()), shared.end());
    constexpr std::size_t kChunk = 2000;
    for (std::size_t from = 0; from < shared.size(); from += kChunk) {
      std::vector<int64_t> want;
      for (std::size_t k = from; k < std::min(shared.size(), from + kChunk); ++k)
        want.push_back(ids[shared[k]]);
      auto got = customers_.GetUnmasked(actor, want);
      if (!got) return std::unexpected(got.error());
      for (const Customer& c : *got) {
        auto it = std::lower_bound(ids.begin(), ids.end(), c.id);
        if (it == ids.end() || *it != c.id) continue;
        // (SetContacts keeps the ID number keyed by its blind index, as for the others.)
        corpus.SetContacts(static_cast<uint32_t>(it - ids.begin()), ClearContacts(c, ""));
      }
    }
  }
  corpus.Finish();
  const auto resolved = std::chrono::steady_clock::now();

  // 3. Groups.
  ClusterOptions copts;
  copts.threshold = options.min_score;
  copts.threads = threads_;
  ClusterStats stats;
  std::vector<Group> groups = FindGroups(corpus, copts, &stats);
  const auto grouped = std::chrono::steady_clock::now();

  ScanResult out;
  out.total_groups = groups.size();
  out.scanned = corpus.size();
  out.candidate_pairs = stats.candidate_pairs;
  const std::size_t take =
      options.limit == 0 ? groups.size() : std::min(options.limit, groups.size());
  std::map<int64_t, Customer> details;
  if (options.members) {
    std::vector<int64_t> want;
    for (std::size_t g = 0; g < take; ++g) {
      for (uint32_t m : groups[g].members) want.push_back(ids[m]);
    }
    auto got = customers_.GetUnmasked(actor, want);
    if (!got) return std::unexpected(got.error());
    for (Customer& c : *got) {
      customer::MaskCustomer(c);
      details.emplace(c.id, std::move(c));
    }
  }
  for (std::size_t g = 0; g < take; ++g) {
    const Group& grp = groups[g];
    DuplicateGroup dg;
    dg.score = Round3(grp.score);
    dg.reasons = ReasonNames(grp.reasons);
    std::vector<int64_t> member_ids;
    for (std::size_t k = 0; k < grp.members.size(); ++k) {
      const uint32_t m = grp.members[k];
      Member mem;
      mem.id = ids[m];
      mem.code = codes[m];
      mem.score = Round3(grp.member_scores[k]);
      if (auto it = details.find(mem.id); it != details.end()) {
        const Customer& c = it->second;
        mem.name = c.name;
        mem.gender = c.gender;
        mem.company = c.company;
        mem.title = c.title;
        mem.province = c.province;
        mem.city = c.city;
        for (const customer::Phone& p : c.phones) mem.phones.push_back(p.info.display);
        for (const customer::Email& e : c.emails) mem.emails.push_back(e.address);
        mem.owner_id = c.owner_id;
        mem.owner_name = c.owner_name;
        mem.stage = c.stage;
        mem.created_at = c.created_at;
        mem.updated_at = c.updated_at;
      }
      member_ids.push_back(mem.id);
      dg.members.push_back(std::move(mem));
    }
    std::sort(dg.members.begin(), dg.members.end(),
              [](const Member& a, const Member& b) { return a.id < b.id; });
    std::sort(member_ids.begin(), member_ids.end());
    dg.key = GroupKey(member_ids);
    out.groups.push_back(std::move(dg));
  }
  out.took_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - start)
                    .count();
  auto ms = [](auto from, auto to) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
  };
  spdlog::info(
      "duplicate scan: {} customers, {} candidate pairs, {} linked, {} groups in {} ms (read {}, "
      "shared contacts {}, grouping {}, members {})",
      out.scanned, stats.candidate_pairs, stats.linked_pairs, out.total_groups, out.took_ms,
      ms(start, read_done), ms(read_done, resolved), ms(resolved, grouped),
      ms(grouped, std::chrono::steady_clock::now()));
  auto r = audit_.Record(actor, {"dedup.scan", "customer", "",
                                 json{{"customers", out.scanned},
                                      {"groups", out.total_groups},
                                      {"min_score", options.min_score}}});
  if (!r) spdlog::error("audit trail: cannot record a duplicate scan: {}", r.error().message());
  return out;
}

core::Result<void> DedupService::CheckDuplicates(const core::Actor& actor, const Customer& c,
                                                 const Customer* before) {
  auto matches = customers_.ContactMatches(c, before);
  if (!matches) return std::unexpected(matches.error());
  if (matches->empty()) return core::Ok();

  // Who may be named: customers in the actor's scope, when the actor may read customers.
  std::vector<int64_t> visible;
  for (const customer::ContactMatch& m : *matches) {
    if (actor.Can(core::Perm::kCustomerRead) && actor.InScope(m.owner_id))
      visible.push_back(m.customer_id);
  }
  std::map<int64_t, Customer> held;
  if (!visible.empty()) {
    auto got = customers_.GetUnmasked(actor, visible);
    if (!got) return std::unexpected(got.error());
    for (Customer& h : *got) held.emplace(h.id, std::move(h));
  }

  // Scores against the customer being written (ID numbers compared in clear here).
  Corpus corpus;
  const uint32_t self =
      corpus.Add(InputOf(c, c.id_number.empty() ? std::string() : "idn:" + c.id_number));
  std::map<int64_t, uint32_t> index;
  for (const auto& [id, h] : held) {
    index[id] = corpus.Add(InputOf(h, h.id_number.empty() ? std::string() : "idn:" + h.id_number));
  }
  corpus.Finish();

  // One error per input that matched: who holds it (those the actor may see), and apart
  // from them that someone outside the actor's scope does.
  struct FieldMatches {
    std::vector<std::string> holders;  // "张伟 (DUP-A)"
    bool phone = false, any_same = false, any_not_landline = false, hidden = false;
  };
  std::vector<std::string> order;
  std::map<std::string, FieldMatches> by_field;
  json duplicates = json::array();
  std::map<int64_t, std::vector<std::string>> matched_fields;
  for (const customer::ContactMatch& m : *matches) {
    if (!by_field.contains(m.field)) order.push_back(m.field);
    FieldMatches& fm = by_field[m.field];
    fm.phone = m.kind == "phone";
    auto it = held.find(m.customer_id);
    if (it == held.end()) {
      fm.hidden = true;
      continue;
    }
    const Customer& h = it->second;
    const PairScore s = Compare(corpus, corpus.records()[self], corpus.records()[index[h.id]]);
    const bool same_person = s.score >= kMatchThreshold && !s.cannot_link;
    bool landline = false;
    if (fm.phone) {
      const std::size_t open = m.field.find('['), close = m.field.find(']');
      const std::size_t i = std::stoul(m.field.substr(open + 1, close - open - 1));
      landline = i < c.phones.size() && c.phones[i].info.type == "fixed_line";
    }
    fm.any_same = fm.any_same || same_person;
    fm.any_not_landline = fm.any_not_landline || !landline;
    fm.holders.push_back(h.name + " (" + (h.code.empty() ? "id " + std::to_string(h.id) : h.code) +
                         ")");
    auto& fields = matched_fields[h.id];
    if (fields.empty()) {
      Customer shown = h;
      customer::MaskCustomer(shown);
      json phones = json::array(), emails = json::array();
      for (const customer::Phone& p : shown.phones) phones.push_back(p.info.display);
      for (const customer::Email& e : shown.emails) emails.push_back(e.address);
      duplicates.push_back({{"id", h.id},
                            {"code", OrNull(h.code)},
                            {"name", h.name},
                            {"company", OrNull(h.company)},
                            {"province", OrNull(h.province)},
                            {"city", OrNull(h.city)},
                            {"owner_id", h.owner_id ? json(*h.owner_id) : json(nullptr)},
                            {"owner_name", OrNull(h.owner_name)},
                            {"phones", phones},
                            {"emails", emails},
                            {"matched", json::array()},
                            {"same_person", same_person},
                            {"score", Round3(s.score)},
                            {"reasons", ReasonNames(s.reasons)}});
    }
    if (std::find(fields.begin(), fields.end(), m.field) == fields.end()) fields.push_back(m.field);
  }
  for (json& d : duplicates) d["matched"] = matched_fields[d["id"].get<int64_t>()];

  std::vector<core::FieldError> errors;
  std::vector<std::string> hidden_fields;
  for (const std::string& field : order) {
    const FieldMatches& fm = by_field[field];
    const std::string what = fm.phone ? "number" : "address";
    if (!fm.holders.empty()) {
      std::string who;
      for (const std::string& h : fm.holders) who += (who.empty() ? "" : ", ") + h;
      // A fixed line listed only for differently named customers: a household's or an
      // office's line, pointed out but not taken for the same person.
      const bool shared = fm.phone && !fm.any_same && !fm.any_not_landline;
      std::string code = !fm.phone ? "duplicate/email"
                         : shared  ? "duplicate/shared_phone"
                                   : "duplicate/phone";
      std::string message =
          shared ? "this fixed line is also listed for " + who + ", not the same person by name"
                 : (fm.holders.size() > 1 ? "customers " : "customer ") + who +
                       (fm.holders.size() > 1 ? " have this " : " has this ") + what;
      errors.push_back({field, std::move(code), std::move(message)});
    }
    if (fm.hidden) {
      hidden_fields.push_back(field);
      errors.push_back({field,
                        fm.phone ? "duplicate/phone_out_of_scope" : "duplicate/email_out_of_scope",
                        std::string(fm.holders.empty() ? "a customer" : "also a customer") +
                            " outside your data scope has this " + what});
    }
  }
  if (!hidden_fields.empty()) {
    auto r = audit_.Record(
        actor, {"customer.duplicate_out_of_scope", "customer",
                c.id ? std::to_string(c.id) : std::string(), json{{"fields", hidden_fields}}});
    if (!r) spdlog::error("audit trail: cannot record a duplicate check: {}", r.error().message());
  }
  const std::string first = errors.front().field + ": " + errors.front().message;
  const std::size_t more = errors.size() - 1;
  core::Error e =
      core::Error::Conflict("possible duplicate — " + first +
                                (more > 0 ? " (and " + std::to_string(more) + " more)" : "") +
                                "; repeat the request with ?confirm_duplicate=true to save anyway",
                            std::move(errors));
  e.WithExtensions(std::make_shared<const json>(json{{"duplicates", duplicates}}));
  return std::unexpected(std::move(e));
}

}  // namespace kehu::dedup
