// libsodium-backed implementation of crypto.h.
//
// Key derivation (documented choice): every master key version yields independent subkeys via
// crypto_kdf_derive_from_key (BLAKE2b-based KDF), so field encryption and blind indexes never
// use the master key directly and never share a key with each other:
//   field encryption subkey = KDF(master, id 1, context "kehufld1")
//   blind index key         = KDF(master, id 2, context "kehubix1")
// Changing either id or context changes every stored ciphertext / index, so both are fixed.

#include "crypto/crypto.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

namespace kehu::crypto {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMasterKeyBytes = 32;
static_assert(crypto_kdf_KEYBYTES == kMasterKeyBytes);
constexpr char kFieldKdfContext[] = "kehufld1";
constexpr char kIndexKdfContext[] = "kehubix1";
static_assert(sizeof(kFieldKdfContext) - 1 == crypto_kdf_CONTEXTBYTES);
static_assert(sizeof(kIndexKdfContext) - 1 == crypto_kdf_CONTEXTBYTES);
constexpr uint64_t kFieldSubkeyId = 1;
constexpr uint64_t kIndexSubkeyId = 2;

constexpr std::size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;  // 24
constexpr std::size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;       // 16
constexpr std::size_t kSubkeyBytes = crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
constexpr std::size_t kIndexBytes = 16;
static_assert(kIndexBytes >= crypto_generichash_BYTES_MIN);
constexpr std::size_t kTokenHashBytes = 32;

// Field values are short; larger ones fall back to one heap buffer.
constexpr std::size_t kStackBufferBytes = 1024;

// A key file is a handful of short lines; anything larger is not a key file.
constexpr off_t kMaxKeyFileBytes = 1 << 20;

constexpr int kB64 = sodium_base64_VARIANT_ORIGINAL;
constexpr int kB64Url = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

// Callers that cannot return an error (constructors, std::string results) need libsodium
// working; continuing without it would mean unsafe randomness, so stop instead.
void RequireInit() {
  if (!Init()) {
    std::fputs("kehu: libsodium failed to initialise; refusing to continue\n", stderr);
    std::abort();
  }
}

[[noreturn]] void Fatal(const char* message) {
  std::fputs("kehu: ", stderr);
  std::fputs(message, stderr);
  std::fputc('\n', stderr);
  std::abort();
}

// Scratch bytes: on the stack when small, one heap allocation otherwise.
class Scratch {
 public:
  explicit Scratch(std::size_t size) {
    if (size > stack_.size()) {
      heap_ = std::make_unique_for_overwrite<unsigned char[]>(size);
      data_ = heap_.get();
    }
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  unsigned char* data() { return data_; }

 private:
  std::array<unsigned char, kStackBufferBytes> stack_;
  std::unique_ptr<unsigned char[]> heap_;
  unsigned char* data_ = stack_.data();
};

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Appends base64 of `bin` to `out`, resizing it once.
void AppendBase64(std::string& out, const unsigned char* bin, std::size_t bin_len, int variant) {
  const std::size_t offset = out.size();
  const std::size_t encoded_with_nul = sodium_base64_ENCODED_LEN(bin_len, variant);
  out.resize(offset + encoded_with_nul);
  sodium_bin2base64(out.data() + offset, encoded_with_nul, bin, bin_len, variant);
  out.resize(out.size() - 1);  // drop the NUL libsodium writes
}

std::size_t Base64DecodedBound(std::size_t text_len) { return text_len / 4 * 3 + 3; }

// Strict decode of the whole of `text` into `bin` (capacity `bin_max`); nullopt on any
// invalid character, bad padding, non-canonical trailing bits or overflow.
std::optional<std::size_t> DecodeBase64(std::string_view text, unsigned char* bin,
                                        std::size_t bin_max, int variant) {
  std::size_t bin_len = 0;
  if (sodium_base642bin(bin, bin_max, text.data(), text.size(), nullptr, &bin_len, nullptr,
                        variant) != 0) {
    return std::nullopt;
  }
  return bin_len;
}

// The same strict decode of standard padded base64 (kB64) as DecodeBase64, table-driven and
// so about ten times faster; its time depends on the input. Only for data that is not secret,
// such as field ciphertexts, which every customer read decodes.
std::optional<std::size_t> DecodeBase64Public(std::string_view text, unsigned char* bin,
                                              std::size_t bin_max) {
  static const auto kValues = [] {
    std::array<int8_t, 256> v{};
    v.fill(-1);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i)
      v[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
    return v;
  }();
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t pad = 0;
  if (!text.empty() && text.back() == '=')
    pad = text.size() >= 2 && text[text.size() - 2] == '=' ? 2 : 1;
  const std::size_t out_len = text.size() / 4 * 3 - pad;
  if (out_len > bin_max) return std::nullopt;
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t o = 0;
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const int a = kValues[in[i]], b = kValues[in[i + 1]];
    const int c = last && pad == 2 ? 0 : kValues[in[i + 2]];
    const int d = last && pad >= 1 ? 0 : kValues[in[i + 3]];
    if ((a | b | c | d) < 0) return std::nullopt;
    const uint32_t n = (static_cast<uint32_t>(a) << 18) | (static_cast<uint32_t>(b) << 12) |
                       (static_cast<uint32_t>(c) << 6) | static_cast<uint32_t>(d);
    if (last && pad == 2) {
      if (n & 0xFFFF) return std::nullopt;  // non-canonical trailing bits
      bin[o++] = static_cast<unsigned char>(n >> 16);
    } else if (last && pad == 1) {
      if (n & 0xFF) return std::nullopt;
      bin[o++] = static_cast<unsigned char>(n >> 16);
      bin[o++] = static_cast<unsigned char>(n >> 8);
    } else {
      bin[o++] = static_cast<unsigned char>(n >> 16);
      bin[o++] = static_cast<unsigned char>(n >> 8);
      bin[o++] = static_cast<unsigned char>(n);
    }
  }
  return o;
}

std::string Hex(const unsigned char* bin, std::size_t bin_len) {
  std::string out(bin_len * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bin, bin_len);
  out.pop_back();
  return out;
}

// Derives a subkey; `master` must be kMasterKeyBytes long (KeyRing guarantees it).
template <std::size_t N>
std::string DeriveSubkey(const std::string& master, uint64_t id, const char (&context)[N]) {
  if (master.size() != kMasterKeyBytes) Fatal("master key is not 32 bytes");
  std::array<unsigned char, kSubkeyBytes> subkey;
  crypto_kdf_derive_from_key(subkey.data(), subkey.size(), id, context, Bytes(master));
  std::string out(reinterpret_cast<const char*>(subkey.data()), subkey.size());
  sodium_memzero(subkey.data(), subkey.size());
  return out;
}

// "k<version>:" -> (version, length of the prefix); nullopt when absent or malformed.
std::optional<std::pair<uint32_t, std::size_t>> ParsePrefix(std::string_view ciphertext) {
  if (ciphertext.size() < 3 || ciphertext[0] != 'k') return std::nullopt;
  const std::size_t colon = ciphertext.find(':', 1);
  if (colon == std::string_view::npos || colon == 1) return std::nullopt;
  const char* first = ciphertext.data() + 1;
  const char* last = ciphertext.data() + colon;
  if (*first == '0') return std::nullopt;  // no version 0, no leading zeros
  uint32_t version = 0;
  const auto [ptr, ec] = std::from_chars(first, last, version);
  if (ec != std::errc() || ptr != last) return std::nullopt;
  return std::pair{version, colon + 1};
}

// ---- key file --------------------------------------------------------------------------------

std::string ErrnoText(int err) { return std::generic_category().message(err); }

core::Error IoError(std::string_view what, const fs::path& path, int err) {
  return core::Error::Internal(std::string(what) + " " + path.string() + ": " + ErrnoText(err));
}

class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now, reporting the result (close can surface delayed write errors).
  int Close() { return ::close(std::exchange(fd_, -1)); }

