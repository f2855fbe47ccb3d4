// Envoy's local rate limit HTTP filter (envoy.filters.http.local_ratelimit), as an EnvoyFilter
// inserts it: one token bucket, and for each request a decision the caller carries out.
//
// The bucket starts full (max_tokens) and gains tokens_per_fill at each fill_interval since it was
// made, never past max_tokens: Envoy refills on a timer, so tokens come in whole fills, and here
// the fills due are counted from the time passed in. A request the filter is enabled for takes a
// token; with none left it is rate limited, and rejected only when the filter is also enforced
// for it. Envoy's defaults make both fractions 0% unless configured: an EnvoyFilter with
// filter_enabled but no filter_enforced (as Istio's rate limit example) counts limited requests
// and lets every one through.
//
// A rejection is Envoy's local reply: `status` (429 unless configured), the body
// kLocalRateLimitedBody and the response flag kLocalRateLimitedFlag in the access log. Envoy adds
// only the response_headers_to_add of the filter's configuration (its documentation's example
// adds x-local-rate-limit: true), which Ambit does not read, so no header is due by default.
//
// Scope: Envoy's bucket belongs to one filter configuration and is shared by all worker threads
// of the proxy, so the limit holds per proxy. A LocalRateLimiter is one bucket and takes no lock:
// it is not thread-safe. Either keep one per waypoint, guarded by the caller, to match Envoy, or
// one per worker thread, which multiplies the limit by the number of workers.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "core/config/local_rate_limit.h"

namespace ambit::waypoint {

inline constexpr const char* kLocalRateLimitedBody = "local_rate_limited";
inline constexpr const char* kLocalRateLimitedFlag = "RL";

// What the filter decided for one request.
struct LocalRateLimitDecision {
  bool enabled = false;   // the filter applied to this request (it took or wanted a token)
  bool limited = false;   // no token was left
  bool enforced = false;  // limited and enforced: answer `status` instead of forwarding
  int status = 0;         // the status to answer with, when enforced
};

// Envoy's counters, <stat_prefix>.http_local_rate_limit.<name>.
struct LocalRateLimitStats {
  uint64_t enabled = 0;       // requests the filter was enabled for
  uint64_t ok = 0;            // ... that got a token
  uint64_t rate_limited = 0;  // ... that found none
  uint64_t enforced = 0;      // ... that were rejected for it
};

class LocalRateLimiter {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // A full bucket at `now`; fills fall due at now + k * fill_interval. A configuration change
  // makes a new limiter, as Envoy makes a new bucket for a new filter configuration.
  LocalRateLimiter(config::LocalRateLimit config, TimePoint now);

  // The decision for one request at `now`. `enabled_random` and `enforced_random` are uniform
  // random numbers, one draw each, compared as Envoy's runtime fractional percent compares its
  // draw: enabled when enabled_random % 1000000 falls below enabled_fraction x 1000000.
  LocalRateLimitDecision decide(TimePoint now, uint64_t enabled_random, uint64_t enforced_random);

  // Tokens left at `now`, after the fills due.
  uint32_t tokens(TimePoint now);

  const LocalRateLimitStats& stats() const { return stats_; }
  const config::LocalRateLimit& config() const { return config_; }
  // "<stat_prefix>.http_local_rate_limit.<counter>", Envoy's name for a counter.
  std::string statName(const char* counter) const;

 private:
  void refill(TimePoint now);

  config::LocalRateLimit config_;
  std::chrono::steady_clock::duration fill_interval_;
  uint32_t tokens_;
  TimePoint last_fill_;  // when the last fill was due (or the bucket was made)
  LocalRateLimitStats stats_;
};

}  // namespace ambit::waypoint
