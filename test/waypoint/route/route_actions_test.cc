// What a decided route asks for: redirects, direct responses, rewrites, header operations,
// retries, timeouts and mirrors, as Envoy would apply Istio's translation of them.
#include <catch2/catch.hpp>

#include "test/waypoint/route/route_test_support.h"

namespace ambit::waypoint::testing {
namespace {

using Kind = RouteDecision::Kind;
constexpr const char* kHost = "echo.demo.svc.cluster.local";

// Decides `request` against one VirtualService "demo/echo" with `http` routes (text format).
RouteDecision decide(const std::string& http, const Request& request,
                     std::shared_ptr<const RouteConfig>* keep) {
  *keep = build({{virtualService("demo", "echo", R"(hosts: "echo" )" + http)}, {}},
                {service("demo", "echo")});
  return decideRoute(**keep, kHost, request.view(), 0);
}

Request to(std::string target) {
  Request out;
  out.authority = "echo.demo:80";
  out.path = std::move(target);
  return out;
}

TEST_CASE("redirects: status, scheme, authority, port and path as Envoy builds them") {
  const struct {
    const char* name;
    const char* http;
    Request request;
    uint32_t status;
    const char* location;
  } cases[] = {
      {"new uri and authority, query kept",
       R"(http { redirect { uri: "/v2/login" authority: "new.example.com" } })",
       to("/login?next=1"), 301, "http://new.example.com/v2/login?next=1"},
      {"a uri with its own query replaces the request's (http's port 80 is left out)",
       R"(http { redirect { uri: "/p?only=1" } })", to("/login?next=1"), 301,
       "http://echo.demo/p?only=1"},
      {"to https: the old port goes", R"(http { redirect { scheme: "https" redirect_code: 308 } })",
       to("/a"), 308, "https://echo.demo/a"},
      {"an explicit port", R"(http { redirect { port: 8443 } })", to("/a"), 301,
       "http://echo.demo:8443/a"},
      {"the request's port",
       R"(http { redirect { authority: "x" derive_port: FROM_REQUEST_PORT } })", to("/a"), 301,
       "http://x/a"},  // port 80 is http's default
      {"the protocol's default port",
       R"(http { redirect { scheme: "https" derive_port: FROM_PROTOCOL_DEFAULT } })", to("/a"), 301,
       "https://echo.demo/a"},
      {"prefix rewrite of the matched prefix",
       R"(http { match { uri { prefix: "/old" } } redirect { prefix_rewrite: "/new" } })",
       to("/old/a?q=1"), 301, "http://echo.demo/new/a?q=1"},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      std::shared_ptr<const RouteConfig> config;
      const RouteDecision d = decide(c.http, c.request, &config);
      REQUIRE(d.kind == Kind::kRedirect);
      CHECK(d.redirect.status == c.status);
      CHECK(d.redirect.location() == c.location);
    }
  }
  SECTION("derive the request's port when it is not the default") {
    std::shared_ptr<const RouteConfig> config;
    Request request = to("/a");
    request.port = 8080;
    const RouteDecision d = decide(
        R"(http { redirect { authority: "x" derive_port: FROM_REQUEST_PORT } })", request, &config);
    CHECK(d.redirect.location() == "http://x:8080/a");
  }
}

TEST_CASE("direct responses carry their status and body") {
  std::shared_ptr<const RouteConfig> config;
  RouteDecision d = decide(
      R"(http { direct_response { status: 503 body { string: "maintenance" } }
               headers { response { set { key: "retry-after" value: "60" } } } })",
      to("/"), &config);
  REQUIRE(d.kind == Kind::kDirectResponse);
  CHECK(d.direct_response.status == 503);
  CHECK(d.direct_response.body == "maintenance");
  REQUIRE(d.headers->response.size() == 1);
  CHECK(d.headers->response[0].name == "retry-after");
  CHECK(d.describe() == "direct response 503 by demo/echo route 0");

  d = decide(R"(http { direct_response { status: 200 body { bytes: "\x01\x02" } } })", to("/"),
             &config);
  CHECK(d.direct_response.body == "\x01\x02");
}

TEST_CASE("URI rewrites replace what the match matched; authority rewrites") {
  const struct {
    const char* name;
    const char* http;
    const char* target;
    const char* path;  // nullptr: unchanged
  } cases[] = {
      {"prefix", R"(http { match { uri { prefix: "/api/v1" } } rewrite { uri: "/v1" } route {
         destination { host: "echo" } } })",
       "/api/v1/items?x=1", "/v1/items?x=1"},
      {"prefix, any case", R"(http { match { uri { prefix: "/API" } ignore_uri_case: true }
         rewrite { uri: "/b" } route { destination { host: "echo" } } })",
       "/api/x", "/b/x"},
      {"exact: the whole path", R"(http { match { uri { exact: "/login" } }
         rewrite { uri: "/auth/login" } route { destination { host: "echo" } } })",
       "/login?r=1", "/auth/login?r=1"},
      {"regex match: the whole path", R"(http { match { uri { regex: "/l.*" } }
         rewrite { uri: "/auth" } route { destination { host: "echo" } } })",
       "/login", "/auth"},
      {"no uri match: Envoy's prefix \"/\"",
       R"(http { rewrite { uri: "/v2/" } route { destination { host: "echo" } } })", "/foo",
       "/v2/foo"},
      {"uriRegexRewrite", R"(http { rewrite { uri_regex_rewrite {
         match: "^/service/([^/]+)(/.*)$" rewrite: "\\2/instance/\\1" } }
         route { destination { host: "echo" } } })",
       "/service/foo/v1/api?q", "/v1/api/instance/foo?q"},
      {"no rewrite", R"(http { route { destination { host: "echo" } } })", "/a", nullptr},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      std::shared_ptr<const RouteConfig> config;
      const RouteDecision d = decide(c.http, to(c.target), &config);
      REQUIRE(d.kind == Kind::kForward);
      if (c.path == nullptr) {
        CHECK_FALSE(d.path);
      } else {
        REQUIRE(d.path);
        CHECK(*d.path == c.path);
      }
      CHECK_FALSE(d.authority);
    }
  }
  SECTION("authority") {
    std::shared_ptr<const RouteConfig> config;
    const RouteDecision d = decide(
        R"(http { rewrite { authority: "backend.internal" } route { destination { host: "echo" } } })",
        to("/"), &config);
    CHECK(d.authority == "backend.internal");
  }
}

