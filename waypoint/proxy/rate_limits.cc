#include "waypoint/proxy/rate_limits.h"

#include <absl/strings/str_cat.h>

namespace ambit::waypoint {
namespace {

constexpr const char* kGatewayNameLabel = "gateway.networking.k8s.io/gateway-name";

bool selects(const std::map<std::string, std::string>& selector,
             const std::map<std::string, std::string>& labels) {
  for (const auto& [key, value] : selector) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  return true;
}

// Envoy's Prometheus name of a filter counter: dots of the stat name become underscores.
std::string statMetric(const std::string& stat_prefix, const char* counter) {
  std::string name = absl::StrCat("envoy_", stat_prefix, "_http_local_rate_limit_", counter);
  for (char& c : name) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '_')) c = '_';
  }
  return name;
}

}  // namespace

std::vector<RateLimitRule> rateLimitRules(const std::vector<EnvoyFilterEntry>& filters,
                                          const std::string& waypoint_namespace,
                                          const std::string& waypoint_name,
                                          std::vector<std::string>* notes) {
  std::vector<RateLimitRule> out;
  const std::map<std::string, std::string> own_labels = {{kGatewayNameLabel, waypoint_name}};
  for (const EnvoyFilterEntry& filter : filters) {
    const std::string name = absl::StrCat(filter.namespace_, "/", filter.name);
    for (const auto& patch : filter.spec.config_patches()) {
      absl::StatusOr<config::LocalRateLimit> limit = config::readLocalRateLimitPatch(patch);
      if (!limit.ok()) {
        if (notes != nullptr) {
          notes->push_back(absl::StrCat(
              "EnvoyFilter ", name, ": patch skipped: ", std::string(limit.status().message())));
        }
        continue;
      }
      RateLimitRule rule;
      rule.filter = name;
      rule.namespace_ = filter.namespace_;
      rule.config = *limit;
      if (filter.spec.has_workload_selector() && filter.spec.targetrefs().empty()) {
        const auto& labels = filter.spec.workload_selector().labels();
        std::map<std::string, std::string> selector(labels.begin(), labels.end());
        rule.per_endpoint =
            !(filter.namespace_ == waypoint_namespace && selects(selector, own_labels));
        if (rule.per_endpoint) rule.selector = std::move(selector);
      }
      out.push_back(std::move(rule));
    }
  }
  return out;
}

RateLimits::RateLimits(std::vector<RateLimitRule> rules, metrics::Registry* registry)
    : rules_(std::move(rules)) {
  for (const RateLimitRule& rule : rules_) {
    Counters c;
    if (registry != nullptr) {
      const std::string& prefix = rule.config.stat_prefix;
      const std::string help = "Envoy's local rate limit filter counter.";
      c.enabled = &registry->counter(statMetric(prefix, "enabled"), help);
      c.ok = &registry->counter(statMetric(prefix, "ok"), help);
      c.rate_limited = &registry->counter(statMetric(prefix, "rate_limited"), help);
      c.enforced = &registry->counter(statMetric(prefix, "enforced"), help);
    }
    counters_.push_back(c);
  }
}

LocalRateLimitDecision RateLimits::check(const std::string& uid,
                                         const std::string& endpoint_namespace,
                                         const std::map<std::string, std::string>& labels,
                                         TimePoint now, uint64_t enabled_random,
                                         uint64_t enforced_random) {
  LocalRateLimitDecision result;
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < rules_.size(); ++i) {
    const RateLimitRule& rule = rules_[i];
    if (rule.per_endpoint &&
        (rule.namespace_ != endpoint_namespace || !selects(rule.selector, labels))) {
      continue;
    }
    const std::pair<size_t, std::string> key{i, rule.per_endpoint ? uid : std::string()};
    auto it = buckets_.find(key);
    if (it == buckets_.end()) it = buckets_.emplace(key, LocalRateLimiter(rule.config, now)).first;
    const LocalRateLimitDecision d = it->second.decide(now, enabled_random, enforced_random);
    const Counters& c = counters_[i];
    if (d.enabled && c.enabled != nullptr) {
      c.enabled->inc();
      (d.limited ? c.rate_limited : c.ok)->inc();
      if (d.enforced) c.enforced->inc();
    }
    if (d.enforced) return d;
    if (d.enabled) result = d;
  }
  return result;
}

}  // namespace ambit::waypoint
