// Where the data path finds workload certificates and the mesh roots, looked up per connection so
// a rotated certificate is used by the next connection. Implemented by the agent's certificate
// manager; tests give fixed ones.
#pragma once

#include <memory>
#include <string>

#include "core/tls/trust_bundle.h"
#include "core/tls/workload_credential.h"

namespace ambit::agent {

class CredentialSource {
 public:
  virtual ~CredentialSource() = default;
  // The current certificate of `identity` (a SPIFFE ID), or nullptr while there is none: the
  // caller must then refuse the connection, never carry it in plaintext.
  virtual std::shared_ptr<const tls::WorkloadCredential> credential(
      const std::string& identity) const = 0;
  // The mesh roots, or nullptr before the first certificate.
  virtual std::shared_ptr<const tls::TrustBundle> trustBundle() const = 0;
};

}  // namespace ambit::agent
