// The policies of the Istio examples users write, loaded from their YAML: timeouts and retries
// (06), outlier detection (07), faults (08), and the subsets and load balancers of example 02.
#include <catch2/catch.hpp>

#include "test/waypoint/route/route_test_support.h"

namespace ambit::waypoint::testing {
namespace {

using Kind = RouteDecision::Kind;

constexpr const char* kHost = "my-service.default.svc.cluster.local";

TEST_CASE("example 06: timeout and retries come with the decision") {
  const auto config = withExample02(exampleYaml("06-timeouts-retries.yaml"));
  Request request;
  request.port = 8080;
  const RouteDecision d = decideRoute(*config, kHost, request.view(), 12345);
  REQUIRE(d.kind == Kind::kForward);
  CHECK(d.destination.host == kHost);
  CHECK(d.destination.subset.empty());
  CHECK(d.destination.port == 8080);  // no port in the destination: the request's
  const RoutePolicy& policy = *d.policy;
  CHECK(policy.timeout_ms == 10000);
  CHECK(policy.retries.attempts == 3);
  CHECK(policy.retries.per_try_timeout_ms == 3000);
  CHECK(policy.retries.retry_on == "gateway-error,connect-failure,refused-stream");
  CHECK(policy.retries.retriable_status_codes.empty());
  CHECK_FALSE(policy.retries.istio_default);
  CHECK_FALSE(policy.delay);
  CHECK_FALSE(policy.abort);
}

TEST_CASE("example 07: the outlier detection of the DestinationRule applies to the host") {
  const auto config =
      build(loadYaml(exampleYaml("07-circuit-breaker.yaml")), {service("default", "my-service")});
  const TrafficPolicyView policy = config->trafficPolicy(kHost, "");
  CHECK(policy.destination_rule == "default/my-service");
  REQUIRE(policy.outlier_detection != nullptr);
  CHECK(policy.outlier_detection->consecutive_5xx_errors().value() == 5);
  CHECK(policy.outlier_detection->interval().seconds() == 30);
  CHECK(policy.outlier_detection->max_ejection_percent() == 100);
  CHECK(policy.load_balancer == nullptr);
  CHECK(policy.connection_pool == nullptr);
  // No VirtualService: the default route, to the service itself.
  const RouteDecision d = decideRoute(*config, kHost, Request().view(), 0);
  CHECK(d.defaultRoute());
  CHECK(d.destination.host == kHost);
  CHECK(d.policy->retries.istio_default);
  CHECK(d.policy->retries.attempts == 2);
}

TEST_CASE("example 08: the route's delay and abort, each with its percentage") {
  const auto config = withExample02(exampleYaml("08-fault-injection.yaml"));
  const RouteDecision d = decideRoute(*config, kHost, Request().view(), 0);
  REQUIRE(d.kind == Kind::kForward);
  REQUIRE(d.policy->delay);
  CHECK(d.policy->delay->delay_ms == 5000);
  CHECK(d.policy->delay->percent == 10);
  REQUIRE(d.policy->abort);
  CHECK(d.policy->abort->http_status == 500);
  CHECK(d.policy->abort->percent == 5);
  CHECK(d.policy->retries.istio_default);  // no `retries`: Istio's default policy
  CHECK_FALSE(d.policy->timeout_ms);

  // The caller's draws: 10% of evenly spread numbers hit the delay, 5% the abort.
  int delayed = 0;
  int aborted = 0;
  for (int i = 0; i < 10000; ++i) {
    delayed += percentHit(d.policy->delay->percent, randomAt(i, 10000)) ? 1 : 0;
    aborted += percentHit(d.policy->abort->percent, randomAt(i, 10000)) ? 1 : 0;
  }
  CHECK(delayed == 1000);
  CHECK(aborted == 500);
  CHECK_FALSE(percentHit(0, 0));
  CHECK(percentHit(100, UINT32_MAX));
}

TEST_CASE("example 02: subsets select workloads, and v2 overrides the load balancer only") {
  const auto config = withExample02("");
  const std::map<std::string, std::string> v2_pod = {{"app", "my-service"}, {"version", "v2"}};
  CHECK(subsetSelects(*config, kHost, "v2", v2_pod));
  CHECK_FALSE(subsetSelects(*config, kHost, "v1", v2_pod));
  CHECK_FALSE(subsetSelects(*config, kHost, "v3", v2_pod));
  CHECK(subsetSelects(*config, kHost, "", v2_pod));
  CHECK_FALSE(subsetSelects(*config, kHost, "v2", {{"app", "my-service"}}));

  const TrafficPolicyView v1 = config->trafficPolicy(kHost, "v1");
  REQUIRE(v1.load_balancer != nullptr);
  CHECK(networking::LoadBalancerSettings::SimpleLB_Name(v1.load_balancer->simple()) ==
        "ROUND_ROBIN");
  const TrafficPolicyView v2 = config->trafficPolicy(kHost, "v2");
  REQUIRE(v2.load_balancer != nullptr);
  // LEAST_CONN is deprecated in the API, so compared by name.
  CHECK(networking::LoadBalancerSettings::SimpleLB_Name(v2.load_balancer->simple()) ==
        "LEAST_CONN");
  REQUIRE(v2.connection_pool != nullptr);  // inherited from the top level
  CHECK(v2.connection_pool->tcp().max_connections() == 100);
  CHECK(v2.connection_pool->http().http2_max_requests() == 1000);
  CHECK(v2.outlier_detection == nullptr);
}

}  // namespace
}  // namespace ambit::waypoint::testing
