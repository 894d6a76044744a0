#include "http/tls.h"

#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdlib.h>

#include <asio/ssl/context.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

namespace kehu::http {
namespace {

namespace fs = std::filesystem;

struct Pem {
  std::string cert;
  std::string key;
};

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

// A fresh P-256 key and a self-signed certificate for it, valid for an hour. `passphrase`
// non-empty: the key is written encrypted.
Pem SelfSigned(const std::string& passphrase = "") {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> x(X509_new(), X509_free);
  EXPECT_TRUE(key && x);
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 3600);
  X509_set_pubkey(x.get(), key.get());
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(x.get(), name);
  EXPECT_GT(X509_sign(x.get(), key.get(), EVP_sha256()), 0);

  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(BIO_new(BIO_s_mem()), BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_X509(cert_bio.get(), x.get());
  if (passphrase.empty()) {
    PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  } else {
    PEM_write_bio_PKCS8PrivateKey(key_bio.get(), key.get(), EVP_aes_256_cbc(), passphrase.data(),
                                  static_cast<int>(passphrase.size()), nullptr, nullptr);
  }
  return {BioText(cert_bio.get()), BioText(key_bio.get())};
}

class TlsContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "kehu-tls-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // Written readable by the owner only, as a key file should be.
  std::string Write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write);
    return p.string();
  }
  fs::path dir_;
};

TEST_F(TlsContextTest, MatchingPairGivesAContextWithThePolicy) {
  Pem pem = SelfSigned();
  auto ctx = MakeTlsContext(Write("cert.pem", pem.cert), Write("key.pem", pem.key));
  ASSERT_TRUE(ctx.has_value()) << ctx.error().message();
  SSL_CTX* native = (*ctx)->native_handle();
  EXPECT_EQ(SSL_CTX_get_min_proto_version(native), TLS1_2_VERSION);
  const uint64_t options = SSL_CTX_get_options(native);
  EXPECT_TRUE(options & SSL_OP_CIPHER_SERVER_PREFERENCE);
  EXPECT_TRUE(options & SSL_OP_NO_RENEGOTIATION);
  EXPECT_TRUE(options & SSL_OP_NO_COMPRESSION);
  // Every suite on offer is TLS 1.3 or ECDHE with an AEAD cipher.
  STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(native);
  ASSERT_NE(ciphers, nullptr);
  int tls12 = 0;
  for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
    const SSL_CIPHER* c = sk_SSL_CIPHER_value(ciphers, i);
    EXPECT_TRUE(SSL_CIPHER_is_aead(c)) << SSL_CIPHER_get_name(c);
    if (SSL_CIPHER_get_kx_nid(c) == NID_kx_any) continue;  // TLS 1.3
    ++tls12;
    EXPECT_EQ(SSL_CIPHER_get_kx_nid(c), NID_kx_ecdhe) << SSL_CIPHER_get_name(c);
  }
  EXPECT_GT(tls12, 0);
}

TEST_F(TlsContextTest, CertificateAndKeyInOneFile) {
  Pem pem = SelfSigned();
  std::string both = Write("both.pem", pem.key + pem.cert);
  auto ctx = MakeTlsContext(both, both);
  EXPECT_TRUE(ctx.has_value()) << ctx.error().message();
}

TEST_F(TlsContextTest, MissingFilesAreNamed) {
  Pem pem = SelfSigned();
  std::string cert = Write("cert.pem", pem.cert);
  std::string key = Write("key.pem", pem.key);
  std::string missing = (dir_ / "nope.pem").string();

  auto no_cert = MakeTlsContext(missing, key);
  ASSERT_FALSE(no_cert.has_value());
  EXPECT_EQ(no_cert.error().message(),
            "cannot read the TLS certificate " + missing + ": No such file or directory");
  auto no_key = MakeTlsContext(cert, missing);
  ASSERT_FALSE(no_key.has_value());
  EXPECT_EQ(no_key.error().message(),
            "cannot read the TLS key " + missing + ": No such file or directory");
  auto dir_as_key = MakeTlsContext(cert, dir_.string());
  ASSERT_FALSE(dir_as_key.has_value());
  EXPECT_NE(dir_as_key.error().message().find(dir_.string()), std::string::npos);
}

TEST_F(TlsContextTest, NotPemIsNamed) {
  Pem pem = SelfSigned();
  std::string junk = Write("junk.pem", "this is not a certificate\n");
  std::string cert = Write("cert.pem", pem.cert);

  auto bad_cert = MakeTlsContext(junk, Write("key.pem", pem.key));
  ASSERT_FALSE(bad_cert.has_value());
  EXPECT_TRUE(bad_cert.error().message().starts_with("the TLS certificate " + junk +
                                                     " holds no PEM certificate"))
      << bad_cert.error().message();
  // A certificate where the key should be holds no private key either.
  auto cert_as_key = MakeTlsContext(cert, cert);
  ASSERT_FALSE(cert_as_key.has_value());
  EXPECT_TRUE(cert_as_key.error().message().starts_with("the TLS key " + cert +
                                                        " holds no usable PEM private key"))
      << cert_as_key.error().message();
}

TEST_F(TlsContextTest, KeyOfAnotherCertificateIsRefused) {
  std::string cert = Write("cert.pem", SelfSigned().cert);
  std::string other_key = Write("other.key", SelfSigned().key);
  auto ctx = MakeTlsContext(cert, other_key);
  ASSERT_FALSE(ctx.has_value());
  EXPECT_EQ(ctx.error().message(),
            "the TLS key " + other_key + " does not match the certificate " + cert);
}

TEST_F(TlsContextTest, KeyEveryUserMayReadIsRefused) {
  Pem pem = SelfSigned();
  std::string cert = Write("cert.pem", pem.cert);
  std::string key = Write("key.pem", pem.key);
  fs::permissions(key, fs::perms::group_read | fs::perms::others_read, fs::perm_options::add);
  auto ctx = MakeTlsContext(cert, key);
  ASSERT_FALSE(ctx.has_value());
  EXPECT_EQ(
      ctx.error().message(),
      "the TLS key " + key +
          " can be read or changed by every user of this machine (mode 0644); run chmod 600 " +
          key + " (or 640 with a group such as ssl-cert)");
  // A group may read it (Debian's ssl-cert).
  fs::permissions(key, fs::perms::others_read, fs::perm_options::remove);
  EXPECT_TRUE(MakeTlsContext(cert, key).has_value());
}

TEST_F(TlsContextTest, EncryptedKeyIsRefusedWithoutPrompting) {
  Pem pem = SelfSigned("secret passphrase");
  ASSERT_NE(pem.key.find("ENCRYPTED"), std::string::npos);
  std::string key = Write("key.pem", pem.key);
  auto ctx = MakeTlsContext(Write("cert.pem", pem.cert), key);
  ASSERT_FALSE(ctx.has_value());
  EXPECT_NE(ctx.error().message().find("the TLS key " + key), std::string::npos);
  EXPECT_NE(ctx.error().message().find("encrypted"), std::string::npos);
}

}  // namespace
}  // namespace kehu::http
