// Which endpoint a routed request goes to: a pure function of the snapshot, the route's target
// and the load balancer's state, so that it is tested by tables.
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <unordered_map>

#include <boost/asio/ip/tcp.hpp>

#include "agent/relay/outbound.h"
#include "core/status.h"
#include "waypoint/config/config_store.h"
#include "waypoint/proxy/outlier.h"

namespace ambit::waypoint {

// Endpoints outlier detection has ejected are left out (see outlier.h); null: none are.
struct OutlierFilter {
  OutlierDetector* detector = nullptr;
  const OutlierSettings* settings = nullptr;
  std::chrono::steady_clock::time_point now;
};

struct UpstreamEndpoint {
  agent::Snapshot::ServicePtr service;
  agent::Snapshot::WorkloadPtr workload;
  boost::asio::ip::tcp::endpoint address;  // the workload's address and target port
  std::string subset;
  std::string version;  // the workload's "version" label, for destination_version
  // Outlier detection's cluster ("<host>|<subset>") and its number of endpoints.
  std::string cluster;
  size_t cluster_size = 0;
};

// The load balancer's choice among eligible endpoints: ROUND_ROBIN (the default, also for
// LEAST_REQUEST and LEAST_CONN until per-endpoint load is tracked) or RANDOM by `random`.
// LEAST_REQUEST (and LEAST_CONN, its alias): Envoy's power of two choices, the one of two random
// endpoints with fewer requests in flight (this worker's count).
enum class Balance { kRoundRobin, kRandom, kLeastRequest };

// Requests in flight per endpoint uid, kept by one worker.
using ActiveRequests = std::unordered_map<std::string, uint32_t>;

// The endpoint for `target` (host, subset, port; port 0 means `request_port`): a HEALTHY workload
// of the host's service with an address, in the subset (its DestinationRule labels), not in
// `exclude` (workload uids already tried by this request, when another remains), and not ejected
// by outlier detection (`outliers`, may be null). Errors: NOT_FOUND when the host is no service of
// the mesh or has no such port; UNAVAILABLE when no endpoint is eligible (Envoy's "no healthy
// upstream", flag UH).
absl::StatusOr<UpstreamEndpoint> chooseEndpoint(const WaypointSnapshot& snapshot,
                                                const RouteTarget& target, uint16_t request_port,
                                                const std::set<std::string>& exclude,
                                                Balance balance, uint32_t random,
                                                agent::EndpointPicker& picker,
                                                const OutlierFilter* outliers = nullptr,
                                                const ActiveRequests* active = nullptr);

// The balance a DestinationRule's loadBalancer asks for (nullptr: the default).
Balance balanceOf(const networking::LoadBalancerSettings* settings);

}  // namespace ambit::waypoint
