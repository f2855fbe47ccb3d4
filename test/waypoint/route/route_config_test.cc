// The compiled snapshot: host resolution, which VirtualServices a service gets and in what order,
// which DestinationRules apply to a host, TCP routes, and the inputs it refuses.
#include <catch2/catch.hpp>

#include "test/waypoint/route/route_test_support.h"
#include "waypoint/route/tcp_route.h"

namespace ambit::waypoint::testing {
namespace {

using Kind = RouteDecision::Kind;
constexpr const char* kHost = "echo.demo.svc.cluster.local";

// A VirtualService "<namespace>/<name>" for `hosts` sending everything to `to`.
VirtualServiceEntry routeAll(const std::string& namespace_, const std::string& name,
                             const std::string& hosts, const std::string& to) {
  return virtualService(namespace_, name,
                        hosts + R"( http { route { destination { host: ")" + to + R"(" } } })");
}

TEST_CASE("host resolution: short names, namespace forms, FQDNs, VIPs and wildcards") {
  const HostResolver resolver("cluster.local", {"demo", "other"});
  CHECK(resolver.resolve("echo", "demo") == kHost);
  CHECK(resolver.resolve("Echo", "demo") == kHost);
  CHECK(resolver.resolve("echo.demo", "other") == kHost);
  CHECK(resolver.resolve("echo.demo.svc", "other") == kHost);
  CHECK(resolver.resolve(kHost, "other") == kHost);
  CHECK(resolver.resolve("example.com", "demo") == "example.com");  // not a namespace
  CHECK(resolver.resolve("10.96.0.10", "demo") == "10.96.0.10");
  CHECK(resolver.resolve("*.demo.svc.cluster.local", "other") == "*.demo.svc.cluster.local");
  CHECK(resolver.namespaceOf(kHost) == "demo");
  CHECK(resolver.namespaceOf("example.com").empty());
  CHECK(hostMatches("*.demo.svc.cluster.local", kHost));
  CHECK(hostMatches("*", kHost));
  CHECK_FALSE(hostMatches("*.other.svc.cluster.local", kHost));
  CHECK_FALSE(hostMatches("*.demo.svc.cluster.local", "demo.svc.cluster.local"));

  // Each way of naming the service reaches it; the destination resolves in the VS's namespace.
  const struct {
    const char* name;
    const char* vs_namespace;
    const char* hosts;
  } cases[] = {
      {"short name", "demo", R"(hosts: "echo")"},
      {"name.namespace", "other", R"(hosts: "echo.demo")"},
      {"FQDN", "other", R"(hosts: "echo.demo.svc.cluster.local")"},
      {"VIP", "other", R"(hosts: "10.96.0.10")"},
      {"wildcard", "other", R"(hosts: "*.demo.svc.cluster.local")"},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      const auto config = build({{routeAll(c.vs_namespace, "vs", c.hosts, "target")}, {}},
                                {service("demo", "echo", "10.96.0.10")});
      for (const char* key : {kHost, "10.96.0.10", "ECHO.demo.svc.cluster.local"}) {
        const RouteDecision d = decideRoute(*config, key, Request().view(), 0);
        REQUIRE(d.kind == Kind::kForward);
        CHECK(d.virtual_service == std::string(c.vs_namespace) + "/vs");
        CHECK(d.destination.host == std::string("target.") + c.vs_namespace + ".svc.cluster.local");
      }
    }
  }
  SECTION("a short name in another namespace names another service") {
    const auto config = build({{routeAll("other", "vs", R"(hosts: "echo")", "target")}, {}},
                              {service("demo", "echo")});
    CHECK(decideRoute(*config, kHost, Request().view(), 0).defaultRoute());
  }
}

TEST_CASE("VirtualServices of a service merge: exact hosts first, then by namespace and name") {
  const auto config =
      build({{
                 routeAll("demo", "wide", R"(hosts: "*.svc.cluster.local")", "wide"),
                 virtualService("demo", "b-second", R"(hosts: "echo" http {
             match { uri { prefix: "/b" } } route { destination { host: "b" } } })"),
                 virtualService("demo", "a-first", R"(hosts: "echo" http {
             match { uri { prefix: "/a" } } route { destination { host: "a" } } })"),
                 routeAll("demo", "narrow", R"(hosts: "*.demo.svc.cluster.local")", "narrow"),
                 routeAll("demo", "ingress", R"(hosts: "echo" gateways: "ingress")", "ingress"),
             },
             {}},
            {service("demo", "echo")});
  const ServiceRoutes* routes = config->findService(kHost);
  REQUIRE(routes != nullptr);
  CHECK(routes->virtual_services ==
        std::vector<std::string>{"demo/a-first", "demo/b-second", "demo/narrow", "demo/wide"});
  const auto hostFor = [&](const char* path) {
    return decideRoute(*config, kHost, Request().at(path).view(), 0).destination.host;
  };
  CHECK(hostFor("/a") == "a.demo.svc.cluster.local");
  CHECK(hostFor("/b") == "b.demo.svc.cluster.local");
  CHECK(hostFor("/c") == "narrow.demo.svc.cluster.local");
  const RouteDecision c = decideRoute(*config, kHost, Request().at("/c").view(), 0);
  CHECK(c.explain.size() == 2);
  // The VirtualService bound to a gateway only is left out, with a note.
  REQUIRE(config->notes().size() == 1);
  CHECK(config->notes()[0].find("VirtualService demo/ingress names " + std::string(kHost)) == 0);
}