 private:
  int fd_;
};

core::Result<void> FsyncDirectory(const fs::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return std::unexpected(IoError("cannot open directory", dir, errno));
  if (::fsync(fd.get()) != 0) return std::unexpected(IoError("cannot sync directory", dir, errno));
  return core::Ok();
}

// Creates the missing directories of `dir` with mode 0700, leaving existing ones untouched.
// Appends the ones it created to `created`, outermost first.
core::Result<void> CreateMissingDirectories(const fs::path& dir, std::vector<fs::path>& created) {
  fs::path prefix;
  for (const fs::path& part : dir) {
    prefix /= part;
    if (::mkdir(prefix.c_str(), 0700) == 0) {
      // mkdir's mode is filtered by the umask; set exactly 0700.
      if (::chmod(prefix.c_str(), 0700) != 0) {
        return std::unexpected(IoError("cannot chmod directory", prefix, errno));
      }
      created.push_back(prefix);
      continue;
    }
    const int err = errno;
    struct stat st {};
    if (err == EEXIST && ::stat(prefix.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
    return std::unexpected(
        IoError("cannot create directory", prefix, err == EEXIST ? ENOTDIR : err));
  }
  return core::Ok();
}

core::Result<void> WriteAll(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::unexpected(IoError("cannot write", path, errno));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return core::Ok();
}

// Moves `from` to `to` unless `to` exists. Returns false (and removes `from`) when `to`
// already exists, i.e. another process created the key file first.
core::Result<bool> PublishWithoutReplacing(const fs::path& from, const fs::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
    return true;
  }
  int err = errno;
  if (err == EINVAL || err == ENOSYS || err == ENOTSUP) {
    // File system without RENAME_NOREPLACE: link() also refuses to replace.
    err = ::link(from.c_str(), to.c_str()) == 0 ? 0 : errno;
    if (err == 0) {
      ::unlink(from.c_str());
      return true;
    }
  }
  ::unlink(from.c_str());
  if (err == EEXIST) return false;
  return std::unexpected(IoError("cannot create key file", to, err));
}

// Writes a fresh key file with version 1. Succeeds also when another process won the race
// and created the file first (the caller then loads that one).
core::Result<void> CreateKeyFile(const fs::path& file) {
  const fs::path parent = file.parent_path();
  std::vector<fs::path> created_dirs;
  if (!parent.empty()) {
    if (auto r = CreateMissingDirectories(parent, created_dirs); !r) return r;
  }

  std::array<unsigned char, 8> tag;
  randombytes_buf(tag.data(), tag.size());
  const fs::path dir = parent.empty() ? fs::path(".") : parent;
  const fs::path tmp =
      dir / ("." + file.filename().string() + ".tmp-" + Hex(tag.data(), tag.size()));

  // O_EXCL + 0600: the key is never readable by anyone else, not even for a moment.
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) return std::unexpected(IoError("cannot create", tmp, errno));
  auto fail = [&](core::Error e) -> core::Result<void> {
    ::unlink(tmp.c_str());
    return std::unexpected(std::move(e));
  };
  if (::fchmod(fd.get(), 0600) != 0) return fail(IoError("cannot chmod", tmp, errno));

  std::array<unsigned char, kMasterKeyBytes> key;
  randombytes_buf(key.data(), key.size());
  std::string line;
  line.reserve(64);  // no reallocation, so no unwiped copy of the key is left behind
  line = "1 ";
  AppendBase64(line, key.data(), key.size(), kB64);
  line += '\n';
  sodium_memzero(key.data(), key.size());
  auto written = WriteAll(fd.get(), line, tmp);
  sodium_memzero(line.data(), line.size());
  if (!written) return fail(std::move(written.error()));
  if (::fsync(fd.get()) != 0) return fail(IoError("cannot sync", tmp, errno));
  if (fd.Close() != 0) return fail(IoError("cannot close", tmp, errno));

  auto published = PublishWithoutReplacing(tmp, file);
  if (!published) return std::unexpected(std::move(published.error()));
  if (!*published) return core::Ok();  // someone else's key file is in place; use it

  // Make the new file and any new directories survive a crash.
  if (auto r = FsyncDirectory(dir); !r) return r;
  for (const fs::path& d : created_dirs) {
    const fs::path up = d.parent_path();
    if (auto r = FsyncDirectory(up.empty() ? fs::path(".") : up); !r) return r;
  }
  return core::Ok();
}

