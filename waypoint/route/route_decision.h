// The waypoint's HTTP route decision: a pure function of a RouteConfig snapshot, a request and one
// random number, so that every decision can be logged with its reason and tested on its own.
// Istio's (Envoy's) semantics: the service's routes in order, the first whose match list holds
// wins; matches of one route are OR-ed, the fields of one match AND-ed, no match list matches
// every request. Without a VirtualService for the service, the default route sends the request to
// the service itself, as Istio does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "waypoint/route/http_match.h"
#include "waypoint/route/route_config.h"

namespace ambit::waypoint {

struct RedirectAction {
  uint32_t status = 301;
  std::string scheme;     // "https"
  std::string authority;  // "new.example.com" or "new.example.com:8443"
  std::string path;       // with its query, "/v2/items?id=7"

  std::string location() const;  // scheme://authority/path
};

struct DirectResponseAction {
  uint32_t status = 0;
  std::string_view body;  // into the VirtualService
};

// Views and pointers in a decision refer into the RouteConfig it came from: keep the snapshot
// alive while using the decision.
struct RouteDecision {
  enum class Kind {
    kForward,         // send to `destination`
    kRedirect,        // answer with `redirect`
    kDirectResponse,  // answer with `direct_response`
    kNoRoute,         // answer `status` with response flag NR; `reason` says why
  };
  static constexpr std::string_view kNoRouteFlag = "NR";

  Kind kind = Kind::kNoRoute;
  const ServiceRoutes* service = nullptr;  // null when the waypoint does not serve it
  // The deciding route; null for the default route and when no route matched.
  const HttpRouteRule* rule = nullptr;
  std::string_view virtual_service;  // "namespace/name"; empty without a rule
  int route_index = -1;              // in that VirtualService's `http`
  std::string_view route_name;
  int match_index = -1;  // the match that held; -1 for a route without matches

  // kForward. The port is the request's when the destination sets none.
  RouteTarget destination;
  int destination_index = -1;  // in the route's `route`; -1 for the default route
  // Header operations to apply (the chosen destination's, then the route's); never null.
  const HeaderPlan* headers = nullptr;
  // The rewritten request target (path and query) and authority; nullopt: unchanged.
  std::optional<std::string> path;
  std::optional<std::string> authority;

  RedirectAction redirect;               // kRedirect
  DirectResponseAction direct_response;  // kDirectResponse
  uint32_t status = 0;                   // kNoRoute: 404 when no route matched, else 503
  std::string reason;                    // kNoRoute

  // Timeout, retries, faults, mirrors and CORS of the route (the default ones for the default
  // route); never null.
  const RoutePolicy* policy = nullptr;

  // Why the routes before the deciding one did not match, one line per route and match, e.g.
  // `demo/my-service route 0 (match 0): header user-agent prefix "Mozilla" not satisfied`.
  std::vector<std::string> explain;

  bool defaultRoute() const { return kind == Kind::kForward && rule == nullptr; }
  // One line for logs: "forward to echo.demo.svc.cluster.local subset v2 port 80 by
  // demo/my-service route 0", "no route (503 NR): subset v3 of ... is not defined ...".
  std::string describe() const;
};

// Decides where `request` to `service` (an FQDN or VIP the waypoint serves) goes. `random` is
// uniform over [0, 2^32), drawn by the caller, and chooses among weighted destinations: with
// weights w0..wn, destination i gets the values in [W(i)/W, W(i+1)/W) of the range, where W(i) is
// the sum of the weights before i and W their total. `explain` off skips the explanations.
// A destination naming a subset no DestinationRule defines gives kNoRoute 503 (Envoy would find
// no cluster). A URI rewrite replaces the prefix the route's match matched (Envoy's
// prefix_rewrite): the whole path for an exact or regex match, "/" when the match sets no URI.
RouteDecision decideRoute(const RouteConfig& config, std::string_view service,
                          const RequestView& request, uint32_t random, bool explain = true);

// Index in `targets` for `random` as decideRoute chooses; `total` is the sum of their weights
// (more than 0).
size_t pickTarget(const std::vector<WeightedTarget>& targets, uint32_t total, uint32_t random);

// Whether an event of `percent` (0..100) probability happens for `random` (uniform over
// [0, 2^32)), in Envoy's resolution of one in a million. For faults and mirrors: draw a separate
// number for each, so that a request's delay, abort, mirror and destination are independent.
bool percentHit(double percent, uint32_t random);

}  // namespace ambit::waypoint
