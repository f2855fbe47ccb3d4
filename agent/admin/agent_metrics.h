// The agent's Prometheus series, created once so the data path only increments atomics; Istio's
// per-workload TCP metrics are in tcp_metrics.h, reached through tcp().
#pragma once

#include <array>
#include <cstddef>
#include <string>

#include "agent/admin/tcp_metrics.h"
#include "agent/policy/authorize.h"
#include "agent/policy/inbound.h"
#include "core/metrics/registry.h"
#include "core/status.h"
#include "core/tls/peer_verify.h"

namespace ambit::agent {

// Which listener took a connection; the `direction` label.
enum class Direction { kOutbound, kInbound, kHbone, kCount };
inline constexpr size_t kDirections = static_cast<size_t>(Direction::kCount);
const char* directionLabel(Direction direction);

// Why a connection ended the way it did; the `result` label of ambit_agent_connections_total.
enum class ConnectionResult {
  kRelayed,        // relayed until both sides closed
  kNoConfig,       // refused: no config from the control plane yet
  kNoRoute,        // refused: the destination has no usable endpoint or port
  kConnectFailed,  // the upstream connect failed or timed out
  kDenied,         // refused: the destination's policies deny it (or its PeerAuthentication)
  kNoCertificate,  // refused: the pod has no workload certificate yet (never plaintext instead)
  kTunnelFailed,   // the HBONE tunnel could not be set up (handshake, peer identity, response)
  kRevoked,        // closed while open: a newer policy denies it
  kError,          // failed mid-relay, or the idle timeout closed it
  kCount,          // the number of results, not a result
};
inline constexpr size_t kConnectionResults = static_cast<size_t>(ConnectionResult::kCount);
const char* resultLabel(ConnectionResult result);

// The end of an HBONE connection: this agent dialed it (client) or accepted it (server).
enum class Side { kClient, kServer, kCount };
inline constexpr size_t kSides = static_cast<size_t>(Side::kCount);
const char* sideLabel(Side side);

// The `reason` label of ambit_agent_denied_total: the authorization reasons that deny
// (authorizationReasonLabel), then the inbound verdicts that refuse before any policy is looked at
// (inboundVerdictLabel), then a refusal answered by the destination's agent.
inline constexpr size_t kDenyReasons = kAuthorizationReasons + kInboundVerdicts + 1;

class AgentMetrics {
 public:
  AgentMetrics();

 private:
  metrics::Registry registry_;  // first: the references below point into it

 public:
  metrics::Registry& registry() { return registry_; }

  // Per connection: the series are created up front, so this only increments atomics.
  void connection(Direction direction, ConnectionResult result) {
    connections_[static_cast<size_t>(direction)][static_cast<size_t>(result)]->inc();
  }
  void bytes(Direction direction, uint64_t sent, uint64_t received) {
    bytes_sent_[static_cast<size_t>(direction)]->inc(sent);
    bytes_received_[static_cast<size_t>(direction)]->inc(received);
  }

  // A connection refused by this agent's policy decision. A reason that allows counts nothing.
  void denied(Direction direction, AuthorizationDecision::Reason reason) {
    if (reason < AuthorizationDecision::Reason::kCount) {
      count(denied_[static_cast<size_t>(direction)][static_cast<size_t>(reason)]);
    }
  }
  // A refusal before the policies (kNoConfig, kNotThisPod, kAgentPort, kUnknownDestination);
  // kDenied counts under the policy's reason, so pass the whole decision for it.
  void denied(Direction direction, InboundDecision::Verdict verdict) {
    if (verdict < InboundDecision::Verdict::kCount) {
      count(denied_[static_cast<size_t>(direction)]
                   [kAuthorizationReasons + static_cast<size_t>(verdict)]);
    }
  }
  void denied(Direction direction, const InboundDecision& decision) {
    if (decision.verdict == InboundDecision::Verdict::kDenied) {
      denied(direction, decision.authz.reason);
    } else {
      denied(direction, decision.verdict);
    }
  }
  // The destination's agent refused the tunnel's CONNECT (reason "destination_denied").
  void deniedByDestination(Direction direction) {
    count(denied_[static_cast<size_t>(direction)][kDenyReasons - 1]);
  }

  // TLS handshakes of HBONE connections, by result: "ok", the peerRejectionLabel of a refused
  // peer, or "error" for any other failure.
  void tlsHandshakeOk(Side side) { handshakes_[static_cast<size_t>(side)][0]->inc(); }
  void tlsHandshakeRejected(Side side, tls::PeerRejection reason) {
    if (reason < tls::PeerRejection::kCount) {
      handshakes_[static_cast<size_t>(side)][1 + static_cast<size_t>(reason)]->inc();
    }
  }
  void tlsHandshakeFailed(Side side) {
    handshakes_[static_cast<size_t>(side)][kHandshakeResults - 1]->inc();
  }
  // The same from the status of the handshake and peer verification (tls::peerRejectionOf).
  void tlsHandshake(Side side, const absl::Status& result);

  // HBONE connections open now, per side; the pool and the HBONE listener keep it up to date.
  metrics::Gauge& hboneConnections(Side side) {
    return *hbone_connections_[static_cast<size_t>(side)];
  }
  // A CONNECT stream opened on an HBONE connection (client) or accepted (server).
  void hboneStreamOpened(Side side) { hbone_streams_[static_cast<size_t>(side)]->inc(); }

  // Istio's istio_tcp_* series, per label set.
  TcpMetrics& tcp() { return tcp_; }

  metrics::Gauge& enrolled_pods;
  metrics::Gauge& known_pods;
  metrics::Counter& enrollment_failures;
  metrics::Gauge& active_connections;
  metrics::Gauge& xds_connected;
  metrics::Counter& xds_acks;
  metrics::Counter& xds_nacks;
  metrics::Gauge& snapshot_workloads;
  metrics::Gauge& snapshot_services;

 private:
  static constexpr size_t kPeerRejections = static_cast<size_t>(tls::PeerRejection::kCount);
  static constexpr size_t kHandshakeResults = 1 + kPeerRejections + 1;  // ok, each refusal, error

  static void count(metrics::Counter* counter) {
    if (counter != nullptr) counter->inc();
  }

  std::array<std::array<metrics::Counter*, kConnectionResults>, kDirections> connections_{};
  std::array<metrics::Counter*, kDirections> bytes_sent_{};
  std::array<metrics::Counter*, kDirections> bytes_received_{};
  // Null where the reason does not deny.
  std::array<std::array<metrics::Counter*, kDenyReasons>, kDirections> denied_{};
  std::array<std::array<metrics::Counter*, kHandshakeResults>, kSides> handshakes_{};
  std::array<metrics::Gauge*, kSides> hbone_connections_{};
  std::array<metrics::Counter*, kSides> hbone_streams_{};
  TcpMetrics tcp_;
};

}  // namespace ambit::agent
