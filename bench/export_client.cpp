// export_client: reads every customer of a running kehu server, either as the customer list
// pages (the baseline: GET /api/v1/customers?limit=200, following next_cursor) or as one
// streamed export (GET /api/v1/customers/export?QUERY, chunked), and reports rows/s.
//
//   export_client --port P --token T --mode list|export [--query "format=csv"] [--host H]
//
// Export rows are counted from the body: CSV lines after the header, JSON objects (one a
// line); XLSX reports bytes only (rows=0). Also reports the time to the first body byte.
// Output: one machine line starting with "RESULT ".
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <nlohmann/json.hpp>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string token;
  std::string mode;
  std::string query = "format=csv";
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

std::string Get(const Options& o, const std::string& target) {
  return "GET " + target + " HTTP/1.1\r\nHost: " + o.host + "\r\nAuthorization: Bearer " + o.token +
         "\r\nAccept: */*\r\n\r\n";
}

// Reads one response head; returns the status (0 on failure) and leaves the body bytes
// already received in `buf`.
int ReadHead(int fd, std::string& buf, std::string& head_lower) {
  char tmp[65536];
  std::size_t end;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) return 0;
    buf.append(tmp, static_cast<std::size_t>(n));
  }
  head_lower = buf.substr(0, end);
  std::transform(head_lower.begin(), head_lower.end(), head_lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  buf.erase(0, end + 4);
  return head_lower.size() > 12 ? std::atoi(head_lower.c_str() + 9) : 0;
}

// Streams a chunked body through `take` without keeping it. False on a broken body.
template <typename Take>
bool ReadChunked(int fd, std::string& buf, Take take) {
  char tmp[65536];
  auto more = [&] {
    ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf.append(tmp, static_cast<std::size_t>(n));
    return true;
  };
  for (;;) {
    std::size_t eol;
    while ((eol = buf.find("\r\n")) == std::string::npos) {
      if (!more()) return false;
    }
    const std::size_t size = std::strtoull(buf.c_str(), nullptr, 16);
    buf.erase(0, eol + 2);
    if (size == 0) return true;
    std::size_t left = size;
    while (left > 0) {
      if (buf.empty() && !more()) return false;
      const std::size_t n = std::min(left, buf.size());
      take(std::string_view(buf.data(), n));
      buf.erase(0, n);
      left -= n;
    }
    while (buf.size() < 2) {
      if (!more()) return false;
    }
    buf.erase(0, 2);
  }
}

// Reads a Content-Length body.
bool ReadBody(int fd, std::string& buf, const std::string& head_lower, std::string& body) {
  auto p = head_lower.find("\r\ncontent-length:");
  if (p == std::string::npos) return false;
  const std::size_t len = std::strtoull(head_lower.c_str() + p + 17, nullptr, 10);
  char tmp[65536];
  while (buf.size() < len) {
    ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf.append(tmp, static_cast<std::size_t>(n));
  }
  body.assign(buf, 0, len);
  buf.erase(0, len);
  return true;
}

int Usage() {
  std::fprintf(stderr,
               "usage: export_client --port P --token T --mode list|export [--query Q] "
               "[--host H]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--port") {
      o.port = std::atoi(next().c_str());
    } else if (a == "--token") {
      o.token = next();
    } else if (a == "--mode") {
      o.mode = next();
    } else if (a == "--query") {
      o.query = next();
    } else if (a == "--host") {
      o.host = next();
    } else {
      return Usage();
    }
  }
  if (o.port <= 0 || o.token.empty() || (o.mode != "list" && o.mode != "export")) return Usage();
  int fd = Connect(o);
  if (fd < 0) {
    std::fprintf(stderr, "export_client: cannot connect\n");
    return 1;
  }
  std::string buf, head;
  uint64_t rows = 0, bytes = 0, requests = 0;
  double ttfb_ms = -1;
  const auto start = Clock::now();
  if (o.mode == "list") {
    std::string cursor;
    for (;;) {
      std::string target = "/api/v1/customers?limit=200";
      if (!cursor.empty()) target += "&cursor=" + cursor;
      if (!SendAll(fd, Get(o, target))) return 1;
      ++requests;
      const int status = ReadHead(fd, buf, head);
      std::string body;
      if (status != 200 || !ReadBody(fd, buf, head, body)) {
        std::fprintf(stderr, "export_client: list answered %d\n", status);
        return 1;
      }
      if (ttfb_ms < 0) {
        ttfb_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      }
      bytes += body.size();
      const auto page = nlohmann::json::parse(body);
      rows += page["items"].size();
      if (!page["next_cursor"].is_string()) break;
      cursor = page["next_cursor"].get<std::string>();
    }
  } else {
    if (!SendAll(fd, Get(o, "/api/v1/customers/export?" + o.query))) return 1;
    requests = 1;
    const int status = ReadHead(fd, buf, head);
    if (status != 200 || head.find("transfer-encoding: chunked") == std::string::npos) {
      std::string body;
      ReadBody(fd, buf, head, body);
      std::fprintf(stderr, "export_client: export answered %d %s\n", status, body.c_str());
      return 1;
    }
    const bool csv = o.query.find("format=csv") != std::string::npos ||
                     o.query.find("format=") == std::string::npos;
    const bool json = o.query.find("format=json") != std::string::npos;
    char prev = 0;
    uint64_t newlines = 0, objects = 0;
    const bool ok = ReadChunked(fd, buf, [&](std::string_view piece) {
      if (ttfb_ms < 0) {
        ttfb_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      }
      bytes += piece.size();
      for (char c : piece) {
        if (c == '\n') ++newlines;
        if (c == '{' && prev == '\n') ++objects;
        prev = c;
      }
    });
    if (!ok) {
      std::fprintf(stderr, "export_client: the export body was cut short\n");
      return 1;
    }
    rows = csv ? (newlines > 0 ? newlines - 1 : 0) : json ? objects : 0;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(fd);
  std::printf("RESULT rows=%llu bytes=%llu seconds=%.3f rate=%.0f requests=%llu ttfb_ms=%.1f\n",
              static_cast<unsigned long long>(rows), static_cast<unsigned long long>(bytes),
              seconds, seconds > 0 ? static_cast<double>(rows) / seconds : 0.0,
              static_cast<unsigned long long>(requests), ttfb_ms);
  return 0;
}
