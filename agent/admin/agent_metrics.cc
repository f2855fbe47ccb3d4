#include "agent/admin/agent_metrics.h"

namespace ambit::agent {

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
    case ConnectionResult::kUnsupported:
      return "unsupported";
    case ConnectionResult::kDenied:
      return "denied";
    case ConnectionResult::kError:
      return "error";
  }
  return "error";
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
          registry_.gauge("ambit_agent_snapshot_services", "Services in the agent's view")) {}

void AgentMetrics::bytes(const char* direction, uint64_t sent, uint64_t received) {
  const std::string help = "Bytes relayed for captured connections";
  registry_.counter("ambit_agent_bytes_total", help, {{"direction", direction}, {"way", "sent"}})
      .inc(sent);
  registry_
      .counter("ambit_agent_bytes_total", help, {{"direction", direction}, {"way", "received"}})
      .inc(received);
}

}  // namespace ambit::agent
