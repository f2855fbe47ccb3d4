// Which Telemetry resources apply to a waypoint's service, at each of Istio's scopes: the
// namespace-wide one of a namespace (the root namespace's applies mesh-wide), and one bound by
// targetRefs to the service or to the waypoint itself. Shared by tracing and by metrics and
// access logging.
#pragma once

#include <string>
#include <vector>

#include "istio/telemetry/v1alpha1/telemetry.pb.h"
#include "waypoint/config/security_config.h"

namespace ambit::waypoint {

struct TelemetryEntry {
  std::string namespace_;
  std::string name;
  istio::telemetry::v1alpha1::Telemetry spec;
};

// The root namespace whose namespace-wide Telemetry applies mesh-wide (Istio's default).
inline constexpr const char* kTelemetryRootNamespace = "istio-system";

// No selector and no targetRefs: it applies to its whole namespace.
bool namespaceWide(const istio::telemetry::v1alpha1::Telemetry& spec);

// The namespace-wide Telemetry of `ns`, the first by name (the control plane sends at most one
// per namespace, the oldest, as Istio uses); null when none.
const TelemetryEntry* namespaceWideOf(const std::vector<TelemetryEntry>& entries,
                                      const std::string& ns);

// The Telemetry bound to `service` by targetRefs (or the older targetRef): one naming the
// Service, else one naming the waypoint (its Gateway or GatewayClass), which applies to every
// service; null when none. With an empty `service`, only one naming the waypoint.
const TelemetryEntry* boundTo(const std::vector<TelemetryEntry>& entries,
                              const SecurityTarget& service);

}  // namespace ambit::waypoint
