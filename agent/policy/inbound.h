// Whether an inbound connection to an enrolled pod may be delivered, decided against one mesh
// snapshot: the agent's own checks (config present, not an agent port, a known destination that
// is this pod) and then the L4 authorization policies of the destination workload. Pure: the
// listener gathers the facts, this decides, and the listener logs and counts the verdict.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "agent/policy/authorize.h"
#include "agent/state/snapshot.h"

namespace ambit::agent {

// The agent's own listener ports in a pod. They are never a destination: delivering there would
// loop back into the agent.
struct AgentPorts {
  uint16_t outbound = 15001;
  uint16_t inbound_plaintext = 15006;
  uint16_t hbone = 15008;

  bool contains(uint16_t port) const {
    return port == outbound || port == inbound_plaintext || port == hbone;
  }
};

struct InboundConnection {
  enum class Transport { kPlaintext, kHbone };
  Transport transport = Transport::kPlaintext;
  IpBytes peer_ip;         // 4 or 16 raw bytes
  IpBytes destination_ip;  // likewise; the original destination
  uint16_t destination_port = 0;
  // HBONE only: the URI SAN of the peer's verified certificate, "spiffe://<td>/ns/<ns>/sa/<sa>".
  // Ignored for plaintext, which has no identity.
  std::optional<std::string> peer_principal;
  // The enrolled pod whose listener took the connection; may be null (tests).
  const istio::workload::Workload* pod = nullptr;
};

struct InboundDecision {
  enum class Verdict {
    kAllow,               // deliver to the destination
    kNoConfig,            // no config from the control plane yet: fail closed
    kNotThisPod,          // the destination is another workload's address (an HBONE CONNECT
                          // naming another pod)
    kAgentPort,           // the destination port is one of the agent's own
    kUnknownDestination,  // the destination address is no workload of the snapshot
    kDenied,              // the authorization policies deny it (`authz` says why)
    kCount,               // the number of verdicts, not a verdict
  };

  Verdict verdict = Verdict::kNoConfig;
  // The workload at the destination address; set from kNotThisPod on.
  Snapshot::WorkloadPtr destination;
  // What the policies saw; set for kAllow and kDenied.
  ConnectionAttributes attributes;
  // An HBONE peer principal that is not a SPIFFE id of the form above; the connection was then
  // decided as having no identity.
  bool malformed_principal = false;
  // Set for kAllow and kDenied.
  AuthorizationDecision authz;

  bool allowed() const { return verdict == Verdict::kAllow; }
  // One line for logs, e.g. "denied by default/deny-all (group 0) [peer cluster.local/ns/a/sa/b]".
  std::string describe() const;
};

inline constexpr size_t kInboundVerdicts = static_cast<size_t>(InboundDecision::Verdict::kCount);
// The verdict as a metric label: "allow", "no_config", "not_this_pod", ...
const char* inboundVerdictLabel(InboundDecision::Verdict verdict);

// In order: version 0 -> kNoConfig; an agent port -> kAgentPort; an address that is no workload
// -> kUnknownDestination; `pod` given and the address not one of its own -> kNotThisPod; then the
// destination workload's policies (Snapshot::policiesFor) decide kAllow or kDenied. The source
// identity comes only from an HBONE peer principal; a plaintext peer has none, even when its
// address is a known workload.
InboundDecision decideInbound(const Snapshot& snapshot, const InboundConnection& connection,
                              const AgentPorts& ports = {});

}  // namespace ambit::agent
