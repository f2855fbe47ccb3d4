// The agent's Prometheus series, created once so the data path only increments atomics.
#pragma once

#include <string>

#include "core/metrics/registry.h"

namespace ambit::agent {

// Why a connection ended the way it did; the `result` label of ambit_agent_connections_total.
enum class ConnectionResult {
  kRelayed,        // relayed until both sides closed
  kNoConfig,       // refused: no config from the control plane yet
  kNoRoute,        // refused: the destination has no usable endpoint or port
  kConnectFailed,  // the upstream connect failed or timed out
  kUnsupported,    // refused: a listener this version does not serve yet
  kDenied,         // refused: policies apply that this version cannot enforce on plaintext
  kError,          // failed mid-relay, or the idle timeout closed it
};
const char* resultLabel(ConnectionResult result);

class AgentMetrics {
 public:
  AgentMetrics();

 private:
  metrics::Registry registry_;  // first: the references below point into it

 public:
  metrics::Registry& registry() { return registry_; }

  void connection(const char* direction, ConnectionResult result) {
    registry_
        .counter("ambit_agent_connections_total", "Captured connections by direction and outcome",
                 {{"direction", direction}, {"result", resultLabel(result)}})
        .inc();
  }
  void bytes(const char* direction, uint64_t sent, uint64_t received);

  metrics::Gauge& enrolled_pods;
  metrics::Gauge& known_pods;
  metrics::Counter& enrollment_failures;
  metrics::Gauge& active_connections;
  metrics::Gauge& xds_connected;
  metrics::Counter& xds_acks;
  metrics::Counter& xds_nacks;
  metrics::Gauge& snapshot_workloads;
  metrics::Gauge& snapshot_services;
};

}  // namespace ambit::agent