// Parses "<version> <base64 of 32 bytes>" lines. Error messages name the line, never its
// contents, so key material cannot end up in logs.
core::Result<std::map<uint32_t, std::string>> ParseKeyFile(const fs::path& file,
                                                           std::string_view text) {
  std::map<uint32_t, std::string> keys;
  auto bad = [&](std::size_t line_no, std::string_view why) {
    return std::unexpected(core::Error::Invalid("key file " + file.string() + " line " +
                                                std::to_string(line_no) + ": " + std::string(why)));
  };
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const std::size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty()) continue;

    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos || space == 0) {
      return bad(line_no, "expected \"<version> <base64 key>\"");
    }
    const std::string_view version_text = line.substr(0, space);
    uint32_t version = 0;
    const auto [ptr, ec] =
        std::from_chars(version_text.data(), version_text.data() + version_text.size(), version);
    if (ec != std::errc() || ptr != version_text.data() + version_text.size() || version == 0) {
      return bad(line_no, "version must be a positive integer");
    }
    if (keys.contains(version)) return bad(line_no, "duplicate version");

    std::array<unsigned char, kMasterKeyBytes + 3> key;
    const auto key_len = DecodeBase64(line.substr(space + 1), key.data(), key.size(), kB64);
    if (!key_len || *key_len != kMasterKeyBytes) {
      sodium_memzero(key.data(), key.size());
      return bad(line_no, "key must be 32 bytes in standard base64");
    }
    keys.emplace(version, std::string(reinterpret_cast<const char*>(key.data()), *key_len));
    sodium_memzero(key.data(), key.size());
  }
  if (keys.empty()) {
    return std::unexpected(core::Error::Invalid("key file " + file.string() + " has no keys"));
  }
  return keys;
}

