// A workload's own certificate and key as the mesh CA issues them (leaf first, then the chain up to
// the root, and the PKCS#8 key), parsed and checked once so every TLS context built from it can
// rely on its identity.
#pragma once

#include <ctime>
#include <string>
#include <vector>

#include "core/tls/openssl_util.h"
#include "core/tls/spiffe_id.h"

namespace ambit::tls {

struct WorkloadCredential {
  std::string cert_chain_pem;  // leaf first
  std::string key_pem;

  X509Ptr leaf;
  EvpPkeyPtr key;
  std::vector<X509Ptr> chain;  // what follows the leaf: intermediates and possibly the root
  SpiffeId identity;           // the leaf's one URI SAN
  std::time_t not_before = 0;
  std::time_t not_after = 0;
  std::string serial_hex;  // lowercase, as logs and debug endpoints print it

  // Checks that `key_pem` is the leaf's key, that the leaf is not a CA and that it carries exactly
  // one URI SAN, a valid SPIFFE ID. Errors are InvalidArgumentError naming what is wrong.
  static absl::StatusOr<WorkloadCredential> fromPem(const std::string& cert_chain_pem,
                                                    const std::string& key_pem);
};

}  // namespace ambit::tls
