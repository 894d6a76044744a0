// load_customers: creates N customers through POST /api/v1/customers with C concurrent
// keep-alive HTTP/1.1 connections (one blocking thread each) and reports customers/s.
//
//   load_customers --port P --token T [--host 127.0.0.1] [--count 100000] [--clients 8]
//                  [--numbers FILE] [--input FILE.jsonl] [--query STRING]
//
// Bodies are realistic and distinct: a Chinese name, a company, one mobile number written
// in a messy format, for half of the customers a fixed line (sometimes with 转 extension),
// and an email. Every number is unique within a run (bijections of the customer index).
// --numbers writes one URL-encoded stored number per line, in varied formats, for the
// caller-ID lookup run (bench/lookup.lua).
// --input posts the bodies of a JSON-lines file instead (bench/dedup_gen.py), to --query
// appended to the path (e.g. "?confirm_duplicate=true"); a body refused with 422 for an
// invalid phone or email is sent again without it, as someone typing it in would.
//
// Output: human lines, then one machine line starting with "RESULT ".
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "fake_cn.h"

namespace {

using namespace kehu::bench;  // NOLINT: the word lists

std::string UrlEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

struct Generated {
  std::string body;
  std::string lookup;  // one stored number, in some format, URL-encoded
};

// Customer i (0 <= i < 1,000,000): everything derived from i, numbers unique per i.
Generated Make(uint64_t i) {
  const auto& sn = kSurnames[(i * 7) % Len(kSurnames)];
  const auto& gn = kGiven[(i / 3 + i * 11) % Len(kGiven)];
  std::string name = std::string(sn[0]) + gn[0];
  std::string company = std::string(kCities[i % Len(kCities)]) + kWords[(i / 5) % Len(kWords)] +
                        kTrades[(i / 7) % Len(kTrades)] + kSuffixes[(i / 3) % Len(kSuffixes)];
  // Mobile: prefix by i mod 32, 8 digits by an odd, non-multiple-of-5 multiplier mod 1e8.
  std::string prefix = kMobilePrefixes[i % Len(kMobilePrefixes)];
  std::string rest = Digits((i * 48271 + 13579) % 100000000, 8);
  std::string m = prefix + rest;
  std::string mobile;
  switch (i % 6) {
    case 0:
      mobile = prefix + "-" + rest.substr(0, 4) + "-" + rest.substr(4);
      break;
    case 1:
      mobile = prefix + " " + rest.substr(0, 4) + " " + rest.substr(4);
      break;
    case 2:
      mobile = "+86 " + prefix + " " + rest.substr(0, 4) + " " + rest.substr(4);
      break;
    case 3:
      mobile = m;
      break;
    case 4:
      mobile = "(+86)" + m;
      break;
    default:
      mobile = " " + prefix + "-" + rest.substr(0, 3) + "-" + rest.substr(3) + " ";
      break;
  }
  std::string phones = R"({"number":")" + mobile + R"(","label":"手机"})";
  std::string fixed_e164_local;  // area + subscriber, for the lookup file
  if (i % 2 == 1) {
    const Area& a = kAreas[(i / 2) % Len(kAreas)];
    uint64_t mod = a.digits == 8 ? 10000000 : 1000000;
    std::string sub = std::string(1, a.lead) + Digits((i * 7919 + 4242) % mod, a.digits - 1);
    fixed_e164_local = std::string(a.code) + sub;
    std::string fixed;
    switch ((i / 2) % 4) {
      case 0:
        fixed = "0" + std::string(a.code) + "-" + sub + " 转 " + std::to_string(10 + i % 90);
        break;
      case 1:
        fixed = "(0" + std::string(a.code) + ") " + sub.substr(0, 4) + " " + sub.substr(4);
        break;
      case 2:
        fixed = "0" + std::string(a.code) + sub;
        break;
      default:
        fixed = "+86-" + std::string(a.code) + "-" + sub;
        break;
    }
    phones += R"(,{"number":")" + fixed + R"(","label":"办公"})";
  }
  std::string email =
      std::string(sn[1]) + "." + gn[1] + std::to_string(i) + "@" + kDomains[i % Len(kDomains)];
  std::string body = R"({"name":")" + name + R"(","company":")" + company + R"(","title":")" +
                     kTitles[i % Len(kTitles)] + R"(","source":")" + kSources[i % Len(kSources)] +
                     R"(","phones":[)" + phones + R"(],"emails":[{"address":")" + email +
                     R"(","label":"工作"}]})";
  // Lookup formats, as a caller-ID integration would send them.
  std::string q;
  switch ((i / 3) % 7) {
    case 0:
      q = m;
      break;
    case 1:
      q = "+86" + m;
      break;
    case 2:
      q = "0086" + m;
      break;
    case 3:
      q = "+86 " + prefix + " " + rest.substr(0, 4) + " " + rest.substr(4);
      break;
    case 4:
      q = prefix + "-" + rest.substr(0, 4) + "-" + rest.substr(4);
      break;
    case 5:
      q = fixed_e164_local.empty() ? m : "0" + fixed_e164_local;
      break;
    default:
      q = fixed_e164_local.empty() ? "86" + m : "+86" + fixed_e164_local;
      break;
  }
  return {std::move(body), UrlEncode(q)};
}

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string token;
  uint64_t count = 100000;
  int clients = 8;
  std::string numbers;
  std::string input;
  std::string query;
};

