#include "crypto/crypto.h"

#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/stat.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace kehu::crypto {
namespace {

namespace fs = std::filesystem;

std::string RawKey(unsigned char fill) { return std::string(32, static_cast<char>(fill)); }

KeyRing RingV1() { return KeyRing::FromKeys({{1, RawKey(0x11)}}); }
KeyRing RingV1V2() { return KeyRing::FromKeys({{1, RawKey(0x11)}, {2, RawKey(0x22)}}); }

mode_t ModeOf(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

void WriteFile(const fs::path& p, std::string_view text, mode_t mode = 0600) {
  {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
  }
  ASSERT_EQ(::chmod(p.c_str(), mode), 0);
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool IsLowerHex(std::string_view s) {
  return s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// The base64 payload of "k<v>:<payload>", decoded.
std::string Payload(std::string_view ciphertext) {
  auto bytes = Base64Decode(ciphertext.substr(ciphertext.find(':') + 1));
  EXPECT_TRUE(bytes.has_value());
  return bytes.value_or("");
}

class CryptoTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(Init().has_value()); }
};

// A fresh private directory per test, removed afterwards.
class KeyFileTest : public CryptoTest {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "kehu-crypto-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(dir_, ec);
  }
  // A valid key line for `version` whose key bytes are all `fill`.
  static std::string Line(uint32_t version, unsigned char fill) {
    return std::to_string(version) + " " + Base64Encode(RawKey(fill)) + "\n";
  }
  fs::path dir_;
};

// ---- Init ------------------------------------------------------------------------------------

TEST_F(CryptoTest, InitIsIdempotentAcrossThreads) {
  std::vector<std::thread> threads;
  std::array<bool, 8> ok{};
  for (std::size_t i = 0; i < ok.size(); ++i) {
    threads.emplace_back([&ok, i] { ok[i] = Init().has_value(); });
  }
  for (auto& t : threads) t.join();
  for (bool b : ok) EXPECT_TRUE(b);
}

// ---- FieldCipher -----------------------------------------------------------------------------

TEST_F(CryptoTest, FieldCipherRoundTripsText) {
  FieldCipher cipher(RingV1());
  for (std::string_view text :
       {std::string_view("+8613800138000"), std::string_view("张三@example.com"),
        std::string_view("a\0b", 3)}) {
    const std::string sealed = cipher.Encrypt(text, "customer.phone");
    auto opened = cipher.Decrypt(sealed, "customer.phone");
    ASSERT_TRUE(opened.has_value()) << opened.error().message();
    EXPECT_EQ(*opened, text);
  }
}

TEST_F(CryptoTest, FieldCipherRoundTripsEmptyString) {
  FieldCipher cipher(RingV1());
  const std::string sealed = cipher.Encrypt("", "customer.email");
  EXPECT_EQ(Payload(sealed).size(), 24u + 16u);
  auto opened = cipher.Decrypt(sealed, "customer.email");
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, "");
}

TEST_F(CryptoTest, FieldCipherRoundTripsLargeValues) {
  FieldCipher cipher(RingV1());
  std::string big(100000, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31);
  auto opened = cipher.Decrypt(cipher.Encrypt(big, "note.body"), "note.body");
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, big);
}

TEST_F(CryptoTest, FieldCipherOutputIsVersionPrefixAndStandardBase64) {
  FieldCipher cipher(RingV1());
  const std::string sealed = cipher.Encrypt("12345678901234567890", "customer.phone");
  ASSERT_TRUE(sealed.starts_with("k1:"));
  const std::string_view b64 = std::string_view(sealed).substr(3);
  EXPECT_EQ(b64.size(), 80u);  // base64 of 24 + 20 + 16 bytes
  EXPECT_EQ(
      b64.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="),
      std::string_view::npos);
  EXPECT_EQ(Payload(sealed).size(), 24u + 20u + 16u);
}

