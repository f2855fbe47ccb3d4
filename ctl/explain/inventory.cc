#include "ctl/explain/inventory.h"

#include "core/config/app_protocol.h"
#include "waypoint/route/protocol.h"

#include <algorithm>

#include <absl/strings/ascii.h>
#include <absl/strings/match.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_join.h>

#include "k8s/apps.pb.h"
#include "k8s/core.pb.h"
#include "k8s/gateway.pb.h"
#include "waypoint/route/hosts.h"

namespace ambit::ctl::explain {
namespace {

constexpr const char* kUseWaypoint = "istio.io/use-waypoint";
constexpr const char* kUseWaypointNamespace = "istio.io/use-waypoint-namespace";
constexpr const char* kWaypointFor = "istio.io/waypoint-for";
constexpr const char* kGatewayManaged = "gateway.istio.io/managed";

template <class Map>
Labels toLabels(const Map& map) {
  return Labels(map.begin(), map.end());
}

template <class Map>
const std::string* findLabel(const Map& labels, const std::string& key) {
  const auto it = labels.find(key);
  return it == labels.end() ? nullptr : &it->second;
}

bool holds(const Labels& labels, const Labels& wanted) {
  return std::all_of(wanted.begin(), wanted.end(), [&](const auto& entry) {
    const auto it = labels.find(entry.first);
    return it != labels.end() && it->second == entry.second;
  });
}

Workload deploymentWorkload(const config::Object& o) {
  const auto& deployment = o.as<k8s::Deployment>();
  return Workload{"Deployment", o.name(),
                  toLabels(deployment.spec().template_().metadata().labels()),
                  deployment.spec().replicas()};
}

Workload podWorkload(const config::Object& o) {
  return Workload{"Pod", o.name(), toLabels(o.meta.labels()), 0};
}

}  // namespace

Inventory::Inventory(const std::vector<config::Object>& objects) : objects_(objects) {
  services_ = ofKind(config::Kind::kService);
  for (const config::Object* service : services_) {
    by_host_.emplace(hostnameOf(*service), service);
    for (const std::string& vip : serviceVips(*service)) by_vip_.emplace(vip, service);
  }
}

std::string Inventory::hostnameOf(const config::Object& service) {
  return absl::AsciiStrToLower(
      absl::StrCat(service.name(), ".", service.namespace_(), ".svc.", kDomainSuffix));
}

std::vector<const config::Object*> Inventory::ofKind(config::Kind kind) const {
  std::vector<const config::Object*> out;
  for (const config::Object& o : objects_) {
    if (o.kind != nullptr && o.kind->kind == kind) out.push_back(&o);
  }
  return out;
}

const config::Object* Inventory::serviceByHost(std::string_view fqdn) const {
  const auto it = by_host_.find(fqdn);
  return it == by_host_.end() ? nullptr : it->second;
}

const config::Object* Inventory::serviceByVip(std::string_view ip) const {
  const auto it = by_vip_.find(ip);
  return it == by_vip_.end() ? nullptr : it->second;
}

WaypointUse Inventory::waypointOf(const config::Object& service) const {
  WaypointUse use;
  if (const std::string* managed = findLabel(service.meta.labels(), kGatewayManaged);
      managed != nullptr && *managed == "istio.io-mesh-controller") {
    use.problem = "it is a waypoint's own Service";
    return use;
  }
  const std::string* value = findLabel(service.meta.labels(), kUseWaypoint);
  const std::string* namespace_override = findLabel(service.meta.labels(), kUseWaypointNamespace);
  use.source = absl::StrCat("Service ", service.namespace_(), "/", service.name());
  if (value == nullptr) {
    const config::Object* ns = nullptr;
    for (const config::Object* o : ofKind(config::Kind::kNamespace)) {
      if (o->name() == service.namespace_()) ns = o;
    }
    if (ns == nullptr) {
      use.problem = absl::StrCat("the Service has no ", kUseWaypoint,
                                 " label and its Namespace is not among the loaded objects");
      return use;
    }
    value = findLabel(ns->meta.labels(), kUseWaypoint);
    namespace_override = findLabel(ns->meta.labels(), kUseWaypointNamespace);
    use.source = absl::StrCat("Namespace ", ns->name());
    if (value == nullptr) {
      use.problem =
          absl::StrCat("neither the Service nor its Namespace has an ", kUseWaypoint, " label");
      return use;
    }
  }
  if (*value == "none") {
    use.problem = absl::StrCat(kUseWaypoint, "=none on ", use.source);
    return use;
  }
  use.namespace_ = service.namespace_();
  use.name = *value;
  if (const size_t slash = value->find('/'); slash != std::string::npos) {
    use.namespace_ = value->substr(0, slash);
    use.name = value->substr(slash + 1);
  }
  if (namespace_override != nullptr) use.namespace_ = *namespace_override;
  if (use.namespace_ != service.namespace_()) {
    use.problem = absl::StrCat("waypoint ", use.display(), " (", kUseWaypoint, " on ", use.source,
                               ") is in another namespace, and a waypoint admits only its own");
    return use;
  }
  const config::Object* gateway = nullptr;
  for (const config::Object* o : ofKind(config::Kind::kKubernetesGateway)) {
    if (o->namespace_() == use.namespace_ && o->name() == use.name) gateway = o;
  }
  if (gateway == nullptr) {
    use.note = absl::StrCat("its Gateway ", use.display(),
                            " is not among the loaded objects; taken as a waypoint for services");
    use.uses = true;
    return use;
  }
  const std::string& gateway_class = gateway->as<k8s::Gateway>().spec().gateway_class_name();
  if (gateway_class != "istio-waypoint" && gateway_class != "ambit-waypoint") {
    use.problem = absl::StrCat("Gateway ", use.display(), " is of class \"", gateway_class,
                               "\", not a waypoint");
    return use;
  }
  const std::string* traffic = findLabel(gateway->meta.labels(), kWaypointFor);
  if (traffic != nullptr && *traffic != "service" && *traffic != "all") {
    use.problem = absl::StrCat("waypoint ", use.display(), " has ", kWaypointFor, "=", *traffic,
                               ": it takes no service traffic");
    return use;
  }
  use.uses = true;
  return use;
}

std::vector<Workload> Inventory::selected(const std::string& namespace_, const Labels& selector,
                                          const Labels& subset) const {
  std::vector<Workload> out;
  bool any_pod = false;
  for (const config::Object* o : ofKind(config::Kind::kPod)) {
    if (o->namespace_() != namespace_) continue;
    Workload pod = podWorkload(*o);
    if (!holds(pod.labels, selector)) continue;
    any_pod = true;
    if (holds(pod.labels, subset)) out.push_back(std::move(pod));
  }
  if (any_pod) return out;
  for (const config::Object* o : ofKind(config::Kind::kDeployment)) {
    if (o->namespace_() != namespace_) continue;
    Workload deployment = deploymentWorkload(*o);
    if (holds(deployment.labels, selector) && holds(deployment.labels, subset)) {
      out.push_back(std::move(deployment));
    }
  }
  return out;
}

std::optional<Workload> Inventory::workload(const std::string& namespace_,
                                            const std::string& name) const {
  for (const config::Object* o : ofKind(config::Kind::kDeployment)) {
    if (o->namespace_() == namespace_ && o->name() == name) return deploymentWorkload(*o);
  }
  for (const config::Object* o : ofKind(config::Kind::kPod)) {
    if (o->namespace_() == namespace_ && o->name() == name) return podWorkload(*o);
  }
  return std::nullopt;
}

std::optional<ServicePortInfo> servicePort(const config::Object& service, uint32_t number) {
  for (const k8s::ServicePort& port : service.as<k8s::Service>().spec().ports()) {
    if (static_cast<uint32_t>(port.port()) != number) continue;
    const istio::workload::AppProtocol protocol = config::appProtocolOf(port);
    ServicePortInfo out{port.name(), PortProtocol::kSniffed, ""};
    switch (waypoint::protocolOf(protocol)) {
      case waypoint::StreamProtocol::kHttp1:
        out.protocol = PortProtocol::kHttp1;
        break;
      case waypoint::StreamProtocol::kHttp2:
        out.protocol = PortProtocol::kHttp2;
        break;
      case waypoint::StreamProtocol::kTcp:
        out.protocol = PortProtocol::kTcp;
        break;
      case waypoint::StreamProtocol::kSniff:
        return out;
    }
    out.protocol_name = istio::workload::AppProtocol_Name(protocol);
    return out;
  }
  return std::nullopt;
}

std::vector<std::string> serviceVips(const config::Object& service) {
  const auto& spec = service.as<k8s::Service>().spec();
  std::vector<std::string> out;
  auto add = [&](const std::string& ip) {
    if (waypoint::isIpLiteral(ip) && std::find(out.begin(), out.end(), ip) == out.end()) {
      out.push_back(ip);
    }
  };
  add(spec.cluster_ip());
  for (const std::string& ip : spec.cluster_ips()) add(ip);
  return out;
}

std::string formatLabels(const Labels& labels) {
  return absl::StrJoin(labels, ", ", absl::PairFormatter("="));
}

}  // namespace ambit::ctl::explain
