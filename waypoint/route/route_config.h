// The waypoint's routing configuration: an immutable snapshot compiled from the VirtualServices,
// DestinationRules and services the waypoint serves. Compiling does everything that does not
// depend on a request (host resolution, regexes, weights, header plans, retry defaults), so that
// decideRoute (route_decision.h) only evaluates matches. Shared by every request of a snapshot.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"
#include "waypoint/route/destination_rules.h"
#include "waypoint/route/hosts.h"
#include "waypoint/route/http_match.h"
#include "waypoint/route/l4_match.h"

namespace re2 {
class RE2;
}  // namespace re2

namespace ambit::waypoint {

// A service the waypoint serves.
struct ServiceInfo {
  std::string namespace_;
  std::string hostname;           // FQDN, "echo.demo.svc.cluster.local"
  std::vector<std::string> vips;  // "10.96.0.10"
  std::vector<uint16_t> ports;
};

// One VirtualService of the snapshot.
struct VirtualServiceEntry {
  std::string namespace_;
  std::string name;
  networking::VirtualService spec;
};

struct RouteConfigInput {
  std::vector<VirtualServiceEntry> virtual_services;
  std::vector<DestinationRuleEntry> destination_rules;
  std::vector<ServiceInfo> services;
  std::string domain_suffix = "cluster.local";
};

// Where a request goes: a resolved host, a subset of it (empty: all its endpoints) and a port.
struct RouteTarget {
  std::string host;    // FQDN (or the name as written for hosts outside the cluster)
  std::string subset;  // empty: none
  uint16_t port = 0;   // 0: the port the request came to
};

// One header operation. Applied in list order, which is Envoy's: for the chosen destination's
// headers then the route's, removals, then `set` (replace), then `add` (append).
struct HeaderOp {
  enum class Kind { kRemove, kSet, kAdd };
  Kind kind = Kind::kSet;
  std::string name;  // lower case
  std::string value;
};

struct HeaderPlan {
  std::vector<HeaderOp> request;
  std::vector<HeaderOp> response;
  // The authority to send upstream, from a destination's or the route's `host`/`:authority`
  // header `set`, or the route's rewrite.authority (destination first, as Envoy ranks them).
  std::optional<std::string> authority;
};

// Istio's HTTPRetry as Envoy applies it. A route without `retries` gets Istio's default policy.
struct RetryPolicy {
  uint32_t attempts = 0;  // retries after the first try; 0: none
  std::optional<int64_t> per_try_timeout_ms;
  std::string retry_on;  // Envoy's conditions, "connect-failure,refused-stream,..."
  std::vector<uint32_t> retriable_status_codes;  // the numeric entries of retryOn
  std::optional<int64_t> backoff_ms;
  bool ignore_previous_hosts = true;  // retries go to other endpoints
  bool istio_default = false;         // the route set no `retries`
};

// A fault to inject on `percent` of the requests (0..100). The caller draws for each fault
// separately (percentHit in route_decision.h), as Envoy's fault filter does.
struct FaultDelay {
  int64_t delay_ms = 0;
  double percent = 0;
};
struct FaultAbort {
  uint32_t http_status = 0;  // 0 when grpc_status is set
  std::string grpc_status;   // "UNAVAILABLE"
  double percent = 0;
};

struct MirrorPolicy {
  RouteTarget target;
  double percent = 100;
};

// What a route asks besides where to send the request.
struct RoutePolicy {
  std::optional<int64_t> timeout_ms;  // nullopt: no route timeout (Istio's default; also "0s")
  RetryPolicy retries;
  std::optional<FaultDelay> delay;
  std::optional<FaultAbort> abort;
  std::vector<MirrorPolicy> mirrors;
  const networking::CorsPolicy* cors = nullptr;  // into the VirtualService; null when none
};

struct WeightedTarget {
  RouteTarget target;
  uint32_t weight = 0;
  HeaderPlan headers;  // this destination's header operations, then the route's
};

// One compiled HTTPRoute.
struct HttpRouteRule {
  enum class Action { kForward, kRedirect, kDirectResponse };

