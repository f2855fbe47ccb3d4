// Waypoints (Gateway API Gateways of class istio-waypoint or ambit-waypoint) and which one a
// service or workload uses, following istiod's istio.io/use-waypoint rules.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "control/translate/mesh_objects.h"
#include "control/translate/options.h"
#include "istio/workload/workload.pb.h"
#include "k8s/meta.pb.h"

namespace ambit::control::translate {

inline constexpr const char* kUseWaypointLabel = "istio.io/use-waypoint";
inline constexpr const char* kUseWaypointNamespaceLabel = "istio.io/use-waypoint-namespace";
inline constexpr const char* kWaypointForLabel = "istio.io/waypoint-for";
inline constexpr const char* kGatewayNameLabel = "gateway.networking.k8s.io/gateway-name";
inline constexpr const char* kGatewayManagedLabel = "gateway.istio.io/managed";
inline constexpr const char* kIngressUseWaypointLabel = "istio.io/ingress-use-waypoint";
inline constexpr uint32_t kHboneMtlsPort = 15008;

// Values of istio.io/waypoint-for.
inline constexpr const char* kServiceTraffic = "service";
inline constexpr const char* kWorkloadTraffic = "workload";
inline constexpr const char* kAllTraffic = "all";

// True for the Gateway classes that declare waypoints.
bool isWaypointClass(const std::string& gateway_class_name);

struct Waypoint {
  std::string namespace_;
  std::string name;
  std::string traffic_type;  // istio.io/waypoint-for; "service" when unset
  std::string gateway_class;
  istio::workload::GatewayAddress address;

  std::string resourceName() const;  // "namespace/name"
  bool forServices() const;
  bool forWorkloads() const;
};

// The waypoint a service or workload uses, or why the one it asked for is not used (Istio's
// binding status: reason and message); both empty when it asked for none.
struct WaypointBinding {
  const Waypoint* waypoint = nullptr;
  std::string reason;
  std::string message;
};

// The istio.io/use-waypoint request of an object or namespace.
struct UseWaypoint {
  bool set = false;   // the label is present
  bool none = false;  // "none": explicitly no waypoint
  std::string namespace_;
  std::string name;
};

// Reads istio.io/use-waypoint (`name`, or Ambit's `namespace/name`) and Istio's
// istio.io/use-waypoint-namespace override; the namespace defaults to `default_namespace`.
UseWaypoint parseUseWaypoint(const Labels& labels, const std::string& default_namespace);

class WaypointIndex {
 public:
  WaypointIndex(const MeshObjects& objects, const Options& options);

  const Waypoint* find(const std::string& namespace_, const std::string& name) const;
  const std::vector<Waypoint>& all() const { return waypoints_; }

  // The waypoint for a Service: its own label, else its namespace's; only waypoints for service
  // (or all) traffic. Waypoints' own Services never use a waypoint.
  WaypointBinding forService(const k8s::ObjectMeta& service) const;
  // The waypoint for a pod: as for services, for workload (or all) traffic. A waypoint's own
  // pods never use a waypoint.
  WaypointBinding forWorkload(const k8s::ObjectMeta& pod) const;
  // True when the pod is an instance of a known waypoint (gateway-name label).
  bool isInstance(const k8s::ObjectMeta& pod) const;

 private:
  WaypointBinding forTarget(const k8s::ObjectMeta& meta) const;

  const MeshObjects& objects_;
  std::vector<Waypoint> waypoints_;  // sorted by namespace and name
};

}  // namespace ambit::control::translate