int Connect(const Options& o) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(o.port));
  if (::inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr) != 1 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool SendAll(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads one response with Content-Length; returns the status (0 on failure), body in *body.
// `buf` keeps bytes past the response (there are none without pipelining, but be correct).
int ReadResponse(int fd, std::string& buf, std::string* body, bool* close_after) {
  std::size_t head_end;
  char tmp[16384];
  while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) return 0;
    buf.append(tmp, static_cast<std::size_t>(n));
  }
  std::string head = buf.substr(0, head_end);
  std::string lower = head;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  int status = 0;
  if (head.size() > 12) status = std::atoi(head.c_str() + 9);
  std::size_t len = 0;
  if (auto p = lower.find("\r\ncontent-length:"); p != std::string::npos) {
    len = std::strtoull(lower.c_str() + p + 17, nullptr, 10);
  } else if (lower.find("transfer-encoding") != std::string::npos) {
    std::fprintf(stderr, "load_customers: chunked responses are not supported\n");
    return 0;
  }
  *close_after = lower.find("\r\nconnection: close") != std::string::npos;
  std::size_t total = head_end + 4 + len;
  while (buf.size() < total) {
    ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) return 0;
    buf.append(tmp, static_cast<std::size_t>(n));
  }
  if (body) body->assign(buf, head_end + 4, len);
  buf.erase(0, total);
  return status;
}

double Percentile(std::vector<uint32_t>& v, double p) {
  if (v.empty()) return 0;
  std::size_t k = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k] / 1000.0;
}

