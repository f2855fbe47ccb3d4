// The agent's Prometheus series, created once so the data path only increments atomics.
#pragma once

#include <array>
#include <cstddef>
#include <string>

#include "core/metrics/registry.h"

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
  std::array<std::array<metrics::Counter*, kConnectionResults>, kDirections> connections_{};
  std::array<metrics::Counter*, kDirections> bytes_sent_{};
  std::array<metrics::Counter*, kDirections> bytes_received_{};
};

}  // namespace ambit::agent