// Loads an existing key file; nullopt when it does not exist.
core::Result<std::optional<std::map<uint32_t, std::string>>> LoadKeyFile(const fs::path& file) {
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::nullopt;
    return std::unexpected(IoError("cannot open key file", file, errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return std::unexpected(IoError("cannot stat", file, errno));
  if (!S_ISREG(st.st_mode)) {
    return std::unexpected(
        core::Error::Invalid("key file " + file.string() + " is not a regular file"));
  }
  if ((st.st_mode & 077) != 0) {
    return std::unexpected(core::Error::Invalid("key file " + file.string() + " has mode " +
                                                OctalMode(st.st_mode) + "; run chmod 600 " +
                                                file.string()));
  }
  if (st.st_size > kMaxKeyFileBytes) {
    return std::unexpected(core::Error::Invalid("key file " + file.string() + " is too large"));
  }

  std::string text;
  text.reserve(static_cast<std::size_t>(st.st_size) + 1);
  std::array<char, 4096> chunk;
  for (;;) {
    const ssize_t n = ::read(fd.get(), chunk.data(), chunk.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      sodium_memzero(text.data(), text.size());
      return std::unexpected(IoError("cannot read key file", file, err));
    }
    if (n == 0) break;
    // Grow explicitly so no stale copy of the key is left behind in a freed buffer.
    if (text.size() + static_cast<std::size_t>(n) > text.capacity()) {
      std::string bigger;
      bigger.reserve((text.size() + static_cast<std::size_t>(n)) * 2);
      bigger.assign(text);
      sodium_memzero(text.data(), text.size());
      text.swap(bigger);
    }
    text.append(chunk.data(), static_cast<std::size_t>(n));
    if (text.size() > static_cast<std::size_t>(kMaxKeyFileBytes)) {
      sodium_memzero(text.data(), text.size());
      return std::unexpected(core::Error::Invalid("key file " + file.string() + " is too large"));
    }
  }
  sodium_memzero(chunk.data(), chunk.size());
  auto keys = ParseKeyFile(file, text);
  sodium_memzero(text.data(), text.size());
  if (!keys) return std::unexpected(std::move(keys.error()));
  return std::optional(std::move(*keys));
}

}  // namespace

std::string OctalMode(unsigned mode) {
  std::array<char, 8> digits{};
  auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), mode & 07777, 8);
  std::string text(digits.data(), end);
  if (text.size() < 4) text.insert(0, 4 - text.size(), '0');
  return text;
}

core::Result<void> Init() {
  static std::once_flag once;
  static int rc = -1;
  std::call_once(once, [] {
    // libsodium's own ChaCha20 generator, seeded from getrandom(2) per thread (and again after
    // a fork), instead of one getrandom system call per nonce: every encrypted field needs one.
    randombytes_set_implementation(&randombytes_internal_implementation);
    rc = sodium_init();
  });
  if (rc < 0) return std::unexpected(core::Error::Internal("libsodium failed to initialise"));
  return core::Ok();
}

// ---- KeyRing ---------------------------------------------------------------------------------

