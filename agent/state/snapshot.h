// The agent's view of the mesh: an immutable, indexed copy of the control plane's Address
// resources. A Snapshot never changes once built; the store swaps in a new one on every push, and
// readers keep the one they hold for as long as they need it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "istio/security/authorization.pb.h"
#include "istio/workload/workload.pb.h"

namespace ambit::agent {

// An IP address as the protos carry it: 4 or 16 raw bytes.
using IpBytes = std::string;

class Snapshot {
 public:
  using WorkloadPtr = std::shared_ptr<const istio::workload::Workload>;
  using ServicePtr = std::shared_ptr<const istio::workload::Service>;
  using PolicyPtr = std::shared_ptr<const istio::security::Authorization>;
  using Addresses = std::map<std::string, std::shared_ptr<const istio::workload::Address>>;
  using Policies = std::map<std::string, PolicyPtr>;  // by resource name, "namespace/name"

  // Both maps are keyed by resource name. `version` is the store's counter; 0 means the agent has
  // not had its addresses yet, and lookups must treat the snapshot as no config at all.
  static std::shared_ptr<const Snapshot> build(const Addresses& addresses, const Policies& policies,
                                               uint64_t version);
  static std::shared_ptr<const Snapshot> build(const Addresses& addresses, uint64_t version) {
    return build(addresses, {}, version);
  }

  // An empty snapshot that has not seen a full sync: lookups find nothing.
  static std::shared_ptr<const Snapshot> empty();

  uint64_t version() const { return version_; }

  // Each returns nullptr when nothing matches.
  WorkloadPtr workloadByUid(std::string_view uid) const;
  WorkloadPtr workloadByIp(const IpBytes& ip) const;
  ServicePtr serviceByVip(const IpBytes& ip) const;
  // "namespace/hostname", the key Workload.services uses.
  ServicePtr serviceByKey(std::string_view key) const;

  // Workloads that list the service in their `services` map, in uid order.
  const std::vector<WorkloadPtr>& endpointsOf(std::string_view service_key) const;
  // Workloads scheduled on `node`, in uid order.
  const std::vector<WorkloadPtr>& workloadsOnNode(std::string_view node) const;

  // The authorization policies that apply to connections into `workload`: the global ones, its
  // namespace's, and those it lists by name; in name order.
  std::vector<PolicyPtr> policiesFor(const istio::workload::Workload& workload) const;

  // Everything the snapshot holds, in key order (uid, "namespace/hostname", policy name); for
  // debug dumps.
  const std::map<std::string, WorkloadPtr, std::less<>>& workloads() const { return by_uid_; }
  const std::map<std::string, ServicePtr, std::less<>>& services() const { return by_key_; }
  const Policies& policies() const { return policies_; }

  size_t workloadCount() const { return by_uid_.size(); }
  size_t policyCount() const { return policies_.size(); }
  size_t serviceCount() const { return by_key_.size(); }

  static std::string serviceKey(const istio::workload::Service& service);

 private:
  uint64_t version_ = 0;
  std::map<std::string, WorkloadPtr, std::less<>> by_uid_;
  std::map<IpBytes, WorkloadPtr, std::less<>> workload_by_ip_;
  std::map<IpBytes, ServicePtr, std::less<>> service_by_vip_;
  std::map<std::string, ServicePtr, std::less<>> by_key_;
  std::map<std::string, std::vector<WorkloadPtr>, std::less<>> endpoints_;
  std::map<std::string, std::vector<WorkloadPtr>, std::less<>> by_node_;
  Policies policies_;
  // policiesFor's buckets, so a connection costs a few lookups rather than a scan of all.
  std::vector<PolicyPtr> global_policies_;
  std::map<std::string, std::vector<PolicyPtr>, std::less<>> namespace_policies_;
};

}  // namespace ambit::agent
