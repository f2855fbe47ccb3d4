// Outlier detection: a DestinationRule's outlierDetection as Istio configures Envoy with it and
// Envoy applies it. Each request's outcome at an endpoint is recorded; an endpoint that fails
// enough times in a row is ejected (left out of load balancing) for a while, within the limits of
// maxEjectionPercent, and minHealthPercent decides when ejections are ignored (Envoy's panic).
//
// Only Envoy's consecutive-error detectors exist here: Istio turns its success-rate detectors off.
// An OutlierDetector is pure state: time is passed in, it opens nothing and starts nothing, and it
// takes no lock, so each thread that balances requests keeps its own.
//
// Where Ambit differs from Envoy, on purpose:
//   - Envoy ejects inline but un-ejects, and forgives past ejections, only on its `interval` timer,
//     so an ejection lasts up to one interval longer than computed. Here an ejection ends exactly
//     when its time is up, and the ejection multiplier drops by one for every whole interval the
//     endpoint has spent back in service, which is what Envoy's ticks add up to.
//   - Envoy's detector is shared by all worker threads of a proxy; one OutlierDetector per thread
//     sees only that thread's requests, so each thread ejects on its own evidence.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "istio/networking/v1alpha3/destination_rule.pb.h"

namespace ambit::waypoint {

// The settings Envoy runs with for one Istio OutlierDetection, defaults applied.
struct OutlierSettings {
  using Duration = std::chrono::steady_clock::duration;

  bool enabled = false;  // false: nothing is counted and nothing is ever ejected
  // Thresholds of each consecutive-error detector; 0 turns the detector off.
  uint32_t consecutive_5xx = 5;
  uint32_t consecutive_gateway = 0;
  // With split_local_origin, connect failures, resets and timeouts count apart from responses.
  bool split_local_origin = false;
  uint32_t consecutive_local_origin = 0;
  Duration interval = std::chrono::seconds(10);
  Duration base_ejection_time = std::chrono::seconds(30);
  Duration max_ejection_time = std::chrono::seconds(300);
  uint32_t max_ejection_percent = 10;
  uint32_t min_health_percent = 0;  // Envoy's healthy_panic_threshold; 0: never panic

  // What Istio asks of Envoy for `proto` (nullptr: no outlierDetection, so disabled):
  //   consecutive5xxErrors      unset: Envoy's 5; 0: off
  //   consecutiveGatewayErrors  unset or 0: off
  //   consecutiveLocalOriginFailures  only with splitExternalLocalOriginErrors; unset or 0 leaves
  //                             Envoy's default of 5, which Envoy then enforces
  //   interval 10s, baseEjectionTime 30s when unset; Envoy's max_ejection_time is not in Istio's
  //                             API, so it is Envoy's 300s, or baseEjectionTime when longer
  //   maxEjectionPercent        0 (unset) is Envoy's 10, not "none"
  //   minHealthPercent          0 (unset) disables panic, as Istio sets it for every cluster
  // The deprecated consecutiveErrors is ignored, as current Istio ignores it.
  static OutlierSettings fromProto(const istio::networking::v1alpha3::OutlierDetection* proto);
};

// Times passed in come from one steady clock and should not go backwards from call to call: pass
// the time of the call, not of the request's start.
class OutlierDetector {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // What one request's attempt at an endpoint came to, as Envoy's router reports it.
  enum class Outcome {
    kSuccess,             // a response below 500
    k5xx,                 // a 500..599 response other than a gateway error
    kGatewayError,        // a 502, 503 or 504 response: a 5xx and a gateway error
    kLocalOriginFailure,  // no response: connect failure, reset or timeout
  };

  // The outcome of a response with `status`.
  static Outcome outcomeOf(int status);

  // Records an outcome for endpoint `uid` of `cluster` (a key the caller chooses, one per Envoy
  // cluster: service, port and subset). `cluster_size` is how many endpoints the cluster has now;
  // maxEjectionPercent is a share of it. As in Envoy:
  //   - a 5xx adds to the 5xx count; a gateway error also to the gateway count, any other 5xx
  //     zeroes the gateway count; a success zeroes both.
  //   - a local-origin failure counts as Envoy's 503/504 for it, a gateway error, unless
  //     split_local_origin; then it adds only to the local-origin count, and any response (which
  //     proves the connection) zeroes that count.
  //   - a detector fires when its count reaches its threshold exactly; the endpoint is ejected
  //     unless already ejected or unless ejecting it would put more than maxEjectionPercent of
  //     `cluster_size` out (an overflow); either way the count that fired starts again from 0.
  //   - an ejection lasts min(base_ejection_time x multiplier, max_ejection_time); the multiplier
  //     rises by one per ejection and falls by one per interval spent back in service.
  void record(const std::string& cluster, const std::string& uid, Outcome outcome, TimePoint now,
              const OutlierSettings& settings, size_t cluster_size);

