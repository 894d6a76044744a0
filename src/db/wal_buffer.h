// A SQLite VFS that writes each transaction's WAL frames with a few large writes instead of
// two system calls per page.
//
// SQLite appends a frame to the write-ahead log as two writes (its 24-byte header, then the
// page), so a commit that changes 60 pages costs 120 pwrite calls; on this project's virtual
// machines that was most of a customer create's write time. The "kehu" VFS wraps the default
// one and, for WAL files only, collects consecutive writes in a buffer that reaches the file:
//   - when the frame that commits a transaction has been written (so the commit only
//     succeeds once its frames are in the file, and a failure is reported by that write);
//   - before anything reads, syncs, sizes or truncates the WAL through the same handle;
//   - before the writing thread touches the shared WAL index (a fallback: frames become
//     visible to other connections only through that index);
//   - when it holds 1 MiB.
// Nothing else changes: the file format, locking and crash recovery are SQLite's own (a crash
// loses at most the frames of a transaction that had not committed, as without the buffer).
#pragma once

namespace kehu::db {

// Registers the "kehu" VFS as SQLite's default. Call once, after any sqlite3_config() and
// before the first connection opens; later calls do nothing. False when SQLite refused it
// (connections then use the default VFS unchanged).
bool InstallWalBuffer();

}  // namespace kehu::db
