#include "waypoint/route/route_config.h"

#include <algorithm>
#include <set>
#include <tuple>
#include <utility>

#include <absl/strings/ascii.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_join.h>

#include "waypoint/route/text.h"

namespace ambit::waypoint {
namespace {

// Istio's retry policy for routes that set none (its retry.DefaultPolicy).
RetryPolicy istioDefaultRetries() {
  RetryPolicy out;
  out.attempts = 2;
  out.retry_on = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes";
  out.retriable_status_codes = {503};
  out.istio_default = true;
  return out;
}

bool appliesToMesh(const networking::VirtualService& spec) {
  const auto& gateways = spec.gateways();
  return gateways.empty() || std::find(gateways.begin(), gateways.end(), "mesh") != gateways.end();
}

template <typename Entry>
void sortByName(std::vector<Entry>& entries) {
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.namespace_, a.name) < std::tie(b.namespace_, b.name);
  });
}

}  // namespace

absl::StatusOr<std::shared_ptr<const RouteConfig>> RouteConfig::build(RouteConfigInput input) {
  std::set<std::string, std::less<>> namespaces;
  for (const ServiceInfo& service : input.services) namespaces.insert(service.namespace_);
  for (const auto& entry : input.virtual_services) namespaces.insert(entry.namespace_);
  for (const auto& entry : input.destination_rules) namespaces.insert(entry.namespace_);
  std::shared_ptr<RouteConfig> config(
      new RouteConfig(HostResolver(input.domain_suffix, std::move(namespaces))));
  config->default_policy_.retries = istioDefaultRetries();
  AMBIT_RETURN_IF_ERROR(config->addServices(std::move(input.services)));

  sortByName(input.virtual_services);
  config->virtual_services_ = std::move(input.virtual_services);
  std::vector<CompiledRange> compiled;
  for (const VirtualServiceEntry& entry : config->virtual_services_) {
    CompiledRange range{config->http_rules_.size(), 0, config->tcp_rules_.size(), 0};
    if (appliesToMesh(entry.spec)) {
      for (int i = 0; i < entry.spec.http_size(); ++i) config->compileHttpRoute(entry, i);
      for (int i = 0; i < entry.spec.tcp_size(); ++i) config->compileTcpRoute(entry, i);
    }
    range.http_end = config->http_rules_.size();
    range.tcp_end = config->tcp_rules_.size();
    compiled.push_back(range);
  }
  config->bindServices(compiled);

  sortByName(input.destination_rules);
  config->destination_rules_ = std::move(input.destination_rules);
  config->indexDestinationRules();
  return std::shared_ptr<const RouteConfig>(std::move(config));
}

absl::Status RouteConfig::addServices(std::vector<ServiceInfo> services) {
  std::sort(services.begin(), services.end(),
            [](const ServiceInfo& a, const ServiceInfo& b) { return a.hostname < b.hostname; });
  for (ServiceInfo& service : services) {
    service.hostname = absl::AsciiStrToLower(service.hostname);
    if (service.hostname.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("a service of namespace \"", service.namespace_, "\" has no hostname"));
    }
    std::vector<std::string> keys = service.vips;
    keys.push_back(service.hostname);
    for (const std::string& key : keys) {
      if (!service_index_.emplace(key, services_.size()).second) {
        return absl::InvalidArgumentError(
            absl::StrCat("service ", service.hostname, ": ", key, " names another service too"));
      }
    }
    services_.push_back(ServiceRoutes{std::move(service), {}, {}, {}});
  }
  return absl::OkStatus();
}

