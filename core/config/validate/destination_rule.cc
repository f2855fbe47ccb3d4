// DestinationRule: host, subsets, traffic policies (per subset and per port), load balancing,
// tunnels and retry budgets. Connection pools, outlier detection and TLS are in traffic_policy.cc.
#include <set>

#include <absl/strings/str_cat.h>

#include "core/config/validate/common.h"
#include "core/config/validate/failover.h"
#include "core/config/validate/kinds.h"

namespace ambit::config::validate {
namespace {

namespace net = istio::networking::v1alpha3;

// Envoy's primality test for Maglev table sizes.
bool isPrime(uint64_t x) {
  if (x != 0 && x < 4) return true;
  if ((x & 1) == 0) return false;
  for (uint64_t factor = 3; factor * factor <= x; factor += 2) {
    if (x % factor == 0) return false;
  }
  return true;
}

void checkConsistentHash(const net::LoadBalancerSettings::ConsistentHashLB& hash,
                         const std::string& path, Issues& issues) {
  using Hash = net::LoadBalancerSettings::ConsistentHashLB;
  switch (hash.hash_key_case()) {
    case Hash::HASH_KEY_NOT_SET:
      issues.error(path,
                   "consistentHash needs one of httpHeaderName, httpCookie, useSourceIp or "
                   "httpQueryParameterName");
      break;
    case Hash::kHttpHeaderName:
      if (hash.http_header_name().empty()) {
        issues.error(field(path, "httpHeaderName"), "httpHeaderName must not be empty");
      }
      break;
    case Hash::kHttpQueryParameterName:
      if (hash.http_query_parameter_name().empty()) {
        issues.error(field(path, "httpQueryParameterName"),
                     "httpQueryParameterName must not be empty");
      }
      break;
    case Hash::kHttpCookie: {
      const std::string cp = field(path, "httpCookie");
      if (hash.http_cookie().name().empty()) issues.error(field(cp, "name"), "name is required");
      std::set<std::string> names;
      for (int i = 0; i < hash.http_cookie().attributes_size(); ++i) {
        const std::string& name = hash.http_cookie().attributes(i).name();
        const std::string at = field(item(field(cp, "attributes"), static_cast<size_t>(i)), "name");
        if (name.empty()) {
          issues.error(at, "cookie attribute name must not be empty");
        } else if (!names.insert(name).second) {
          issues.error(at, absl::StrCat("duplicate cookie attribute ", q(name)));
        }
      }
      break;
    }
    case Hash::kUseSourceIp:
      break;
  }
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  const uint64_t minimum_ring_size = hash.minimum_ring_size();
#pragma GCC diagnostic pop
  if (minimum_ring_size != 0) {
    if (hash.hash_algorithm_case() != Hash::HASH_ALGORITHM_NOT_SET) {
      issues.error(field(path, "minimumRingSize"),
                   "minimumRingSize cannot be set together with ringHash or maglev");
    } else {
      issues.warning(field(path, "minimumRingSize"),
                     "minimumRingSize is deprecated; use ringHash.minimumRingSize");
    }
  }
  if (hash.has_maglev()) {
    const uint64_t size = hash.maglev().table_size();
    const std::string at = field(field(path, "maglev"), "tableSize");
    if (size == 0) {
      issues.error(at, "tableSize is required for maglev");
    } else if (size >= 5000011) {
      issues.error(at, absl::StrCat("tableSize must be less than 5000011, got ", size));
    } else if (!isPrime(size)) {
      issues.error(at, absl::StrCat("tableSize must be a prime number, got ", size));
    }
  }
}

void checkZoneAware(const net::ZoneAwareLoadBalancerSetting& lb, bool has_outlier,
                    const std::string& path, Issues& issues) {
  for (int i = 0; i < lb.failover_priority_size(); ++i) {
    const std::string& label = lb.failover_priority(i);
    if (label == "topology.kubernetes.io/region" || label == "topology.kubernetes.io/zone" ||
        label == "topology.istio.io/subzone") {
      issues.error(item(field(path, "failoverPriority"), static_cast<size_t>(i)),
                   absl::StrCat("failoverPriority cannot use the topology label ", q(label),
                                "; zone-aware balancing orders regions and zones itself"));
    }
  }
  checkFailover(lb.failover(), lb.failover_priority_size() > 0, has_outlier, path, issues);
}

void checkLoadBalancer(const net::LoadBalancerSettings& lb, bool has_outlier,
                       const std::string& path, Issues& issues) {
  if (lb.has_consistent_hash()) {
    checkConsistentHash(lb.consistent_hash(), field(path, "consistentHash"), issues);
  }
  if (lb.has_locality_lb_setting() && lb.has_zone_aware_lb_setting()) {
    issues.error(field(path, "zoneAwareLbSetting"),
                 "localityLbSetting and zoneAwareLbSetting cannot both be set");
  }
  if (lb.has_locality_lb_setting()) {
    validateLocalityLb(lb.locality_lb_setting(), has_outlier, field(path, "localityLbSetting"),
                       issues);
  }
  if (lb.has_zone_aware_lb_setting()) {
    checkZoneAware(lb.zone_aware_lb_setting(), has_outlier, field(path, "zoneAwareLbSetting"),
                   issues);
  }
  if (lb.has_warmup()) {
    const auto& warmup = lb.warmup();
    const std::string wp = field(path, "warmup");
    if (!warmup.has_duration()) {
      issues.error(field(wp, "duration"), "duration is required");
    } else {
      checkDuration(issues, field(wp, "duration"), warmup.duration(), "duration");
    }
    if (warmup.has_minimum_percent() &&
        (warmup.minimum_percent().value() < 0 || warmup.minimum_percent().value() > 100)) {
      issues.error(field(wp, "minimumPercent"),
                   absl::StrCat("minimumPercent must be between 0 and 100, got ",
                                warmup.minimum_percent().value()));
    }
    if (warmup.has_aggression() && warmup.aggression().value() <= 0) {
      issues.error(field(wp, "aggression"), absl::StrCat("aggression must be greater than 0, got ",
                                                         warmup.aggression().value()));
    }
  }
}

void checkTunnel(const net::TrafficPolicy::TunnelSettings& tunnel, const std::string& path,
                 Issues& issues) {
  if (!tunnel.protocol().empty() && tunnel.protocol() != "CONNECT" && tunnel.protocol() != "POST") {
    issues.error(
        field(path, "protocol"),
        absl::StrCat("protocol must be \"CONNECT\" or \"POST\", got ", q(tunnel.protocol())));
  }
  if (tunnel.target_host().empty()) {
    issues.error(field(path, "targetHost"), "targetHost is required");
  } else if (!dnsNameProblem(tunnel.target_host(), false).empty() &&
             !isIpAddress(tunnel.target_host())) {
    issues.error(field(path, "targetHost"), absl::StrCat("targetHost ", q(tunnel.target_host()),
                                                         " is not a host name or an IP address"));
  }
  checkPort(issues, field(path, "targetPort"), tunnel.target_port(), "targetPort");
}

// The parts a policy and a port-level policy have in common.
template <class Policy>
void checkPolicyParts(const Policy& policy, const std::string& path, Issues& issues) {
  if (policy.has_outlier_detection()) {
    validateOutlierDetection(policy.outlier_detection(), field(path, "outlierDetection"), issues);
  }
  if (policy.has_connection_pool()) {
    validateConnectionPool(policy.connection_pool(), field(path, "connectionPool"), issues);
  }
  if (policy.has_load_balancer()) {
    checkLoadBalancer(policy.load_balancer(), policy.has_outlier_detection(),
                      field(path, "loadBalancer"), issues);
  }
  if (policy.has_tls()) validateClientTls(policy.tls(), field(path, "tls"), issues);
}

void checkTrafficPolicy(const net::TrafficPolicy& policy, const std::string& path, Issues& issues) {
  if (!policy.has_outlier_detection() && !policy.has_connection_pool() &&
      !policy.has_load_balancer() && !policy.has_tls() && policy.port_level_settings_size() == 0 &&
      !policy.has_tunnel() && !policy.has_proxy_protocol() && !policy.has_retry_budget()) {
    issues.error(path, "trafficPolicy must set at least one field");
    return;
  }
  if (policy.has_tunnel() && policy.has_proxy_protocol()) {
    issues.error(field(path, "proxyProtocol"), "tunnel and proxyProtocol cannot both be set");
  }
  checkPolicyParts(policy, path, issues);
  for (int i = 0; i < policy.port_level_settings_size(); ++i) {
    const auto& port_policy = policy.port_level_settings(i);
    const std::string pp = item(field(path, "portLevelSettings"), static_cast<size_t>(i));
    if (!port_policy.has_port()) {
      issues.error(field(pp, "port"), "port is required");
    } else {
      checkPort(issues, field(field(pp, "port"), "number"), port_policy.port().number());
    }
    if (!port_policy.has_outlier_detection() && !port_policy.has_connection_pool() &&
        !port_policy.has_load_balancer() && !port_policy.has_tls()) {
      issues.error(pp,
                   "a port-level policy must set at least one of loadBalancer, "
                   "connectionPool, outlierDetection or tls");
    }
    checkPolicyParts(port_policy, pp, issues);
  }
  if (policy.has_tunnel()) checkTunnel(policy.tunnel(), field(path, "tunnel"), issues);
  if (policy.has_retry_budget()) {
    const auto& budget = policy.retry_budget();
    const std::string bp = field(path, "retryBudget");
    if (budget.has_percent() && (budget.percent().value() < 0 || budget.percent().value() > 100)) {
      issues.error(field(bp, "percent"), absl::StrCat("percent must be between 0 and 100, got ",
                                                      budget.percent().value()));
    }
    if (budget.has_budget_interval()) {
      checkDuration(issues, field(bp, "budgetInterval"), budget.budget_interval(),
                    "budgetInterval");
    }
  }
}

}  // namespace

void validateDestinationRule(const net::DestinationRule& spec, Issues& issues) {
  checkHost(issues, "spec.host", spec.host());
  if (spec.has_traffic_policy()) {
    checkTrafficPolicy(spec.traffic_policy(), "spec.trafficPolicy", issues);
  }
  std::set<std::string> names;
  for (int i = 0; i < spec.subsets_size(); ++i) {
    const net::Subset& subset = spec.subsets(i);
    const std::string sp = item("spec.subsets", static_cast<size_t>(i));
    if (subset.name().empty()) {
      issues.error(field(sp, "name"), "subset name is required");
    } else if (!isIstioDnsLabel(subset.name())) {
      issues.error(field(sp, "name"),
                   absl::StrCat("subset name ", q(subset.name()), " is not a DNS label"));
    } else if (!names.insert(subset.name()).second) {
      issues.error(field(sp, "name"), absl::StrCat("duplicate subset name ", q(subset.name())));
    }
    checkLabels(issues, field(sp, "labels"), subset.labels());
    if (subset.has_traffic_policy()) {
      checkTrafficPolicy(subset.traffic_policy(), field(sp, "trafficPolicy"), issues);
    }
  }
  checkExportTo(issues, "spec.exportTo", spec.export_to(), false);
  if (spec.has_workload_selector()) {
    checkWorkloadSelector(issues, "spec.workloadSelector.matchLabels",
                          spec.workload_selector().match_labels());
    for (int i = 0; i < spec.export_to_size(); ++i) {
      if (spec.export_to(i) == "*") {
        issues.error(item("spec.exportTo", static_cast<size_t>(i)),
                     "a destination rule with a workloadSelector can be exported only to its own "
                     "namespace");
      }
    }
  }
}

}  // namespace ambit::config::validate
