#include "control/translate/service_builder.h"

#include <absl/strings/str_cat.h>

#include "control/translate/ip.h"
#include "control/translate/ports.h"
#include "k8s/core.pb.h"

namespace ambit::control::translate {
namespace wl = istio::workload;

std::string serviceHostname(const std::string& name, const std::string& namespace_,
                            const Options& options) {
  return absl::StrCat(name, ".", namespace_, ".svc.", options.domain_suffix);
}

std::optional<wl::Service> buildService(const config::Object& object, const MeshObjects& objects,
                                        const WaypointIndex& waypoints, const Options& options,
                                        std::vector<Note>& notes) {
  const auto& spec = object.as<k8s::Service>().spec();
  if (spec.type() == "ExternalName") return std::nullopt;

  wl::Service out;
  out.set_name(object.name());
  out.set_namespace_(object.namespace_());
  out.set_hostname(serviceHostname(object.name(), object.namespace_(), options));
  // Istio's getVIPs: clusterIPs, else clusterIP, without "None" (headless) and "".
  std::vector<std::string> vips(spec.cluster_ips().begin(), spec.cluster_ips().end());
  if (vips.empty()) vips.push_back(spec.cluster_ip());
  for (const std::string& vip : vips) {
    if (vip.empty() || vip == "None") continue;
    std::optional<std::string> ip = parseIp(vip);
    if (!ip) {
      addNote(notes, object, "InvalidAddress",
              absl::StrCat("cluster IP \"", vip, "\" is not an IP address; service not published"));
      return std::nullopt;
    }
    wl::NetworkAddress* address = out.add_addresses();
    address->set_network(options.network);
    address->set_address(*ip);
  }
  for (const k8s::ServicePort& port : spec.ports()) {
    wl::Port* p = out.add_ports();
    p->set_service_port(static_cast<uint32_t>(port.port()));
    p->set_target_port(numericTargetPort(port));
    p->set_app_protocol(appProtocol(port));
  }

  WaypointBinding binding = waypoints.forService(object.meta);
  if (binding.waypoint != nullptr) {
    *out.mutable_waypoint() = binding.waypoint->address;
    // istio.io/ingress-use-waypoint on the Service, else on its namespace.
    const std::string* ingress = findLabel(object.meta.labels(), kIngressUseWaypointLabel);
    if (ingress == nullptr) {
      ingress = findLabel(objects.namespaceLabels(object.namespace_()), kIngressUseWaypointLabel);
    }
    out.set_ingress_use_waypoint(ingress != nullptr && parseGoBool(*ingress).value_or(false));
  } else if (!binding.reason.empty()) {
    addNote(notes, object, binding.reason, binding.message);
  }
  // A Kubernetes Service always wins hostname lookups (istiod marks it canonical).
  out.set_canonical(true);
  return out;
}

}  // namespace ambit::control::translate
