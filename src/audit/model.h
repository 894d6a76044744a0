// The audit trail: an append-only, hash-chained log of who did what (see docs/security.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace kehu::audit {

// prev_hash of the first entry, and the head of an empty log: 64 zeros.
inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

struct Entry {
  int64_t id = 0;
  int64_t seq = 0;       // position in the chain: 1, 2, 3, … (covered by the hash, unlike id)
  int64_t at = 0;        // epoch ms
  int64_t actor_id = 0;  // 0 = CLI local admin or unknown (a failed login of an unknown user)
  std::string actor_name;
  // "auth.login", "auth.login_failed", "auth.logout", "customer.create", "customer.update",
  // "customer.delete", "customer.restore", "customer.reveal", "customer.export",
  // "customer.import", "customer.merge", "user.create", "user.update", "role.update",
  // "token.create", "settings.update", …
  std::string action;
  std::string entity;  // "customer", "user", "role", … ("" when none)
  std::string entity_id;
  std::string ip;
  // A JSON object; never PII values: for updates, the list of changed field names.
  nlohmann::json details = nlohmann::json::object();
  // `details` exactly as stored (compact, keys sorted): the text the hash covers. Filled by
  // AuditStore on append and on every read.
  std::string details_text;
  std::string prev_hash;  // hash of the entry before (kGenesisHash for the first)
  std::string hash;       // see chain.h
};

// What a caller records; actor, ip and time come from AuditLog.
struct NewEntry {
  std::string action, entity, entity_id;
  nlohmann::json details = nlohmann::json::object();
};

struct Filter {
  std::optional<int64_t> actor_id;
  std::string action;  // exact, or a prefix when it ends in '.' ("customer.")
  std::string entity;
  std::string entity_id;  // only with entity
  // Any of these entity ids (only with entity; combined with entity_id when both are set):
  // a customer's history with the customers merged into it.
  std::vector<std::string> entity_ids;
  std::optional<int64_t> from, to;  // epoch ms; from inclusive, to exclusive
};

inline constexpr int kDefaultLimit = 50;
inline constexpr int kMaxLimit = 500;

struct ListQuery : Filter {
  int limit = kDefaultLimit;      // 1..kMaxLimit
  std::optional<int64_t> cursor;  // continue with the entries below this id
};

// Newest first.
struct Page {
  std::vector<Entry> items;
  std::optional<int64_t> next_cursor;  // set when more entries may follow
};

// The chain's head: the seq and hash of the last appended entry (0 and kGenesisHash when empty).
struct Head {
  int64_t seq = 0;
  std::string hash;
};

struct VerifyReport {
  bool ok = true;
  int64_t checked = 0;  // entries verified (up to and including the first broken one)
  // The first entry that fails; nullopt when the log itself is intact but the head disagrees
  // with it (entries removed at the end).
  std::optional<int64_t> first_broken_id;
  std::string reason;  // empty when ok
  // ok: the hash of the last entry verified (write it down: it anchors these `checked`
  // entries); otherwise the head as stored.
  std::string head_hash;
};

enum class ExportFormat { kCsv, kJson };

}  // namespace kehu::audit