core::Result<KeyRing> KeyRing::LoadOrCreate(const std::filesystem::path& file) {
  if (auto r = Init(); !r) return std::unexpected(std::move(r.error()));
  if (file.filename().empty()) {
    return std::unexpected(
        core::Error::Invalid("key file path " + file.string() + " does not name a file"));
  }
  auto loaded = LoadKeyFile(file);
  if (!loaded) return std::unexpected(std::move(loaded.error()));
  if (!*loaded) {
    if (auto r = CreateKeyFile(file); !r) return std::unexpected(std::move(r.error()));
    loaded = LoadKeyFile(file);
    if (!loaded) return std::unexpected(std::move(loaded.error()));
    if (!*loaded) {
      return std::unexpected(
          core::Error::Internal("key file " + file.string() + " disappeared right after creation"));
    }
  }
  return FromKeys(std::move(**loaded));
}

KeyRing KeyRing::FromKeys(std::map<uint32_t, std::string> raw_keys) {
  KeyRing ring;
  for (const auto& [version, key] : raw_keys) {
    if (version == 0) Fatal("KeyRing::FromKeys: version 0 is reserved");
    if (key.size() != kMasterKeyBytes) Fatal("KeyRing::FromKeys: keys must be 32 bytes");
  }
  ring.current_ = raw_keys.empty() ? 0 : raw_keys.rbegin()->first;
  ring.keys_ = std::move(raw_keys);
  return ring;
}

std::vector<uint32_t> KeyRing::versions() const {
  std::vector<uint32_t> out;
  for (const auto& [v, key] : keys_) out.push_back(v);
  return out;
}

namespace {

// Writes `keys` as the key file, replacing it atomically: a new 0600 file next to it, synced,
// renamed over the old one, and the directory synced.
core::Result<void> RewriteKeyFile(const fs::path& file,
                                  const std::map<uint32_t, std::string>& keys) {
  const fs::path dir = file.parent_path().empty() ? fs::path(".") : file.parent_path();
  std::array<unsigned char, 8> tag;
  randombytes_buf(tag.data(), tag.size());
  const fs::path tmp =
      dir / ("." + file.filename().string() + ".tmp-" + Hex(tag.data(), tag.size()));
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) return std::unexpected(IoError("cannot create", tmp, errno));
  auto fail = [&](core::Error e) -> core::Result<void> {
    ::unlink(tmp.c_str());
    return std::unexpected(std::move(e));
  };
  if (::fchmod(fd.get(), 0600) != 0) return fail(IoError("cannot chmod", tmp, errno));
  std::string text;
  text.reserve(keys.size() * 64 + 64);  // no reallocation: no unwiped copy left behind
  for (const auto& [version, key] : keys) {
    text += std::to_string(version);
    text += ' ';
    AppendBase64(text, Bytes(key), key.size(), kB64);
    text += '\n';
  }
  auto written = WriteAll(fd.get(), text, tmp);
  sodium_memzero(text.data(), text.size());
  if (!written) return fail(std::move(written.error()));
  if (::fsync(fd.get()) != 0) return fail(IoError("cannot sync", tmp, errno));
  if (fd.Close() != 0) return fail(IoError("cannot close", tmp, errno));
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    return fail(IoError("cannot replace key file", file, errno));
  }
  return FsyncDirectory(dir);
}

}  // namespace

core::Result<uint32_t> KeyRing::AddVersion(const std::filesystem::path& file) {
  if (auto r = Init(); !r) return std::unexpected(std::move(r.error()));
  auto loaded = LoadKeyFile(file);
  if (!loaded) return std::unexpected(std::move(loaded.error()));
  if (!*loaded) return std::unexpected(core::Error::NotFound("no key file " + file.string()));
  std::map<uint32_t, std::string> keys = std::move(**loaded);
  const uint32_t next = keys.empty() ? 1 : keys.rbegin()->first + 1;
  std::string fresh(kMasterKeyBytes, '\0');
  randombytes_buf(fresh.data(), fresh.size());
  keys.emplace(next, std::move(fresh));
  auto ok = RewriteKeyFile(file, keys);
  for (auto& [v, key] : keys) sodium_memzero(key.data(), key.size());
  if (!ok) return std::unexpected(ok.error());
  return next;
}

