// libFuzzer target: arbitrary bytes as the query parameters of the customer list, search and
// caller ID (GET /api/v1/customers?q=&cursor=&source=&province=&city=&stage=&created_from=
// &created_to=&owner_id=&sort=&order=&deleted=, GET /api/v1/lookup/phone?number=), which reach
// the service as decoded bytes with no UTF-8 check, and through it the SQL of the store; plus
// the validators and text helpers those values meet (core/validate.h, core/text.h,
// core/time.h). Runs on a real SQLite database with customers of two teams (fuzz_world.h).
//
// Input: byte 0 holds flags (bits 0-1 sort key, 2 descending, 3 recycle bin, 4-5 acting user,
// 6 owner_id filter, 7 small page); the rest is split at '\n' into q, cursor, source,
// province, city, stage, created_from, created_to, owner_id and the caller-ID number.
//
// Besides crashes and sanitizer reports, a run fails when a list or lookup answers anything
// but a page or 400 (a 500 would be a bug), when an answer holds a customer outside the acting
// user's data scope, or one that is unmasked or from the wrong side of the recycle bin, or
// when a validator breaks its contract (errors are kInvalid with details; results valid UTF-8).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/text.h"
#include "core/time.h"
#include "core/validate.h"
#include "fuzz_world.h"

namespace {

using kehu::core::Code;
using kehu::fuzz::Fail;
using kehu::fuzz::World;

std::vector<std::string> Split(std::string_view s, std::size_t parts) {
  std::vector<std::string> out;
  while (out.size() + 1 < parts) {
    auto nl = s.find('\n');
    if (nl == std::string_view::npos) break;
    out.emplace_back(s.substr(0, nl));
    s.remove_prefix(nl + 1);
  }
  out.emplace_back(s);
  out.resize(parts);
  return out;
}

void CheckValidator(const kehu::core::Result<std::string>& r, std::string_view input,
                    const char* what) {
  if (r) {
    if (kehu::core::IsValidUtf8(input) && !kehu::core::IsValidUtf8(*r)) {
      Fail(what, "turned valid UTF-8 into invalid UTF-8");
    }
    return;
  }
  if (r.error().code() != Code::kInvalid || r.error().details().empty()) {
    Fail(what, "refused without kInvalid and field details: " + r.error().message());
  }
}

void CheckTextHelpers(const std::string& s) {
  CheckValidator(kehu::core::NormalizeEmail(s), s, "NormalizeEmail");
  CheckValidator(kehu::core::NormalizeResidentId(s), s, "NormalizeResidentId");
  CheckValidator(kehu::core::NormalizeCreditCode(s), s, "NormalizeCreditCode");
  (void)kehu::core::ParseTime(s);
  (void)kehu::core::IsValidDate(s);
  const std::string folded = kehu::core::Trim(kehu::core::ToHalfWidth(s));
  if (kehu::core::IsValidUtf8(s)) {
    if (!kehu::core::IsValidUtf8(folded)) Fail("Trim(ToHalfWidth()) broke UTF-8");
    if (kehu::core::Utf8Length(folded) > s.size()) Fail("Utf8Length over the byte count");
    const std::string key = kehu::core::PinyinKey(s);
    if (!kehu::core::IsValidUtf8(key)) Fail("PinyinKey answered invalid UTF-8");
  }
}

bool InScope(const kehu::core::Actor& a, std::optional<int64_t> owner) { return a.InScope(owner); }

void CheckPage(const kehu::core::Actor& a, const kehu::customer::Page& page, bool deleted) {
  for (const auto& c : page.items) {
    if (!InScope(a, c.owner_id)) {
      Fail("a list answer holds a customer outside the actor's scope:",
           a.username + " sees customer " + std::to_string(c.id));
    }
    if (!c.masked) Fail("a list answer holds an unmasked customer");
    if (c.deleted_at.has_value() != deleted) Fail("a list answer mixes live and deleted");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = World::Get();
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  auto f = Split(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), 10);

  const kehu::core::Actor* actors[] = {&w.admin, &w.north, &w.south, &w.rep};
  const kehu::core::Actor& actor = *actors[(flags >> 4) & 3u];

  kehu::customer::ListQuery q;
  q.sort = static_cast<kehu::customer::SortKey>(flags & 3u);
  q.descending = flags & 4u;
  q.deleted = flags & 8u;
  q.limit = flags & 128u ? 2 : 50;
  q.q = f[0];
  q.cursor = f[1];
  q.source = f[2];
  q.province = f[3];
  q.city = f[4];
  q.stage = f[5];
  if (auto t = kehu::core::ParseTime(f[6])) q.created_from = *t;
  if (auto t = kehu::core::ParseTime(f[7])) q.created_to = *t;
  if (flags & 64u) {
    uint64_t owner = 0;
    for (char c : f[8]) owner = owner * 131 + static_cast<unsigned char>(c);  // any value
    q.owner_id = f[8].size() <= 4 ? static_cast<int64_t>(f[8].size()) : static_cast<int64_t>(owner);
  }

  auto page = w.customers().List(actor, q);
  if (!page) {
    if (page.error().code() != Code::kBadRequest) {
      Fail("List answered neither a page nor 400:", page.error().message());
    }
  } else {
    CheckPage(actor, *page, q.deleted);
    if (!page->next_cursor.empty()) {
      q.cursor = page->next_cursor;
      auto next = w.customers().List(actor, q);
      if (!next) Fail("the next_cursor of a page is refused:", next.error().message());
      CheckPage(actor, *next, q.deleted);
    }
  }

  auto hits = w.customers().LookupPhone(actor, f[9]);
  if (!hits) {
    if (hits.error().code() != Code::kBadRequest) {
      Fail("caller ID answered neither hits nor 400:", hits.error().message());
    }
  } else {
    for (const auto& h : hits->items) {
      if (!InScope(actor, h.owner_id)) Fail("caller ID names a customer outside the scope");
    }
  }

  CheckTextHelpers(f[0]);
  CheckTextHelpers(f[9]);
  return 0;
}
