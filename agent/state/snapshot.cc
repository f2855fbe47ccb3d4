#include "agent/state/snapshot.h"

#include <algorithm>
#include <tuple>

namespace ambit::agent {
namespace {

const std::vector<Snapshot::WorkloadPtr>& noWorkloads() {
  static const std::vector<Snapshot::WorkloadPtr> none;
  return none;
}

template <typename Map>
typename Map::mapped_type findOrNull(const Map& map, std::string_view key) {
  auto it = map.find(key);
  return it == map.end() ? nullptr : it->second;
}

}  // namespace

std::string Snapshot::serviceKey(const istio::workload::Service& service) {
  return service.namespace_() + "/" + service.hostname();
}

std::shared_ptr<const Snapshot> Snapshot::build(const Addresses& resources,
                                                const Policies& policies, uint64_t version) {
  auto out = std::make_shared<Snapshot>();
  out->version_ = version;
  out->policies_ = policies;
  for (const auto& [name, policy] : policies) {
    if (policy->scope() == istio::security::GLOBAL) out->global_policies_.push_back(policy);
    if (policy->scope() == istio::security::NAMESPACE) {
      out->namespace_policies_[policy->namespace_()].push_back(policy);
    }
  }
  for (const auto& [name, address] : resources) {
    if (address->has_workload()) {
      // Aliasing pointers keep the Address alive without copying the Workload.
      WorkloadPtr workload(address, &address->workload());
      out->by_uid_[workload->uid()] = workload;
      for (const std::string& ip : workload->addresses()) out->workload_by_ip_[ip] = workload;
      if (!workload->node().empty()) out->by_node_[workload->node()].push_back(workload);
      for (const auto& [key, ports] : workload->services())
        out->endpoints_[key].push_back(workload);
    } else if (address->has_service()) {
      ServicePtr service(address, &address->service());
      out->by_key_[serviceKey(*service)] = service;
      for (const auto& vip : service->addresses()) out->service_by_vip_[vip.address()] = service;
    }
  }
  auto by_uid = [](const WorkloadPtr& a, const WorkloadPtr& b) { return a->uid() < b->uid(); };
  for (auto& [key, list] : out->endpoints_) std::sort(list.begin(), list.end(), by_uid);
  for (auto& [key, list] : out->by_node_) std::sort(list.begin(), list.end(), by_uid);
  return out;
}

std::shared_ptr<const Snapshot> Snapshot::empty() {
  static const std::shared_ptr<const Snapshot> none = std::make_shared<Snapshot>();
  return none;
}

Snapshot::WorkloadPtr Snapshot::workloadByUid(std::string_view uid) const {
  return findOrNull(by_uid_, uid);
}
Snapshot::WorkloadPtr Snapshot::workloadByIp(const IpBytes& ip) const {
  return findOrNull(workload_by_ip_, ip);
}
Snapshot::ServicePtr Snapshot::serviceByVip(const IpBytes& ip) const {
  return findOrNull(service_by_vip_, ip);
}
Snapshot::ServicePtr Snapshot::serviceByKey(std::string_view key) const {
  return findOrNull(by_key_, key);
}

const std::vector<Snapshot::WorkloadPtr>& Snapshot::endpointsOf(std::string_view key) const {
  auto it = endpoints_.find(key);
  return it == endpoints_.end() ? noWorkloads() : it->second;
}

std::vector<Snapshot::PolicyPtr> Snapshot::policiesFor(
    const istio::workload::Workload& workload) const {
  std::vector<PolicyPtr> out = global_policies_;
  if (auto it = namespace_policies_.find(workload.namespace_()); it != namespace_policies_.end()) {
    out.insert(out.end(), it->second.begin(), it->second.end());
  }
  for (const std::string& name : workload.authorization_policies()) {
    auto it = policies_.find(name);
    if (it == policies_.end()) continue;
    const istio::security::Authorization& policy = *it->second;
    const bool counted = policy.scope() == istio::security::GLOBAL ||
                         (policy.scope() == istio::security::NAMESPACE &&
                          policy.namespace_() == workload.namespace_());
    if (!counted) out.push_back(it->second);
  }
  // Name order, as the policies map has it.
  auto key = [](const PolicyPtr& p) { return std::tie(p->namespace_(), p->name()); };
  std::sort(out.begin(), out.end(),
            [&](const PolicyPtr& a, const PolicyPtr& b) { return key(a) < key(b); });
  return out;
}

const std::vector<Snapshot::WorkloadPtr>& Snapshot::workloadsOnNode(std::string_view node) const {
  auto it = by_node_.find(node);
  return it == by_node_.end() ? noWorkloads() : it->second;
}

}  // namespace ambit::agent