void RouteConfig::bindServices(const std::vector<CompiledRange>& compiled) {
  for (ServiceRoutes& routes : services_) {
    const ServiceInfo& service = routes.service;
    // (specificity, index): 0 for a host naming the service or one of its VIPs, then wildcards,
    // longer suffixes first. Stable on the index, which is namespace/name order.
    std::vector<std::pair<size_t, size_t>> chosen;
    for (size_t i = 0; i < virtual_services_.size(); ++i) {
      const VirtualServiceEntry& entry = virtual_services_[i];
      size_t best = SIZE_MAX;
      for (const std::string& host : entry.spec.hosts()) {
        const std::string resolved = resolver_.resolve(host, entry.namespace_);
        const auto& vips = service.vips;
        if (resolved == service.hostname ||
            std::find(vips.begin(), vips.end(), resolved) != vips.end()) {
          best = 0;
        } else if (isWildcardHost(resolved) && hostMatches(resolved, service.hostname)) {
          best = std::min(best, SIZE_MAX - 1 - resolved.size());
        }
      }
      if (best == SIZE_MAX) continue;
      if (!appliesToMesh(entry.spec)) {
        notes_.push_back(absl::StrCat("VirtualService ", entry.namespace_, "/", entry.name,
                                      " names ", service.hostname, " but is bound to gateways [",
                                      absl::StrJoin(entry.spec.gateways(), ", "),
                                      "] only: the waypoint does not use it"));
        continue;
      }
      chosen.emplace_back(best, i);
    }
    std::stable_sort(chosen.begin(), chosen.end());
    for (const auto& [specificity, i] : chosen) {
      routes.virtual_services.push_back(
          absl::StrCat(virtual_services_[i].namespace_, "/", virtual_services_[i].name));
      for (size_t r = compiled[i].http_begin; r < compiled[i].http_end; ++r) {
        routes.http.push_back(http_rules_[r].get());
      }
      for (size_t r = compiled[i].tcp_begin; r < compiled[i].tcp_end; ++r) {
        routes.tcp.push_back(tcp_rules_[r].get());
      }
    }
  }
}

void RouteConfig::indexDestinationRules() {
  for (const DestinationRuleEntry& entry : destination_rules_) {
    if (entry.spec.has_workload_selector()) {
      notes_.push_back(absl::StrCat("DestinationRule ", entry.namespace_, "/", entry.name,
                                    " has a workloadSelector, which selects client proxies: "
                                    "the waypoint does not use it"));
      continue;
    }
    resolved_rules_.push_back({&entry, resolver_.resolve(entry.spec.host(), entry.namespace_)});
  }
  // Every host the snapshot names gets its rules now; others are looked up on demand.
  std::set<std::string, std::less<>> hosts;
  for (const ServiceRoutes& routes : services_) hosts.insert(routes.service.hostname);
  for (const auto& rule : http_rules_) {
    for (const WeightedTarget& target : rule->targets) hosts.insert(target.target.host);
    for (const MirrorPolicy& mirror : rule->policy.mirrors) hosts.insert(mirror.target.host);
  }
  for (const auto& rule : tcp_rules_) {
    for (const WeightedTarget& target : rule->targets) hosts.insert(target.target.host);
  }
  for (const std::string& host : hosts) {
    host_rules_.emplace(host,
                        selectRules(resolved_rules_, host, preferredNamespace(host), &notes_));
  }
}

std::string_view RouteConfig::preferredNamespace(std::string_view host) const {
  const auto it = service_index_.find(host);
  if (it != service_index_.end()) return services_[it->second].service.namespace_;
  return resolver_.namespaceOf(host);
}

const ServiceRoutes* RouteConfig::findService(std::string_view hostname_or_vip) const {
  auto it = service_index_.find(hostname_or_vip);
  if (it == service_index_.end()) it = service_index_.find(toLower(hostname_or_vip));
  return it == service_index_.end() ? nullptr : &services_[it->second];
}

HostRules RouteConfig::destinationRules(std::string_view host) const {
  const auto it = host_rules_.find(host);
  if (it != host_rules_.end()) return it->second;
  return selectRules(resolved_rules_, host, preferredNamespace(host), nullptr);
}

const networking::Subset* RouteConfig::findSubset(std::string_view host,
                                                  std::string_view subset) const {
  const auto lookup = [subset](const HostRules& rules) -> const networking::Subset* {
    const auto found = rules.subsets.find(subset);
    return found == rules.subsets.end() ? nullptr : found->second;
  };
  const auto it = host_rules_.find(host);
  if (it != host_rules_.end()) return lookup(it->second);
  return lookup(selectRules(resolved_rules_, host, preferredNamespace(host), nullptr));
}

TrafficPolicyView RouteConfig::trafficPolicy(std::string_view host, std::string_view subset,
                                             uint16_t port) const {
  const auto it = host_rules_.find(host);
  if (it != host_rules_.end()) return mergeTrafficPolicy(it->second, subset, port);
  return mergeTrafficPolicy(destinationRules(host), subset, port);
}

bool subsetSelects(const RouteConfig& config, std::string_view host, std::string_view subset,
                   const std::map<std::string, std::string>& workload_labels) {
  if (subset.empty()) return true;
  const networking::Subset* found = config.findSubset(host, subset);
  return found != nullptr && subsetSelectsLabels(*found, workload_labels);
}

}  // namespace ambit::waypoint
