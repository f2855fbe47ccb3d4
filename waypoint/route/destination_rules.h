// DestinationRules as they apply to one host: which rule decides, the subsets it defines, and its
// traffic policy merged for a subset and a port.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "istio/networking/v1alpha3/destination_rule.pb.h"

namespace ambit::waypoint {

namespace networking = ::istio::networking::v1alpha3;

// One DestinationRule of the snapshot.
struct DestinationRuleEntry {
  std::string namespace_;
  std::string name;
  networking::DestinationRule spec;
};

// A rule with its host resolved (see HostResolver).
struct ResolvedRule {
  const DestinationRuleEntry* entry = nullptr;
  std::string host;
};

// The DestinationRules that apply to one host.
struct HostRules {
  // The deciding rule first, then the other rules of its namespace for the same host, whose
  // subsets are added to its own (Istio merges those); empty when no rule applies.
  std::vector<const DestinationRuleEntry*> rules;
  // The first traffic policy of `rules`; null when none sets one.
  const networking::TrafficPolicy* traffic_policy = nullptr;
  // Subsets by name; the first definition in `rules` order wins.
  std::map<std::string, const networking::Subset*, std::less<>> subsets;

  // "demo/echo" or "demo/echo, demo/echo-extra"; "" without rules.
  std::string names() const;
};

// Selects and merges the rules that apply to `host`. The most specific host wins: a rule naming
// the host exactly over a wildcard, a longer wildcard over a shorter one. Among equally specific
// rules, those of `preferred_namespace` (the service's namespace) come first, then those of the
// root namespace istio-system, then the others by namespace and name; the first decides, and the
// other rules of its namespace for that same host are merged into it. Duplicate subsets are
// reported to `notes` when it is not null.
HostRules selectRules(const std::vector<ResolvedRule>& rules, std::string_view host,
                      std::string_view preferred_namespace, std::vector<std::string>* notes);

// The traffic policy for (host, subset, port), as the pieces of the protos that apply, merged
// field by field in Istio's order: the rule's top-level policy, its port-level settings for
// `port`, the subset's policy, the subset's port-level settings. Pointers are into the rules.
struct TrafficPolicyView {
  std::string destination_rule;  // HostRules::names(); "" when no rule applies
  const networking::LoadBalancerSettings* load_balancer = nullptr;
  const networking::ConnectionPoolSettings* connection_pool = nullptr;
  const networking::OutlierDetection* outlier_detection = nullptr;
  const networking::ClientTLSSettings* tls = nullptr;
};

// `subset` empty: the host's policy. A subset the rules do not define contributes nothing.
TrafficPolicyView mergeTrafficPolicy(const HostRules& rules, std::string_view subset,
                                     uint16_t port);

// True when every label of `subset` has the same value in `labels`.
bool subsetSelectsLabels(const networking::Subset& subset,
                         const std::map<std::string, std::string>& labels);

}  // namespace ambit::waypoint
