// The CA's view of which identities run on which node, rebuilt from every new configuration:
// a node's agent may obtain the identity of a pod only when that pod is scheduled on its node.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#include "control/ca/identity_directory.h"
#include "control/source/config_state.h"

namespace ambit::control {

class ClusterIdentityDirectory final : public ca::IdentityDirectory {
 public:
  explicit ClusterIdentityDirectory(std::string trust_domain)
      : trust_domain_(std::move(trust_domain)) {}

  void update(const source::ConfigState& state);
  bool podOnNodeHasIdentity(const std::string& node, const std::string& spiffe_id) const override;

 private:
  using Index = std::unordered_map<std::string, std::set<std::string>>;  // node -> SPIFFE IDs

  const std::string trust_domain_;
  mutable std::mutex mu_;
  std::shared_ptr<const Index> index_ = std::make_shared<Index>();
};

}  // namespace ambit::control
