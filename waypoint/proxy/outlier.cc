#include "waypoint/proxy/outlier.h"

#include <algorithm>

namespace ambit::waypoint {
namespace {

using Duration = OutlierSettings::Duration;

// Envoy's defaults for what Istio leaves unset.
constexpr uint32_t kEnvoyConsecutive5xx = 5;
constexpr uint32_t kEnvoyConsecutiveLocalOrigin = 5;
constexpr uint32_t kEnvoyMaxEjectionPercent = 10;
constexpr uint32_t kEnvoyHealthyPanicThreshold = 50;
constexpr Duration kEnvoyMaxEjectionTime = std::chrono::seconds(300);
// Envoy scales a priority level's health by its overprovisioning factor, 140%, which Istio leaves
// at the default, and never panics while the scaled health reaches 100%.
constexpr uint64_t kOverprovisioningPercent = 140;
// Durations past this are capped, so that multiplying an ejection time never overflows.
constexpr Duration kLongestDuration = std::chrono::hours(24 * 365 * 10);

Duration toDuration(const google::protobuf::Duration& d) {
  if (d.seconds() < 0 || (d.seconds() == 0 && d.nanos() <= 0)) return Duration::zero();
  const auto whole = std::chrono::seconds(d.seconds());
  if (whole >= kLongestDuration) return kLongestDuration;
  return std::chrono::duration_cast<Duration>(whole + std::chrono::nanoseconds(d.nanos()));
}

uint32_t percent(int32_t value) { return static_cast<uint32_t>(std::clamp(value, 0, 100)); }

// Adds one to a consecutive count; true when it reaches `threshold` (0: the detector is off). As in
// Envoy the count must equal the threshold, so a count already past it does not fire again.
bool countReaches(uint32_t& count, uint32_t threshold) {
  if (count < UINT32_MAX) ++count;
  return threshold > 0 && count == threshold;
}

}  // namespace

OutlierSettings OutlierSettings::fromProto(
    const istio::networking::v1alpha3::OutlierDetection* proto) {
  OutlierSettings out;
  if (proto == nullptr) return out;
  out.enabled = true;
  out.consecutive_5xx = proto->has_consecutive_5xx_errors()
                            ? proto->consecutive_5xx_errors().value()
                            : kEnvoyConsecutive5xx;
  out.consecutive_gateway = proto->consecutive_gateway_errors().value();
  out.split_local_origin = proto->split_external_local_origin_errors();
  if (out.split_local_origin) {
    const uint32_t v = proto->consecutive_local_origin_failures().value();
    out.consecutive_local_origin = v > 0 ? v : kEnvoyConsecutiveLocalOrigin;
  }
  if (proto->has_interval()) out.interval = toDuration(proto->interval());
  if (proto->has_base_ejection_time()) {
    out.base_ejection_time = toDuration(proto->base_ejection_time());
  }
  out.max_ejection_time = std::max(kEnvoyMaxEjectionTime, out.base_ejection_time);
  out.max_ejection_percent = proto->max_ejection_percent() > 0
                                 ? percent(proto->max_ejection_percent())
                                 : kEnvoyMaxEjectionPercent;
  // Istio sets Envoy's healthy_panic_threshold whenever minHealthPercent is not negative; a
  // negative value (which validation rejects) would leave Envoy's own default.
  out.min_health_percent = proto->min_health_percent() >= 0 ? percent(proto->min_health_percent())
                                                            : kEnvoyHealthyPanicThreshold;
  return out;
}

OutlierDetector::Outcome OutlierDetector::outcomeOf(int status) {
  if (status >= 502 && status <= 504) return Outcome::kGatewayError;
  if (status >= 500 && status <= 599) return Outcome::k5xx;
  return Outcome::kSuccess;
}

void OutlierDetector::settle(Endpoint& endpoint, TimePoint now) {
  if (!endpoint.ejected || now < endpoint.ejected_until) return;
  endpoint.ejected = false;
  endpoint.returned = true;
  endpoint.returned_at = endpoint.ejected_until;
  // As Envoy does on un-ejection, so that a count left close to its threshold before the ejection
  // does not eject the endpoint again on a few new errors.
  endpoint.consecutive_5xx = 0;
  endpoint.consecutive_gateway = 0;
  endpoint.consecutive_local_origin = 0;
}

uint32_t OutlierDetector::multiplier(const Endpoint& endpoint, TimePoint now,
                                     const OutlierSettings& settings) {
  if (!endpoint.returned || now < endpoint.returned_at) return endpoint.backoff;
  if (settings.interval <= Duration::zero()) return 0;
  // Envoy takes one off at each interval tick once the endpoint has been back for an interval.
  const auto intervals = static_cast<uint64_t>((now - endpoint.returned_at) / settings.interval);
  return intervals >= endpoint.backoff ? 0 : endpoint.backoff - static_cast<uint32_t>(intervals);
}

void OutlierDetector::eject(Endpoint& endpoint, TimePoint now, const OutlierSettings& settings) {
  uint32_t backoff = multiplier(endpoint, now, settings);
  // Envoy stops raising the multiplier once it already reaches past max_ejection_time.
  if (settings.base_ejection_time * backoff <
      settings.max_ejection_time + settings.base_ejection_time) {
    ++backoff;
  }
  endpoint.backoff = backoff;
  endpoint.returned = false;
  endpoint.ejected = true;
  endpoint.ejected_until =
      now + std::min(settings.base_ejection_time * backoff, settings.max_ejection_time);
  ++endpoint.ejection_count;
  ++ejections_total_;
}

void OutlierDetector::fire(Cluster& cluster, Endpoint& endpoint, Detector detector, TimePoint now,
                           const OutlierSettings& settings, size_t cluster_size) {
  // Envoy leaves the count alone when the endpoint is already out: it keeps counting past the
  // threshold, so it cannot fire again before a success or the end of the ejection resets it.
  if (endpoint.ejected) return;
  size_t active = 0;
  for (auto& [uid, other] : cluster) {
    settle(other, now);
    if (other.ejected) ++active;
  }
  const double share = 100.0 * static_cast<double>(active + 1) /
                       static_cast<double>(std::max<size_t>(cluster_size, 1));
  if (share <= settings.max_ejection_percent) {
    eject(endpoint, now, settings);
  } else {
    ++ejections_overflow_;
  }
  switch (detector) {
    case Detector::k5xx:
      endpoint.consecutive_5xx = 0;
      break;
    case Detector::kGateway:
      endpoint.consecutive_gateway = 0;
      break;
    case Detector::kLocalOrigin:
      endpoint.consecutive_local_origin = 0;
      break;
  }
}

void OutlierDetector::record(const std::string& cluster_key, const std::string& uid,
                             Outcome outcome, TimePoint now, const OutlierSettings& settings,
                             size_t cluster_size) {
  if (!settings.enabled) return;
  auto found = clusters_.find(cluster_key);
  // A success resets counts; an endpoint never seen failing has none, so nothing is stored.
  if (outcome == Outcome::kSuccess &&
      (found == clusters_.end() || found->second.find(uid) == found->second.end())) {
    return;
  }
  Cluster& cluster = found != clusters_.end() ? found->second : clusters_[cluster_key];
  Endpoint& endpoint = cluster[uid];
  settle(endpoint, now);

  const bool response = outcome != Outcome::kLocalOriginFailure;
  if (settings.split_local_origin) {
    if (response) {
      endpoint.consecutive_local_origin = 0;  // the connection was made
    } else {
      if (countReaches(endpoint.consecutive_local_origin, settings.consecutive_local_origin)) {
        fire(cluster, endpoint, Detector::kLocalOrigin, now, settings, cluster_size);
      }
      return;
    }
  }
  if (outcome == Outcome::kSuccess) {
    endpoint.consecutive_5xx = 0;
    endpoint.consecutive_gateway = 0;
    return;
  }
  // Without the split, Envoy reports a local-origin failure as the 503 or 504 it answers with.
  if (outcome == Outcome::kGatewayError || outcome == Outcome::kLocalOriginFailure) {
    if (countReaches(endpoint.consecutive_gateway, settings.consecutive_gateway)) {
      fire(cluster, endpoint, Detector::kGateway, now, settings, cluster_size);
    }
  } else {
    endpoint.consecutive_gateway = 0;
  }
  if (countReaches(endpoint.consecutive_5xx, settings.consecutive_5xx)) {
    fire(cluster, endpoint, Detector::k5xx, now, settings, cluster_size);
  }
}

bool OutlierDetector::ejected(const std::string& cluster_key, const std::string& uid,
                              TimePoint now) {
  auto cluster = clusters_.find(cluster_key);
  if (cluster == clusters_.end()) return false;
  auto endpoint = cluster->second.find(uid);
  if (endpoint == cluster->second.end()) return false;
  settle(endpoint->second, now);
  return endpoint->second.ejected;
}

OutlierDetector::Eligible OutlierDetector::eligible(const std::string& cluster_key,
                                                    std::span<const std::string> uids,
                                                    TimePoint now,
                                                    const OutlierSettings& settings) {
  Eligible out;
  auto cluster = clusters_.find(cluster_key);
  if (settings.enabled && cluster != clusters_.end()) {
    for (size_t i = 0; i < uids.size(); ++i) {
      auto endpoint = cluster->second.find(uids[i]);
      if (endpoint != cluster->second.end()) settle(endpoint->second, now);
      if (endpoint == cluster->second.end() || !endpoint->second.ejected) out.indices.push_back(i);
    }
  } else {
    for (size_t i = 0; i < uids.size(); ++i) out.indices.push_back(i);
  }
  const size_t total = uids.size();
  const size_t in_service = out.indices.size();
  if (in_service == total) return out;
  const uint64_t scaled_health =
      std::min<uint64_t>(100, kOverprovisioningPercent * in_service / total);
  const double healthy_percent =
      100.0 * static_cast<double>(in_service) / static_cast<double>(total);
  if (scaled_health < 100 && healthy_percent < settings.min_health_percent) {
    out.panic = true;
    out.indices.clear();
    for (size_t i = 0; i < total; ++i) out.indices.push_back(i);
  }
  return out;
}

void OutlierDetector::retain(const std::string& cluster_key, std::span<const std::string> uids) {
  auto cluster = clusters_.find(cluster_key);
  if (cluster == clusters_.end()) return;
  std::erase_if(cluster->second, [&](const auto& entry) {
    return std::find(uids.begin(), uids.end(), entry.first) == uids.end();
  });
  if (cluster->second.empty()) clusters_.erase(cluster);
}

void OutlierDetector::forget(const std::string& cluster_key) { clusters_.erase(cluster_key); }

uint64_t OutlierDetector::ejectionCount(const std::string& cluster_key,
                                        const std::string& uid) const {
  auto cluster = clusters_.find(cluster_key);
  if (cluster == clusters_.end()) return 0;
  auto endpoint = cluster->second.find(uid);
  return endpoint == cluster->second.end() ? 0 : endpoint->second.ejection_count;
}

size_t OutlierDetector::ejectedCount(const std::string& cluster_key, TimePoint now) {
  auto cluster = clusters_.find(cluster_key);
  if (cluster == clusters_.end()) return 0;
  size_t count = 0;
  for (auto& [uid, endpoint] : cluster->second) {
    settle(endpoint, now);
    if (endpoint.ejected) ++count;
  }
  return count;
}

std::vector<OutlierDetector::EndpointStatus> OutlierDetector::snapshot(TimePoint now) {
  std::vector<EndpointStatus> out;
  for (auto& [cluster_key, cluster] : clusters_) {
    for (auto& [uid, endpoint] : cluster) {
      settle(endpoint, now);
      EndpointStatus status;
      status.cluster = cluster_key;
      status.uid = uid;
      status.ejected = endpoint.ejected;
      if (endpoint.ejected) {
        status.ejected_for =
            std::chrono::duration_cast<std::chrono::milliseconds>(endpoint.ejected_until - now);
      }
      status.ejection_count = endpoint.ejection_count;
      status.consecutive_5xx = endpoint.consecutive_5xx;
      status.consecutive_gateway = endpoint.consecutive_gateway;
      status.consecutive_local_origin = endpoint.consecutive_local_origin;
      out.push_back(std::move(status));
    }
  }
  return out;
}

}  // namespace ambit::waypoint
