#include "control/translate/workload_builder.h"

#include <absl/strings/str_cat.h>

#include "control/translate/ip.h"
#include "control/translate/ports.h"
#include "control/translate/service_builder.h"
#include "control/translate/workload_meta.h"
#include "core/xds/workload_labels.h"

namespace ambit::control::translate {
namespace {

namespace wl = istio::workload;

// The services map: each Service of the pod's namespace whose non-empty selector matches the
// pod, keyed "namespace/hostname", with named target ports resolved on the pod (a port the pod
// does not have is left out, as istiod does).
void addServices(const config::Object& pod, const WorkloadContext& context, wl::Workload& out) {
  const auto& spec = pod.as<k8s::Pod>().spec();
  for (const config::Object* o :
       context.objects.ofKindIn(config::Kind::kService, pod.namespace_())) {
    const auto& service = o->as<k8s::Service>().spec();
    if (service.type() == "ExternalName") continue;
    if (service.selector().empty() || !selectorMatches(service.selector(), pod.meta.labels())) {
      continue;
    }
    const std::string key = absl::StrCat(
        o->namespace_(), "/", serviceHostname(o->name(), o->namespace_(), context.options));
    wl::PortList& ports = (*out.mutable_services())[key];
    for (const k8s::ServicePort& port : service.ports()) {
      std::optional<uint32_t> target = targetPortFor(port, spec);
      if (!target) continue;
      wl::Port* p = ports.add_ports();
      p->set_service_port(static_cast<uint32_t>(port.port()));
      p->set_target_port(*target);
    }
  }
}

}  // namespace

std::string podUid(const std::string& cluster_id, const std::string& namespace_,
                   const std::string& name) {
  return absl::StrCat(cluster_id, "//Pod/", namespace_, "/", name);
}

wl::WorkloadStatus podStatus(const k8s::ObjectMeta& meta, const k8s::PodStatus& status) {
  if (!meta.deletion_timestamp().empty()) return wl::UNHEALTHY;
  if (status.conditions().empty()) return status.phase() == "Running" ? wl::HEALTHY : wl::UNHEALTHY;
  for (const k8s::PodCondition& condition : status.conditions()) {
    if (condition.type() == "Ready")
      return condition.status() == "True" ? wl::HEALTHY : wl::UNHEALTHY;
  }
  return wl::UNHEALTHY;
}

std::optional<wl::Workload> buildWorkload(const config::Object& object,
                                          const WorkloadContext& context,
                                          std::vector<Note>& notes) {
  const auto& pod = object.as<k8s::Pod>();
  const k8s::ObjectMeta& meta = object.meta;
  const std::string& phase = pod.status().phase();
  if (phase == "Succeeded" || phase == "Failed") return std::nullopt;
  std::vector<std::string> ips;
  for (const k8s::PodIP& ip : pod.status().pod_ips()) ips.push_back(ip.ip());
  if (ips.empty() && !pod.status().pod_ip().empty()) ips.push_back(pod.status().pod_ip());
  if (ips.empty()) return std::nullopt;  // not scheduled or no network yet

  wl::Workload out;
  for (const std::string& ip : ips) {
    std::optional<std::string> bytes = parseIp(ip);
    if (!bytes) {
      addNote(notes, object, "InvalidAddress",
              absl::StrCat("pod IP \"", ip, "\" is not an IP address; workload not published"));
      return std::nullopt;
    }
    out.add_addresses(*bytes);
  }
  const Options& options = context.options;
  out.set_uid(podUid(options.cluster_id, meta.namespace_(), meta.name()));
  out.set_name(meta.name());
  out.set_namespace_(meta.namespace_());
  out.set_network(options.network);
  out.set_cluster_id(options.cluster_id);
  // The API server defaults serviceAccountName to "default"; files may leave it out.
  std::string account = pod.spec().service_account_name();
  if (account.empty()) account = pod.spec().service_account();
  out.set_service_account(account.empty() ? "default" : account);
  // Like istiod, the mesh's default trust domain is left implicit.
  if (options.trust_domain != "cluster.local") out.set_trust_domain(options.trust_domain);
  out.set_node(pod.spec().node_name());
  out.set_status(podStatus(meta, pod.status()));
  if (pod.spec().host_network()) out.set_network_mode(wl::HOST_NETWORK);

  out.set_workload_name(workloadName(meta, context.objects));
  out.set_workload_type(wl::POD);  // istiod always says POD, for compatibility
  CanonicalService canonical = canonicalService(meta.labels(), out.workload_name());
  out.set_canonical_name(canonical.name);
  out.set_canonical_revision(canonical.revision);
  // Waypoints select DestinationRule subsets by these.
  xds::setWorkloadLabels({meta.labels().begin(), meta.labels().end()}, out);

  // Captured by the node agent: enrolled by labels (what Istio's CNI decides and records in the
  // ambient.istio.io/redirection annotation); a waypoint terminates HBONE itself.
  const Labels& ns_labels = context.objects.namespaceLabels(meta.namespace_());
  auto redirection = meta.annotations().find(kRedirectionAnnotation);
  if ((redirection != meta.annotations().end() && redirection->second == "enabled") ||
      ambientEnrolled(meta, pod.spec(), ns_labels)) {
    out.set_tunnel_protocol(wl::HBONE);
  }
  if (supportsHttpTunnel(meta.labels())) {
    out.set_tunnel_protocol(wl::HBONE);
    out.set_native_tunnel(true);
  }

  WaypointBinding binding = context.waypoints.forWorkload(meta);
  if (binding.waypoint != nullptr) {
    *out.mutable_waypoint() = binding.waypoint->address;
  } else if (!binding.reason.empty()) {
    addNote(notes, object, binding.reason, binding.message);
  }
  addServices(object, context, out);
  for (std::string& key : context.policies.keysFor(meta.namespace_(), meta.labels())) {
    out.add_authorization_policies(std::move(key));
  }
  return out;
}

}  // namespace ambit::control::translate
