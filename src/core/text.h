// Text helpers for Chinese data.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kehu::core {

// Number of Unicode code points in valid UTF-8.
std::size_t Utf8Length(std::string_view s);

// Sort and search key for names: Han characters as toneless pinyin, everything lower-case
// ASCII without spaces or punctuation ("张伟" -> "zhangwei", "Zhang Wei" -> "zhangwei").
// Thread-safe (one ICU transliterator per thread).
std::string PinyinKey(std::string_view s);

}  // namespace kehu::core