  std::string virtual_service;  // "namespace/name"
  int index = 0;                // in the VirtualService's `http`
  std::string name;
  std::vector<HttpMatch> matches;  // OR-ed; empty: every request
  Action action = Action::kForward;
  std::vector<WeightedTarget> targets;  // kForward
  uint32_t total_weight = 0;
  const networking::HTTPRedirect* redirect = nullptr;               // kRedirect
  const networking::HTTPDirectResponse* direct_response = nullptr;  // kDirectResponse
  HeaderPlan headers;  // the route's own, for redirects and direct responses
  std::optional<std::string> rewrite_uri;
  std::shared_ptr<const re2::RE2>
      rewrite_regex;                 // uriRegexRewrite.match; null when none or invalid
  std::string rewrite_substitution;  // uriRegexRewrite.rewrite ("\1" groups)
  RoutePolicy policy;
  std::string never;  // set when the route cannot be used here, and why
};

// One compiled TCPRoute.
struct TcpRouteRule {
  std::string virtual_service;
  int index = 0;
  std::vector<L4Match> matches;  // OR-ed; empty: every connection
  std::vector<WeightedTarget> targets;
  uint32_t total_weight = 0;
};

// A served service with the routes of the VirtualServices that name it, merged: VirtualServices
// naming the service exactly (by name or VIP) before wildcard ones (longer suffixes first), each
// group in namespace/name order, and the routes of each in their own order. Istio lets the oldest
// VirtualService win; a snapshot has no creation times, so Ambit takes the names' order and keeps
// the later VirtualServices' routes behind the earlier ones' instead of dropping them.
struct ServiceRoutes {
  ServiceInfo service;
  std::vector<std::string> virtual_services;  // "namespace/name", in merge order
  std::vector<const HttpRouteRule*> http;
  std::vector<const TcpRouteRule*> tcp;
};

class RouteConfig {
 public:
  // Compiles a snapshot. Fails only on inconsistent services (no hostname, a hostname or VIP
  // given twice); problems in VirtualServices and DestinationRules become notes() and the
  // affected routes or matches never apply, so one bad object does not stop the others.
  static absl::StatusOr<std::shared_ptr<const RouteConfig>> build(RouteConfigInput input);

  RouteConfig(const RouteConfig&) = delete;
  RouteConfig& operator=(const RouteConfig&) = delete;

  // The service by FQDN (any case) or VIP; null when the waypoint does not serve it.
  const ServiceRoutes* findService(std::string_view hostname_or_vip) const;
  const std::vector<ServiceRoutes>& services() const { return services_; }

  // Problems found while compiling, one line each, for logs.
  const std::vector<std::string>& notes() const { return notes_; }

  // The DestinationRules that apply to `host` (an FQDN).
  HostRules destinationRules(std::string_view host) const;
  // The named subset of `host`; null when no DestinationRule that applies defines it.
  const networking::Subset* findSubset(std::string_view host, std::string_view subset) const;
  // The merged traffic policy for (host, subset, port); see mergeTrafficPolicy.
  TrafficPolicyView trafficPolicy(std::string_view host, std::string_view subset,
                                  uint16_t port = 0) const;

  // What a request gets on the default route (no VirtualService for the service).
  const RoutePolicy& defaultPolicy() const { return default_policy_; }
  const HostResolver& hosts() const { return resolver_; }

 private:
  explicit RouteConfig(HostResolver resolver) : resolver_(std::move(resolver)) {}

  // The rules compiled from virtual_services_[i]: http_rules_[http_begin, http_end) and
  // tcp_rules_[tcp_begin, tcp_end).
  struct CompiledRange {
    size_t http_begin = 0, http_end = 0, tcp_begin = 0, tcp_end = 0;
  };

  absl::Status addServices(std::vector<ServiceInfo> services);
  void compileHttpRoute(const VirtualServiceEntry& entry, int index);
  void compileTcpRoute(const VirtualServiceEntry& entry, int index);
  void bindServices(const std::vector<CompiledRange>& compiled);
  void indexDestinationRules();
  std::string_view preferredNamespace(std::string_view host) const;

  HostResolver resolver_;
  std::vector<VirtualServiceEntry> virtual_services_;
  std::vector<DestinationRuleEntry> destination_rules_;
  std::vector<ResolvedRule> resolved_rules_;
  std::vector<std::unique_ptr<HttpRouteRule>> http_rules_;  // all, by VirtualService
  std::vector<std::unique_ptr<TcpRouteRule>> tcp_rules_;
  std::vector<ServiceRoutes> services_;
  std::map<std::string, size_t, std::less<>> service_index_;  // hostname and VIPs
  std::map<std::string, HostRules, std::less<>> host_rules_;  // every host the snapshot names
  RoutePolicy default_policy_;
  std::vector<std::string> notes_;
};

// Whether a workload with `workload_labels` belongs to subset `subset` of `host`: false when no
// DestinationRule defines the subset. An empty `subset` selects every workload.
bool subsetSelects(const RouteConfig& config, std::string_view host, std::string_view subset,
                   const std::map<std::string, std::string>& workload_labels);

}  // namespace ambit::waypoint
