#include "core/time.h"

#include <chrono>
#include <cstdio>
#include <random>

namespace kehu::core {
namespace {

bool Digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

bool ValidYmd(int y, int m, int d) {
  using namespace std::chrono;
  return year_month_day{year{y}, month{static_cast<unsigned>(m)}, day{static_cast<unsigned>(d)}}
      .ok();
}

int64_t DaysFromCivil(int y, int m, int d) {
  using namespace std::chrono;
  return sys_days{year{y} / month{static_cast<unsigned>(m)} / day{static_cast<unsigned>(d)}}
      .time_since_epoch()
      .count();
}

}  // namespace

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string FormatTime(int64_t epoch_ms) {
  using namespace std::chrono;
  sys_time<milliseconds> tp{milliseconds{epoch_ms}};
  auto days = floor<std::chrono::days>(tp);
  year_month_day ymd{days};
  hh_mm_ss<milliseconds> hms{tp - days};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), int(hms.hours().count()),
                int(hms.minutes().count()), int(hms.seconds().count()),
                int(hms.subseconds().count()));
  return buf;
}

bool IsValidDate(std::string_view t) {
  int y, m, d;
  return t.size() == 10 && Digits(t, 0, 4, y) && t[4] == '-' && Digits(t, 5, 2, m) && t[7] == '-' &&
         Digits(t, 8, 2, d) && ValidYmd(y, m, d);
}

std::optional<int64_t> ParseTime(std::string_view t, int date_offset_minutes) {
  int y, mo, d;
  if (t.size() < 10 || !Digits(t, 0, 4, y) || t[4] != '-' || !Digits(t, 5, 2, mo) || t[7] != '-' ||
      !Digits(t, 8, 2, d) || !ValidYmd(y, mo, d)) {
    return std::nullopt;
  }
  int64_t day_ms = DaysFromCivil(y, mo, d) * 86400000LL;
  if (t.size() == 10) return day_ms - int64_t(date_offset_minutes) * 60000;
  int h, mi, s;
  if (t.size() < 19 || (t[10] != 'T' && t[10] != 't' && t[10] != ' ') || !Digits(t, 11, 2, h) ||
      t[13] != ':' || !Digits(t, 14, 2, mi) || t[16] != ':' || !Digits(t, 17, 2, s) || h > 23 ||
      mi > 59 || s > 60) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  int64_t ms = 0;
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    int64_t scale = 100;
    std::size_t start = pos;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
      ms += (t[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int64_t offset_min = 0;
  if (pos < t.size() && (t[pos] == 'Z' || t[pos] == 'z')) {
    ++pos;
  } else if (pos < t.size() && (t[pos] == '+' || t[pos] == '-')) {
    int oh, om;
    if (!Digits(t, pos + 1, 2, oh) || pos + 3 >= t.size() || t[pos + 3] != ':' ||
        !Digits(t, pos + 4, 2, om)) {
      return std::nullopt;
    }
    offset_min = (oh * 60 + om) * (t[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != t.size()) return std::nullopt;
  return day_ms + ((h * 60 + mi) * 60 + s) * 1000LL + ms - offset_min * 60000;
}

std::string NewIncidentId() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

}  // namespace kehu::core
