// Envoy's local rate limit: the token bucket's burst, whole-interval refills and cap, the enabled
// and enforced fractions, the counters, and Istio's rate limit example as written.
#include "waypoint/proxy/local_rate_limit.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/config/loader.h"

namespace ambit::waypoint {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using TimePoint = LocalRateLimiter::TimePoint;

const TimePoint kStart = TimePoint() + std::chrono::hours(1);
// Draws for the fractions: kAlways falls below any fraction above 0%; kHalfWay is at 50%.
constexpr uint64_t kAlways = 0;
constexpr uint64_t kHalfWay = 500000;

config::LocalRateLimit bucket(uint32_t max_tokens, uint32_t tokens_per_fill,
                              std::chrono::milliseconds fill_interval, double enabled = 1.0,
                              double enforced = 1.0) {
  config::LocalRateLimit c;
  c.stat_prefix = "rl";
  c.max_tokens = max_tokens;
  c.tokens_per_fill = tokens_per_fill;
  c.fill_interval.set_seconds(fill_interval.count() / 1000);
  c.fill_interval.set_nanos(static_cast<int32_t>(fill_interval.count() % 1000 * 1000000));
  c.enabled_fraction = enabled;
  c.enforced_fraction = enforced;
  return c;
}

// How many of `count` requests at `now` get through (are not enforced).
int passed(LocalRateLimiter& limiter, int count, TimePoint now) {
  int through = 0;
  for (int i = 0; i < count; ++i) {
    if (!limiter.decide(now, kAlways, kAlways).enforced) ++through;
  }
  return through;
}

TEST_CASE("a burst of max_tokens passes and the next request is limited", "[ratelimit]") {
  LocalRateLimiter limiter(bucket(5, 1, seconds(1)), kStart);
  CHECK(limiter.tokens(kStart) == 5);
  for (int i = 0; i < 5; ++i) {
    const LocalRateLimitDecision d = limiter.decide(kStart, kAlways, kAlways);
    CHECK(d.enabled);
    CHECK_FALSE(d.limited);
  }
  const LocalRateLimitDecision d = limiter.decide(kStart, kAlways, kAlways);
  CHECK(d.enabled);
  CHECK(d.limited);
  CHECK(d.enforced);
  CHECK(d.status == 429);
  CHECK(limiter.stats().enabled == 6);
  CHECK(limiter.stats().ok == 5);
  CHECK(limiter.stats().rate_limited == 1);
  CHECK(limiter.stats().enforced == 1);
}

struct RefillCase {
  const char* name;
  milliseconds drained_at;  // when the bucket is emptied, after kStart
  milliseconds asked_at;
  uint32_t tokens;
};

TEST_CASE("the bucket refills tokens_per_fill at each whole fill_interval", "[ratelimit]") {
  // 10 tokens at most, 3 per second.
  const std::vector<RefillCase> cases = {
      {"one interval: one fill", milliseconds(0), milliseconds(1000), 3},
      {"a partial interval: nothing", milliseconds(0), milliseconds(999), 0},
      {"two and a half intervals: two fills", milliseconds(0), milliseconds(2500), 6},
      {"fills keep the bucket's own schedule, not the last request's", milliseconds(900),
       milliseconds(1000), 3},
      {"a long idle time fills up to max_tokens only", milliseconds(0), milliseconds(3600000), 10},
      {"four fills would give 12: capped at 10", milliseconds(0), milliseconds(4000), 10},
  };
  for (const RefillCase& c : cases) {
    SECTION(c.name) {
      LocalRateLimiter limiter(bucket(10, 3, seconds(1)), kStart);
      CHECK(passed(limiter, 10, kStart + c.drained_at) == 10);
      CHECK(limiter.tokens(kStart + c.drained_at) == 0);
      CHECK(limiter.tokens(kStart + c.asked_at) == c.tokens);
      CHECK(passed(limiter, 20, kStart + c.asked_at) == static_cast<int>(c.tokens));
    }
  }
}

TEST_CASE("filter_enabled decides which requests the filter sees", "[ratelimit]") {
  SECTION("0%: never counted, never limited") {
    LocalRateLimiter limiter(bucket(1, 1, seconds(60), 0.0, 1.0), kStart);
    for (int i = 0; i < 100; ++i) {
      const LocalRateLimitDecision d = limiter.decide(kStart, kAlways, kAlways);
      CHECK_FALSE(d.enabled);
      CHECK_FALSE(d.limited);
      CHECK_FALSE(d.enforced);
    }
    CHECK(limiter.stats().enabled == 0);
    CHECK(limiter.stats().rate_limited == 0);
    CHECK(limiter.tokens(kStart) == 1);  // nothing was taken
  }
  SECTION("50%: a draw below half is enabled, one at half is not") {
    LocalRateLimiter limiter(bucket(1, 1, seconds(60), 0.5, 1.0), kStart);
    CHECK(limiter.decide(kStart, kHalfWay - 1, kAlways).enabled);
    CHECK_FALSE(limiter.decide(kStart, kHalfWay, kAlways).enabled);
    CHECK_FALSE(limiter.decide(kStart, 3 * 1000000 + kHalfWay, kAlways).enabled);
    CHECK(limiter.decide(kStart, 7 * 1000000 + 1, kAlways).limited);
    CHECK(limiter.stats().enabled == 2);
  }
}

TEST_CASE("filter_enforced decides which limited requests are rejected", "[ratelimit]") {
  SECTION("100%: rejected with the configured status") {
    config::LocalRateLimit c = bucket(1, 1, seconds(60));
    c.status_code = 503;
    LocalRateLimiter limiter(c, kStart);
    CHECK_FALSE(limiter.decide(kStart, kAlways, kAlways).limited);
    const LocalRateLimitDecision d = limiter.decide(kStart, kAlways, kAlways);
    CHECK(d.enforced);
    CHECK(d.status == 503);
  }
  SECTION("50%: limited either way, rejected on a draw below half") {
    LocalRateLimiter limiter(bucket(1, 1, seconds(60), 1.0, 0.5), kStart);
    limiter.decide(kStart, kAlways, kAlways);
    const LocalRateLimitDecision counted = limiter.decide(kStart, kAlways, kHalfWay);
    CHECK(counted.limited);
    CHECK_FALSE(counted.enforced);
    CHECK(counted.status == 0);
    const LocalRateLimitDecision rejected = limiter.decide(kStart, kAlways, kHalfWay - 1);
    CHECK(rejected.enforced);
    CHECK(rejected.status == 429);
    CHECK(limiter.stats().rate_limited == 2);
    CHECK(limiter.stats().enforced == 1);
  }
}

TEST_CASE("example 09: Istio's rate limit counts but never rejects", "[ratelimit]") {
  config::LoadResult loaded;
  config::Loader().loadPath(
      std::string(AMBIT_SOURCE_DIR) + "/samples/istio/09-rate-limit-envoyfilter.yaml", loaded);
  REQUIRE(loaded.diagnostics.empty());
  REQUIRE(loaded.objects.size() == 1);
  const auto& filter = loaded.objects[0].as<istio::networking::v1alpha3::EnvoyFilter>();
  auto config = config::readLocalRateLimitPatch(filter.config_patches(0));
  INFO(config.status().ToString());
  REQUIRE(config.ok());
  // 100 tokens per 60s, filter_enabled 100%, and no filter_enforced: Envoy enforces 0%.
  CHECK(config->max_tokens == 100);
  CHECK(config->tokens_per_fill == 100);
  CHECK(config->fill_interval.seconds() == 60);
  CHECK(config->enabled_fraction == 1.0);
  CHECK(config->enforced_fraction == 0.0);

  LocalRateLimiter limiter(*config, kStart);
  for (int i = 0; i < 150; ++i) {
    const LocalRateLimitDecision d = limiter.decide(kStart + seconds(1), kAlways, kAlways);
    CHECK(d.enabled);
    CHECK(d.limited == (i >= 100));
    CHECK_FALSE(d.enforced);
  }
  CHECK(limiter.stats().enabled == 150);
  CHECK(limiter.stats().ok == 100);
  CHECK(limiter.stats().rate_limited == 50);
  CHECK(limiter.stats().enforced == 0);
  CHECK(limiter.statName("rate_limited") ==
        "http_local_rate_limiter.http_local_rate_limit.rate_limited");
  CHECK(limiter.tokens(kStart + seconds(59)) == 0);
  CHECK(limiter.tokens(kStart + seconds(60)) == 100);
}

}  // namespace
}  // namespace ambit::waypoint
