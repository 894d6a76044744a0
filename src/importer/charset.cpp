#include "importer/charset.h"

#include <uchardet/uchardet.h>
#include <unicode/ucnv.h>
#include <unicode/ucnv_cb.h>

#include <algorithm>
#include <array>
#include <vector>

#include "core/validate.h"

namespace kehu::importer {
namespace {

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Valid UTF-8 except possibly a sequence cut by the end of an incomplete sample.
bool IsUtf8Sample(std::string_view s, bool complete) {
  if (core::IsValidUtf8(s)) return true;
  if (complete) return false;
  // Drop up to 3 trailing bytes of an unfinished sequence and try again.
  for (std::size_t cut = 1; cut <= 3 && cut < s.size(); ++cut) {
    auto b = static_cast<unsigned char>(s[s.size() - cut]);
    if ((b & 0xC0) == 0xC0) return core::IsValidUtf8(s.substr(0, s.size() - cut));
    if ((b & 0xC0) != 0x80) break;
  }
  return false;
}

bool HasHighBytes(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

// The uchardet guess, or "" when it has none.
std::string Uchardet(std::string_view sample) {
  uchardet_t ud = uchardet_new();
  if (!ud) return "";
  std::string out;
  if (uchardet_handle_data(ud, sample.data(), sample.size()) == 0) {
    uchardet_data_end(ud);
    const char* cs = uchardet_get_charset(ud);
    if (cs) out = cs;
  }
  uchardet_delete(ud);
  return out;
}

void CountingSubstitute(const void* context, UConverterToUnicodeArgs* args, const char* units,
                        int32_t length, UConverterCallbackReason reason, UErrorCode* err) {
  if (reason <= UCNV_IRREGULAR) {
    ++*static_cast<int64_t*>(const_cast<void*>(context));
    UCNV_TO_U_CALLBACK_SUBSTITUTE(nullptr, args, units, length, reason, err);
  }
}

}  // namespace

bool DecodesCleanly(std::string_view bytes, std::string_view encoding, bool complete) {
  UErrorCode status = U_ZERO_ERROR;
  UConverter* cnv = ucnv_open(std::string(encoding).c_str(), &status);
  if (U_FAILURE(status) || !cnv) return false;
  ucnv_setToUCallBack(cnv, UCNV_TO_U_CALLBACK_STOP, nullptr, nullptr, nullptr, &status);
  std::array<UChar, 4096> buf;
  const char* src = bytes.data();
  const char* const limit = bytes.data() + bytes.size();
  bool ok = U_SUCCESS(status);
  while (ok) {
    UChar* target = buf.data();
    status = U_ZERO_ERROR;
    ucnv_toUnicode(cnv, &target, buf.data() + buf.size(), &src, limit, nullptr, complete, &status);
    if (status == U_BUFFER_OVERFLOW_ERROR) continue;
    ok = U_SUCCESS(status);
    break;
  }
  ucnv_close(cnv);
  return ok;
}

DetectedEncoding DetectEncoding(std::string_view sample, bool complete) {
  if (StartsWith(sample, "\xEF\xBB\xBF")) return {"UTF-8", true, "bom"};
  if (StartsWith(sample, "\xFF\xFE")) return {"UTF-16LE", true, "bom"};
  if (StartsWith(sample, "\xFE\xFF")) return {"UTF-16BE", true, "bom"};
  if (IsUtf8Sample(sample, complete)) return {"UTF-8", false, "utf-8"};
  std::string guess = Upper(Uchardet(sample));
  const bool gb_family = guess == "GB18030" || guess == "GBK" || guess == "GB2312" ||
                         guess == "HZ-GB-2312" || guess == "EUC-CN";
  if (gb_family && DecodesCleanly(sample, "GB18030", complete)) {
    return {"GB18030", false, "uchardet"};
  }
  if (guess == "BIG5" && DecodesCleanly(sample, "Big5", complete)) {
    return {"Big5", false, "uchardet"};
  }
  if (HasHighBytes(sample) && DecodesCleanly(sample, "GB18030", complete)) {
    return {"GB18030", false, "gb18030"};
  }
  if (!guess.empty() && guess != "ASCII" && DecodesCleanly(sample, guess, complete)) {
    return {guess, false, "uchardet"};
  }
  return {"UTF-8", false, "fallback"};
}

core::Result<std::string> CanonicalEncoding(std::string_view name, std::string_view field) {
  std::string n = Upper(core::Trim(name));
  if (n == "UTF8") n = "UTF-8";
  if (n == "UTF-8-BOM" || n == "UTF-8 BOM" || n == "UTF8-BOM") n = "UTF-8";
  UErrorCode status = U_ZERO_ERROR;
  UConverter* cnv = n.empty() ? nullptr : ucnv_open(n.c_str(), &status);
  if (!cnv || U_FAILURE(status)) {
    if (cnv) ucnv_close(cnv);
    return std::unexpected(core::Error::InvalidField(
        std::string(field), "invalid_choice",
        "unknown encoding " + std::string(name) + " (try UTF-8, GB18030, GBK or Big5)"));
  }
  ucnv_close(cnv);
  return n;
}

struct Decoder::Impl {
  UConverter* source = nullptr;
  UConverter* utf8 = nullptr;
  std::vector<UChar> pivot = std::vector<UChar>(8192);
  UChar* pivot_source = nullptr;
  UChar* pivot_target = nullptr;
  std::vector<char> target = std::vector<char>(65536);
  ~Impl() {
    if (source) ucnv_close(source);
    if (utf8) ucnv_close(utf8);
  }
};

core::Result<std::unique_ptr<Decoder>> Decoder::Open(std::string_view encoding) {
  std::unique_ptr<Decoder> d(new Decoder());
  d->impl_ = std::make_unique<Impl>();
  UErrorCode status = U_ZERO_ERROR;
  std::string name(encoding);
  // "UTF-16LE"/"UTF-16BE" keep a BOM as U+FEFF (dropped below); "UTF-16" would guess.
  d->impl_->source = ucnv_open(name.c_str(), &status);
  if (U_FAILURE(status) || !d->impl_->source) {
    return std::unexpected(
        core::Error::InvalidField("encoding", "invalid_choice", "unknown encoding " + name));
  }
  d->impl_->utf8 = ucnv_open("UTF-8", &status);
  if (U_FAILURE(status)) return std::unexpected(core::Error::Internal("ICU has no UTF-8"));
  ucnv_setToUCallBack(d->impl_->source, CountingSubstitute, &d->replaced_, nullptr, nullptr,
                      &status);
  d->impl_->pivot_source = d->impl_->pivot_target = d->impl_->pivot.data();
  return d;
}

Decoder::~Decoder() = default;

void Decoder::Feed(std::string_view in, bool last, std::string& out) {
  Impl& m = *impl_;
  const char* src = in.data();
  const char* const src_limit = in.data() + in.size();
  const std::size_t start = out.size();
  for (;;) {
    char* target = m.target.data();
    UErrorCode status = U_ZERO_ERROR;
    ucnv_convertEx(m.utf8, m.source, &target, m.target.data() + m.target.size(), &src, src_limit,
                   m.pivot.data(), &m.pivot_source, &m.pivot_target,
                   m.pivot.data() + m.pivot.size(), /*reset=*/false, /*flush=*/last, &status);
    out.append(m.target.data(), target);
    if (status == U_BUFFER_OVERFLOW_ERROR) continue;
    break;  // other errors cannot happen: the callback substitutes
  }
  if (!started_ && out.size() > start) {
    started_ = true;
    if (std::string_view(out).substr(start, 3) == "\xEF\xBB\xBF") out.erase(start, 3);
  }
}

}  // namespace kehu::importer
