#include "audit/service.h"

#include <cstdint>
#include <utility>
#include <vector>

#include "audit/chain.h"
#include "audit/codec.h"
#include "core/time.h"

namespace kehu::audit {
namespace {

constexpr std::size_t kMaxName = 200, kMaxIp = 64, kMaxEntityId = 128, kMaxDetails = 8192;

// Length of the well-formed UTF-8 sequence at s[i] (no overlongs or surrogates), 0 if none.
std::size_t SequenceAt(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  uint32_t cp = 0, min = 0;
  if ((c & 0xE0) == 0xC0) {
    n = 2, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

// Valid UTF-8 without control characters (each bad byte or control character becomes U+FFFD),
// cut at a character boundary to at most max_bytes.
std::string Clean(std::string_view s, std::size_t max_bytes) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = SequenceAt(s, i);
    std::string_view piece = "\xEF\xBF\xBD";
    if (n == 1 && (static_cast<unsigned char>(s[i]) < 0x20 || s[i] == 0x7F)) {
      // control character: replaced
    } else if (n > 0) {
      piece = s.substr(i, n);
    }
    i += n > 0 ? n : 1;
    if (out.size() + piece.size() > max_bytes) break;
    out += piece;
  }
  return out;
}

bool IsWord(std::string_view w) {
  if (w.empty() || w.front() < 'a' || w.front() > 'z') return false;
  for (char c : w) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

// "module.verb" or longer: lower-case words joined by dots, at most 64 bytes.
bool IsAction(std::string_view a) {
  if (a.size() > 64 || a.find('.') == std::string_view::npos) return false;
  while (true) {
    auto dot = a.find('.');
    if (!IsWord(a.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    a.remove_prefix(dot + 1);
  }
}

core::Error NotAllowed() {
  return core::Error::Forbidden("only administrators may read the audit log");
}

}  // namespace

core::Result<Entry> AuditLog::Record(const core::Actor& actor, NewEntry e, const std::string& ip) {
  return Append(actor.user_id, actor.username, ip.empty() ? actor.ip : ip, std::move(e));
}

core::Result<Entry> AuditLog::RecordAnonymous(std::string actor_name, std::string ip, NewEntry e) {
  return Append(0, std::move(actor_name), std::move(ip), std::move(e));
}

core::Result<Entry> AuditLog::Append(int64_t actor_id, std::string actor_name, std::string ip,
                                     NewEntry in) {
  auto e = Build(actor_id, std::move(actor_name), std::move(ip), std::move(in));
  if (!e) return e;
  if (auto ok = store_.Append(*e); !ok) return std::unexpected(ok.error());
  return e;
}

core::Result<db::AlsoWrite> AuditLog::Within(const core::Actor& actor, NewEntry e) {
  const bool take_id = e.entity_id.empty();
  auto built = Build(actor.user_id, actor.username, actor.ip, std::move(e));
  if (!built) return std::unexpected(built.error());
  return db::AlsoWrite(
      [this, take_id, entry = std::move(*built)](soci::session& sql, int64_t id) mutable {
        if (take_id) entry.entity_id = std::to_string(id);
        store_.AppendIn(sql, entry);
      });
}

core::Result<Entry> AuditLog::Build(int64_t actor_id, std::string actor_name, std::string ip,
                                    NewEntry in) {
  std::vector<core::FieldError> errs;
  if (!IsAction(in.action)) {
    errs.push_back({"action", "invalid_format", "action must look like module.verb (a-z, 0-9, _)"});
  }
  if (!in.entity.empty() && (in.entity.size() > 64 || !IsWord(in.entity))) {
    errs.push_back({"entity", "invalid_format", "entity must be a lower-case word"});
  }
  if (in.entity_id.size() > kMaxEntityId) {
    errs.push_back({"entity_id", "too_long", "entity_id is at most 128 bytes"});
  }
  if (in.details.is_null()) in.details = nlohmann::json::object();
  if (!in.details.is_object()) {
    errs.push_back({"details", "wrong_type", "details must be a JSON object"});
  } else if (in.details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).size() >
             kMaxDetails) {
    errs.push_back({"details", "too_long", "details are at most 8 KiB"});
  }
  if (!errs.empty()) return std::unexpected(core::Error::InvalidFields(std::move(errs)));

  Entry e;
  e.at = core::NowMs();
  e.actor_id = actor_id;
  e.actor_name = Clean(actor_name, kMaxName);
  e.action = std::move(in.action);
  e.entity = std::move(in.entity);
  e.entity_id = Clean(in.entity_id, kMaxEntityId);
  e.ip = Clean(ip, kMaxIp);
  e.details = std::move(in.details);
  return e;
}

core::Result<Page> AuditLog::List(const core::Actor& actor, const ListQuery& q) {
  if (!MayRead(actor)) return std::unexpected(NotAllowed());
  if (q.limit < 1 || q.limit > kMaxLimit) {
    return std::unexpected(core::Error::BadRequest("limit must be between 1 and 500"));
  }
  return store_.List(q);
}

core::Result<VerifyReport> AuditLog::Verify(const core::Actor& actor) {
  if (!MayRead(actor)) return std::unexpected(NotAllowed());
  VerifyReport r;
  auto broken = [&r](std::optional<int64_t> id, std::string_view reason) {
    r.ok = false;
    r.first_broken_id = id;
    r.reason = reason;
    return r;
  };
  // The head is read before the walk: every entry up to its seq is then committed and visible.
  // Entries appended during the walk are verified too (the walk reaches them) and must be
  // covered by the head read after it.
  auto read_head = store_.GetHead();
  if (!read_head) return std::unexpected(read_head.error());
  if (!*read_head) return broken(std::nullopt, kReasonNoHead);
  const Head head = **read_head;
  r.head_hash = head.hash;

  std::string prev(kGenesisHash);
  int64_t last_seq = 0;
  // The hash of the entry at the head's position (for an empty chain, the genesis value).
  std::optional<std::string> at_head;
  if (head.seq == 0) at_head = std::string(kGenesisHash);
  std::optional<std::pair<int64_t, std::string_view>> failure;
  auto walked = store_.Scan(Filter{}, [&](const Entry& e) {
    ++r.checked;
    if (e.prev_hash != prev) {
      failure.emplace(e.id, kReasonBrokenLink);
      return false;
    }
    if (ChainHash(e.prev_hash, e) != e.hash) {
      failure.emplace(e.id, kReasonHashMismatch);
      return false;
    }
    if (e.seq == head.seq) at_head = e.hash;
    prev = e.hash;
    last_seq = e.seq;
    return true;
  });
  if (!walked) return std::unexpected(walked.error());
  if (failure) return broken(failure->first, failure->second);
  if (!at_head || *at_head != head.hash) return broken(std::nullopt, kReasonHeadBehind);

  auto after = store_.GetHead();
  if (!after) return std::unexpected(after.error());
  if (!*after) return broken(std::nullopt, kReasonNoHead);
  if (last_seq > (*after)->seq) {
    // Rare (only after tampering): walk again to name the first entry the head does not cover.
    std::optional<int64_t> first;
    auto found = store_.Scan(Filter{}, [&](const Entry& e) {
      if (e.seq > (*after)->seq) first = e.id;
      return !first;
    });
    if (!found) return std::unexpected(found.error());
    return broken(first, kReasonHeadAhead);
  }
  r.head_hash = prev;
  return r;
}

core::Result<void> AuditLog::Export(const core::Actor& actor, const Filter& f, ExportFormat format,
                                    const std::function<void(std::string_view)>& write) {
  if (!MayRead(actor)) return std::unexpected(NotAllowed());
  if (format == ExportFormat::kCsv) {
    write("\xEF\xBB\xBF");
    write(CsvHeader());
    return store_.Scan(f, [&](const Entry& e) {
      write(CsvRow(e));
      return true;
    });
  }
  bool first = true;
  write("[");
  auto done = store_.Scan(f, [&](const Entry& e) {
    write(first ? "\n" : ",\n");
    first = false;
    write(ToJson(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return true;
  });
  if (!done) return done;
  write("\n]\n");
  return core::Ok();
}

}  // namespace kehu::audit
