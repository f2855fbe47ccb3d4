// Phrases shared by the text and JSON forms of an explanation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ctl/explain/explain.h"

namespace ambit::ctl::explain {

// "5s", "250ms"
std::string durationText(int64_t ms);
// "my-service.default.svc.cluster.local subset v1 port 80"
std::string targetText(const waypoint::RouteTarget& target, uint16_t port);
// "Deployment client, pod labels app=client", or why there are no labels.
std::string sourceText(const Source& source);
// "Deployment my-service-v1 (2 replicas, pods labelled app=my-service, version=v1), version v1"
std::string workloadText(const Workload& workload);
// "Request headers: remove x-a; set x-b: 1", "Response headers: ...", "Authority: ..."; none
// when the plan is empty.
std::vector<std::string> headerLines(const waypoint::HeaderPlan& plan);
// "loadBalancer: simple: ROUND_ROBIN", "connectionPool: ...", "outlierDetection: ...", "tls: ..."
std::vector<std::string> trafficPolicyLines(const waypoint::TrafficPolicyView& policy);
// "Timeout: ...", "Retries: ...", the faults, the mirrors, CORS; none when the route does not
// `forward` (a redirect or direct response, which the waypoint answers at once).
std::vector<std::string> routePolicyLines(const waypoint::RoutePolicy& policy, bool forward);
// "10%", "1.5%"
std::string percentText(double percent);

}  // namespace ambit::ctl::explain
