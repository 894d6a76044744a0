// gen_import: writes N rows of messy Chinese customer data as CSV (UTF-8, or GBK with
// --gbk) for the import benchmark (scripts/bench) and tests.
//
//   gen_import --rows 100000 --out customers.csv [--gbk]
//
// About 10 columns (客户编号, 姓名, 公司, 职位, 手机, 座机, 邮箱, 省份, 城市, 来源, 备注) and
// about 1.4 numbers a row, written the ways people type them: spaces, dashes, +86, full-width
// digits, two mobiles in one cell ("/" or "、"), 转 extensions; about 2% of the numbers are
// invalid (too short), 1% of the emails malformed. Every row is distinct (numbers derived
// from the row index by bijections), so an import creates N customers.
#include <unicode/ucnv.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "fake_cn.h"

namespace {

using namespace kehu::bench;  // NOLINT: the word lists

std::string Csv(const std::string& v) {
  if (v.find_first_of(",\"\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// Full-width digits for a few numbers (０-９ are U+FF10..U+FF19).
std::string FullWidth(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      out += "\xEF\xBC";
      out += static_cast<char>(0x90 + (c - '0'));
    } else {
      out += c;
    }
  }
  return out;
}

std::string Mobile(uint64_t i, uint64_t salt) {
  const std::string prefix = kMobilePrefixes[(i + salt) % Len(kMobilePrefixes)];
  const std::string rest = Digits((i * 48271 + 13579 + salt * 7777777) % 100000000, 8);
  switch ((i + salt) % 7) {
    case 0:
      return prefix + "-" + rest.substr(0, 4) + "-" + rest.substr(4);
    case 1:
      return prefix + " " + rest.substr(0, 4) + " " + rest.substr(4);
    case 2:
      return "+86 " + prefix + " " + rest.substr(0, 4) + " " + rest.substr(4);
    case 3:
      return prefix + rest;
    case 4:
      return "(+86)" + prefix + rest;
    case 5:
      return FullWidth(prefix + rest);
    default:
      return "86" + prefix + rest;
  }
}

std::string Row(uint64_t i) {
  const auto& sn = kSurnames[(i * 7) % Len(kSurnames)];
  const auto& gn = kGiven[(i / 3 + i * 11) % Len(kGiven)];
  const std::string name = std::string(sn[0]) + gn[0];
  const std::string city = kCities[i % Len(kCities)];
  const std::string company = city + kWords[(i / 5) % Len(kWords)] +
                              kTrades[(i / 7) % Len(kTrades)] + kSuffixes[(i / 3) % Len(kSuffixes)];
  std::string mobile = Mobile(i, 0);
  if (i % 50 == 7) mobile = Digits(i % 1000000, 6);  // invalid: too short
  if (i % 10 == 3) mobile += (i % 20 == 3 ? "/" : "\xe3\x80\x81") + Mobile(i, 1);  // two mobiles
  std::string fixed;
  if (i % 10 < 3) {
    const Area& a = kAreas[(i / 2) % Len(kAreas)];
    const uint64_t mod = a.digits == 8 ? 10000000 : 1000000;
    const std::string sub = std::string(1, a.lead) + Digits((i * 7919 + 4242) % mod, a.digits - 1);
    switch ((i / 2) % 3) {
      case 0:
        fixed =
            "0" + std::string(a.code) + "-" + sub + " \xe8\xbd\xac " + std::to_string(10 + i % 90);
        break;
      case 1:
        fixed = "(0" + std::string(a.code) + ") " + sub;
        break;
      default:
        fixed = "0" + std::string(a.code) + sub;
        break;
    }
  }
  std::string email =
      std::string(sn[1]) + "." + gn[1] + std::to_string(i) + "@" + kDomains[i % Len(kDomains)];
  if (i % 100 == 42) email = std::string(sn[1]) + std::to_string(i) + "@";  // malformed
  const char* provinces[] = {"河北省", "北京市", "上海市", "广东省", "广东省", "浙江省",
                             "四川省", "湖北省", "江苏省", "江苏省", "天津市", "山东省"};
  std::string line = "KH" + Digits(i, 8) + "," + Csv(name) + "," + Csv(company) + "," +
                     kTitles[i % Len(kTitles)] + "," + Csv(mobile) + "," + Csv(fixed) + "," +
                     Csv(email) + "," + provinces[i % 12] + "," + city + "," +
                     kSources[i % Len(kSources)] + "," + (i % 9 == 0 ? "展会上交换的名片" : "") +
                     "\n";
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t rows = 100000;
  std::string out = "customers.csv";
  bool gbk = false;
  for (int a = 1; a < argc; ++a) {
    std::string k = argv[a];
    if (k == "--rows" && a + 1 < argc) {
      rows = std::strtoull(argv[++a], nullptr, 10);
    } else if (k == "--out" && a + 1 < argc) {
      out = argv[++a];
    } else if (k == "--gbk") {
      gbk = true;
    } else {
      std::fprintf(stderr, "usage: gen_import --rows N --out FILE [--gbk]\n");
      return 2;
    }
  }
  std::ofstream f(out, std::ios::binary | std::ios::trunc);
  if (!f) {
    std::fprintf(stderr, "gen_import: cannot write %s\n", out.c_str());
    return 1;
  }
  std::string text = "客户编号,姓名,公司,职位,手机,座机,邮箱,省份,城市,来源,备注\n";
  auto flush = [&](bool last) {
    if (text.size() < (1u << 20) && !last) return;
    if (gbk) {
      UErrorCode st = U_ZERO_ERROR;
      std::string enc(text.size() * 2 + 16, '\0');
      int32_t n = ucnv_convert("GB18030", "UTF-8", enc.data(), static_cast<int32_t>(enc.size()),
                               text.data(), static_cast<int32_t>(text.size()), &st);
      enc.resize(static_cast<std::size_t>(n));
      f << enc;
    } else {
      f << text;
    }
    text.clear();
  };
  for (uint64_t i = 0; i < rows; ++i) {
    text += Row(i);
    flush(false);
  }
  flush(true);
  f.close();
  std::printf("RESULT rows=%llu file=%s\n", static_cast<unsigned long long>(rows), out.c_str());
  return f ? 0 : 1;
}
