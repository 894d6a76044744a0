// The audit log: records what users (and failed logins) did, lists and exports it for those
// allowed to read it, and verifies its hash chain. Thread-safe (no state beyond the store).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "audit/model.h"
#include "audit/store.h"
#include "core/actor.h"
#include "core/error.h"

namespace kehu::audit {

class AuditLog {
 public:
  explicit AuditLog(AuditStore& store) : store_(store) {}

  // Appends an entry by `actor` (its user_id and username) from `ip`, stamped now. Cheap: three
  // prepared statements in one transaction. kInvalid for a malformed action ("module.verb",
  // lower case), entity, entity_id over 128 bytes or details that are not an object (or over
  // 8 KiB); names and the ip are cleaned to valid UTF-8 and cut to length. Returns the entry
  // as stored.
  core::Result<Entry> Record(const core::Actor& actor, NewEntry e, const std::string& ip = "");
  // The same for a request without a known user (a failed login): actor_id 0 and the name as
  // given (untrusted: cleaned and cut to 200 bytes).
  core::Result<Entry> RecordAnonymous(std::string actor_name, std::string ip, NewEntry e);
  // The entry as Record would write it, to be written by a store inside the transaction of
  // the change it records (so both commit or neither does): the callback appends it, with
  // entity_id set to the written row's id when `e` leaves entity_id empty. kInvalid as Record.
  core::Result<db::AlsoWrite> Within(const core::Actor& actor, NewEntry e);

  // One page, newest first. kForbidden unless the actor may read the log; kBadRequest for a
  // limit outside 1..kMaxLimit.
  core::Result<Page> List(const core::Actor& actor, const ListQuery& q);

  // Walks the whole chain in id order, recomputing each hash and checking each prev_hash
  // against the entry before, then checks that audit_head matches the last entry. Reports the
  // first broken entry; a broken chain is a successful verification (ok = false), an Error
  // means it could not be read. kForbidden unless the actor may read the log.
  core::Result<VerifyReport> Verify(const core::Actor& actor);

  // Writes the entries matching `f` (oldest first) as CSV (UTF-8 BOM, header row) or as a JSON
  // array, in pieces to `write`, reading the log in batches. kForbidden as List.
  core::Result<void> Export(const core::Actor& actor, const Filter& f, ExportFormat format,
                            const std::function<void(std::string_view)>& write);

 private:
  static bool MayRead(const core::Actor& a) { return a.Can(core::Perm::kAuditRead); }

  core::Result<Entry> Append(int64_t actor_id, std::string actor_name, std::string ip, NewEntry in);
  // Checks and stamps an entry (now); does not store it.
  core::Result<Entry> Build(int64_t actor_id, std::string actor_name, std::string ip, NewEntry in);

  AuditStore& store_;
};

// The reasons Verify gives.
inline constexpr std::string_view kReasonHashMismatch = "hash mismatch: the entry was changed";
inline constexpr std::string_view kReasonBrokenLink =
    "prev_hash does not link: an entry before it was removed or inserted";
inline constexpr std::string_view kReasonHeadBehind =
    "head does not match the last entry: entries were removed at the end";
inline constexpr std::string_view kReasonHeadAhead =
    "head does not match the last entry: entries were added at the end without moving the head";
inline constexpr std::string_view kReasonNoHead = "the audit_head row is missing";

}  // namespace kehu::audit
