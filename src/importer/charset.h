// Character sets of imported text files: detection (uchardet plus a check that the bytes really
// decode) and streaming conversion to UTF-8 (ICU converters).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"

namespace kehu::importer {

struct DetectedEncoding {
  std::string encoding;  // an ICU converter name: "UTF-8", "GB18030", "Big5", "UTF-16LE", …
  bool bom = false;      // the sample starts with a byte order mark (skipped when decoding)
  std::string how;       // "bom", "utf-8", "uchardet", "fallback": how it was decided
};

// Decides the encoding of `sample` (the start of a file; `complete` when it is the whole file).
// In order: a byte order mark; valid UTF-8 (plain ASCII counts as UTF-8); what uchardet says
// when the sample decodes cleanly in it (GBK, GB2312 and GB18030 all become GB18030, their
// superset); GB18030 when it decodes cleanly (uchardet misreads short GBK samples as Latin or
// Greek); uchardet's guess; UTF-8 (undecodable bytes then become U+FFFD). Thread-safe.
DetectedEncoding DetectEncoding(std::string_view sample, bool complete);

// True when `bytes` decode in `encoding` without invalid or unmapped sequences (a sequence cut
// at the end of a sample that is not `complete` is fine).
bool DecodesCleanly(std::string_view bytes, std::string_view encoding, bool complete);

// The canonical ICU name of an encoding a user typed ("gbk" -> "GBK", "utf8" -> "UTF-8");
// kInvalid naming `field` when ICU does not know it.
core::Result<std::string> CanonicalEncoding(std::string_view name,
                                            std::string_view field = "encoding");

// Streaming conversion to UTF-8. Sequences that do not decode become U+FFFD and are counted.
// Not thread-safe (one per stream).
class Decoder {
 public:
  static core::Result<std::unique_ptr<Decoder>> Open(std::string_view encoding);
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // Converts `in` and appends the UTF-8 to `out`. A sequence cut at the end of `in` is kept
  // for the next call; `last` flushes it. A leading byte order mark is dropped.
  void Feed(std::string_view in, bool last, std::string& out);
  // Input sequences that did not decode so far.
  int64_t replaced() const { return replaced_; }

 private:
  Decoder() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int64_t replaced_ = 0;
  bool started_ = false;
};

}  // namespace kehu::importer
