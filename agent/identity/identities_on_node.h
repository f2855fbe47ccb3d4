// Which SPIFFE identities the pods of one node run as, read from a snapshot: the set the agent
// keeps certificates for, recomputed on every snapshot change.
#pragma once

#include <set>
#include <string>

#include "agent/state/snapshot.h"
#include "core/tls/spiffe_id.h"

namespace ambit::agent {

inline constexpr const char* kDefaultTrustDomain = "cluster.local";

// The identities of the HBONE workloads scheduled on `node`, as SPIFFE ID strings. A workload with
// no trust domain is in `default_trust_domain`; one with no service account runs as "default", as
// Kubernetes assigns. Workloads whose identity is not a valid SPIFFE ID are left out: the CA would
// refuse them anyway.
// The SPIFFE ID a workload runs as (its certificates name it, and peers expect it): its trust
// domain or `default_trust_domain`, its namespace, and its service account or "default". An error
// when those do not make a valid SPIFFE ID.
absl::StatusOr<tls::SpiffeId> workloadIdentity(const istio::workload::Workload& workload,
                                               const std::string& default_trust_domain);

std::set<std::string> identitiesOnNode(const Snapshot& snapshot, const std::string& node,
                                       const std::string& default_trust_domain);

}  // namespace ambit::agent
