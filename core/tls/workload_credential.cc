#include "core/tls/workload_credential.h"

#include <openssl/err.h>

namespace ambit::tls {

absl::StatusOr<WorkloadCredential> WorkloadCredential::fromPem(const std::string& cert_chain_pem,
                                                               const std::string& key_pem) {
  WorkloadCredential out;
  AMBIT_ASSIGN_OR_RETURN(std::vector<X509Ptr> certs,
                         parseCertsPem(cert_chain_pem, "workload certificate chain"));
  AMBIT_ASSIGN_OR_RETURN(out.key, parsePrivateKeyPem(key_pem, "workload key"));
  out.leaf = std::move(certs.front());
  for (size_t i = 1; i < certs.size(); ++i) out.chain.push_back(std::move(certs[i]));

  if (X509_check_private_key(out.leaf.get(), out.key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("workload key does not match the workload certificate");
  }
  if ((X509_get_extension_flags(out.leaf.get()) & EXFLAG_CA) != 0) {
    return absl::InvalidArgumentError("workload certificate is a CA certificate, not a leaf");
  }
  AMBIT_ASSIGN_OR_RETURN(std::vector<std::string> uris, uriSans(out.leaf.get()));
  if (uris.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "workload certificate has ", uris.size(), " URI SANs; it must hold exactly one SPIFFE ID"));
  }
  absl::StatusOr<SpiffeId> identity = SpiffeId::parse(uris.front());
  if (!identity.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("workload certificate: ", std::string(identity.status().message())));
  }
  out.identity = *std::move(identity);
  AMBIT_ASSIGN_OR_RETURN(out.not_before, notBefore(out.leaf.get()));
  AMBIT_ASSIGN_OR_RETURN(out.not_after, notAfter(out.leaf.get()));
  out.serial_hex = serialHex(out.leaf.get());
  out.cert_chain_pem = cert_chain_pem;
  out.key_pem = key_pem;
  return out;
}

}  // namespace ambit::tls