TEST_F(CryptoTest, FieldCipherUsesFreshNonceEachCall) {
  FieldCipher cipher(RingV1());
  std::set<std::string> seen;
  std::set<std::string> nonces;
  for (int i = 0; i < 100; ++i) {
    const std::string sealed = cipher.Encrypt("same value", "customer.phone");
    seen.insert(sealed);
    nonces.insert(Payload(sealed).substr(0, 24));
  }
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_EQ(nonces.size(), 100u);
}

TEST_F(CryptoTest, FieldCipherRejectsWrongContext) {
  FieldCipher cipher(RingV1());
  const std::string sealed = cipher.Encrypt("+8613800138000", "customer.phone");
  auto opened = cipher.Decrypt(sealed, "customer.email");
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.error().code(), core::Code::kInternal);
  EXPECT_FALSE(cipher.Decrypt(sealed, "").has_value());
}

TEST_F(CryptoTest, FieldCipherRejectsTamperedCiphertext) {
  FieldCipher cipher(RingV1());
  const std::string sealed = cipher.Encrypt("+8613800138000", "customer.phone");
  const std::string payload = Payload(sealed);
  // Flip one bit in every byte position in turn: nonce, ciphertext and tag are all covered.
  for (std::size_t i = 0; i < payload.size(); ++i) {
    std::string bad = payload;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    auto opened = cipher.Decrypt("k1:" + Base64Encode(bad), "customer.phone");
    ASSERT_FALSE(opened.has_value()) << "byte " << i;
    EXPECT_EQ(opened.error().code(), core::Code::kInternal);
  }
  // Truncated and extended payloads.
  EXPECT_FALSE(
      cipher.Decrypt("k1:" + Base64Encode(payload.substr(0, payload.size() - 1)), "customer.phone")
          .has_value());
  EXPECT_FALSE(cipher.Decrypt("k1:" + Base64Encode(payload + "x"), "customer.phone").has_value());
}

TEST_F(CryptoTest, FieldCipherRejectsOtherKeyWithSameVersion) {
  FieldCipher mine(RingV1());
  FieldCipher theirs(KeyRing::FromKeys({{1, RawKey(0x99)}}));
  auto opened = theirs.Decrypt(mine.Encrypt("secret", "customer.phone"), "customer.phone");
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.error().code(), core::Code::kInternal);
}

TEST_F(CryptoTest, FieldCipherRejectsUnknownKeyVersion) {
  FieldCipher newer(RingV1V2());
  FieldCipher older(RingV1());
  const std::string sealed = newer.Encrypt("+8613800138000", "customer.phone");
  ASSERT_TRUE(sealed.starts_with("k2:"));
  auto opened = older.Decrypt(sealed, "customer.phone");
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.error().code(), core::Code::kInternal);
  EXPECT_NE(opened.error().message().find("unknown key version 2"), std::string::npos);
}

TEST_F(CryptoTest, FieldCipherRejectsMalformedCiphertext) {
  FieldCipher cipher(RingV1());
  const std::string good = cipher.Encrypt("x", "c");
  const std::string body = good.substr(3);
  for (const std::string& bad :
       {std::string(""), std::string("k"), std::string("k1"), std::string("k1:"),
        std::string("x1:") + body, std::string("1:") + body, std::string("k:") + body,
        std::string("k0:") + body, std::string("k01:") + body, std::string("k-1:") + body,
        std::string("k1 :") + body, std::string("k1:") + body + "!", std::string("k1:") + "AAAA",
        std::string("k1:") + body.substr(0, body.size() - 1),
        std::string("k99999999999:") + body}) {
    auto opened = cipher.Decrypt(bad, "c");
    ASSERT_FALSE(opened.has_value()) << bad;
    EXPECT_EQ(opened.error().code(), core::Code::kInternal) << bad;
  }
}

