// The waypoint's view of the mesh: the addresses (services and workloads, as node agents get
// them) and the routing config compiled from the VirtualServices and DestinationRules the control
// plane sends this waypoint. Each change builds a new immutable WaypointSnapshot, swapped in
// atomically: a request keeps the snapshot it started with to its end.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "agent/state/snapshot.h"
#include "core/published.h"
#include "core/status.h"
#include "waypoint/config/jwks_cache.h"
#include "waypoint/config/security_config.h"
#include "waypoint/config/telemetry_settings.h"
#include "waypoint/config/tracing_settings.h"
#include "waypoint/proxy/rate_limits.h"
#include "waypoint/route/route_config.h"

namespace ambit::waypoint {

struct WaypointSnapshot {
  uint64_t version = 0;  // 0 until the first addresses arrive: no config, nothing is served
  std::shared_ptr<const agent::Snapshot> mesh = agent::Snapshot::empty();
  std::shared_ptr<const RouteConfig> routes;
  // Services by hostname (FQDN), for destinations named by host.
  std::map<std::string, agent::Snapshot::ServicePtr, std::less<>> services_by_host;
  // Workload labels by uid (the ambit.io/labels extension), decoded once per snapshot.
  std::map<std::string, std::map<std::string, std::string>, std::less<>> labels_by_uid;

  const std::map<std::string, std::string>& labelsOf(const std::string& uid) const;

  // Workloads (uids) whose own istio.io/use-waypoint binds them to this waypoint.
  std::set<std::string, std::less<>> served_workloads;

  // The local rate limits (EnvoyFilters); their buckets live on across snapshots until the
  // EnvoyFilters change. Never null.
  std::shared_ptr<RateLimits> rate_limits =
      std::make_shared<RateLimits>(std::vector<RateLimitRule>{}, nullptr);

  // AuthorizationPolicies and RequestAuthentications by served service, and the path
  // normalization that comes before them; null only before any config (nothing is served then).
  std::shared_ptr<const SecurityConfig> security;
  // Tracing by served service; null only before any config.
  std::shared_ptr<const TracingSettings> tracing;
  // Request metrics and access log policy (Telemetry) by served service; null only before any
  // config (requests then get the defaults).
  std::shared_ptr<const TelemetrySettings> telemetry;
  // The key sets fetched for jwksUris so far. Never null.
  std::shared_ptr<const JwksSet> jwks = std::make_shared<const JwksSet>();
};

// What a tunnel to the waypoint names (its :authority), once known to be the waypoint's to serve.
struct ServedDestination {
  agent::Snapshot::ServicePtr service;    // a service VIP; null for a workload address
  agent::Snapshot::WorkloadPtr workload;  // a workload address; null for a service
  std::string host;                       // the service's hostname; empty for a workload
  std::string address;                    // the address the client called
  uint16_t port = 0;
  // The port's protocol, from the Service port's name or appProtocol (UNKNOWN: sniffed).
  istio::workload::AppProtocol protocol = istio::workload::UNKNOWN;
};

// Checks a CONNECT's target against the snapshot: a VIP of a service bound to this waypoint
// (with that port), or the address of a workload bound to it (carried to it as TCP: routes are
// for services). FAILED_PRECONDITION before any config; NOT_FOUND for anything else, naming it:
// the waypoint serves only what is bound to it.
absl::StatusOr<ServedDestination> servedDestination(const WaypointSnapshot& snapshot,
                                                    const std::string& address, uint16_t port);

class ConfigStore {
 public:
  // The waypoint's Gateway: which services' `waypoint` fields name this waypoint.
  // Rate limit counters go to `registry` (may be null).
  ConfigStore(std::string gateway_namespace, std::string name,
              std::string domain_suffix = "cluster.local", metrics::Registry* registry = nullptr,
              PathNormalization normalization = PathNormalization::kBase);

  std::shared_ptr<const WaypointSnapshot> current() const { return current_.get(); }

  void replaceAddresses(const agent::Snapshot::Addresses& addresses);
  void replaceVirtualServices(std::vector<VirtualServiceEntry> entries);
  void replaceDestinationRules(std::vector<DestinationRuleEntry> entries);
  void replaceEnvoyFilters(const std::vector<EnvoyFilterEntry>& entries);
  void replaceAuthorizationPolicies(std::vector<AuthorizationPolicyEntry> entries);
  void replaceRequestAuthentications(std::vector<RequestAuthnEntry> entries);
  void replaceTelemetries(std::vector<TelemetryEntry> entries);
  // The IstioOperator's meshConfig; nullopt when there is none.
  void replaceMeshConfig(std::optional<istio::mesh::v1alpha1::MeshConfig> mesh);
  const SpanReporters& spanReporters() const { return reporters_; }
  // New key sets: published with the rest of the snapshot unchanged.
  void replaceJwks(std::shared_ptr<const JwksSet> jwks);

  // True when `waypoint` names this waypoint: its Service's hostname, or the address of one of
  // its instances (a workload of its namespace running as its service account).
  bool isThisWaypoint(const istio::workload::GatewayAddress& waypoint,
                      const agent::Snapshot& mesh) const;

 private:
  void rebuildLocked();
  // meshConfig.pathNormalization when the mesh config sets it, else the one given at start.
  PathNormalization normalizationLocked() const;

  const std::string namespace_;
  const std::string name_;
  const std::string domain_suffix_;
  std::mutex mu_;
  agent::Snapshot::Addresses addresses_;
  bool have_addresses_ = false;
  std::vector<VirtualServiceEntry> virtual_services_;
  std::vector<DestinationRuleEntry> destination_rules_;
  std::vector<AuthorizationPolicyEntry> authorization_policies_;
  std::vector<RequestAuthnEntry> request_authns_;
  std::vector<TelemetryEntry> telemetries_;
  std::optional<istio::mesh::v1alpha1::MeshConfig> mesh_config_;
  SpanReporters reporters_;
  const PathNormalization normalization_;
  std::shared_ptr<const JwksSet> jwks_ = std::make_shared<const JwksSet>();
  metrics::Registry* const registry_;
  std::shared_ptr<RateLimits> rate_limits_;
  uint64_t version_ = 0;
  Published<WaypointSnapshot> current_{std::make_shared<const WaypointSnapshot>()};
};

}  // namespace ambit::waypoint