TEST_CASE("without a VirtualService a request goes to the service itself") {
  const auto config = build({{routeAll("demo", "vs", R"(hosts: "other")", "x")}, {}},
                            {service("demo", "echo"), service("demo", "other", "10.96.0.11")});
  Request request;
  request.port = 8080;
  const RouteDecision d = decideRoute(*config, "10.96.0.10", request.view(), 0);
  CHECK(d.defaultRoute());
  CHECK(d.destination.host == kHost);
  CHECK(d.destination.subset.empty());
  CHECK(d.destination.port == 8080);
  CHECK(d.route_index == -1);
  CHECK(d.describe() == "forward to echo.demo.svc.cluster.local port 8080 by the default route");

  const RouteDecision unknown =
      decideRoute(*config, "nope.demo.svc.cluster.local", request.view(), 0);
  CHECK(unknown.kind == Kind::kNoRoute);
  CHECK(unknown.status == 404);
  CHECK(unknown.reason == "the waypoint does not serve nope.demo.svc.cluster.local");
}

TEST_CASE("DestinationRules: the most specific host, the service's namespace, merged subsets") {
  const auto config =
      build({{},
             {
                 destinationRule("demo", "wild", R"(host: "*.demo.svc.cluster.local"
             subsets { name: "wild" } traffic_policy { load_balancer { simple: RANDOM } })"),
                 destinationRule("demo", "echo-a", R"(host: "echo"
             subsets { name: "v1" labels { key: "version" value: "v1" } })"),
                 destinationRule("demo", "echo-b", R"(host: "echo"
             traffic_policy {
               load_balancer { simple: ROUND_ROBIN }
               port_level_settings { port { number: 9090 } load_balancer { simple: RANDOM } } }
             subsets { name: "v1" labels { key: "version" value: "other" } }
             subsets { name: "v2" labels { key: "version" value: "v2" } })"),
                 destinationRule("aaa", "echo", R"(host: "echo.demo.svc.cluster.local"
             subsets { name: "foreign" })"),
                 destinationRule("demo", "selected", R"(host: "echo"
             workload_selector { match_labels { key: "app" value: "client" } })"),
             }},
            {service("demo", "echo")});
  const HostRules rules = config->destinationRules(kHost);
  CHECK(rules.names() == "demo/echo-a, demo/echo-b");
  CHECK(config->findSubset(kHost, "v2") != nullptr);
  CHECK(config->findSubset(kHost, "foreign") == nullptr);  // another namespace's rule
  CHECK(config->findSubset(kHost, "wild") == nullptr);     // a less specific rule
  // v1 is defined twice: the first definition wins, with a note.
  CHECK(subsetSelects(*config, kHost, "v1", {{"version", "v1"}}));
  CHECK_FALSE(subsetSelects(*config, kHost, "v1", {{"version", "other"}}));
  const auto& notes = config->notes();
  CHECK(std::count_if(notes.begin(), notes.end(), [](const std::string& note) {
          return note.find("subset v1 of echo.demo.svc.cluster.local is defined more than once") !=
                 std::string::npos;
        }) == 1);
  CHECK(std::count_if(notes.begin(), notes.end(), [](const std::string& note) {
          return note.find("demo/selected has a workloadSelector") != std::string::npos;
        }) == 1);

  // The traffic policy comes from echo-b, the first of the merged rules to set one; port-level
  // settings override it for their port.
  using LB = networking::LoadBalancerSettings;
  const TrafficPolicyView policy = config->trafficPolicy(kHost, "v2");
  REQUIRE(policy.load_balancer != nullptr);
  CHECK(policy.load_balancer->simple() == LB::ROUND_ROBIN);
  CHECK(config->trafficPolicy(kHost, "v2", 9090).load_balancer->simple() == LB::RANDOM);
  // A host the snapshot never named is looked up on demand: the wildcard rule applies.
  const char* other = "other.demo.svc.cluster.local";
  CHECK(config->destinationRules(other).names() == "demo/wild");
  CHECK(config->findSubset(other, "wild") != nullptr);
  CHECK(config->trafficPolicy(other, "").load_balancer->simple() == LB::RANDOM);
}