core::Result<void> KeyRing::RemoveVersion(const std::filesystem::path& file, uint32_t version) {
  if (auto r = Init(); !r) return std::unexpected(std::move(r.error()));
  auto loaded = LoadKeyFile(file);
  if (!loaded) return std::unexpected(std::move(loaded.error()));
  if (!*loaded) return std::unexpected(core::Error::NotFound("no key file " + file.string()));
  std::map<uint32_t, std::string> keys = std::move(**loaded);
  if (!keys.contains(version)) {
    return std::unexpected(
        core::Error::NotFound("the key file has no version " + std::to_string(version)));
  }
  if (version == keys.rbegin()->first) {
    return std::unexpected(core::Error::Conflict("version " + std::to_string(version) +
                                                 " is the current key; rotate first"));
  }
  sodium_memzero(keys[version].data(), keys[version].size());
  keys.erase(version);
  auto ok = RewriteKeyFile(file, keys);
  for (auto& [v, key] : keys) sodium_memzero(key.data(), key.size());
  return ok;
}

const std::string* KeyRing::Key(uint32_t version) const {
  const auto it = keys_.find(version);
  return it == keys_.end() ? nullptr : &it->second;
}

// ---- FieldCipher -----------------------------------------------------------------------------

std::unique_ptr<const FieldCipher::State> FieldCipher::Derive(const KeyRing& ring) {
  RequireInit();
  auto st = std::make_unique<State>();
  st->current = ring.current_version();
  for (const auto& [version, master] : ring.keys_) {
    st->subkeys.emplace(version, DeriveSubkey(master, kFieldSubkeyId, kFieldKdfContext));
  }
  return st;
}

FieldCipher::FieldCipher(const KeyRing& ring) { states_.Set(Derive(ring)); }

uint32_t FieldCipher::current_version() const { return states_.Get().current; }

void FieldCipher::Reload(const KeyRing& ring) { states_.Set(Derive(ring)); }

std::string FieldCipher::Encrypt(std::string_view plaintext, std::string_view context) const {
  const State& st = states_.Get();
  const uint32_t current = st.current;
  const auto key = st.subkeys.find(current);
  if (key == st.subkeys.end()) Fatal("FieldCipher::Encrypt: the key ring is empty");

  const std::size_t bin_len = kNonceBytes + plaintext.size() + kTagBytes;
  Scratch bin(bin_len);
  unsigned char* nonce = bin.data();
  randombytes_buf(nonce, kNonceBytes);
  unsigned long long sealed_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + kNonceBytes, &sealed_len, Bytes(plaintext),
                                             plaintext.size(), Bytes(context), context.size(),
                                             nullptr, nonce, Bytes(key->second));

  // "k<version>:" then base64, in a single allocation.
  std::array<char, 16> prefix;
  prefix[0] = 'k';
  char* end = std::to_chars(prefix.data() + 1, prefix.data() + prefix.size(), current).ptr;
  *end++ = ':';
  const std::size_t prefix_len = static_cast<std::size_t>(end - prefix.data());
  std::string out;
  out.reserve(prefix_len + sodium_base64_ENCODED_LEN(bin_len, kB64));
  out.append(prefix.data(), prefix_len);
  AppendBase64(out, bin.data(), bin_len, kB64);
  return out;
}

core::Result<std::string> FieldCipher::Decrypt(std::string_view ciphertext,
                                               std::string_view context) const {
  const auto prefix = ParsePrefix(ciphertext);
  if (!prefix) return std::unexpected(core::Error::Internal("field ciphertext is malformed"));
  const auto [version, prefix_len] = *prefix;
  const State& st = states_.Get();
  const auto key = st.subkeys.find(version);
  if (key == st.subkeys.end()) {
    return std::unexpected(core::Error::Internal("field ciphertext uses unknown key version " +
                                                 std::to_string(version)));
  }

  const std::string_view encoded = ciphertext.substr(prefix_len);
  const std::size_t bin_max = Base64DecodedBound(encoded.size());
  Scratch bin(bin_max);
  const auto bin_len = DecodeBase64Public(encoded, bin.data(), bin_max);
  if (!bin_len || *bin_len < kNonceBytes + kTagBytes) {
    return std::unexpected(core::Error::Internal("field ciphertext is malformed"));
  }

  std::string plaintext(*bin_len - kNonceBytes - kTagBytes, '\0');
  unsigned long long plain_len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(plaintext.data()), &plain_len, nullptr,
          bin.data() + kNonceBytes, *bin_len - kNonceBytes, Bytes(context), context.size(),
          bin.data(), Bytes(key->second)) != 0) {
    return std::unexpected(core::Error::Internal(
        "field ciphertext failed authentication (wrong key or context, or tampered)"));
  }
  return plaintext;
}

