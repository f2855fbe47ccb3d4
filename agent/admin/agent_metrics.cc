#include "agent/admin/agent_metrics.h"

namespace ambit::agent {

const char* directionLabel(Direction direction) {
  switch (direction) {
    case Direction::kOutbound:
      return "outbound";
    case Direction::kInbound:
      return "inbound";
    case Direction::kHbone:
      return "hbone";
    case Direction::kCount:
      break;
  }
  return "outbound";
}

const char* resultLabel(ConnectionResult result) {
  switch (result) {
    case ConnectionResult::kRelayed:
      return "relayed";
    case ConnectionResult::kNoConfig:
      return "no_config";
    case ConnectionResult::kNoRoute:
      return "no_route";
    case ConnectionResult::kConnectFailed:
      return "connect_failed";
    case ConnectionResult::kDenied:
      return "denied";
    case ConnectionResult::kNoCertificate:
      return "no_certificate";
    case ConnectionResult::kTunnelFailed:
      return "tunnel_failed";
    case ConnectionResult::kRevoked:
      return "revoked";
    case ConnectionResult::kError:
      return "error";
    case ConnectionResult::kCount:
      break;
  }
  return "error";
}

const char* sideLabel(Side side) { return side == Side::kServer ? "server" : "client"; }

void AgentMetrics::tlsHandshake(Side side, const absl::Status& result) {
  if (result.ok()) {
    tlsHandshakeOk(side);
  } else if (const std::optional<tls::PeerRejection> reason = tls::peerRejectionOf(result)) {
    tlsHandshakeRejected(side, *reason);
  } else {
    tlsHandshakeFailed(side);
  }
}

AgentMetrics::AgentMetrics()
    : enrolled_pods(
          registry_.gauge("ambit_agent_enrolled_pods", "Pods whose traffic this agent captures")),
      known_pods(registry_.gauge("ambit_agent_known_pods",
                                 "Pods on this node reported by the CNI plugin")),
      enrollment_failures(registry_.counter("ambit_agent_enrollment_failures_total",
                                            "Failed attempts to enroll or release a pod")),
      active_connections(
          registry_.gauge("ambit_agent_active_connections", "Connections being relayed now")),
      xds_connected(registry_.gauge("ambit_agent_xds_connected",
                                    "1 while the stream to the control plane is up")),
      xds_acks(registry_.counter("ambit_agent_xds_responses_total",
                                 "Control plane responses by verdict", {{"verdict", "ack"}})),
      xds_nacks(registry_.counter("ambit_agent_xds_responses_total",
                                  "Control plane responses by verdict", {{"verdict", "nack"}})),
      snapshot_workloads(
          registry_.gauge("ambit_agent_snapshot_workloads", "Workloads in the agent's view")),
      snapshot_services(
          registry_.gauge("ambit_agent_snapshot_services", "Services in the agent's view")),
      tcp_(registry_) {
  const std::string bytes_help = "Bytes relayed for captured connections";
  for (size_t d = 0; d < kDirections; ++d) {
    const char* direction = directionLabel(static_cast<Direction>(d));
    for (size_t r = 0; r < kConnectionResults; ++r) {
      connections_[d][r] = &registry_.counter(
          "ambit_agent_connections_total", "Captured connections by direction and outcome",
          {{"direction", direction}, {"result", resultLabel(static_cast<ConnectionResult>(r))}});
    }
    bytes_sent_[d] = &registry_.counter("ambit_agent_bytes_total", bytes_help,
                                        {{"direction", direction}, {"way", "sent"}});
    bytes_received_[d] = &registry_.counter("ambit_agent_bytes_total", bytes_help,
                                            {{"direction", direction}, {"way", "received"}});

    const std::string denied_help = "Connections refused by this agent's policy, by reason";
    auto deny = [&](size_t index, const char* reason) {
      denied_[d][index] = &registry_.counter("ambit_agent_denied_total", denied_help,
                                             {{"direction", direction}, {"reason", reason}});
    };
    for (size_t r = 0; r < kAuthorizationReasons; ++r) {
      const auto reason = static_cast<AuthorizationDecision::Reason>(r);
      if (!isAllowedReason(reason)) deny(r, authorizationReasonLabel(reason));
    }
    for (size_t v = 0; v < kInboundVerdicts; ++v) {
      const auto verdict = static_cast<InboundDecision::Verdict>(v);
      // kDenied is counted under the policy's own reason.
      if (verdict == InboundDecision::Verdict::kAllow ||
          verdict == InboundDecision::Verdict::kDenied) {
        continue;
      }
      deny(kAuthorizationReasons + v, inboundVerdictLabel(verdict));
    }
    deny(kDenyReasons - 1, "destination_denied");
  }

  for (size_t s = 0; s < kSides; ++s) {
    const char* side = sideLabel(static_cast<Side>(s));
    const std::string handshake_help = "TLS handshakes of HBONE connections, by side and result";
    auto handshake = [&](size_t index, const char* result) {
      handshakes_[s][index] = &registry_.counter("ambit_agent_tls_handshakes_total", handshake_help,
                                                 {{"side", side}, {"result", result}});
    };
    handshake(0, "ok");
    for (size_t r = 0; r < kPeerRejections; ++r) {
      handshake(1 + r, tls::peerRejectionLabel(static_cast<tls::PeerRejection>(r)));
    }
    handshake(kHandshakeResults - 1, "error");
    hbone_connections_[s] =
        &registry_.gauge("ambit_agent_hbone_connections",
                         "HBONE connections open now: dialed by this agent (client) or accepted "
                         "(server)",
                         {{"side", side}});
    hbone_streams_[s] = &registry_.counter(
        "ambit_agent_hbone_streams_total",
        "HBONE CONNECT streams opened (client) or accepted (server)", {{"side", side}});
  }
}

}  // namespace ambit::agent