// Ciphertexts are decoded by a fast table-driven base64 decoder: as strict as libsodium's.
TEST_F(CryptoTest, FieldCipherBase64IsStrictAndRoundTripsEveryPadding) {
  FieldCipher cipher(RingV1());
  for (int n = 0; n < 40; ++n) {
    const std::string plain(static_cast<std::size_t>(n), 'x');
    auto opened = cipher.Decrypt(cipher.Encrypt(plain, "c"), "c");
    ASSERT_TRUE(opened.has_value()) << n;
    EXPECT_EQ(*opened, plain);
  }
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  int padded = 0;
  for (int n = 0; n < 3; ++n) {
    const std::string body =
        cipher.Encrypt(std::string(static_cast<std::size_t>(n), 'y'), "c").substr(3);
    const std::size_t pad = body.ends_with("==") ? 2 : body.ends_with("=") ? 1 : 0;
    std::vector<std::string> bad = {body.substr(0, 8) + "=" + body.substr(9),
                                    " " + body,
                                    body + "\n",
                                    body.substr(0, 4) + "-" + body.substr(5),
                                    body.substr(0, 4) + "_" + body.substr(5),
                                    body + "===="};
    if (pad > 0) {
      ++padded;
      bad.push_back(body.substr(0, body.size() - pad));  // padding left out
      std::string flipped = body;
      char& c = flipped[flipped.size() - pad - 1];
      c = alphabet[alphabet.find(c) ^ 1];  // trailing bits not zero: not canonical
      bad.push_back(flipped);
    }
    for (const std::string& b : bad) {
      EXPECT_FALSE(cipher.Decrypt("k1:" + b, "c").has_value()) << b;
    }
  }
  EXPECT_EQ(padded, 2);
}

TEST_F(CryptoTest, FieldCipherErrorsNeverContainPlaintextOrKeys) {
  const std::string key = RawKey(0x42);
  FieldCipher cipher(KeyRing::FromKeys({{1, key}}));
  const std::string secret = "+8613912345678";
  const std::string sealed = cipher.Encrypt(secret, "customer.phone");
  auto opened = cipher.Decrypt(sealed, "customer.email");
  ASSERT_FALSE(opened.has_value());
  const std::string& message = opened.error().message();
  EXPECT_EQ(message.find(secret), std::string::npos);
  EXPECT_EQ(message.find(key), std::string::npos);
  EXPECT_EQ(message.find(Base64Encode(key)), std::string::npos);
  EXPECT_EQ(message.find(sealed), std::string::npos);
}

TEST_F(CryptoTest, FieldCipherDecryptsOldVersionAfterRotationAndEncryptsWithNewest) {
  FieldCipher before(RingV1());
  const std::string old_sealed = before.Encrypt("+8613800138000", "customer.phone");
  ASSERT_EQ(FieldCipher::VersionOf(old_sealed), 1u);

  const KeyRing rotated = RingV1V2();
  ASSERT_EQ(rotated.current_version(), 2u);
  FieldCipher after(rotated);
  auto opened = after.Decrypt(old_sealed, "customer.phone");
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, "+8613800138000");

  const std::string new_sealed = after.Encrypt("+8613800138000", "customer.phone");
  EXPECT_TRUE(new_sealed.starts_with("k2:"));
  EXPECT_EQ(FieldCipher::VersionOf(new_sealed), 2u);
  EXPECT_EQ(after.Decrypt(new_sealed, "customer.phone").value_or(""), "+8613800138000");
}

TEST_F(CryptoTest, FieldCipherMatchesDocumentedConstruction) {
  // Pins the stored format: subkey = crypto_kdf(master, 1, "kehufld1"), AD = context.
  const std::string master = RawKey(0x11);
  std::array<unsigned char, 32> subkey;
  crypto_kdf_derive_from_key(subkey.data(), subkey.size(), 1, "kehufld1",
                             reinterpret_cast<const unsigned char*>(master.data()));
  FieldCipher cipher(RingV1());
  const std::string payload = Payload(cipher.Encrypt("hello", "customer.phone"));
  std::array<unsigned char, 5> plain;
  unsigned long long plain_len = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(payload.data());
  const std::string_view ad = "customer.phone";
  ASSERT_EQ(crypto_aead_xchacha20poly1305_ietf_decrypt(
                plain.data(), &plain_len, nullptr, p + 24, payload.size() - 24,
                reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), p, subkey.data()),
            0);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(plain.data()), plain_len), "hello");
}

