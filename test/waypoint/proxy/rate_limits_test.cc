// Which bucket a request takes from: the waypoint's own, or the selected endpoint's.
#include "waypoint/proxy/rate_limits.h"

#include <catch2/catch.hpp>

#include "core/config/loader.h"

namespace ambit::waypoint {
namespace {

using Clock = std::chrono::steady_clock;

// An EnvoyFilter as Istio's example 09 writes it, with its selector, bucket and enforcement.
EnvoyFilterEntry filter(const std::string& ns, const std::string& name,
                        const std::string& selector_label, int max_tokens, bool enforced) {
  const std::string yaml = absl::StrCat(R"(apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: )",
                                        name, ", namespace: ", ns, R"(}
spec:
  workloadSelector:
    labels: {)",
                                        selector_label, R"(}
  configPatches:
  - applyTo: HTTP_FILTER
    match:
      context: SIDECAR_INBOUND
      listener:
        filterChain:
          filter: {name: envoy.filters.network.http_connection_manager}
    patch:
      operation: INSERT_BEFORE
      value:
        name: envoy.filters.http.local_ratelimit
        typed_config:
          "@type": type.googleapis.com/udpa.type.v1.TypedStruct
          type_url: type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
          value:
            stat_prefix: http_local_rate_limiter
            token_bucket: {max_tokens: )",
                                        max_tokens, R"(, tokens_per_fill: 1, fill_interval: 60s}
            filter_enabled:
              runtime_key: local_rate_limit_enabled
              default_value: {numerator: 100, denominator: HUNDRED}
)",
                                        enforced ? R"(            filter_enforced:
              runtime_key: local_rate_limit_enforced
              default_value: {numerator: 100, denominator: HUNDRED}
)"
                                                 : "");
  config::LoadResult loaded;
  config::Loader().loadText(yaml, "test.yaml", loaded);
  REQUIRE(loaded.objects.size() == 1);
  EnvoyFilterEntry e;
  e.namespace_ = ns;
  e.name = name;
  e.spec = loaded.objects[0].as<istio::networking::v1alpha3::EnvoyFilter>();
  return e;
}

TEST_CASE("a filter selecting endpoints gets a bucket per endpoint; the waypoint's own, one") {
  std::vector<std::string> notes;
  auto rules = rateLimitRules(
      {filter("default", "per-pod", "app: web", 2, true),
       filter("default", "own", "gateway.networking.k8s.io/gateway-name: waypoint", 3, true)},
      "default", "waypoint", &notes);
  CHECK(notes.empty());
  REQUIRE(rules.size() == 2);
  CHECK(rules[0].per_endpoint);
  CHECK_FALSE(rules[1].per_endpoint);
  RateLimits limits(rules, nullptr);
  const auto now = Clock::now();
  const std::map<std::string, std::string> web = {{"app", "web"}};
  // Endpoint a: its own bucket of 2; the waypoint's bucket of 3 is shared by every request.
  CHECK_FALSE(limits.check("a", "default", web, now, 0, 0).enforced);
  CHECK_FALSE(limits.check("a", "default", web, now, 0, 0).enforced);
  auto third = limits.check("a", "default", web, now, 0, 0);
  CHECK(third.enforced);
  CHECK(third.status == 429);
  // The waypoint's bucket of 3: a's first two requests took 2; its third was refused by its own
  // bucket first and took none. So b, which no selector picks, gets the last one, then none.
  auto other = limits.check("b", "other", {{"app", "web"}}, now, 0, 0);
  CHECK(other.enabled);
  CHECK_FALSE(other.enforced);
  CHECK(limits.check("b", "other", {{"app", "web"}}, now, 0, 0).enforced);
}

TEST_CASE("Istio's example 09 as written counts but never rejects") {
  auto rules = rateLimitRules({filter("default", "rate-limit", "app: my-service", 100, false)},
                              "default", "waypoint", nullptr);
  REQUIRE(rules.size() == 1);
  metrics::Registry registry;
  RateLimits limits(rules, &registry);
  const auto now = Clock::now();
  for (int i = 0; i < 150; ++i) {
    CHECK_FALSE(limits.check("a", "default", {{"app", "my-service"}}, now, 0, 0).enforced);
  }
  const std::string text = registry.render();
  CHECK(text.find("envoy_http_local_rate_limiter_http_local_rate_limit_ok 100") !=
        std::string::npos);
  CHECK(text.find("envoy_http_local_rate_limiter_http_local_rate_limit_rate_limited 50") !=
        std::string::npos);
  CHECK(text.find("envoy_http_local_rate_limiter_http_local_rate_limit_enforced 0") !=
        std::string::npos);
  // An endpoint the selector does not match takes no token.
  CHECK_FALSE(limits.check("b", "default", {{"app", "other"}}, now, 0, 0).enabled);
}

}  // namespace
}  // namespace ambit::waypoint
