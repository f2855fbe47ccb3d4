// Reads the one EnvoyFilter patch Ambit supports: inserting Envoy's local rate limit HTTP filter
// (envoy.filters.http.local_ratelimit) with a token bucket. Anything else is unsupported, and the
// error says why, so it is reported rather than silently ignored.
#pragma once

#include <cstdint>
#include <string>

#include <google/protobuf/duration.pb.h>

#include "core/status.h"
#include "istio/networking/v1alpha3/envoy_filter.pb.h"

namespace ambit::config {

struct LocalRateLimit {
  std::string stat_prefix;
  uint32_t max_tokens = 0;
  uint32_t tokens_per_fill = 0;
  google::protobuf::Duration fill_interval;
  // Fractions of requests for which the filter is enabled (counts) and enforced (rejects), 0..1;
  // as in Envoy, each is 0 unless configured.
  double enabled_fraction = 0.0;
  double enforced_fraction = 0.0;
  uint32_t status_code = 429;
};

inline constexpr const char* kLocalRateLimitFilter = "envoy.filters.http.local_ratelimit";

absl::StatusOr<LocalRateLimit> readLocalRateLimitPatch(
    const istio::networking::v1alpha3::EnvoyFilter::EnvoyConfigObjectPatch& patch);

}  // namespace ambit::config
