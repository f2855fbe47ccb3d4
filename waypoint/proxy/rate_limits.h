// The local rate limits a waypoint applies: EnvoyFilters inserting Envoy's local rate limit filter
// (core/config/local_rate_limit.h), each with token buckets of its own (local_rate_limit.h).
//
// Scope, as Envoy would apply the same filter: one that targets the waypoint (targetRefs, a
// selector matching the waypoint's pods, or none) is the waypoint's own filter, one bucket for
// every request it serves, shared by its workers as Envoy shares one per process. One whose
// workload selector matches endpoints behind the waypoint (Istio's example writes it for those
// endpoints' sidecars) gets one bucket per such endpoint, taken from when a request is about to
// go to it, as each sidecar would have its own.
//
// Shared by the workers: a bucket is taken under a lock, once per request.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/config/local_rate_limit.h"
#include "core/metrics/registry.h"
#include "core/status.h"
#include "istio/networking/v1alpha3/envoy_filter.pb.h"
#include "waypoint/proxy/local_rate_limit.h"

namespace ambit::waypoint {

struct EnvoyFilterEntry {
  std::string namespace_;
  std::string name;
  istio::networking::v1alpha3::EnvoyFilter spec;
};

struct RateLimitRule {
  std::string filter;  // "namespace/name" of the EnvoyFilter
  std::string namespace_;
  bool per_endpoint = false;                    // else the waypoint's own
  std::map<std::string, std::string> selector;  // per_endpoint: the endpoints it selects
  config::LocalRateLimit config;
};

// The rules of `filters` for the waypoint `waypoint_namespace`/`waypoint_name`; patches that are
// not a local rate limit are skipped with a note.
std::vector<RateLimitRule> rateLimitRules(const std::vector<EnvoyFilterEntry>& filters,
                                          const std::string& waypoint_namespace,
                                          const std::string& waypoint_name,
                                          std::vector<std::string>* notes);

class RateLimits {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // Counters go to `registry` under Envoy's names, "envoy_<stat_prefix>_http_local_rate_limit_
  // <counter>" (enabled, ok, rate_limited, enforced); it may be null.
  RateLimits(std::vector<RateLimitRule> rules, metrics::Registry* registry);

  // The decision for a request about to go to the endpoint `uid` (namespace and labels): the
  // waypoint's own rules first, then those selecting the endpoint; the first that rejects wins.
  LocalRateLimitDecision check(const std::string& uid, const std::string& endpoint_namespace,
                               const std::map<std::string, std::string>& labels, TimePoint now,
                               uint64_t enabled_random, uint64_t enforced_random);

  bool empty() const { return rules_.empty(); }
  const std::vector<RateLimitRule>& rules() const { return rules_; }

 private:
  struct Counters {
    metrics::Counter* enabled = nullptr;
    metrics::Counter* ok = nullptr;
    metrics::Counter* rate_limited = nullptr;
    metrics::Counter* enforced = nullptr;
  };

  const std::vector<RateLimitRule> rules_;
  std::vector<Counters> counters_;  // per rule
  std::mutex mu_;
  std::map<std::pair<size_t, std::string>, LocalRateLimiter> buckets_;  // (rule, endpoint uid)
};

}  // namespace ambit::waypoint
