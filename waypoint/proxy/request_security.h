// The L7 security a request meets before it is routed, in Envoy's filter order as Istio configures
// a waypoint: path normalization, then RequestAuthentication (JWT), then AuthorizationPolicy.
// The decisions are the pure functions of waypoint/authz and waypoint/jwt; this applies them to
// one request and says how to answer when the request may not go on.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "waypoint/config/config_store.h"
#include "waypoint/http/http_message.h"
#include "waypoint/telemetry/security_metrics.h"

namespace ambit::waypoint {

// Who calls and what they called, as the tunnel tells it.
struct SecurityPeer {
  std::optional<std::string_view> principal;  // "cluster.local/ns/a/sa/b"; absent: no identity
  std::string_view source_namespace;
  std::string_view source_ip;
  std::string_view destination_ip;
  uint16_t destination_port = 0;
  std::string_view service_host;  // the served service's FQDN; empty for a workload address
};

struct SecurityOutcome {
  bool pass = true;
  // When not passing: the local answer (400, 401 or 403) and the reason for the access log,
  // Envoy's response code details first ("rbac_access_denied_matched_policy[none]").
  int status = 0;
  std::string body;
  std::string detail;
  std::vector<std::pair<std::string, std::string>> response_headers;
};

// Checks `request` and changes it for the endpoint as the rules ask: the target normalized, token
// headers removed unless forwarded, claim and payload headers set, forged ones removed. `headers`
// (lower-case names, the routing view of the same request) is kept in step. `now` is Unix time
// in seconds, for token expiry.
SecurityOutcome checkRequestSecurity(const WaypointSnapshot& snapshot, const SecurityPeer& peer,
                                     HttpRequest& request,
                                     std::vector<std::pair<std::string, std::string>>& headers,
                                     SecurityMetrics& metrics, int64_t now);

// Envoy's response code details for a denial: "rbac_access_denied_matched_policy[ns[default]-
// policy[deny-admin]-rule[0]]" when a DENY policy matched, "ext_authz_error" for a CUSTOM policy
// (no external authorizer), "...[none]" otherwise.
std::string rbacDetail(const L7AuthorizationDecision& decision);

}  // namespace ambit::waypoint
