// What one HTTP request meets in the mesh, worked out offline from a loaded object set: the
// Service its URL names, whether a waypoint carries it, each route of the Service and whether it
// matched, and the destinations with their traffic policy and endpoints. The matching is the
// waypoint's own (waypoint/route), over a RouteConfig built as the waypoint builds it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/config/object.h"
#include "core/status.h"
#include "ctl/explain/inventory.h"
#include "ctl/explain/target.h"
#include "waypoint/route/route_config.h"
#include "waypoint/route/route_decision.h"

namespace ambit::ctl::explain {

struct Request {
  std::string from_namespace = "default";
  std::string from_workload = "unknown";
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // as written
};

// The calling workload; its labels are what sourceLabels matches see.
struct Source {
  std::string namespace_;
  std::string name;
  std::optional<Workload> workload;  // nullopt: not among the loaded objects (no labels)
};

// One route of the service, in the order the waypoint tries them.
struct RouteStep {
  enum class Outcome {
    kMatched,
    kNotMatched,    // `why`: one line per match of the route
    kNeverApplies,  // `why`: the reason
    kNotReached,    // after the deciding route
  };
  const waypoint::HttpRouteRule* rule = nullptr;
  Outcome outcome = Outcome::kNotReached;
  int match_index = -1;          // kMatched: the match that held; -1 without matches
  std::vector<std::string> why;  // RouteDecision::explain lines, without the route's label
};

// One destination of the deciding route and what a request sent there gets.
struct Destination {
  waypoint::RouteTarget target;  // resolved; port 0: the request's
  uint32_t weight = 0;
  // The waypoint's decision for a request drawn to this destination: kForward, or kNoRoute for a
  // subset no DestinationRule defines. nullopt for weight 0: never drawn.
  std::optional<waypoint::RouteDecision> decision;
  waypoint::TrafficPolicyView policy;  // for the destination's host and subset
  std::vector<Workload> endpoints;
  std::string endpoints_note;  // why there are none, or where they come from
};

struct Explanation {
  std::string method;
  Url url;
  Source source;
  const config::Object* service = nullptr;  // into the loaded objects
  std::string hostname;                     // the Service's FQDN
  std::string resolved_how;
  ServicePortInfo port;
  WaypointUse waypoint;
  // Without a waypoint: the VirtualServices that name the Service and so do nothing.
  std::vector<std::string> idle_virtual_services;
  // Null when no waypoint carries the service. Owns what the decisions and steps point into.
  std::shared_ptr<const waypoint::RouteConfig> config;
  const waypoint::ServiceRoutes* routes = nullptr;  // into `config`
  std::vector<RouteStep> steps;
  // The decision for the first destination of the deciding route; its route, match, policy and
  // rewrite are every request's.
  waypoint::RouteDecision decision;
  uint32_t total_weight = 0;
  std::vector<Destination> destinations;  // empty for redirects, direct responses, no match
  std::vector<std::string> notes;         // what compiling the config said about this service
};

// The label a route carries in RouteDecision::explain: `ns/vs route 1 "name"`.
std::string routeLabel(const waypoint::HttpRouteRule& rule);

// INVALID_ARGUMENT for a bad URL, NOT_FOUND for a host that is no Service or a port the Service
// lacks, and RouteConfig::build's errors.
absl::StatusOr<Explanation> explainRequest(const std::vector<config::Object>& objects,
                                           const Request& request);

}  // namespace ambit::ctl::explain
