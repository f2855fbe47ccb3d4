// A certificate signing request checked the way the CA requires before it signs anything: bounded
// size, well-formed PEM, an ECDSA P-256 key and a valid self-signature.
#pragma once

#include <string>
#include <vector>

#include "core/tls/openssl_util.h"

namespace ambit::control::ca {

class Csr {
 public:
  static constexpr size_t kMaxBytes = 64 * 1024;

  // Errors are InvalidArgumentError with a message fit for the caller ("CSR key must be ECDSA
  // P-256, got RSA-2048").
  static absl::StatusOr<Csr> parse(const std::string& pem);

  EVP_PKEY* publicKey() const { return X509_REQ_get0_pubkey(req_.get()); }
  // The URI SANs the CSR asks for. Only used to learn which identity is wanted; the certificate
  // gets the identity the CA decides on, whatever the CSR says.
  const std::vector<std::string>& uriSans() const { return uri_sans_; }

 private:
  Csr() = default;

  tls::X509ReqPtr req_;
  std::vector<std::string> uri_sans_;
};

}  // namespace ambit::control::ca