int Usage() {
  std::fprintf(stderr,
               "usage: load_customers --port P --token T [--host H] [--count N] [--clients C] "
               "[--numbers FILE] [--input FILE.jsonl] [--query STRING]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return Usage();
    std::string v = argv[++i];
    if (a == "--host")
      o.host = v;
    else if (a == "--port")
      o.port = std::atoi(v.c_str());
    else if (a == "--token")
      o.token = v;
    else if (a == "--count")
      o.count = std::strtoull(v.c_str(), nullptr, 10);
    else if (a == "--clients")
      o.clients = std::atoi(v.c_str());
    else if (a == "--numbers")
      o.numbers = v;
    else if (a == "--input")
      o.input = v;
    else if (a == "--query")
      o.query = v;
    else
      return Usage();
  }
  if (o.port <= 0 || o.token.empty() || o.clients <= 0) return Usage();
  if (o.count > 1000000) {
    std::fprintf(stderr, "load_customers: at most 1,000,000 customers (numbers stay unique)\n");
    return 2;
  }

  // Bodies are generated up front so the timed part is the HTTP exchange only.
  std::vector<std::string> bodies;
  if (!o.input.empty()) {
    std::ifstream in(o.input);
    if (!in) {
      std::fprintf(stderr, "load_customers: cannot read %s\n", o.input.c_str());
      return 1;
    }
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) bodies.push_back(std::move(line));
    }
    o.count = bodies.size();
  }
  auto request_of = [&](const std::string& body) {
    return "POST /api/v1/customers" + o.query + " HTTP/1.1\r\nHost: " + o.host + ":" +
           std::to_string(o.port) + "\r\nAuthorization: Bearer " + o.token +
           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
  };
  std::vector<std::string> requests(o.count);
  std::vector<std::string> lookups(o.input.empty() ? o.count : 0);
  std::size_t body_bytes = 0;
  for (uint64_t i = 0; i < o.count; ++i) {
    if (!o.input.empty()) {
      body_bytes += bodies[i].size();
      requests[i] = request_of(bodies[i]);
      continue;
    }
    Generated g = Make(i);
    body_bytes += g.body.size();
    requests[i] = request_of(g.body);
    lookups[i] = std::move(g.lookup);
  }
  // A body refused for invalid phones or emails, without them; empty when nothing to drop.
  std::atomic<uint64_t> dropped{0};
  auto without_invalid = [&](uint64_t i, const std::string& problem) -> std::string {
    if (o.input.empty()) return "";
    nlohmann::json p = nlohmann::json::parse(problem, nullptr, false);
    nlohmann::json b = nlohmann::json::parse(bodies[i], nullptr, false);
    if (!p.is_object() || !p.contains("errors") || !b.is_object()) return "";
    std::vector<std::pair<std::string, std::size_t>> drop;
    for (const auto& e : p["errors"]) {
      std::string f = e.value("field", "");
      for (const char* list : {"phones", "emails"}) {
        std::string prefix = std::string(list) + "[";
        if (f.rfind(prefix, 0) == 0) {
          drop.emplace_back(list, std::strtoull(f.c_str() + prefix.size(), nullptr, 10));
        }
      }
    }
    if (drop.empty()) return "";
    std::sort(drop.rbegin(), drop.rend());
    drop.erase(std::unique(drop.begin(), drop.end()), drop.end());
    for (const auto& [list, k] : drop) {
      if (b.contains(list) && k < b[list].size()) b[list].erase(k);
    }
    dropped.fetch_add(drop.size());
    bodies[i] = b.dump();
    return request_of(bodies[i]);
  };
  if (!o.numbers.empty()) {
    std::ofstream f(o.numbers);
    for (const auto& l : lookups) f << l << '\n';
    if (!f) {
      std::fprintf(stderr, "load_customers: cannot write %s\n", o.numbers.c_str());
      return 1;
    }
  }

  std::atomic<uint64_t> next{0}, created{0}, failed{0};
  std::mutex mu;
  std::vector<uint32_t> latencies_us;
  latencies_us.reserve(o.count);
  std::string first_error;
  auto worker = [&] {
    std::vector<uint32_t> mine;
    std::string buf, body;
    int fd = Connect(o);
    for (;;) {
      uint64_t i = next.fetch_add(1);
      if (i >= o.count) break;
      auto t0 = std::chrono::steady_clock::now();
      bool close_after = false;
      int status = 0;
      for (int attempt = 0; attempt < 2 && status == 0; ++attempt) {
        if (fd < 0) fd = Connect(o);
        if (fd >= 0 && SendAll(fd, requests[i])) {
          status = ReadResponse(fd, buf, &body, &close_after);
        }
        if (status == 0 && fd >= 0) {
          ::close(fd);
          fd = -1;
          buf.clear();
          if (attempt == 0) continue;
        }
      }
      if (status == 422) {
        // Drop the invalid values and send the rest again (once per round of problems).
        for (int round = 0; round < 3 && status == 422; ++round) {
          std::string retry = without_invalid(i, body);
          if (retry.empty()) break;
          requests[i] = std::move(retry);
          status = 0;
          if (fd < 0) fd = Connect(o);
          if (fd >= 0 && SendAll(fd, requests[i])) {
            status = ReadResponse(fd, buf, &body, &close_after);
          }
        }
      }
      auto t1 = std::chrono::steady_clock::now();
      mine.push_back(static_cast<uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count()));
      if (status == 201) {
        created.fetch_add(1);
      } else {
        failed.fetch_add(1);
        std::lock_guard<std::mutex> l(mu);
        if (first_error.empty()) {
          first_error = "HTTP " + std::to_string(status) + " " + body.substr(0, 400);
        }
      }
      if (close_after && fd >= 0) {
        ::close(fd);
        fd = -1;
        buf.clear();
      }
    }
    if (fd >= 0) ::close(fd);
    std::lock_guard<std::mutex> l(mu);
    latencies_us.insert(latencies_us.end(), mine.begin(), mine.end());
  };

  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < o.clients; ++c) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  double rate = static_cast<double>(created.load()) / secs;
  double p50 = Percentile(latencies_us, 50), p99 = Percentile(latencies_us, 99);
  if (!first_error.empty()) std::fprintf(stderr, "first failure: %s\n", first_error.c_str());
  std::printf(
      "RESULT created=%llu failed=%llu seconds=%.3f rate=%.0f p50_ms=%.2f p99_ms=%.2f "
      "avg_body_bytes=%.0f dropped_values=%llu\n",
      static_cast<unsigned long long>(created.load()),
      static_cast<unsigned long long>(failed.load()), secs, rate, p50, p99,
      o.count ? static_cast<double>(body_bytes) / static_cast<double>(o.count) : 0.0,
      static_cast<unsigned long long>(dropped.load()));
  return failed.load() == 0 ? 0 : 1;
}
