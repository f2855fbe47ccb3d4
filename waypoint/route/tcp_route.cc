#include "waypoint/route/tcp_route.h"

#include <absl/strings/str_cat.h>
#include <absl/strings/str_join.h>

#include "waypoint/route/route_decision.h"
#include "waypoint/route/text.h"

namespace ambit::waypoint {
namespace {

void forward(const RouteConfig& config, const TcpRouteRule& rule, const ConnectionView& connection,
             uint32_t random, TcpRouteDecision& decision) {
  decision.rule = &rule;
  const WeightedTarget& chosen = rule.targets[pickTarget(rule.targets, rule.total_weight, random)];
  decision.destination = chosen.target;
  if (decision.destination.port == 0) decision.destination.port = connection.port;
  const std::string& subset = chosen.target.subset;
  if (!subset.empty() && config.findSubset(chosen.target.host, subset) == nullptr) {
    decision.reason = absl::StrCat("subset ", subset, " of ", chosen.target.host,
                                   " is not defined by any DestinationRule");
    return;
  }
  decision.kind = TcpRouteDecision::Kind::kForward;
}

}  // namespace

TcpRouteDecision decideTcpRoute(const RouteConfig& config, std::string_view service,
                                const ConnectionView& connection, uint32_t random, bool explain) {
  TcpRouteDecision decision;
  decision.service = config.findService(service);
  if (decision.service == nullptr) {
    decision.reason = absl::StrCat("the waypoint does not serve ", av(service));
    return decision;
  }
  const ServiceRoutes& routes = *decision.service;
  if (routes.tcp.empty()) {
    decision.kind = TcpRouteDecision::Kind::kForward;
    decision.destination = RouteTarget{routes.service.hostname, "", connection.port};
    return decision;
  }
  std::string why;
  for (const TcpRouteRule* rule : routes.tcp) {
    const std::string label = absl::StrCat(rule->virtual_service, " tcp route ", rule->index);
    if (rule->targets.empty()) {
      if (explain) decision.explain.push_back(absl::StrCat(label, ": no destination"));
      continue;
    }
    if (rule->matches.empty()) {
      forward(config, *rule, connection, random, decision);
      return decision;
    }
    for (size_t i = 0; i < rule->matches.size(); ++i) {
      if (matchesConnection(rule->matches[i], connection, explain ? &why : nullptr)) {
        decision.match_index = static_cast<int>(i);
        forward(config, *rule, connection, random, decision);
        return decision;
      }
      if (explain) decision.explain.push_back(absl::StrCat(label, " (match ", i, "): ", why));
    }
  }
  decision.reason = absl::StrCat("no tcp route of ", absl::StrJoin(routes.virtual_services, ", "),
                                 " matches the connection");
  return decision;
}

}  // namespace ambit::waypoint
