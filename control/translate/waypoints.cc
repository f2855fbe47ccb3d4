#include "control/translate/waypoints.h"

#include <algorithm>

#include <absl/strings/str_cat.h>

#include "control/translate/ip.h"
#include "k8s/gateway.pb.h"

namespace ambit::control::translate {
namespace {

WaypointBinding problem(const char* reason, std::string message) {
  return WaypointBinding{nullptr, reason, std::move(message)};
}

WaypointBinding notReady(const std::string& resource) {
  return problem("WaypointIsNotReady",
                 absl::StrCat("waypoint \"", resource, "\" does not exist or has no address yet"));
}

WaypointBinding attachmentDenied(const std::string& resource) {
  return problem(
      "AttachmentDenied",
      absl::StrCat("waypoint \"", resource,
                   "\" admits only its own namespace (its listeners set no allowedRoutes)"));
}

WaypointBinding unsupportedTraffic(const std::string& resource, const char* type) {
  return problem("UnsupportedTrafficType",
                 absl::StrCat("waypoint \"", resource, "\" does not take ", type,
                              " traffic (see its istio.io/waypoint-for label)"));
}

// Istio's getGatewayAddress: a Hostname status address first, else an IP status address
// (Gateway API's default address type); Ambit's lab falls back to the Service named after the
// Gateway, which is what Istio's deployment controller creates.
std::optional<istio::workload::GatewayAddress> gatewayAddress(const config::Object& o,
                                                              const MeshObjects& objects,
                                                              const Options& options) {
  const auto& gateway = o.as<k8s::Gateway>();
  istio::workload::GatewayAddress out;
  out.set_hbone_mtls_port(kHboneMtlsPort);
  for (const k8s::GatewayAddress& address : gateway.status().addresses()) {
    if (address.type() != "Hostname") continue;
    out.mutable_hostname()->set_namespace_(o.namespace_());
    out.mutable_hostname()->set_hostname(address.value());
    return out;
  }
  for (const k8s::GatewayAddress& address : gateway.status().addresses()) {
    if (!address.type().empty() && address.type() != "IPAddress") continue;
    std::optional<std::string> ip = parseIp(address.value());
    if (!ip) continue;
    out.mutable_address()->set_network(options.network);
    out.mutable_address()->set_address(*ip);
    return out;
  }
  if (objects.find(config::Kind::kService, o.namespace_(), o.name()) != nullptr) {
    out.mutable_hostname()->set_namespace_(o.namespace_());
    out.mutable_hostname()->set_hostname(
        absl::StrCat(o.name(), ".", o.namespace_(), ".svc.", options.domain_suffix));
    return out;
  }
  return std::nullopt;
}

}  // namespace

bool isWaypointClass(const std::string& gateway_class_name) {
  return gateway_class_name == "istio-waypoint" || gateway_class_name == "ambit-waypoint";
}

std::string Waypoint::resourceName() const { return absl::StrCat(namespace_, "/", name); }

bool Waypoint::forServices() const {
  return traffic_type == kServiceTraffic || traffic_type == kAllTraffic;
}

bool Waypoint::forWorkloads() const {
  return traffic_type == kWorkloadTraffic || traffic_type == kAllTraffic;
}

UseWaypoint parseUseWaypoint(const Labels& labels, const std::string& default_namespace) {
  UseWaypoint out;
  const std::string* value = findLabel(labels, kUseWaypointLabel);
  if (value == nullptr) return out;
  out.set = true;
  if (*value == "none") {
    out.none = true;
    return out;
  }
  out.namespace_ = default_namespace;
  out.name = *value;
  if (const size_t slash = value->find('/'); slash != std::string::npos) {
    out.namespace_ = value->substr(0, slash);
    out.name = value->substr(slash + 1);
  }
  if (const std::string* ns = findLabel(labels, kUseWaypointNamespaceLabel)) out.namespace_ = *ns;
  return out;
}

WaypointIndex::WaypointIndex(const MeshObjects& objects, const Options& options)
    : objects_(objects) {
  for (const config::Object* o : objects.ofKind(config::Kind::kKubernetesGateway)) {
    const std::string& gateway_class = o->as<k8s::Gateway>().spec().gateway_class_name();
    if (!isWaypointClass(gateway_class)) continue;
    std::optional<istio::workload::GatewayAddress> address = gatewayAddress(*o, objects, options);
    if (!address) continue;  // not ready: no address yet
    const std::string* type = findLabel(o->meta.labels(), kWaypointForLabel);
    waypoints_.push_back(Waypoint{o->namespace_(), o->name(),
                                  type != nullptr ? *type : kServiceTraffic, gateway_class,
                                  *address});
  }
  std::sort(waypoints_.begin(), waypoints_.end(), [](const Waypoint& a, const Waypoint& b) {
    return std::tie(a.namespace_, a.name) < std::tie(b.namespace_, b.name);
  });
}

const Waypoint* WaypointIndex::find(const std::string& namespace_, const std::string& name) const {
  for (const Waypoint& w : waypoints_) {
    if (w.namespace_ == namespace_ && w.name == name) return &w;
  }
  return nullptr;
}

bool WaypointIndex::isInstance(const k8s::ObjectMeta& pod) const {
  const std::string* gateway = findLabel(pod.labels(), kGatewayNameLabel);
  return gateway != nullptr && find(pod.namespace_(), *gateway) != nullptr;
}

WaypointBinding WaypointIndex::forTarget(const k8s::ObjectMeta& meta) const {
  UseWaypoint use = parseUseWaypoint(meta.labels(), meta.namespace_());
  if (use.none) return {};
  if (!use.set) {
    use = parseUseWaypoint(objects_.namespaceLabels(meta.namespace_()), meta.namespace_());
    if (!use.set || use.none) return {};
  }
  const Waypoint* waypoint = find(use.namespace_, use.name);
  if (waypoint == nullptr) return notReady(absl::StrCat(use.namespace_, "/", use.name));
  // Gateway API's default allowedRoutes: routes (here, users) from the Gateway's namespace only.
  if (waypoint->namespace_ != meta.namespace_()) return attachmentDenied(waypoint->resourceName());
  return WaypointBinding{waypoint, "", ""};
}

WaypointBinding WaypointIndex::forService(const k8s::ObjectMeta& service) const {
  const std::string* managed = findLabel(service.labels(), kGatewayManagedLabel);
  if (managed != nullptr &&
      (*managed == "istio.io-mesh-controller" || *managed == "istio.io-eastwest-controller")) {
    return {};
  }
  if (find(service.namespace_(), service.name()) != nullptr) return {};  // a waypoint's own
  WaypointBinding binding = forTarget(service);
  if (binding.waypoint != nullptr && !binding.waypoint->forServices()) {
    return unsupportedTraffic(binding.waypoint->resourceName(), kServiceTraffic);
  }
  return binding;
}

WaypointBinding WaypointIndex::forWorkload(const k8s::ObjectMeta& pod) const {
  if (isInstance(pod)) return {};
  WaypointBinding binding = forTarget(pod);
  if (binding.waypoint == nullptr || binding.waypoint->forWorkloads()) return binding;
  // Inherited from the namespace, a waypoint for services only is simply not the pod's.
  if (findLabel(pod.labels(), kUseWaypointLabel) == nullptr) return {};
  return unsupportedTraffic(binding.waypoint->resourceName(), kWorkloadTraffic);
}

}  // namespace ambit::control::translate
