// dedup_offline: runs the duplicate grouping of `kehu dedup scan` on a JSON-lines file of
// customer bodies (bench/dedup_gen.py) without a server or database, and prints the groups
// as `kehu dedup scan --format json` does (codes). For looking at the algorithm alone: the
// phones go through the same normaliser, contact points are keyed by their clear values
// (the server keys them by blind index), and the timing leaves out reading the database.
//
//   dedup_offline --input customers.jsonl [--threads 2] [--min-score 0.75] > groups.json
//   dedup_offline --input customers.jsonl --explain CODE,CODE   how one pair scores
//
// Output: the groups on stdout, one "RESULT ..." line on stderr.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dedup/cluster.h"
#include "dedup/score.h"
#include "phone/normalizer.h"

using namespace kehu;

int main(int argc, char** argv) {
  std::string input;
  unsigned threads = 2;
  double min_score = dedup::kMatchThreshold;
  std::string explain;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--input") {
      input = v;
    } else if (a == "--threads") {
      threads = static_cast<unsigned>(std::atoi(v.c_str()));
    } else if (a == "--min-score") {
      min_score = std::atof(v.c_str());
    } else if (a == "--explain") {
      explain = v;
    } else {
      std::fprintf(stderr, "usage: dedup_offline --input FILE [--threads N] [--min-score X]\n");
      return 2;
    }
  }
  std::ifstream in(input);
  if (!in) {
    std::fprintf(stderr, "dedup_offline: cannot read %s\n", input.c_str());
    return 1;
  }
  phone::Normalizer phones("CN");
  std::vector<dedup::Input> inputs;
  std::vector<std::string> codes;
  int64_t id = 0;
  for (std::string line; std::getline(in, line);) {
    nlohmann::json b = nlohmann::json::parse(line, nullptr, false);
    if (!b.is_object()) continue;
    dedup::Input x;
    x.id = ++id;
    x.name = b.value("name", "");
    x.company = b.value("company", "");
    x.province = b.value("province", "");
    x.city = b.value("city", "");
    x.gender = b.value("gender", "unknown");
    x.credit_code = b.value("credit_code", "");
    for (const auto& p : b.value("phones", nlohmann::json::array())) {
      auto info = phones.Normalize(p.value("number", ""));
      if (!info) continue;  // the API refuses it; the loader drops it
      dedup::ContactKind kind = dedup::ContactKind::kPhone;
      if (info->type == "fixed_line")
        kind = info->extension.empty() ? dedup::ContactKind::kLandline : dedup::ContactKind::kDesk;
      if (info->type == "toll_free" || info->type == "shared_cost" || info->type == "uan")
        kind = dedup::ContactKind::kService;
      x.contacts.push_back({kind, "pn:" + info->e164 + "#" + info->extension});
    }
    for (const auto& e : b.value("emails", nlohmann::json::array())) {
      std::string addr = e.value("address", "");
      for (char& c : addr) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const auto at = addr.find('@');
      static const char* kRoles[] = {"info", "sales", "service", "office", "support", "admin"};
      bool role = false;
      for (const char* r : kRoles) role = role || addr.substr(0, at) == r;
      x.contacts.push_back(
          {role ? dedup::ContactKind::kRoleEmail : dedup::ContactKind::kEmail, "em:" + addr});
    }
    codes.push_back(b.value("code", std::to_string(x.id)));
    inputs.push_back(std::move(x));
  }
  const auto start = std::chrono::steady_clock::now();
  dedup::Corpus corpus;
  corpus.AddAll(inputs, threads);
  corpus.Finish();
  const auto normalised = std::chrono::steady_clock::now();
  if (!explain.empty()) {
    // --explain A,B or --explain @FILE (one "A B" pair a line).
    std::vector<std::string> pairs;
    if (explain[0] == '@') {
      std::ifstream f(explain.substr(1));
      for (std::string x, y; f >> x >> y;) pairs.push_back(x + "," + y);
    } else {
      pairs.push_back(explain);
    }
    for (const std::string& pair : pairs) {
      const auto comma = pair.find(',');
      const std::string& explain = pair;
      auto find = [&](const std::string& code) {
        return static_cast<std::size_t>(std::find(codes.begin(), codes.end(), code) -
                                        codes.begin());
      };
      const std::size_t a = find(explain.substr(0, comma)), b = find(explain.substr(comma + 1));
      if (a >= codes.size() || b >= codes.size()) {
        std::fprintf(stderr, "dedup_offline: unknown code in %s\n", explain.c_str());
        return 1;
      }
      const auto& ra = corpus.records()[a];
      const auto& rb = corpus.records()[b];
      auto s = dedup::Compare(corpus, ra, rb);
      std::string reasons;
      for (const auto& r : dedup::ReasonNames(s.reasons)) reasons += r + " ";
      std::printf(
          "score %.3f bits %.2f cannot_link %d | contact %.2f name %.2f gender %.2f company "
          "%.2f place %.2f | %s\n",
          s.score, s.bits, s.cannot_link, s.weights.contact, s.weights.name, s.weights.gender,
          s.weights.company, s.weights.place, reasons.c_str());
      std::printf("name counts %u/%u pinyin %u/%u company counts %u/%u\n",
                  corpus.NameCount(ra.name), corpus.NameCount(rb.name), corpus.PinyinCount(ra.name),
                  corpus.PinyinCount(rb.name), corpus.CompanyCount(ra.company),
                  corpus.CompanyCount(rb.company));
    }
    return 0;
  }
  dedup::ClusterOptions opts;
  opts.threads = threads;
  opts.threshold = min_score;
  dedup::ClusterStats stats;
  auto groups = dedup::FindGroups(corpus, opts, &stats);
  const auto done = std::chrono::steady_clock::now();
  nlohmann::json out = nlohmann::json::array();
  for (const auto& g : groups) {
    nlohmann::json members = nlohmann::json::array();
    for (uint32_t m : g.members) members.push_back(codes[m]);
    out.push_back(members);
  }
  std::printf("%s\n", out.dump().c_str());
  auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  std::fprintf(stderr,
               "RESULT records=%zu groups=%zu candidate_pairs=%zu linked=%zu refused=%zu "
               "skipped_blocks=%zu normalise_ms=%lld group_ms=%lld\n",
               stats.records, groups.size(), stats.candidate_pairs, stats.linked_pairs,
               stats.refused_links, stats.skipped_blocks,
               static_cast<long long>(ms(normalised - start)),
               static_cast<long long>(ms(done - normalised)));
  return 0;
}
