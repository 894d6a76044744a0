// The TLS context of `kehu serve --tls-cert FILE --tls-key FILE`: loads and checks the
// certificate and key, and fixes the protocol policy (TLS 1.2 and 1.3 only; for TLS 1.2 only
// forward-secret AEAD suites, chosen by the server; no compression, no renegotiation).
#pragma once

#include <memory>
#include <string>

#include "core/error.h"

namespace asio::ssl {
class context;
}  // namespace asio::ssl

namespace kehu::http {

// The HSTS header value sent with every answer under TLS.
inline constexpr const char* kHsts = "max-age=31536000; includeSubDomains";

// Builds the server context from a PEM certificate chain (the server certificate first, then
// its intermediates) and a PEM private key (unencrypted: nobody is there to type a passphrase).
// kBadRequest, naming the file, when a file cannot be read, holds no PEM certificate or key,
// or the key does not belong to the certificate. The context is thread-safe once returned.
core::Result<std::shared_ptr<asio::ssl::context>> MakeTlsContext(const std::string& cert_file,
                                                                 const std::string& key_file);

}  // namespace kehu::http
