// The waypoint's TCP route decision for connections that carry no HTTP: a VirtualService's `tcp`
// routes, first match wins, weighted destinations chosen by a random number the caller draws.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "waypoint/route/l4_match.h"
#include "waypoint/route/route_config.h"

namespace ambit::waypoint {

// Views and pointers refer into the RouteConfig the decision came from.
struct TcpRouteDecision {
  enum class Kind { kForward, kNoRoute };

  Kind kind = Kind::kNoRoute;
  const ServiceRoutes* service = nullptr;
  const TcpRouteRule* rule = nullptr;  // null for the default route and when none matched
  int match_index = -1;
  RouteTarget destination;  // kForward; the port is the connection's when the route sets none
  std::string reason;       // kNoRoute
  std::vector<std::string> explain;  // why earlier routes did not match

  bool defaultRoute() const { return kind == Kind::kForward && rule == nullptr; }
};

// As decideRoute (route_decision.h), over the service's tcp routes: without any, the connection
// goes to the service itself; when none matches, or the chosen subset is not defined, kNoRoute.
TcpRouteDecision decideTcpRoute(const RouteConfig& config, std::string_view service,
                                const ConnectionView& connection, uint32_t random,
                                bool explain = true);

}  // namespace ambit::waypoint
