#include "waypoint/proxy/endpoints.h"

#include <vector>

#include <absl/strings/str_cat.h>

namespace ambit::waypoint {
namespace {

// The workload's port for `service_port` of the service `key`: its own target port, else the
// service's, else the service port itself (as the node agent does).
uint16_t targetPort(const istio::workload::Workload& workload, const std::string& key,
                    const istio::workload::Port& service_port) {
  auto it = workload.services().find(key);
  if (it != workload.services().end()) {
    for (const auto& port : it->second.ports()) {
      if (port.service_port() == service_port.service_port() && port.target_port() != 0) {
        return static_cast<uint16_t>(port.target_port());
      }
    }
  }
  if (service_port.target_port() != 0) return static_cast<uint16_t>(service_port.target_port());
  return static_cast<uint16_t>(service_port.service_port());
}

}  // namespace

Balance balanceOf(const networking::LoadBalancerSettings* settings) {
  if (settings == nullptr || !settings->has_simple()) return Balance::kRoundRobin;
  // LEAST_CONN is deprecated in Istio's API as an alias of LEAST_REQUEST: compared by number.
  constexpr int kLeastConn = 1;
  if (settings->simple() == networking::LoadBalancerSettings::RANDOM) return Balance::kRandom;
  if (settings->simple() == networking::LoadBalancerSettings::LEAST_REQUEST ||
      static_cast<int>(settings->simple()) == kLeastConn) {
    return Balance::kLeastRequest;
  }
  return Balance::kRoundRobin;
}

absl::StatusOr<UpstreamEndpoint> chooseEndpoint(
    const WaypointSnapshot& snapshot, const RouteTarget& target, uint16_t request_port,
    const std::set<std::string>& exclude, Balance balance, uint32_t random,
    agent::EndpointPicker& picker, const OutlierFilter* outliers, const ActiveRequests* active) {
  auto found = snapshot.services_by_host.find(target.host);
  if (found == snapshot.services_by_host.end()) {
    return absl::NotFoundError(absl::StrCat("no service ", target.host, " in the mesh"));
  }
  const agent::Snapshot::ServicePtr& service = found->second;
  const uint16_t port = target.port != 0 ? target.port : request_port;
  const istio::workload::Port* service_port = nullptr;
  for (const auto& p : service->ports()) {
    if (p.service_port() == port) service_port = &p;
  }
  if (service_port == nullptr) {
    return absl::NotFoundError(absl::StrCat("service ", target.host, " has no port ", port));
  }
  const std::string key = agent::Snapshot::serviceKey(*service);
  // The cluster: the service's endpoints in the subset, in snapshot order.
  std::vector<const agent::Snapshot::WorkloadPtr*> members;
  for (const auto& workload : snapshot.mesh->endpointsOf(key)) {
    if (workload->status() != istio::workload::HEALTHY || workload->addresses().empty() ||
        !agent::fromIpBytes(workload->addresses(0)).ok()) {
      continue;
    }
    if (!target.subset.empty() &&
        (snapshot.routes == nullptr || !subsetSelects(*snapshot.routes, target.host, target.subset,
                                                      snapshot.labelsOf(workload->uid())))) {
      continue;
    }
    members.push_back(&workload);
  }
  const std::string cluster = absl::StrCat(target.host, "|", target.subset);
  std::vector<const agent::Snapshot::WorkloadPtr*> healthy = members;
  if (outliers != nullptr && outliers->detector != nullptr && outliers->settings != nullptr &&
      outliers->settings->enabled && !members.empty()) {
    std::vector<std::string> uids;
    uids.reserve(members.size());
    for (const auto* w : members) uids.push_back((*w)->uid());
    const OutlierDetector::Eligible in_service =
        outliers->detector->eligible(cluster, uids, outliers->now, *outliers->settings);
    healthy.clear();
    for (size_t i : in_service.indices) healthy.push_back(members[i]);
  }
  std::vector<const agent::Snapshot::WorkloadPtr*> eligible;
  std::vector<const agent::Snapshot::WorkloadPtr*> tried;
  for (const auto* workload : healthy) {
    (exclude.count((*workload)->uid()) > 0 ? tried : eligible).push_back(workload);
  }
  if (eligible.empty()) eligible = std::move(tried);  // retry the same endpoint over none
  if (eligible.empty()) {
    return absl::UnavailableError(
        absl::StrCat("no healthy endpoint of ", target.host,
                     target.subset.empty() ? "" : absl::StrCat(" in subset ", target.subset),
                     healthy.size() < members.size() ? " (outlier detection ejected them)" : ""));
  }
  size_t index = 0;
  switch (balance) {
    case Balance::kRandom:
      index = static_cast<size_t>(random % eligible.size());
      break;
    case Balance::kLeastRequest: {
      const size_t n = eligible.size();
      const size_t first = static_cast<size_t>(random % n);
      const size_t second = static_cast<size_t>((random / n) % n);
      auto load = [&](size_t i) -> uint32_t {
        if (active == nullptr) return 0;
        auto it = active->find((*eligible[i])->uid());
        return it == active->end() ? 0 : it->second;
      };
      index = load(second) < load(first) ? second : first;
      break;
    }
    case Balance::kRoundRobin:
      index = picker.next(absl::StrCat(key, "|", target.subset), eligible.size());
      break;
  }
  const agent::Snapshot::WorkloadPtr& chosen = *eligible[index];
  UpstreamEndpoint out;
  out.service = service;
  out.workload = chosen;
  out.address = boost::asio::ip::tcp::endpoint(*agent::fromIpBytes(chosen->addresses(0)),
                                               targetPort(*chosen, key, *service_port));
  out.subset = target.subset;
  out.cluster = cluster;
  out.cluster_size = members.size();
  const std::map<std::string, std::string>& labels = snapshot.labelsOf(chosen->uid());
  auto version = labels.find("version");
  out.version = version != labels.end() ? version->second : chosen->canonical_revision();
  return out;
}

}  // namespace ambit::waypoint
