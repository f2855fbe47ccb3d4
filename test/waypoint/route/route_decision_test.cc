// decideRoute over the Istio examples users write, loaded from their YAML as ambitctl loads it:
// requests that must reach v1 or v2, the 90/10 split, a subset nobody defines, and the
// explanations of routes that did not match.
#include <catch2/catch.hpp>

#include "test/waypoint/route/route_test_support.h"

namespace ambit::waypoint::testing {
namespace {

using Kind = RouteDecision::Kind;

constexpr const char* kHost = "my-service.default.svc.cluster.local";

struct Case {
  const char* name;
  Request request;
  const char* subset;  // the destination's
  int route;           // the deciding route's index
};

void checkCases(const RouteConfig& config, const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SECTION(c.name) {
      const RouteDecision decision = decideRoute(config, kHost, c.request.view(), 0);
      INFO(decision.describe());
      REQUIRE(decision.kind == Kind::kForward);
      CHECK(decision.virtual_service == "default/my-service");
      CHECK(decision.route_index == c.route);
      CHECK(decision.destination.host == kHost);
      CHECK(decision.destination.subset == c.subset);
      CHECK(decision.destination.port == 80);
      CHECK(decision.explain.size() == static_cast<size_t>(c.route));
    }
  }
}

TEST_CASE("example 01: Mozilla user agents go to v2, others to v1") {
  const auto config = withExample02(exampleYaml("01-route-by-user-agent.yaml"));
  CHECK(config->notes().empty());
  checkCases(*config,
             {
                 {"a browser", Request().header("user-agent", "Mozilla/5.0 (X11)"), "v2", 0},
                 {"curl", Request().header("user-agent", "curl/8.1"), "v1", 1},
                 {"lower-case mozilla", Request().header("user-agent", "mozilla/5.0"), "v1", 1},
                 {"Mozilla inside the value", Request().header("user-agent", "x Mozilla"), "v1", 1},
                 {"no user agent", Request(), "v1", 1},
             });
  SECTION("the explanation names the header that failed") {
    const RouteDecision decision =
        decideRoute(*config, kHost, Request().header("user-agent", "curl/8.1").view(), 0);
    REQUIRE(decision.explain.size() == 1);
    CHECK(decision.explain[0] ==
          "default/my-service route 0 (match 0): header user-agent prefix \"Mozilla\" not "
          "satisfied");
    const RouteDecision quiet =
        decideRoute(*config, kHost, Request().header("user-agent", "curl/8.1").view(), 0, false);
    CHECK(quiet.explain.empty());
    CHECK(quiet.destination.subset == "v1");
  }
}

TEST_CASE("example 03: the canary split sends exactly 90% to v1 and 10% to v2") {
  const auto config = withExample02(exampleYaml("03-canary-90-10.yaml"));
  const Request request;
  std::map<std::string, int> counts;
  constexpr int kDraws = 10000;
  for (int i = 0; i < kDraws; ++i) {
    const RouteDecision d = decideRoute(*config, kHost, request.view(), randomAt(i, kDraws));
    REQUIRE(d.kind == Kind::kForward);
    ++counts[d.destination.subset];
  }
  CHECK(counts["v1"] == 9000);
  CHECK(counts["v2"] == 1000);
  CHECK(counts.size() == 2);

  // The edges of the range and of the split.
  const auto subsetAt = [&](uint32_t random) {
    return decideRoute(*config, kHost, request.view(), random).destination.subset;
  };
  CHECK(subsetAt(0) == "v1");
  CHECK(subsetAt(randomAt(90, 100) - 1) == "v1");
  CHECK(subsetAt(randomAt(90, 100)) == "v2");
  CHECK(subsetAt(UINT32_MAX) == "v2");
  CHECK(decideRoute(*config, kHost, request.view(), 0).destination_index == 0);
  CHECK(decideRoute(*config, kHost, request.view(), UINT32_MAX).destination_index == 1);
}

TEST_CASE("example 04: beta users go to v2") {
  const auto config = withExample02(exampleYaml("04-ab-testing.yaml"));
  checkCases(*config, {
                          {"beta", Request().header("x-user-type", "beta"), "v2", 0},
                          {"Beta (exact is case-sensitive)",
                           Request().header("x-user-type", "Beta"), "v1", 1},
                          {"beta2", Request().header("x-user-type", "beta2"), "v1", 1},
                          {"other", Request().header("x-user-type", "stable"), "v1", 1},
                          {"absent", Request(), "v1", 1},
                      });
}

TEST_CASE("example 05: route by URI prefix, then by header, then the default") {
  const auto config = withExample02(exampleYaml("05-request-routing.yaml"));
  Request v2_path;
  v2_path.path = "/api/v2/items?page=2";
  Request v2_prefix_only;
  v2_prefix_only.path = "/api/v2";
  Request v1_path;
  v1_path.path = "/api/v1/items";
  Request upper;
  upper.path = "/API/v2/items";
  Request query_only;
  query_only.path = "/items?path=/api/v2";
  checkCases(*config, {
                          {"/api/v2/items", v2_path, "v2", 0},
                          {"/api/v2", v2_prefix_only, "v2", 0},
                          {"/api/v1 path", v1_path, "v1", 2},
                          {"upper-case path", upper, "v1", 2},
                          {"the prefix in the query only", query_only, "v1", 2},
                          {"jason", Request().header("end-user", "jason"), "v2", 1},
                          {"jasonx", Request().header("end-user", "jasonx"), "v1", 2},
                      });
  SECTION("each earlier route says why it failed") {
    const RouteDecision d =
        decideRoute(*config, kHost, Request().header("end-user", "bob").view(), 0);
    REQUIRE(d.explain.size() == 2);
    CHECK(d.explain[0] ==
          "default/my-service route 0 (match 0): uri prefix \"/api/v2\" not satisfied");
    CHECK(d.explain[1] ==
          "default/my-service route 1 (match 0): header end-user exact \"jason\" not satisfied");
  }
}
TEST_CASE("a subset no DestinationRule defines is no route, 503 with flag NR") {
  const auto config = build(loadYaml(example02Yaml() + R"(
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: my-service
spec:
  hosts:
  - my-service
  http:
  - route:
    - destination:
        host: my-service
        subset: v3
)"),
                            {service("default", "my-service")});
  const RouteDecision d = decideRoute(*config, kHost, Request().view(), 0);
  CHECK(d.kind == Kind::kNoRoute);
  CHECK(d.status == 503);
  CHECK(d.reason ==
        "subset v3 of my-service.default.svc.cluster.local is not defined by any "
        "DestinationRule");
  CHECK(d.route_index == 0);
  CHECK(d.describe() ==
        "no route (503 NR): subset v3 of my-service.default.svc.cluster.local is not defined by "
        "any DestinationRule");
}

}  // namespace
}  // namespace ambit::waypoint::testing
