#include "core/text.h"

#include <unicode/translit.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <memory>
#include <unordered_map>

namespace kehu::core {

std::size_t Utf8Length(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string PinyinKey(std::string_view s) {
  // ICU's Han-Latin is a large rule-based transliterator: run it once per distinct code point
  // per thread and remember the answer (names reuse a few thousand characters).
  thread_local std::unique_ptr<icu::Transliterator> tr = [] {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::Transliterator> t(icu::Transliterator::createInstance(
        "Han-Latin; Latin-ASCII; Any-Lower", UTRANS_FORWARD, status));
    return U_SUCCESS(status) ? std::move(t) : nullptr;
  }();
  thread_local std::unordered_map<UChar32, std::string> cache;
  std::string out;
  out.reserve(s.size());
  auto keep = [&out](std::string_view ascii) {
    for (unsigned char c : ascii) {
      if (c >= 'A' && c <= 'Z') {
        out.push_back(static_cast<char>(c - 'A' + 'a'));
      } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        out.push_back(static_cast<char>(c));
      }
    }
  };
  int32_t i = 0;
  const int32_t n = static_cast<int32_t>(s.size());
  while (i < n) {
    int32_t begin = i;
    UChar32 cp;
    U8_NEXT(reinterpret_cast<const uint8_t*>(s.data()), i, n, cp);
    if (cp < 0x80) {
      if (cp >= 0) keep(std::string_view(s.data() + begin, 1));
      continue;
    }
    auto it = cache.find(cp);
    if (it == cache.end()) {
      std::string ascii;
      if (tr) {
        icu::UnicodeString u(cp);
        tr->transliterate(u);
        u.toUTF8String(ascii);
      }
      std::string folded;
      for (unsigned char c : ascii) {
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
          folded.push_back(static_cast<char>(c));
        if (c >= 'A' && c <= 'Z') folded.push_back(static_cast<char>(c - 'A' + 'a'));
      }
      if (cache.size() > 50000) cache.clear();
      it = cache.emplace(cp, std::move(folded)).first;
    }
    out += it->second;
  }
  return out;
}

}  // namespace kehu::core
