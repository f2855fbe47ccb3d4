// The key and certificate signing request the agent sends to the mesh CA for one pod identity. The
// key lives only in this process's memory: it is never written to disk, so a node's workload keys
// do not outlive the agent.
#pragma once

#include <string>

#include "core/status.h"
#include "core/tls/spiffe_id.h"

namespace ambit::agent {

struct KeyAndCsr {
  std::string key_pem;  // PKCS#8, unencrypted
  std::string csr_pem;
};

// A new ECDSA P-256 key and a CSR signed with it whose only subjectAltName is the URI of `id`.
// The subject stays empty: the CA takes the identity from the SAN alone.
absl::StatusOr<KeyAndCsr> makeWorkloadCsr(const tls::SpiffeId& id);

}  // namespace ambit::agent
