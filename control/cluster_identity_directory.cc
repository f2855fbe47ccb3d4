#include "control/cluster_identity_directory.h"

#include <absl/strings/str_cat.h>

#include "k8s/core.pb.h"

namespace ambit::control {

void ClusterIdentityDirectory::update(const source::ConfigState& state) {
  auto index = std::make_shared<Index>();
  for (const config::Object& o : state.objects) {
    if (o.kind->kind != config::Kind::kPod) continue;
    const auto& pod = o.as<k8s::Pod>();
    if (pod.spec().node_name().empty()) continue;  // not scheduled: no node may ask for it
    std::string account = pod.spec().service_account_name();
    if (account.empty()) account = pod.spec().service_account();
    if (account.empty()) account = "default";
    (*index)[pod.spec().node_name()].insert(
        absl::StrCat("spiffe://", trust_domain_, "/ns/", o.namespace_(), "/sa/", account));
  }
  std::lock_guard<std::mutex> lock(mu_);
  index_ = std::move(index);
}

bool ClusterIdentityDirectory::podOnNodeHasIdentity(const std::string& node,
                                                    const std::string& spiffe_id) const {
  std::shared_ptr<const Index> index;
  {
    std::lock_guard<std::mutex> lock(mu_);
    index = index_;
  }
  auto it = index->find(node);
  return it != index->end() && it->second.count(spiffe_id) > 0;
}

}  // namespace ambit::control