TEST_F(CryptoTest, VersionOfParsesPrefix) {
  EXPECT_EQ(FieldCipher::VersionOf("k1:abcd"), 1u);
  EXPECT_EQ(FieldCipher::VersionOf("k42:"), 42u);
  EXPECT_EQ(FieldCipher::VersionOf("k4294967295:x"), 4294967295u);
  EXPECT_EQ(FieldCipher::VersionOf("k4294967296:x"), 0u);
  EXPECT_EQ(FieldCipher::VersionOf(""), 0u);
  EXPECT_EQ(FieldCipher::VersionOf("k"), 0u);
  EXPECT_EQ(FieldCipher::VersionOf("k1"), 0u);
  EXPECT_EQ(FieldCipher::VersionOf("k:abc"), 0u);
  EXPECT_EQ(FieldCipher::VersionOf("kx:abc"), 0u);
  EXPECT_EQ(FieldCipher::VersionOf("k0:abc"), 0u);
  EXPECT_EQ(FieldCipher::VersionOf("K1:abc"), 0u);
  EXPECT_EQ(FieldCipher::VersionOf("plain text"), 0u);
}

TEST_F(CryptoTest, FieldCipherIsSafeToShareAcrossThreads) {
  const FieldCipher cipher(RingV1V2());
  std::array<int, 8> failures{};
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < failures.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string value = "value-" + std::to_string(t) + "-" + std::to_string(i);
        auto opened = cipher.Decrypt(cipher.Encrypt(value, "ctx"), "ctx");
        if (!opened || *opened != value) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

// ---- BlindIndex ------------------------------------------------------------------------------

TEST_F(CryptoTest, BlindIndexIsDeterministicLowercaseHex) {
  BlindIndex index(RingV1());
  const std::string a = index.Compute("phone", "+8613800138000");
  EXPECT_EQ(a.size(), 32u);
  EXPECT_TRUE(IsLowerHex(a)) << a;
  EXPECT_EQ(a, index.Compute("phone", "+8613800138000"));
  EXPECT_EQ(a, BlindIndex(RingV1()).Compute("phone", "+8613800138000"));
  EXPECT_NE(a, index.Compute("phone", "+8613800138001"));
}

TEST_F(CryptoTest, BlindIndexSeparatesDomains) {
  BlindIndex index(RingV1());
  EXPECT_NE(index.Compute("phone", "x@example.com"), index.Compute("email", "x@example.com"));
  // The separator keeps the domain/value boundary unambiguous.
  EXPECT_NE(index.Compute("ab", "c"), index.Compute("a", "bc"));
  EXPECT_NE(index.Compute("email", ""), index.Compute("phone", ""));
}

TEST_F(CryptoTest, BlindIndexDiffersBetweenKeys) {
  EXPECT_NE(BlindIndex(RingV1()).Compute("phone", "+8613800138000"),
            BlindIndex(KeyRing::FromKeys({{1, RawKey(0x99)}})).Compute("phone", "+8613800138000"));
}

TEST_F(CryptoTest, BlindIndexUsesCurrentKeyVersion) {
  const std::string with_both = BlindIndex(RingV1V2()).Compute("phone", "+8613800138000");
  EXPECT_EQ(with_both,
            BlindIndex(KeyRing::FromKeys({{2, RawKey(0x22)}})).Compute("phone", "+8613800138000"));
  EXPECT_NE(with_both, BlindIndex(RingV1()).Compute("phone", "+8613800138000"));
}

TEST_F(CryptoTest, BlindIndexMatchesDocumentedConstruction) {
  // Pins the stored format: BLAKE2b-128 keyed with crypto_kdf(master, 2, "kehubix1") over
  // domain '\0' value.
  const std::string master = RawKey(0x11);
  std::array<unsigned char, 32> key;
  crypto_kdf_derive_from_key(key.data(), key.size(), 2, "kehubix1",
                             reinterpret_cast<const unsigned char*>(master.data()));
  const std::string message("phone\0+8613800138000", 20);
  std::array<unsigned char, 16> digest;
  crypto_generichash(digest.data(), digest.size(),
                     reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                     key.data(), key.size());
  std::array<char, 33> hex;
  sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
  EXPECT_EQ(BlindIndex(RingV1()).Compute("phone", "+8613800138000"), hex.data());
}

// ---- KeyRing ---------------------------------------------------------------------------------

TEST_F(CryptoTest, KeyRingFromKeysUsesHighestVersionAsCurrent) {
  const KeyRing ring = KeyRing::FromKeys({{3, RawKey(3)}, {1, RawKey(1)}, {2, RawKey(2)}});
  EXPECT_EQ(ring.current_version(), 3u);
  ASSERT_NE(ring.Key(1), nullptr);
  EXPECT_EQ(*ring.Key(1), RawKey(1));
  EXPECT_EQ(ring.Key(4), nullptr);
  EXPECT_EQ(ring.Key(0), nullptr);
}

TEST_F(KeyFileTest, CreatesPrivateFileAndDirectories) {
  const fs::path file = dir_ / "etc" / "kehu" / "master.key";
  auto ring = KeyRing::LoadOrCreate(file);
  ASSERT_TRUE(ring.has_value()) << ring.error().message();
  EXPECT_EQ(ring->current_version(), 1u);
  ASSERT_NE(ring->Key(1), nullptr);
  EXPECT_EQ(ring->Key(1)->size(), 32u);

  EXPECT_EQ(ModeOf(file), 0600u);
  EXPECT_EQ(ModeOf(dir_ / "etc"), 0700u);
  EXPECT_EQ(ModeOf(dir_ / "etc" / "kehu"), 0700u);

  const std::string text = ReadFile(file);
  EXPECT_EQ(text, "1 " + Base64Encode(*ring->Key(1)) + "\n");
  // No temporary file left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(file.parent_path()), fs::directory_iterator()), 1);
}

TEST_F(KeyFileTest, LeavesExistingDirectoriesAlone) {
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  const fs::path file = dir_ / "master.key";
  ASSERT_TRUE(KeyRing::LoadOrCreate(file).has_value());
  EXPECT_EQ(ModeOf(dir_), 0755u);
  EXPECT_EQ(ModeOf(file), 0600u);
}

TEST_F(KeyFileTest, CreatesExactModesUnderUnusualUmask) {
  const mode_t old = ::umask(0277);  // would leave directories 0500 and the file 0400
  auto ring = KeyRing::LoadOrCreate(dir_ / "a" / "master.key");
  ::umask(old);
  ASSERT_TRUE(ring.has_value()) << ring.error().message();
  EXPECT_EQ(ModeOf(dir_ / "a"), 0700u);
  EXPECT_EQ(ModeOf(dir_ / "a" / "master.key"), 0600u);
}

TEST_F(KeyFileTest, ReloadsTheSameKey) {
  const fs::path file = dir_ / "master.key";
  auto first = KeyRing::LoadOrCreate(file);
  auto second = KeyRing::LoadOrCreate(file);
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(*first->Key(1), *second->Key(1));
  const std::string sealed = FieldCipher(*first).Encrypt("+8613800138000", "customer.phone");
  EXPECT_EQ(FieldCipher(*second).Decrypt(sealed, "customer.phone").value_or(""), "+8613800138000");
}

TEST_F(KeyFileTest, ConcurrentCreatorsAgreeOnOneKey) {
  const fs::path file = dir_ / "new" / "master.key";
  std::array<std::string, 8> keys;
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    threads.emplace_back([&, i] {
      auto ring = KeyRing::LoadOrCreate(file);
      if (ring && ring->Key(1)) keys[i] = *ring->Key(1);
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& key : keys) {
    EXPECT_EQ(key.size(), 32u);
    EXPECT_EQ(key, keys[0]);
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(file.parent_path()), fs::directory_iterator()), 1);
}

TEST_F(KeyFileTest, LoadsSeveralVersionsHighestIsCurrent) {
  const fs::path file = dir_ / "master.key";
  WriteFile(file, Line(2, 0x22) + Line(1, 0x11) + "\n" + Line(7, 0x77));
  auto ring = KeyRing::LoadOrCreate(file);
  ASSERT_TRUE(ring.has_value()) << ring.error().message();
  EXPECT_EQ(ring->current_version(), 7u);
  EXPECT_EQ(*ring->Key(1), RawKey(0x11));
  EXPECT_EQ(*ring->Key(2), RawKey(0x22));
  EXPECT_EQ(*ring->Key(7), RawKey(0x77));
  EXPECT_EQ(ring->Key(3), nullptr);
}

TEST_F(KeyFileTest, AcceptsOwnerReadOnlyFile) {
  const fs::path file = dir_ / "master.key";
  WriteFile(file, Line(1, 0x11), 0400);
  EXPECT_TRUE(KeyRing::LoadOrCreate(file).has_value());
}

TEST_F(KeyFileTest, RefusesWorldReadableFile) {
  const fs::path file = dir_ / "master.key";
  WriteFile(file, Line(1, 0x11), 0644);
  auto ring = KeyRing::LoadOrCreate(file);
  ASSERT_FALSE(ring.has_value());
  EXPECT_EQ(ring.error().code(), core::Code::kInvalid);
  EXPECT_EQ(ring.error().message(),
            "key file " + file.string() + " has mode 0644; run chmod 600 " + file.string());
}

TEST_F(KeyFileTest, RefusesGroupAccessibleFile) {
  for (mode_t mode : {0640, 0620, 0610, 0604, 0602, 0601}) {
    const fs::path file = dir_ / "master.key";
    WriteFile(file, Line(1, 0x11), mode);
    auto ring = KeyRing::LoadOrCreate(file);
    ASSERT_FALSE(ring.has_value()) << std::oct << mode;
    EXPECT_EQ(ring.error().code(), core::Code::kInvalid);
  }
}

TEST_F(KeyFileTest, RefusesMalformedFiles) {
  const std::string key_b64 = Base64Encode(RawKey(0x11));
  const std::vector<std::string> cases = {
      "",                                                // no keys at all
      "\n\n",                                            // still no keys
      "1\n",                                             // no key
      "1 \n",                                            // empty key
      " " + key_b64 + "\n",                              // no version
      "x " + key_b64 + "\n",                             // non-numeric version
      "-1 " + key_b64 + "\n",                            // negative version
      "0 " + key_b64 + "\n",                             // version 0 is reserved
      "4294967296 " + key_b64 + "\n",                    // version overflows
      "1  " + key_b64 + "\n",                            // two spaces
      "1 " + key_b64 + " \n",                            // trailing space
      "1 " + key_b64 + "\r\n",                           // CRLF
      "1 " + Base64Encode(std::string(31, 'a')) + "\n",  // 31-byte key
      "1 " + Base64Encode(std::string(33, 'a')) + "\n",  // 33-byte key
      "1 " + key_b64.substr(0, 43) + "\n",               // missing padding
      "1 " + key_b64 + "\n1 " + key_b64 + "\n",          // duplicate version
      "1 " + key_b64 + "\ngarbage\n",                    // bad second line
  };
  for (const std::string& text : cases) {
    const fs::path file = dir_ / "master.key";
    WriteFile(file, text);
    auto ring = KeyRing::LoadOrCreate(file);
    ASSERT_FALSE(ring.has_value()) << text;
    EXPECT_EQ(ring.error().code(), core::Code::kInvalid) << text;
    EXPECT_EQ(ring.error().message().find(key_b64), std::string::npos);
    EXPECT_EQ(ReadFile(file), text) << "a bad key file must never be rewritten";
  }
}

TEST_F(KeyFileTest, RefusesDirectoryAsKeyFile) {
  const fs::path file = dir_ / "master.key";
  fs::create_directory(file);
  ::chmod(file.c_str(), 0700);
  auto ring = KeyRing::LoadOrCreate(file);
  ASSERT_FALSE(ring.has_value());
  EXPECT_EQ(ring.error().code(), core::Code::kInvalid);
}

TEST_F(KeyFileTest, ReportsUncreatableParent) {
  const fs::path blocker = dir_ / "not-a-dir";
  WriteFile(blocker, "x");
  auto ring = KeyRing::LoadOrCreate(blocker / "master.key");
  ASSERT_FALSE(ring.has_value());
  EXPECT_NE(ring.error().message().find(blocker.string()), std::string::npos);
}

// ---- passwords -------------------------------------------------------------------------------

TEST_F(CryptoTest, PasswordHashVerifies) {
  auto hash = HashPassword("correct horse battery staple");
  ASSERT_TRUE(hash.has_value());
  EXPECT_TRUE(hash->starts_with("$argon2id$")) << *hash;
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse battery staple"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horse battery stapler"));
  EXPECT_FALSE(VerifyPassword(*hash, ""));
}

