// Issues certificates from the CA: workload certificates for an authorized SPIFFE ID from a CSR,
// and the control plane's own TLS serving certificate.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "control/ca/csr.h"
#include "control/ca/root_ca.h"

namespace ambit::control::ca {

struct SignerOptions {
  std::chrono::seconds default_ttl = std::chrono::hours(24);
  // Longer requests are shortened to this, as Istio does with MAX_WORKLOAD_CERT_TTL.
  std::chrono::seconds max_ttl = std::chrono::hours(24 * 90);
};

struct ServingCertificate {
  std::vector<std::string> cert_chain;  // leaf first, root last
  std::string cert_chain_pem;           // the same, concatenated
  std::string key_pem;                  // PKCS#8
};

class CertificateSigner {
 public:
  // Certificates start this long before "now", so a peer whose clock lags accepts them.
  static constexpr std::chrono::seconds kClockSkew = std::chrono::minutes(1);

  static absl::StatusOr<std::unique_ptr<CertificateSigner>> create(std::shared_ptr<const RootCa> ca,
                                                                   SignerOptions options = {});

  // Signs the CSR's key for `spiffe_id` alone: the leaf's only SAN is that URI, whatever subject
  // or SANs the CSR asks for. `ttl` <= 0 means the default; above the maximum it is clamped, and
  // the leaf never outlives the signing certificate. Returns PEMs, leaf first, root last.
  absl::StatusOr<std::vector<std::string>> sign(const std::string& csr_pem,
                                                const std::string& spiffe_id,
                                                std::chrono::seconds ttl) const;
  absl::StatusOr<std::vector<std::string>> sign(const Csr& csr, const std::string& spiffe_id,
                                                std::chrono::seconds ttl) const;

  // A new key and a serverAuth certificate for these DNS names and IP addresses.
  absl::StatusOr<ServingCertificate> issueServing(const std::vector<std::string>& dns_names,
                                                  const std::vector<std::string>& ip_addresses,
                                                  std::chrono::seconds ttl) const;

  // The lifetime a request for `requested` gets (before the signing certificate's own limit).
  std::chrono::seconds effectiveTtl(std::chrono::seconds requested) const;

  const RootCa& ca() const { return *ca_; }

 private:
  CertificateSigner(std::shared_ptr<const RootCa> ca, SignerOptions options)
      : ca_(std::move(ca)), options_(options) {}

  // Builds and signs a leaf for `key`; takes ownership of nothing.
  absl::StatusOr<tls::X509Ptr> issueLeaf(EVP_PKEY* key, const std::string& common_name,
                                         GENERAL_NAMES* sans, bool san_critical, const char* eku,
                                         std::chrono::seconds ttl) const;
  absl::StatusOr<std::vector<std::string>> withChain(X509* leaf) const;

  std::shared_ptr<const RootCa> ca_;
  SignerOptions options_;
};

}  // namespace ambit::control::ca