uint32_t FieldCipher::VersionOf(std::string_view ciphertext) {
  const auto prefix = ParsePrefix(ciphertext);
  return prefix ? prefix->first : 0;
}

// ---- BlindIndex ------------------------------------------------------------------------------

BlindIndex::BlindIndex(const KeyRing& ring) { Reload(ring); }

void BlindIndex::Reload(const KeyRing& ring) {
  RequireInit();
  auto st = std::make_unique<State>();
  const std::vector<uint32_t> versions = ring.versions();
  for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
    st->keys.push_back(DeriveSubkey(*ring.Key(*it), kIndexSubkeyId, kIndexKdfContext));
  }
  states_.Set(std::move(st));
}

namespace {

// `domain` is a fixed name without NUL bytes, so domain + '\0' + value is unambiguous.
std::string IndexWith(const std::string& key, std::string_view domain,
                      std::string_view normalized_value) {
  crypto_generichash_state state;
  crypto_generichash_init(&state, Bytes(key), key.size(), kIndexBytes);
  crypto_generichash_update(&state, Bytes(domain), domain.size());
  const unsigned char separator = 0;
  crypto_generichash_update(&state, &separator, 1);
  crypto_generichash_update(&state, Bytes(normalized_value), normalized_value.size());
  std::array<unsigned char, kIndexBytes> digest;
  crypto_generichash_final(&state, digest.data(), digest.size());
  return Hex(digest.data(), digest.size());
}

}  // namespace

std::string BlindIndex::Compute(std::string_view domain, std::string_view normalized_value) const {
  const State& st = states_.Get();
  if (st.keys.empty()) Fatal("BlindIndex::Compute: the key ring is empty");
  return IndexWith(st.keys.front(), domain, normalized_value);
}

std::vector<std::string> BlindIndex::ComputeAll(std::string_view domain,
                                                std::string_view normalized_value) const {
  const State& st = states_.Get();
  std::vector<std::string> out;
  for (const std::string& key : st.keys) out.push_back(IndexWith(key, domain, normalized_value));
  return out;
}

// ---- passwords and tokens --------------------------------------------------------------------

core::Result<std::string> HashPassword(std::string_view password) {
  if (auto r = Init(); !r) return std::unexpected(std::move(r.error()));
  std::array<char, crypto_pwhash_STRBYTES> encoded;
  if (crypto_pwhash_str_alg(encoded.data(), password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return std::unexpected(core::Error::Internal("password hashing failed (out of memory?)"));
  }
  return std::string(encoded.data());
}

bool VerifyPassword(std::string_view encoded_hash, std::string_view password) {
  RequireInit();
  // libsodium wants a NUL-terminated string that fits crypto_pwhash_STRBYTES.
  std::array<char, crypto_pwhash_STRBYTES> encoded{};
  if (encoded_hash.empty() || encoded_hash.size() >= encoded.size() ||
      encoded_hash.find('\0') != std::string_view::npos) {
    return false;
  }
  encoded_hash.copy(encoded.data(), encoded_hash.size());
  return crypto_pwhash_str_verify(encoded.data(), password.data(), password.size()) == 0;
}

std::string RandomToken(std::size_t bytes) {
  RequireInit();
  Scratch random(bytes);
  randombytes_buf(random.data(), bytes);
  std::string out;
  AppendBase64(out, random.data(), bytes, kB64Url);
  sodium_memzero(random.data(), bytes);
  return out;
}

std::string TokenHash(std::string_view token) {
  RequireInit();
  std::array<unsigned char, kTokenHashBytes> digest;
  crypto_generichash(digest.data(), digest.size(), Bytes(token), token.size(), nullptr, 0);
  return Hex(digest.data(), digest.size());
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  AppendBase64(out, Bytes(bytes), bytes.size(), kB64);
  return out;
}

core::Result<std::string> Base64Decode(std::string_view text) {
  std::string out(Base64DecodedBound(text.size()), '\0');
  const auto len =
      DecodeBase64(text, reinterpret_cast<unsigned char*>(out.data()), out.size(), kB64);
  if (!len) return std::unexpected(core::Error::BadRequest("invalid base64"));
  out.resize(*len);
  return out;
}

}  // namespace kehu::crypto
