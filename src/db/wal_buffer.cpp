#include "db/wal_buffer.h"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

namespace kehu::db {
namespace {

constexpr int kFrameHeader = 24;             // SQLite's WAL frame header, written on its own
constexpr std::size_t kCapacity = 1u << 20;  // bytes collected before they are written anyway
// The unix VFS writes at most 128 KiB - 1 bytes a call (it masks larger sizes), so the buffer
// goes out in pieces of this size.
constexpr std::size_t kPiece = 124 * 1024;

// Our file object: SQLite allocates szOsFile bytes; the real VFS's file follows ours.
struct File {
  sqlite3_file base;  // first: SQLite sees a sqlite3_file
  sqlite3_file* real;
  bool wal;
  // WAL files only. `buf` holds bytes for offsets [buf_off, buf_off + buf.size()).
  std::vector<char>* buf;
  sqlite3_int64 buf_off;
  // The offset of the page that completes a commit frame, once its header has been written.
  sqlite3_int64 commit_page_at;
};

// The WAL file whose buffer this thread filled last (SQLite writes a transaction on one
// thread). Flushed before that thread touches the shared WAL index.
thread_local File* t_pending = nullptr;

sqlite3_vfs* g_real = nullptr;
sqlite3_vfs g_vfs;
sqlite3_io_methods g_wal_methods;
sqlite3_io_methods g_other_methods;

File* As(sqlite3_file* f) { return reinterpret_cast<File*>(f); }
const sqlite3_io_methods* Real(File* f) { return f->real->pMethods; }

int Flush(File* f) {
  if (t_pending == f) t_pending = nullptr;
  if (!f->buf || f->buf->empty()) return SQLITE_OK;
  int rc = SQLITE_OK;
  for (std::size_t at = 0; at < f->buf->size() && rc == SQLITE_OK; at += kPiece) {
    const std::size_t n = std::min(kPiece, f->buf->size() - at);
    rc = Real(f)->xWrite(f->real, f->buf->data() + at, static_cast<int>(n),
                         f->buf_off + static_cast<sqlite3_int64>(at));
  }
  f->buf->clear();
  return rc;
}

void FlushPending() {
  if (!t_pending) return;
  if (int rc = Flush(t_pending); rc != SQLITE_OK) {
    // Only reached when a commit frame was not recognised (see WalWrite); the write error
    // surfaces again at the next read or sync of the file.
    spdlog::error("SQLite WAL buffer: writing buffered frames failed (code {})", rc);
  }
}

// --- methods shared by every file -------------------------------------------------------------

int Close(sqlite3_file* p) {
  File* f = As(p);
  const int rc = Flush(f);  // also forgets f as this thread's pending file
  const int closed = Real(f)->xClose(f->real);
  delete f->buf;
  f->buf = nullptr;
  return rc != SQLITE_OK ? rc : closed;
}
int Lock(sqlite3_file* p, int l) { return Real(As(p))->xLock(As(p)->real, l); }
int Unlock(sqlite3_file* p, int l) { return Real(As(p))->xUnlock(As(p)->real, l); }
int CheckReservedLock(sqlite3_file* p, int* out) {
  return Real(As(p))->xCheckReservedLock(As(p)->real, out);
}
int SectorSize(sqlite3_file* p) { return Real(As(p))->xSectorSize(As(p)->real); }
int DeviceCharacteristics(sqlite3_file* p) {
  return Real(As(p))->xDeviceCharacteristics(As(p)->real);
}
int ShmMap(sqlite3_file* p, int page, int size, int extend, void volatile** out) {
  FlushPending();
  if (!Real(As(p))->xShmMap) return SQLITE_IOERR_SHMMAP;
  return Real(As(p))->xShmMap(As(p)->real, page, size, extend, out);
}
int ShmLock(sqlite3_file* p, int offset, int n, int flags) {
  FlushPending();
  if (!Real(As(p))->xShmLock) return SQLITE_IOERR_SHMLOCK;
  return Real(As(p))->xShmLock(As(p)->real, offset, n, flags);
}
void ShmBarrier(sqlite3_file* p) {
  FlushPending();
  if (Real(As(p))->xShmBarrier) Real(As(p))->xShmBarrier(As(p)->real);
}
int ShmUnmap(sqlite3_file* p, int del) {
  FlushPending();
  if (!Real(As(p))->xShmUnmap) return SQLITE_OK;
  return Real(As(p))->xShmUnmap(As(p)->real, del);
}
int Unfetch(sqlite3_file* p, sqlite3_int64 off, void* ptr) {
  if (!Real(As(p))->xUnfetch) return SQLITE_OK;
  return Real(As(p))->xUnfetch(As(p)->real, off, ptr);
}

// --- files other than WAL: passed through ---------------------------------------------------

int Read(sqlite3_file* p, void* out, int n, sqlite3_int64 off) {
  return Real(As(p))->xRead(As(p)->real, out, n, off);
}
int Write(sqlite3_file* p, const void* in, int n, sqlite3_int64 off) {
  return Real(As(p))->xWrite(As(p)->real, in, n, off);
}
int Truncate(sqlite3_file* p, sqlite3_int64 size) {
  return Real(As(p))->xTruncate(As(p)->real, size);
}
int Sync(sqlite3_file* p, int flags) { return Real(As(p))->xSync(As(p)->real, flags); }
int FileSize(sqlite3_file* p, sqlite3_int64* out) {
  return Real(As(p))->xFileSize(As(p)->real, out);
}
int FileControl(sqlite3_file* p, int op, void* arg) {
  return Real(As(p))->xFileControl(As(p)->real, op, arg);
}
int Fetch(sqlite3_file* p, sqlite3_int64 off, int n, void** out) {
  if (!Real(As(p))->xFetch) {
    *out = nullptr;
    return SQLITE_OK;
  }
  return Real(As(p))->xFetch(As(p)->real, off, n, out);
}

// --- WAL files: writes collected, everything else flushes first --------------------------------

int WalWrite(sqlite3_file* p, const void* in, int n, sqlite3_int64 off) {
  File* f = As(p);
  const char* bytes = static_cast<const char*>(in);
  // SQLite writes a frame as its header, then its page. A header whose "database size after
  // commit" (bytes 4-7) is not zero belongs to the frame that commits a transaction.
  bool completes_commit = false;
  if (n == kFrameHeader) {
    const bool commit = bytes[4] || bytes[5] || bytes[6] || bytes[7];
    f->commit_page_at = commit ? off + kFrameHeader : -1;
  } else {
    completes_commit = f->commit_page_at == off;
    f->commit_page_at = -1;
  }
  std::vector<char>& buf = *f->buf;
  const auto size = static_cast<sqlite3_int64>(buf.size());
  if (!buf.empty() && off == f->buf_off + size && buf.size() + n <= kCapacity) {
    buf.insert(buf.end(), bytes, bytes + n);
  } else if (!buf.empty() && off >= f->buf_off && off + n <= f->buf_off + size) {
    std::memcpy(buf.data() + (off - f->buf_off), bytes, n);  // a frame rewritten in place
  } else {
    if (int rc = Flush(f); rc != SQLITE_OK) return rc;
    if (static_cast<std::size_t>(n) >= kPiece) return Real(f)->xWrite(f->real, in, n, off);
    f->buf_off = off;
    buf.assign(bytes, bytes + n);
  }
  if (t_pending != f) {
    FlushPending();
    t_pending = f;
  }
  if (completes_commit || buf.size() >= kCapacity) return Flush(f);
  return SQLITE_OK;
}
int WalRead(sqlite3_file* p, void* out, int n, sqlite3_int64 off) {
  if (int rc = Flush(As(p)); rc != SQLITE_OK) return rc;
  return Read(p, out, n, off);
}
int WalTruncate(sqlite3_file* p, sqlite3_int64 size) {
  if (int rc = Flush(As(p)); rc != SQLITE_OK) return rc;
  return Truncate(p, size);
}
int WalSync(sqlite3_file* p, int flags) {
  if (int rc = Flush(As(p)); rc != SQLITE_OK) return rc;
  return Sync(p, flags);
}
int WalFileSize(sqlite3_file* p, sqlite3_int64* out) {
  if (int rc = Flush(As(p)); rc != SQLITE_OK) return rc;
  return FileSize(p, out);
}
int WalFileControl(sqlite3_file* p, int op, void* arg) {
  if (int rc = Flush(As(p)); rc != SQLITE_OK) return rc;
  return FileControl(p, op, arg);
}
int WalFetch(sqlite3_file* p, sqlite3_int64 off, int n, void** out) {
  if (int rc = Flush(As(p)); rc != SQLITE_OK) return rc;
  return Fetch(p, off, n, out);
}

// --- the VFS -----------------------------------------------------------------------------------

int Open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* p, int flags, int* out_flags) {
  File* f = As(p);
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  f->wal = (flags & SQLITE_OPEN_WAL) != 0;
  f->buf = nullptr;
  f->buf_off = 0;
  f->commit_page_at = -1;
  f->real->pMethods = nullptr;
  const int rc = g_real->xOpen(g_real, name, f->real, flags, out_flags);
  // SQLite calls xClose whenever pMethods is set, even after a failed open.
  if (!f->real->pMethods) {
    p->pMethods = nullptr;
    return rc;
  }
  if (f->wal) {
    f->buf = new (std::nothrow) std::vector<char>();
    if (!f->buf) f->wal = false;
  }
  p->pMethods = f->wal ? &g_wal_methods : &g_other_methods;
  return rc;
}

sqlite3_io_methods Methods(bool wal) {
  sqlite3_io_methods m{};
  m.iVersion = 3;
  m.xClose = Close;
  m.xRead = wal ? WalRead : Read;
  m.xWrite = wal ? WalWrite : Write;
  m.xTruncate = wal ? WalTruncate : Truncate;
  m.xSync = wal ? WalSync : Sync;
  m.xFileSize = wal ? WalFileSize : FileSize;
  m.xLock = Lock;
  m.xUnlock = Unlock;
  m.xCheckReservedLock = CheckReservedLock;
  m.xFileControl = wal ? WalFileControl : FileControl;
  m.xSectorSize = SectorSize;
  m.xDeviceCharacteristics = DeviceCharacteristics;
  m.xShmMap = ShmMap;
  m.xShmLock = ShmLock;
  m.xShmBarrier = ShmBarrier;
  m.xShmUnmap = ShmUnmap;
  m.xFetch = wal ? WalFetch : Fetch;
  m.xUnfetch = Unfetch;
  return m;
}

}  // namespace

bool InstallWalBuffer() {
  static std::once_flag once;
  static bool installed = false;
  std::call_once(once, [] {
    g_real = sqlite3_vfs_find(nullptr);
    if (!g_real) return;
    g_wal_methods = Methods(true);
    g_other_methods = Methods(false);
    // The real VFS's other methods only read pAppData, which the copy keeps.
    g_vfs = *g_real;
    g_vfs.pNext = nullptr;
    g_vfs.zName = "kehu";
    g_vfs.szOsFile = static_cast<int>(sizeof(File)) + g_real->szOsFile;
    g_vfs.xOpen = Open;
    installed = sqlite3_vfs_register(&g_vfs, 1) == SQLITE_OK;
    if (!installed) spdlog::warn("SQLite did not accept the WAL-buffering VFS; using its default");
  });
  return installed;
}

}  // namespace kehu::db
