#include "core/text.h"

#include <unicode/translit.h>
#include <unicode/unistr.h>

#include <memory>

namespace kehu::core {

std::size_t Utf8Length(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string PinyinKey(std::string_view s) {
  thread_local std::unique_ptr<icu::Transliterator> tr = [] {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::Transliterator> t(icu::Transliterator::createInstance(
        "Han-Latin; Latin-ASCII; Any-Lower", UTRANS_FORWARD, status));
    return U_SUCCESS(status) ? std::move(t) : nullptr;
  }();
  std::string ascii;
  bool plain = true;
  for (unsigned char c : s) plain = plain && c < 0x80;
  if (plain || !tr) {
    ascii.assign(s);
  } else {
    icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), s.size()));
    tr->transliterate(u);
    u.toUTF8String(ascii);
  }
  std::string out;
  out.reserve(ascii.size());
  for (unsigned char c : ascii) {
    if (c >= 'A' && c <= 'Z') {
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80) {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

}  // namespace kehu::core
