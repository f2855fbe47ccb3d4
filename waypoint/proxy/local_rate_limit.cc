#include "waypoint/proxy/local_rate_limit.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace ambit::waypoint {
namespace {

// MILLION is the finest denominator of Envoy's FractionalPercent, so every configured fraction is
// a whole number of millionths.
constexpr uint64_t kMillion = 1000000;

bool draw(double fraction, uint64_t random) {
  const auto threshold = static_cast<uint64_t>(std::llround(std::clamp(fraction, 0.0, 1.0) * 1e6));
  return random % kMillion < threshold;
}

std::chrono::steady_clock::duration toDuration(const google::protobuf::Duration& d) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::seconds(d.seconds()) + std::chrono::nanoseconds(d.nanos()));
}

}  // namespace

LocalRateLimiter::LocalRateLimiter(config::LocalRateLimit config, TimePoint now)
    : config_(std::move(config)),
      fill_interval_(toDuration(config_.fill_interval)),
      tokens_(config_.max_tokens),
      last_fill_(now) {}

void LocalRateLimiter::refill(TimePoint now) {
  // Without an interval Envoy arms no fill timer: the bucket never refills.
  if (fill_interval_ <= std::chrono::steady_clock::duration::zero() || now < last_fill_) return;
  const int64_t fills = (now - last_fill_) / fill_interval_;
  if (fills == 0) return;
  // Keep the fills on the grid of the bucket's creation, as a periodic timer would.
  last_fill_ += fill_interval_ * fills;
  const uint64_t room = config_.max_tokens - std::min(tokens_, config_.max_tokens);
  const uint64_t per_fill = config_.tokens_per_fill;
  // Capped before multiplying: after a long idle time fills x per_fill could overflow, and the
  // bucket is full long before.
  const auto count = static_cast<uint64_t>(fills);
  const uint64_t added = per_fill == 0   ? 0
                         : count >= room ? room
                                         : std::min(room, count * per_fill);
  tokens_ += static_cast<uint32_t>(added);
}

uint32_t LocalRateLimiter::tokens(TimePoint now) {
  refill(now);
  return tokens_;
}

LocalRateLimitDecision LocalRateLimiter::decide(TimePoint now, uint64_t enabled_random,
                                                uint64_t enforced_random) {
  LocalRateLimitDecision decision;
  if (!draw(config_.enabled_fraction, enabled_random)) return decision;
  decision.enabled = true;
  ++stats_.enabled;
  refill(now);
  if (tokens_ > 0) {
    --tokens_;
    ++stats_.ok;
    return decision;
  }
  decision.limited = true;
  ++stats_.rate_limited;
  if (!draw(config_.enforced_fraction, enforced_random)) return decision;
  decision.enforced = true;
  decision.status = static_cast<int>(config_.status_code);
  ++stats_.enforced;
  return decision;
}

std::string LocalRateLimiter::statName(const char* counter) const {
  return config_.stat_prefix + ".http_local_rate_limit." + counter;
}

}  // namespace ambit::waypoint