TEST_F(CryptoTest, PasswordHashIsSaltedPerCall) {
  auto a = HashPassword("hunter2");
  auto b = HashPassword("hunter2");
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(b.has_value());
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(VerifyPassword(*b, "hunter2"));
}

TEST_F(CryptoTest, PasswordVerifyRejectsGarbageHashes) {
  auto hash = HashPassword("pw");
  ASSERT_TRUE(hash.has_value());
  EXPECT_FALSE(VerifyPassword("", "pw"));
  EXPECT_FALSE(VerifyPassword("garbage", "pw"));
  EXPECT_FALSE(VerifyPassword("$argon2id$v=19$m=65536,t=2,p=1$", "pw"));
  EXPECT_FALSE(VerifyPassword(hash->substr(0, hash->size() - 5), "pw"));
  EXPECT_FALSE(VerifyPassword(*hash + std::string(1, '\0'), "pw"));
  EXPECT_FALSE(VerifyPassword(std::string(500, 'a'), "pw"));
  EXPECT_FALSE(VerifyPassword(*hash + std::string(200, 'a'), "pw"));
}

// ---- tokens ----------------------------------------------------------------------------------

TEST_F(CryptoTest, RandomTokensAreUniqueUrlSafeUnpadded) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string token = RandomToken();
    EXPECT_EQ(token.size(), 43u);  // 32 bytes, unpadded base64
    EXPECT_EQ(
        token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos)
        << token;
    seen.insert(token);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST_F(CryptoTest, RandomTokenLengthFollowsByteCount) {
  EXPECT_EQ(RandomToken(0), "");
  EXPECT_EQ(RandomToken(1).size(), 2u);
  EXPECT_EQ(RandomToken(16).size(), 22u);
  EXPECT_EQ(RandomToken(3000).size(), 4000u);
}

