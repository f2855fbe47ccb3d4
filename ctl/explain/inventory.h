// The Kubernetes side of a loaded object set, as `ambitctl x explain` needs it: Services by
// hostname and VIP, the waypoint each Service uses, the workloads a selector picks and the
// calling workload.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/object.h"

namespace ambit::ctl::explain {

using Labels = std::map<std::string, std::string>;

inline constexpr const char* kDomainSuffix = "cluster.local";

// A Pod, or a Deployment standing for the pods of its template.
struct Workload {
  std::string kind;  // "Pod" or "Deployment"
  std::string name;
  Labels labels;         // the Pod's, or the Deployment's pod template's
  int32_t replicas = 0;  // Deployments; 0 when not written
};

// Which waypoint a Service uses, by istio.io/use-waypoint on the Service, else on its Namespace.
struct WaypointUse {
  bool uses = false;
  std::string namespace_;  // the waypoint's, when `uses`
  std::string name;
  std::string source;  // where the label is: "Service default/x" or "Namespace default"
  // Why no waypoint is used although one is asked for ("none", a Gateway for workloads only...).
  std::string problem;
  // Worth saying but not stopping: the waypoint's Gateway is not among the loaded objects.
  std::string note;

  std::string display() const { return namespace_ + "/" + name; }
};

class Inventory {
 public:
  explicit Inventory(const std::vector<config::Object>& objects);

  // "<name>.<namespace>.svc.cluster.local"
  static std::string hostnameOf(const config::Object& service);

  // The Service with this FQDN (lower case) or cluster IP; null when none.
  const config::Object* serviceByHost(std::string_view fqdn) const;
  const config::Object* serviceByVip(std::string_view ip) const;
  const std::vector<const config::Object*>& services() const { return services_; }

  WaypointUse waypointOf(const config::Object& service) const;

  // The workloads of `namespace_` whose labels hold every label of `selector` and of `subset`
  // (may be empty): the Pods, or when no Pod matches `selector`, the Deployments' pod templates.
  std::vector<Workload> selected(const std::string& namespace_, const Labels& selector,
                                 const Labels& subset) const;

  // The Deployment, else the Pod, named `name` in `namespace_`.
  std::optional<Workload> workload(const std::string& namespace_, const std::string& name) const;

 private:
  std::vector<const config::Object*> ofKind(config::Kind kind) const;

  const std::vector<config::Object>& objects_;
  std::vector<const config::Object*> services_;
  std::map<std::string, const config::Object*, std::less<>> by_host_;
  std::map<std::string, const config::Object*, std::less<>> by_vip_;
};

// How the waypoint takes a Service port's bytes: by Istio's protocol of the port
// (config::appProtocolOf, as the control plane states it) mapped as the waypoint maps it
// (waypoint::protocolOf): HTTP/1.1 and HTTP/2 are routed; gRPC, TCP and TLS are carried as TCP;
// a port that declares nothing is sniffed (HTTP/1.1 and HTTP/2 are routed).
enum class PortProtocol { kHttp1, kHttp2, kTcp, kSniffed };
struct ServicePortInfo {
  std::string name;
  PortProtocol protocol = PortProtocol::kSniffed;
  std::string protocol_name;  // "HTTP11", "HTTP2", "TCP", "GRPC", "TLS"; "" when sniffed
};
// The port `number` of a Service; nullopt when it has none.
std::optional<ServicePortInfo> servicePort(const config::Object& service, uint32_t number);

// The cluster IPs of a Service (spec.clusterIP and clusterIPs, without "None").
std::vector<std::string> serviceVips(const config::Object& service);

// "app=my-service, version=v1"
std::string formatLabels(const Labels& labels);

}  // namespace ambit::ctl::explain
