// phone_baseline: libphonenumber alone on the phone numbers of an import file, as the ceiling
// the import benchmark works against (scripts/bench, part 6). Reads the file the way an import
// does (kehu::importer::OpenSource), splits the cells of the phone columns (手机, 座机, 电话,
// 联系电话) as an import does, then times Kehu's full parse (parse, validate, type, geocoded
// region, carrier, display format: phone::Normalizer::Parse) of every number on T threads.
// Reading and splitting are not timed.
//
//   phone_baseline --csv FILE [--threads 2]
//
// Output: one machine line starting with "RESULT ".
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "importer/mapping.h"
#include "importer/source.h"
#include "phone/normalizer.h"

namespace {

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  int threads = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--csv")
      path = argv[i + 1];
    else if (a == "--threads")
      threads = std::atoi(argv[i + 1]);
  }
  if (path.empty() || threads < 1) {
    std::fprintf(stderr, "usage: phone_baseline --csv FILE [--threads T]\n");
    return 2;
  }
  auto src = kehu::importer::OpenSource(path, "", "");
  if (!src) {
    std::fprintf(stderr, "phone_baseline: %s\n", src.error().message().c_str());
    return 1;
  }
  int64_t number = 0;
  std::vector<std::string> cells;
  std::vector<std::size_t> phone_columns;
  std::vector<std::string> numbers;
  int64_t rows = 0;
  for (bool header = true;; header = false) {
    auto more = (*src)->Next(number, cells);
    if (!more) {
      std::fprintf(stderr, "phone_baseline: %s\n", more.error().message().c_str());
      return 1;
    }
    if (!*more) break;
    if (header) {
      for (std::size_t c = 0; c < cells.size(); ++c) {
        if (cells[c] == "手机" || cells[c] == "座机" || cells[c] == "电话" ||
            cells[c] == "联系电话") {
          phone_columns.push_back(c);
        }
      }
      continue;
    }
    ++rows;
    for (std::size_t c : phone_columns) {
      if (c >= cells.size()) continue;
      for (std::string& n : kehu::importer::SplitPhones(cells[c])) numbers.push_back(std::move(n));
    }
  }
  if (phone_columns.empty()) {
    std::fprintf(stderr, "phone_baseline: no phone column (手机, 座机, 电话, 联系电话) in %s\n",
                 path.c_str());
    return 1;
  }

  const kehu::phone::Normalizer normalizer("CN");
  (void)normalizer.Parse("13800138000");  // metadata and geocoder loaded before the clock starts
  std::atomic<std::size_t> next{0};
  std::atomic<int64_t> valid{0}, parsed{0};
  constexpr std::size_t kSlice = 256;
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = CpuSeconds();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      int64_t v = 0, p = 0;
      for (;;) {
        const std::size_t from = next.fetch_add(kSlice);
        if (from >= numbers.size()) break;
        const std::size_t to = std::min(numbers.size(), from + kSlice);
        for (std::size_t i = from; i < to; ++i) {
          auto info = normalizer.Parse(numbers[i]);
          if (!info) continue;
          ++p;
          if (info->valid) ++v;
        }
      }
      valid += v;
      parsed += p;
    });
  }
  for (auto& t : pool) t.join();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = CpuSeconds() - cpu_start;
  const auto n = static_cast<double>(numbers.size());
  std::printf(
      "RESULT rows=%lld numbers=%zu parsed=%lld valid=%lld threads=%d seconds=%.3f "
      "numbers_per_s=%.0f rows_per_s=%.0f us_each=%.2f\n",
      static_cast<long long>(rows), numbers.size(), static_cast<long long>(parsed.load()),
      static_cast<long long>(valid.load()), threads, secs, n / secs,
      static_cast<double>(rows) / secs, n > 0 ? cpu * 1e6 / n : 0.0);
  return 0;
}