TEST_CASE("TCP routes: port and subnet matches, weights, the default route") {
  const auto config = build({{virtualService("demo", "echo", R"(hosts: "echo"
          tcp { match { port: 5432 destination_subnets: "10.96.0.0/16" }
                route { destination { host: "db-a" } weight: 50 }
                route { destination { host: "db-b" port { number: 6432 } } weight: 50 } }
          tcp { match { source_namespace: "ops" } route { destination { host: "db-ops" } } })")},
                             {}},
                            {service("demo", "echo"), service("demo", "plain", "10.96.0.11")});
  ConnectionView connection;
  connection.port = 5432;
  connection.destination_address = "10.96.0.10";
  TcpRouteDecision d = decideTcpRoute(*config, kHost, connection, 0);
  REQUIRE(d.kind == TcpRouteDecision::Kind::kForward);
  CHECK(d.destination.host == "db-a.demo.svc.cluster.local");
  CHECK(d.destination.port == 5432);
  d = decideTcpRoute(*config, kHost, connection, UINT32_MAX);
  CHECK(d.destination.host == "db-b.demo.svc.cluster.local");
  CHECK(d.destination.port == 6432);

  connection.destination_address = "10.97.0.10";
  d = decideTcpRoute(*config, kHost, connection, 0);
  CHECK(d.kind == TcpRouteDecision::Kind::kNoRoute);
  REQUIRE(d.explain.size() == 2);
  CHECK(d.explain[0] == "demo/echo tcp route 0 (match 0): destinationSubnets not satisfied");
  connection.source_namespace = "ops";
  CHECK(decideTcpRoute(*config, kHost, connection, 0).destination.host ==
        "db-ops.demo.svc.cluster.local");

  CHECK(decideTcpRoute(*config, "10.96.0.11", connection, 0).defaultRoute());
  CHECK(Cidr::parse("fd00::/64")->contains("fd00::1"));
  CHECK_FALSE(Cidr::parse("fd00::/64")->contains("fd01::1"));
  CHECK_FALSE(Cidr::parse("10.0.0.0/8")->contains("fd00::1"));
  CHECK(Cidr::parse("10.1.2.3")->contains("10.1.2.3"));
  CHECK_FALSE(Cidr::parse("10.0.0.0/33"));
}

TEST_CASE("services must have distinct hostnames and VIPs") {
  const auto refused = [](std::vector<ServiceInfo> services) {
    RouteConfigInput input;
    input.services = std::move(services);
    return std::string(RouteConfig::build(std::move(input)).status().message());
  };
  CHECK(refused({service("demo", "echo"), service("demo", "echo", "10.96.0.99")}) ==
        "service echo.demo.svc.cluster.local: echo.demo.svc.cluster.local names another service "
        "too");
  CHECK(refused({service("demo", "echo"), service("demo", "other")}) ==
        "service other.demo.svc.cluster.local: 10.96.0.10 names another service too");
  CHECK(refused({ServiceInfo{"demo", "", {}, {}}}) ==
        "a service of namespace \"demo\" has no hostname");
}

}  // namespace
}  // namespace ambit::waypoint::testing
