// The Istio config a waypoint applies: routing and traffic policy for the services it serves,
// and the policies attached to it or to those services with targetRefs, as istiod selects them
// for a waypoint proxy.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/message.h>

#include "control/translate/options.h"
#include "core/config/object.h"
#include "core/status.h"

namespace ambit::control::translate {

struct WaypointResource {
  std::string type_url;  // "type.googleapis.com/istio.networking.v1alpha3.VirtualService", ...
  std::string name;      // "<namespace>/<name>"
  std::shared_ptr<const google::protobuf::Message> spec;  // shared with the object set
};

// The name of the MeshConfig resource a waypoint gets (from the IstioOperator's spec.meshConfig).
inline constexpr const char* kMeshConfigName = "mesh";

// "type.googleapis.com/<full message name>"
std::string typeUrlOf(const google::protobuf::Message& message);

// For the waypoint `namespace_`/`name`, sorted by type URL and name:
// - VirtualServices for the mesh (no gateways, or "mesh") whose hosts match a served service
//   and that are exported to the waypoint's namespace;
// - DestinationRules whose host matches a served service, exported to the waypoint's namespace,
//   without a workload selector or with one selecting the waypoint's pods;
// - AuthorizationPolicies, RequestAuthentications, Telemetries and EnvoyFilters whose targetRefs
//   name the waypoint's Gateway (same namespace), a served Service (the Service's namespace) or
//   the waypoint's GatewayClass (root namespace);
// - namespace-wide Telemetry (the oldest without selector or targetRefs) of the root namespace,
//   the waypoint's namespace and each served service's namespace;
// - the MeshConfig of the oldest IstioOperator, named "mesh", when it sets spec.meshConfig;
// - EnvoyFilters carrying Ambit's local rate limit patch that apply to the waypoint's pods
//   (targetRefs as above, a workload selector matching them, or none in the root or waypoint
//   namespace).
// A served service is a Service whose istio.io/use-waypoint binding resolves to this waypoint.
// NotFound when the set has no such waypoint, or it has no address yet.
absl::StatusOr<std::vector<WaypointResource>> waypointResources(
    const std::vector<config::Object>& objects, const Options& options,
    const std::string& namespace_, const std::string& name);

}  // namespace ambit::control::translate
