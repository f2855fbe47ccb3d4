#include "agent/identity/identities_on_node.h"

#include "core/tls/spiffe_id.h"

namespace ambit::agent {

absl::StatusOr<tls::SpiffeId> workloadIdentity(const istio::workload::Workload& workload,
                                               const std::string& default_trust_domain) {
  tls::SpiffeId id;
  id.trust_domain =
      workload.trust_domain().empty() ? default_trust_domain : workload.trust_domain();
  id.ns = workload.namespace_();
  id.service_account = workload.service_account().empty() ? "default" : workload.service_account();
  // Parsing the printed form applies the same rules the CA applies.
  return tls::SpiffeId::parse(id.toString());
}

std::set<std::string> identitiesOnNode(const Snapshot& snapshot, const std::string& node,
                                       const std::string& default_trust_domain) {
  std::set<std::string> out;
  for (const Snapshot::WorkloadPtr& workload : snapshot.workloadsOnNode(node)) {
    if (workload->tunnel_protocol() != istio::workload::HBONE) continue;
    absl::StatusOr<tls::SpiffeId> id = workloadIdentity(*workload, default_trust_domain);
    if (id.ok()) out.insert(id->toString());
  }
  return out;
}

}  // namespace ambit::agent
