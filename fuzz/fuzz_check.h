// Failing a fuzz run on a broken contract: libFuzzer reports the abort as a crash and keeps the
// input that caused it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>

#include "core/error.h"

namespace kehu::fuzz {

[[noreturn]] inline void Fail(std::string_view what, std::string_view detail = {}) {
  std::fprintf(stderr, "\nFUZZ CHECK FAILED: %.*s %.*s\n", static_cast<int>(what.size()),
               what.data(), static_cast<int>(detail.size()), detail.data());
  std::abort();
}

template <typename T>
T Must(core::Result<T> r, std::string_view what) {
  if (!r) Fail(what, r.error().message());
  return std::move(*r);
}
inline void Must(core::Result<void> r, std::string_view what) {
  if (!r) Fail(what, r.error().message());
}

}  // namespace kehu::fuzz
