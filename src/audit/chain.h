// The hash chain of the audit log. Pure functions, thread-safe.
//
// Every entry's hash is
//
//   hash = lowercase hex SHA-256( prev_hash || Canonical(entry) )
//
// where prev_hash is the previous entry's hash (kGenesisHash for the first one) as 64 ASCII
// hex characters, and Canonical(entry) is the compact JSON array (UTF-8, no spaces, no
// escaping beyond what JSON requires)
//
//   [seq, at, actor_id, "actor_name", "action", "entity", "entity_id", "ip", "details_text"]
//
// with details_text the details column exactly as stored (itself compact JSON with sorted keys),
// embedded as a JSON string. The chain runs over `seq` (taken from audit_head inside the
// appending transaction) rather than over `id`, which is only known after the insert and comes
// from a different mechanism on each engine; seq is stored in its own column, so Verify
// recomputes every hash from the row alone, identically on SQLite and PostgreSQL. A JSON array of
// typed values is unambiguous: moving a character from one column to the next, or changing
// any column, changes the bytes and so the hash.
#pragma once

#include <string>
#include <string_view>

#include "audit/model.h"

namespace kehu::audit {

std::string Canonical(const Entry& e);
std::string ChainHash(std::string_view prev_hash, const Entry& e);

}  // namespace kehu::audit
