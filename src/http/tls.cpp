#include "http/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <asio/ssl/context.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "crypto/crypto.h"

namespace kehu::http {
namespace {

// TLS 1.2 suites: ECDHE key exchange (forward secrecy) with an AEAD cipher only; the server's
// order wins. TLS 1.3 keeps OpenSSL's defaults, which are all of that kind.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

core::Error Bad(std::string message) { return core::Error::BadRequest(std::move(message)); }

// The reason of the newest OpenSSL error ("no start line", "key values mismatch"), and clears
// the error queue so that it does not leak into later calls on this thread.
std::string OpenSslReason() {
  unsigned long code = ERR_peek_last_error();
  const char* reason = code ? ERR_reason_error_string(code) : nullptr;
  ERR_clear_error();
  return reason ? reason : "unknown OpenSSL error";
}

core::Result<std::string> ReadFile(const std::string& what, const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f)
    return std::unexpected(
        Bad("cannot read the " + what + " " + path + ": " + std::strerror(errno)));
  std::string text;
  char buf[8192];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  const bool failed = std::ferror(f) != 0;
  const int err = errno;
  std::fclose(f);
  if (failed) {
    return std::unexpected(Bad("cannot read the " + what + " " + path + ": " + std::strerror(err)));
  }
  return text;
}

BioPtr MemoryBio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// Refuses to ask for a passphrase (OpenSSL would otherwise prompt on the terminal).
int NoPassphrase(char*, int, int, void*) { return -1; }

// A private key every user of the machine may read is refused (as the master key is); a group
// may read it (Debian's ssl-cert group for /etc/ssl/private).
core::Result<void> CheckKeyMode(const std::string& key_file) {
  struct stat st {};
  if (::stat(key_file.c_str(), &st) != 0) return core::Ok();  // ReadFile names the error
  if ((st.st_mode & (S_IROTH | S_IWOTH)) == 0) return core::Ok();
  return std::unexpected(Bad("the TLS key " + key_file + " can be read or changed by every user " +
                             "of this machine (mode " + crypto::OctalMode(st.st_mode) +
                             "); run chmod 600 " + key_file +
                             " (or 640 with a group such as ssl-cert)"));
}

}  // namespace

core::Result<std::shared_ptr<asio::ssl::context>> MakeTlsContext(const std::string& cert_file,
                                                                 const std::string& key_file) {
  auto cert_pem = ReadFile("TLS certificate", cert_file);
  if (!cert_pem) return std::unexpected(cert_pem.error());
  if (auto ok = CheckKeyMode(key_file); !ok) return std::unexpected(ok.error());
  auto key_pem = ReadFile("TLS key", key_file);
  if (!key_pem) return std::unexpected(key_pem.error());

  BioPtr cert_bio = MemoryBio(*cert_pem);
  X509Ptr cert(cert_bio ? PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) {
    return std::unexpected(Bad("the TLS certificate " + cert_file + " holds no PEM certificate (" +
                               OpenSslReason() + ")"));
  }
  std::vector<X509Ptr> chain;  // intermediates after the server certificate, if any
  while (X509* next = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr)) {
    chain.emplace_back(next);
  }
  ERR_clear_error();  // the end of the file reads as an error

  BioPtr key_bio = MemoryBio(*key_pem);
  PkeyPtr key(key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, NoPassphrase, nullptr)
                      : nullptr);
  if (!key) {
    std::string reason = OpenSslReason();
    if (key_pem->find("ENCRYPTED") != std::string::npos) {
      reason = "it is encrypted; store it decrypted with mode 0600, e.g. openssl pkey -in KEY";
    } else if (key_pem->find("PRIVATE KEY-----") == std::string::npos) {
      reason = "no BEGIN PRIVATE KEY block";
    }
    return std::unexpected(
        Bad("the TLS key " + key_file + " holds no usable PEM private key (" + reason + ")"));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return std::unexpected(
        Bad("the TLS key " + key_file + " does not match the certificate " + cert_file));
  }
  if (X509_cmp_current_time(X509_get0_notAfter(cert.get())) < 0) {
    spdlog::warn("the TLS certificate {} has expired; clients will refuse it", cert_file);
  }

  std::shared_ptr<asio::ssl::context> ctx;
  try {
    ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  } catch (const std::exception& e) {
    return std::unexpected(core::Error::Internal(std::string("cannot set up TLS: ") + e.what()));
  }
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_options(native, SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 |
                                  SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                  SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
  bool ok = SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) == 1 &&
            SSL_CTX_set_cipher_list(native, kTls12Ciphers) == 1 &&
            SSL_CTX_use_certificate(native, cert.get()) == 1;
  for (const X509Ptr& c : chain) ok = ok && SSL_CTX_add1_chain_cert(native, c.get()) == 1;
  ok = ok && SSL_CTX_use_PrivateKey(native, key.get()) == 1 &&
       SSL_CTX_check_private_key(native) == 1;
  if (!ok) {
    return std::unexpected(Bad("cannot use the TLS certificate " + cert_file + " with the key " +
                               key_file + " (" + OpenSslReason() + ")"));
  }
  return ctx;
}

}  // namespace kehu::http
