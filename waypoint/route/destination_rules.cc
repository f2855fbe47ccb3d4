#include "waypoint/route/destination_rules.h"

#include <algorithm>
#include <tuple>

#include <absl/strings/str_cat.h>
#include <absl/strings/str_join.h>

#include "waypoint/route/hosts.h"
#include "waypoint/route/text.h"

namespace ambit::waypoint {
namespace {

constexpr std::string_view kRootNamespace = "istio-system";

// Sort key of a candidate: lower is preferred.
std::tuple<int, size_t, int, std::string_view, std::string_view> rank(
    const ResolvedRule& rule, std::string_view host, std::string_view preferred_namespace) {
  const bool exact = rule.host == host;
  const int place = rule.entry->namespace_ == preferred_namespace ? 0
                    : rule.entry->namespace_ == kRootNamespace    ? 1
                                                                  : 2;
  // Longer wildcards are more specific: sort by negated length through SIZE_MAX - size.
  return {exact ? 0 : 1, exact ? 0 : SIZE_MAX - rule.host.size(), place, rule.entry->namespace_,
          rule.entry->name};
}

void apply(TrafficPolicyView& view, const networking::TrafficPolicy& policy, uint16_t port) {
  if (policy.has_load_balancer()) view.load_balancer = &policy.load_balancer();
  if (policy.has_connection_pool()) view.connection_pool = &policy.connection_pool();
  if (policy.has_outlier_detection()) view.outlier_detection = &policy.outlier_detection();
  if (policy.has_tls()) view.tls = &policy.tls();
  if (port == 0) return;
  for (const auto& level : policy.port_level_settings()) {
    if (level.port().number() != port) continue;
    if (level.has_load_balancer()) view.load_balancer = &level.load_balancer();
    if (level.has_connection_pool()) view.connection_pool = &level.connection_pool();
    if (level.has_outlier_detection()) view.outlier_detection = &level.outlier_detection();
    if (level.has_tls()) view.tls = &level.tls();
  }
}

}  // namespace

std::string HostRules::names() const {
  return absl::StrJoin(rules, ", ", [](std::string* out, const DestinationRuleEntry* rule) {
    absl::StrAppend(out, rule->namespace_, "/", rule->name);
  });
}

HostRules selectRules(const std::vector<ResolvedRule>& rules, std::string_view host,
                      std::string_view preferred_namespace, std::vector<std::string>* notes) {
  std::vector<const ResolvedRule*> candidates;
  for (const ResolvedRule& rule : rules) {
    if (hostMatches(rule.host, host)) candidates.push_back(&rule);
  }
  HostRules out;
  if (candidates.empty()) return out;
  std::sort(candidates.begin(), candidates.end(), [&](const auto* a, const auto* b) {
    return rank(*a, host, preferred_namespace) < rank(*b, host, preferred_namespace);
  });
  const ResolvedRule& best = *candidates.front();
  for (const ResolvedRule* rule : candidates) {
    if (rule->host != best.host || rule->entry->namespace_ != best.entry->namespace_) continue;
    out.rules.push_back(rule->entry);
    const networking::DestinationRule& spec = rule->entry->spec;
    if (out.traffic_policy == nullptr && spec.has_traffic_policy()) {
      out.traffic_policy = &spec.traffic_policy();
    }
    for (const networking::Subset& subset : spec.subsets()) {
      if (out.subsets.emplace(subset.name(), &subset).second || notes == nullptr) continue;
      notes->push_back(absl::StrCat("DestinationRule ", rule->entry->namespace_, "/",
                                    rule->entry->name, ": subset ", subset.name(), " of ", av(host),
                                    " is defined more than once (", out.names(),
                                    "); the first definition is used"));
    }
  }
  return out;
}

TrafficPolicyView mergeTrafficPolicy(const HostRules& rules, std::string_view subset,
                                     uint16_t port) {
  TrafficPolicyView view;
  view.destination_rule = rules.names();
  if (rules.traffic_policy != nullptr) apply(view, *rules.traffic_policy, port);
  if (subset.empty()) return view;
  const auto it = rules.subsets.find(subset);
  if (it != rules.subsets.end() && it->second->has_traffic_policy()) {
    apply(view, it->second->traffic_policy(), port);
  }
  return view;
}

bool subsetSelectsLabels(const networking::Subset& subset,
                         const std::map<std::string, std::string>& labels) {
  return std::all_of(subset.labels().begin(), subset.labels().end(), [&](const auto& label) {
    const auto it = labels.find(label.first);
    return it != labels.end() && it->second == label.second;
  });
}

}  // namespace ambit::waypoint