TEST_F(CryptoTest, TokenHashIsBlake2b256Hex) {
  // Published BLAKE2b-256 of the empty string.
  EXPECT_EQ(TokenHash(""), "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  const std::string token = RandomToken();
  const std::string h = TokenHash(token);
  EXPECT_EQ(h.size(), 64u);
  EXPECT_TRUE(IsLowerHex(h));
  EXPECT_EQ(h, TokenHash(token));
  EXPECT_NE(h, TokenHash(token + "x"));
}

TEST_F(CryptoTest, ConstantTimeEqualComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEqual("", ""));
  EXPECT_TRUE(ConstantTimeEqual("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEqual("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEqual("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEqual("", "a"));
  EXPECT_TRUE(ConstantTimeEqual(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
  EXPECT_FALSE(ConstantTimeEqual(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

// ---- base64 ----------------------------------------------------------------------------------

TEST_F(CryptoTest, Base64EncodesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("\xfb\xff"), "+/8=");
}

TEST_F(CryptoTest, Base64RoundTripsAllBytes) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (std::size_t len = 0; len <= all.size(); ++len) {
    const std::string bytes = all.substr(all.size() - len);
    auto decoded = Base64Decode(Base64Encode(bytes));
    ASSERT_TRUE(decoded.has_value()) << len;
    EXPECT_EQ(*decoded, bytes);
  }
}

TEST_F(CryptoTest, Base64DecodeRejectsBadInput) {
  for (std::string_view bad : {"Zg", "Zg=", "Z", "Zm9v!", "Zm9v\n", " Zm9v",
                               "Zh==", "-_8=", "Zm9v====", "=", "Zg==Zg=="}) {
    auto decoded = Base64Decode(bad);
    ASSERT_FALSE(decoded.has_value()) << bad;
    EXPECT_EQ(decoded.error().code(), core::Code::kBadRequest) << bad;
  }
  auto embedded_nul = Base64Decode(std::string_view("Zm9v\0AAA", 8));
  ASSERT_FALSE(embedded_nul.has_value());
}

// ---- misuse ----------------------------------------------------------------------------------

TEST(CryptoDeathTest, EmptyRingCannotEncryptOrIndex) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const KeyRing empty = KeyRing::FromKeys({});
  EXPECT_EQ(empty.current_version(), 0u);
  EXPECT_DEATH(FieldCipher(empty).Encrypt("x", "c"), "key ring is empty");
  EXPECT_DEATH(BlindIndex(empty).Compute("phone", "x"), "key ring is empty");
  EXPECT_FALSE(FieldCipher(empty).Decrypt("k1:AAAA", "c").has_value());
}

TEST(CryptoDeathTest, FromKeysRejectsWrongKeySize) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(KeyRing::FromKeys({{1, std::string(16, 'x')}}), "32 bytes");
  EXPECT_DEATH(KeyRing::FromKeys({{0, RawKey(1)}}), "version 0");
}

}  // namespace
}  // namespace kehu::crypto

namespace kehu::crypto {
namespace {

TEST_F(KeyFileTest, RotationAddsAVersionOldDataStillDecryptsAndIndexesCoverBoth) {
  const fs::path file = dir_ / "keys" / "master.key";
  auto ring1 = KeyRing::LoadOrCreate(file);
  ASSERT_TRUE(ring1.has_value());
  FieldCipher cipher(*ring1);
  BlindIndex bidx(*ring1);
  const std::string old_text = cipher.Encrypt("13800138000", "customer.phone");
  const std::string old_index = bidx.Compute("phone", "+8613800138000");

  auto v2 = KeyRing::AddVersion(file);
  ASSERT_TRUE(v2.has_value()) << v2.error().message();
  EXPECT_EQ(*v2, 2u);
  EXPECT_EQ(ModeOf(file), 0600u) << "the rewritten key file stays private";
  auto ring2 = KeyRing::LoadOrCreate(file);
  ASSERT_TRUE(ring2.has_value());
  EXPECT_EQ(ring2->current_version(), 2u);
  cipher.Reload(*ring2);
  bidx.Reload(*ring2);
  EXPECT_EQ(cipher.current_version(), 2u);
  EXPECT_EQ(cipher.Decrypt(old_text, "customer.phone").value_or(""), "13800138000");
  const std::string new_text = cipher.Encrypt("13800138000", "customer.phone");
  EXPECT_TRUE(new_text.starts_with("k2:"));
  const auto all = bidx.ComputeAll("phone", "+8613800138000");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], bidx.Compute("phone", "+8613800138000")) << "newest first";
  EXPECT_EQ(all[1], old_index) << "the old index value is still looked for";
  EXPECT_NE(all[0], all[1]);

  EXPECT_EQ(KeyRing::RemoveVersion(file, 2).error().code(), core::Code::kConflict)
      << "the current key cannot be removed";
  ASSERT_TRUE(KeyRing::RemoveVersion(file, 1).has_value());
  auto ring3 = KeyRing::LoadOrCreate(file);
  ASSERT_TRUE(ring3.has_value());
  EXPECT_EQ(ring3->versions(), std::vector<uint32_t>{2});
  cipher.Reload(*ring3);
  EXPECT_FALSE(cipher.Decrypt(old_text, "customer.phone").has_value())
      << "data under a retired key no longer decrypts (retire only when nothing uses it)";
  EXPECT_EQ(cipher.Decrypt(new_text, "customer.phone").value_or(""), "13800138000");
}

}  // namespace
}  // namespace kehu::crypto