  // Whether `uid` is ejected at `now`.
  bool ejected(const std::string& cluster, const std::string& uid, TimePoint now);

  struct Eligible {
    std::vector<size_t> indices;  // into the endpoints passed, in their order
    bool panic = false;           // ejections ignored: too few endpoints left in service
  };
  // The endpoints of `uids` (the cluster's endpoints) that load balancing may choose at `now`:
  // those not ejected, or all of them in panic, when fewer than min_health_percent of them are in
  // service. Envoy never panics while the share in service, scaled by its overprovisioning factor
  // 1.4, reaches 100% (5 endpoints in 7), whatever min_health_percent says. With
  // min_health_percent 0 (Istio's default) there is no panic, so when every endpoint is ejected
  // none is eligible, and the request fails as Envoy's does ("no healthy upstream", flag UH).
  Eligible eligible(const std::string& cluster, std::span<const std::string> uids, TimePoint now,
                    const OutlierSettings& settings);

  // Forgets the endpoints of `cluster` that are not in `uids`, as Envoy forgets removed hosts (an
  // ejected endpoint that is gone no longer counts against maxEjectionPercent).
  void retain(const std::string& cluster, std::span<const std::string> uids);
  // Forgets a cluster, as Envoy does when its configuration changes.
  void forget(const std::string& cluster);

  // Ejections made, over all clusters (Envoy's outlier_detection.ejections_enforced_total).
  uint64_t ejectionsTotal() const { return ejections_total_; }
  // Ejections refused by maxEjectionPercent (Envoy's outlier_detection.ejections_overflow).
  uint64_t ejectionsOverflow() const { return ejections_overflow_; }
  // Times `uid` was ejected while it has been known (Envoy's num_ejections).
  uint64_t ejectionCount(const std::string& cluster, const std::string& uid) const;
  // Endpoints of `cluster` ejected at `now` (Envoy's outlier_detection.ejections_active).
  size_t ejectedCount(const std::string& cluster, TimePoint now);

  // One known endpoint, for an admin page.
  struct EndpointStatus {
    std::string cluster;
    std::string uid;
    bool ejected = false;
    std::chrono::milliseconds ejected_for{0};  // time left, when ejected
    uint64_t ejection_count = 0;
    uint32_t consecutive_5xx = 0;
    uint32_t consecutive_gateway = 0;
    uint32_t consecutive_local_origin = 0;
  };
  std::vector<EndpointStatus> snapshot(TimePoint now);

 private:
  struct Endpoint {
    uint32_t consecutive_5xx = 0;
    uint32_t consecutive_gateway = 0;
    uint32_t consecutive_local_origin = 0;
    bool ejected = false;
    TimePoint ejected_until;
    // Envoy's ejectTimeBackoff as it stood when the endpoint came back at `returned_at`;
    // intervals in service since then have taken some of it off (see multiplier()).
    uint32_t backoff = 0;
    bool returned = false;
    TimePoint returned_at;
    uint64_t ejection_count = 0;
  };
  enum class Detector { k5xx, kGateway, kLocalOrigin };
  using Cluster = std::map<std::string, Endpoint, std::less<>>;

  // Brings `endpoint` to `now`: an ejection whose time is up ends, and the counts start over.
  static void settle(Endpoint& endpoint, TimePoint now);
  static uint32_t multiplier(const Endpoint& endpoint, TimePoint now,
                             const OutlierSettings& settings);
  void fire(Cluster& cluster, Endpoint& endpoint, Detector detector, TimePoint now,
            const OutlierSettings& settings, size_t cluster_size);
  void eject(Endpoint& endpoint, TimePoint now, const OutlierSettings& settings);

  std::map<std::string, Cluster, std::less<>> clusters_;
  uint64_t ejections_total_ = 0;
  uint64_t ejections_overflow_ = 0;
};

}  // namespace ambit::waypoint