TEST_CASE("header operations: the destination's, then the route's; removals, set, add") {
  const auto config =
      build({{virtualService("demo", "echo", R"(hosts: "echo" http {
          headers {
            request { set { key: "X-A" value: "route" } add { key: "x-b" value: "2" } remove: "x-c" }
            response { remove: "server" set { key: "x-served-by" value: "waypoint" } }
          }
          route { destination { host: "echo" subset: "v1" } headers { request {
            set { key: "x-a" value: "dest" } set { key: "host" value: "v1.echo" } } } } })")},
             {destinationRule("demo", "echo", R"(host: "echo" subsets { name: "v1" })")}},
            {service("demo", "echo")});
  const RouteDecision d = decideRoute(*config, kHost, to("/").view(), 0);
  REQUIRE(d.kind == Kind::kForward);
  const std::vector<HeaderOp>& request = d.headers->request;
  REQUIRE(request.size() == 4);
  CHECK((request[0].kind == HeaderOp::Kind::kSet && request[0].name == "x-a" &&
         request[0].value == "dest"));
  CHECK((request[1].kind == HeaderOp::Kind::kRemove && request[1].name == "x-c"));
  CHECK((request[2].kind == HeaderOp::Kind::kSet && request[2].name == "x-a" &&
         request[2].value == "route"));
  CHECK((request[3].kind == HeaderOp::Kind::kAdd && request[3].name == "x-b" &&
         request[3].value == "2"));
  const std::vector<HeaderOp>& response = d.headers->response;
  REQUIRE(response.size() == 2);
  CHECK((response[0].kind == HeaderOp::Kind::kRemove && response[0].name == "server"));
  CHECK((response[1].kind == HeaderOp::Kind::kSet && response[1].name == "x-served-by"));
  CHECK(d.authority == "v1.echo");  // a `host` set is an authority rewrite, not a header
}

TEST_CASE("retries, timeouts, mirrors and CORS of a route") {
  std::shared_ptr<const RouteConfig> config;
  RouteDecision d = decide(R"(http {
      route { destination { host: "echo" port { number: 9080 } } }
      timeout { seconds: 0 }
      retries { attempts: 4 retry_on: "5xx, 503,reset,5xx" backoff { nanos: 25000000 }
                retry_ignore_previous_hosts { value: false } }
      mirror { host: "echo-shadow" } mirror_percentage { value: 25 }
      cors_policy { allow_methods: "GET" }
    })",
                           to("/"), &config);
  REQUIRE(d.kind == Kind::kForward);
  CHECK(d.destination.port == 9080);
  const RoutePolicy& policy = *d.policy;
  CHECK_FALSE(policy.timeout_ms);  // "0s" disables the timeout
  CHECK(policy.retries.attempts == 4);
  CHECK(policy.retries.retry_on == "5xx,reset,retriable-status-codes");
  CHECK(policy.retries.retriable_status_codes == std::vector<uint32_t>{503});
  CHECK(policy.retries.backoff_ms == 25);
  CHECK_FALSE(policy.retries.ignore_previous_hosts);
  REQUIRE(policy.mirrors.size() == 1);
  CHECK(policy.mirrors[0].target.host == "echo-shadow.demo.svc.cluster.local");
  CHECK(policy.mirrors[0].percent == 25);
  REQUIRE(policy.cors != nullptr);
  CHECK(policy.cors->allow_methods(0) == "GET");

  d = decide(R"(http { route { destination { host: "echo" } } retries { attempts: 0 }
                       mirrors { destination { host: "a" } } mirrors { destination { host: "b" }
                       percentage { value: 1.5 } } })",
             to("/"), &config);
  CHECK(d.policy->retries.attempts == 0);  // attempts 0: no retries, not the default policy
  CHECK_FALSE(d.policy->retries.istio_default);
  REQUIRE(d.policy->mirrors.size() == 2);
  CHECK(d.policy->mirrors[0].percent == 100);
  CHECK(d.policy->mirrors[1].percent == 1.5);

  d = decide(R"(http { route { destination { host: "echo" } } retries { attempts: 1 } })", to("/"),
             &config);
  CHECK(d.policy->retries.attempts == 1);
  CHECK(d.policy->retries.retry_on == config->defaultPolicy().retries.retry_on);
}

}  // namespace
}  // namespace ambit::waypoint::testing
