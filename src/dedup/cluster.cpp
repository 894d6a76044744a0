#include "dedup/cluster.h"

#include <algorithm>
#include <numeric>
#include <thread>
#include <unordered_map>

#include "core/text.h"

namespace kehu::dedup {
namespace {

enum class BlockKind : uint8_t { kContact, kName };

struct Entry {
  uint64_t key;
  uint32_t rec;
  BlockKind kind;
  bool operator<(const Entry& o) const { return key != o.key ? key < o.key : rec < o.rec; }
};

uint64_t Mix(uint64_t a, uint64_t b) {
  return Corpus::Hash(std::string_view(reinterpret_cast<const char*>(&b), sizeof b), a);
}

// The first two Han characters or four other characters of a company's core name: companies
// that are equal or similar (a branch, a trade word left out) share it.
std::string CompanyPrefix(const CompanyForm& c) {
  const std::string& s = c.core.empty() ? c.key : c.core;
  std::size_t i = 0, chars = 0;
  bool han = s.size() > 0 && static_cast<unsigned char>(s[0]) >= 0x80;
  const std::size_t want = han ? 2 : 4;
  while (i < s.size() && chars < want) {
    unsigned char c0 = static_cast<unsigned char>(s[i]);
    i += c0 >= 0xF0 ? 4 : c0 >= 0xE0 ? 3 : c0 >= 0xC0 ? 2 : 1;
    ++chars;
  }
  return s.substr(0, std::min(i, s.size()));
}

// Surname keys used to split a large contact block (a switchboard shared by a whole office).
std::vector<std::string> SplitKeys(const NameForm& n) {
  if (n.script == NameForm::Script::kNone) return {""};
  if (n.script == NameForm::Script::kHan) {
    std::vector<std::string> out = {core::PinyinKey(n.surname)};
    for (const std::string& r : SurnameReadings(n.surname)) out.push_back(r);
    return out;
  }
  if (n.words.empty()) return {n.key};
  std::vector<std::string> out = {n.words.front()};
  if (n.words.size() > 1) out.push_back(n.words.back());
  // One word ("zhangwei"): its first syllable is unknown; the whole word still pairs with
  // the same spelling.
  return out;
}

void BlockKeys(const Corpus& corpus, uint32_t idx, std::vector<Entry>& out) {
  const Record& r = corpus.records()[idx];
  for (const Record::Contact& c : r.contacts)
    out.push_back({Mix(c.key, 1), idx, BlockKind::kContact});
  const NameForm& n = corpus.name(r.name);
  if (n.script == NameForm::Script::kNone || n.placeholder) return;
  const CompanyForm& co = corpus.company(r.company);
  const std::string prefix = co.empty() ? std::string() : CompanyPrefix(co);
  for (const std::string& pk : n.pinyin) {
    const uint64_t h = Corpus::Hash(pk, 10);
    if (!prefix.empty()) out.push_back({Mix(h, Corpus::Hash(prefix, 11)), idx, BlockKind::kName});
    if (r.city != 0) out.push_back({Mix(h, 0x100000000ULL + r.city), idx, BlockKind::kName});
    if (r.credit != 0) out.push_back({Mix(h, 0x200000000ULL + r.credit), idx, BlockKind::kName});
  }
}

void AllPairs(const std::vector<uint32_t>& recs, std::vector<uint64_t>& pairs) {
  for (std::size_t i = 0; i < recs.size(); ++i) {
    for (std::size_t j = i + 1; j < recs.size(); ++j) {
      uint32_t a = recs[i], b = recs[j];
      if (a == b) continue;
      if (a > b) std::swap(a, b);
      pairs.push_back((static_cast<uint64_t>(a) << 32) | b);
    }
  }
}

struct Edge {
  uint32_t a, b;
  double score;
  Reasons reasons;
};

}  // namespace

std::vector<Group> FindGroups(const Corpus& corpus, const ClusterOptions& options,
                              ClusterStats* stats) {
  ClusterStats st;
  const auto& recs = corpus.records();
  st.records = recs.size();

  // 1. Blocks: customers sharing a key.
  std::vector<Entry> entries;
  entries.reserve(recs.size() * 4);
  for (uint32_t i = 0; i < recs.size(); ++i) BlockKeys(corpus, i, entries);
  std::sort(entries.begin(), entries.end());

  // 2. Candidate pairs within blocks.
  std::vector<uint64_t> pairs;
  std::vector<uint32_t> block;
  for (std::size_t i = 0; i < entries.size();) {
    std::size_t j = i;
    block.clear();
    while (j < entries.size() && entries[j].key == entries[i].key) {
      if (block.empty() || block.back() != entries[j].rec) block.push_back(entries[j].rec);
      ++j;
    }
    const BlockKind kind = entries[i].kind;
    i = j;
    if (block.size() < 2) continue;
    if (block.size() <= options.max_block) {
      AllPairs(block, pairs);
      continue;
    }
    if (kind == BlockKind::kName) {
      if (block.size() <= options.max_name_block) {
        AllPairs(block, pairs);
      } else {
        st.skipped_blocks++;
      }
      continue;
    }
    // A contact shared by very many customers (an office switchboard, a hotline): compare
    // only those with the same surname.
    std::vector<std::pair<std::string, uint32_t>> sub;
    for (uint32_t rec : block) {
      for (std::string& k : SplitKeys(corpus.name(recs[rec].name)))
        sub.emplace_back(std::move(k), rec);
    }
    std::sort(sub.begin(), sub.end());
    std::vector<uint32_t> run;
    for (std::size_t a = 0; a < sub.size();) {
      std::size_t b = a;
      run.clear();
      while (b < sub.size() && sub[b].first == sub[a].first) run.push_back(sub[b++].second);
      a = b;
      if (run.size() < 2) continue;
      if (run.size() > options.max_name_block) {
        st.skipped_blocks++;
        continue;
      }
      AllPairs(run, pairs);
    }
  }
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  st.candidate_pairs = pairs.size();

  // 3. Score the pairs (in parallel); keep links at or over the threshold.
  const unsigned threads = std::max(
      1u, std::min<unsigned>(options.threads, static_cast<unsigned>(pairs.size() / 4096 + 1)));
  std::vector<std::vector<Edge>> found(threads);
  auto work = [&](unsigned t) {
    const std::size_t begin = pairs.size() * t / threads, end = pairs.size() * (t + 1) / threads;
    for (std::size_t k = begin; k < end; ++k) {
      const uint32_t a = static_cast<uint32_t>(pairs[k] >> 32);
      const uint32_t b = static_cast<uint32_t>(pairs[k] & 0xFFFFFFFFu);
      PairScore s = Compare(corpus, recs[a], recs[b]);
      if (s.score >= options.threshold && !s.cannot_link)
        found[t].push_back({a, b, s.score, s.reasons});
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();
  std::vector<Edge> edges;
  for (auto& f : found) edges.insert(edges.end(), f.begin(), f.end());
  pairs.clear();
  pairs.shrink_to_fit();
  st.linked_pairs = edges.size();

  // 4. Groups: strongest links first; two groups join only when nobody in one cannot link
  // with anybody in the other.
  std::sort(edges.begin(), edges.end(), [](const Edge& x, const Edge& y) {
    if (x.score != y.score) return x.score > y.score;
    return x.a != y.a ? x.a < y.a : x.b < y.b;
  });
  std::vector<uint32_t> parent(recs.size());
  std::iota(parent.begin(), parent.end(), 0u);
  auto find = [&](uint32_t x) {
    while (parent[x] != x) {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
    return x;
  };
  struct Building {
    std::vector<uint32_t> members;
    double weakest = 1;
    Reasons reasons = 0;
  };
  std::unordered_map<uint32_t, Building> groups;   // by root
  std::unordered_map<uint32_t, double> best_link;  // per record
  for (const Edge& e : edges) {
    uint32_t ra = find(e.a), rb = find(e.b);
    if (ra == rb) continue;
    auto members_of = [&](uint32_t root) -> std::vector<uint32_t> {
      auto it = groups.find(root);
      return it == groups.end() ? std::vector<uint32_t>{root} : it->second.members;
    };
    std::vector<uint32_t> ma = members_of(ra), mb = members_of(rb);
    if (ma.size() + mb.size() > options.max_group) {
      st.refused_links++;
      continue;
    }
    bool ok = true;
    for (uint32_t x : ma) {
      for (uint32_t y : mb) {
        if ((x == e.a && y == e.b) || (x == e.b && y == e.a)) continue;
        if (Compare(corpus, recs[x], recs[y]).cannot_link) {
          ok = false;
          break;
        }
      }
      if (!ok) break;
    }
    if (!ok) {
      st.refused_links++;
      continue;
    }
    Building merged;
    merged.members = std::move(ma);
    merged.members.insert(merged.members.end(), mb.begin(), mb.end());
    merged.weakest = e.score;
    merged.reasons = e.reasons;
    for (uint32_t root : {ra, rb}) {
      auto it = groups.find(root);
      if (it != groups.end()) {
        merged.weakest = std::min(merged.weakest, it->second.weakest);
        merged.reasons |= it->second.reasons;
        groups.erase(it);
      }
    }
    parent[rb] = ra;
    groups[ra] = std::move(merged);
    for (uint32_t x : {e.a, e.b}) {
      double& bl = best_link[x];
      bl = std::max(bl, e.score);
    }
  }

  std::vector<Group> out;
  out.reserve(groups.size());
  for (auto& [root, g] : groups) {
    Group grp;
    grp.members = std::move(g.members);
    std::sort(grp.members.begin(), grp.members.end());
    for (uint32_t m : grp.members) grp.member_scores.push_back(best_link[m]);
    grp.score = g.weakest;
    grp.reasons = g.reasons;
    out.push_back(std::move(grp));
  }
  std::sort(out.begin(), out.end(), [&](const Group& x, const Group& y) {
    if (x.score != y.score) return x.score > y.score;
    return recs[x.members.front()].id < recs[y.members.front()].id;
  });
  if (stats) *stats = st;
  return out;
}

}  // namespace kehu::dedup
