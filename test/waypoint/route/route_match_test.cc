// Every field of HTTPMatchRequest, matching and not matching: one route with the match under test
// (in the text format of HTTPMatchRequest), so a request either takes it or finds no route.
#include <catch2/catch.hpp>

#include "test/waypoint/route/route_test_support.h"

namespace ambit::waypoint::testing {
namespace {

constexpr const char* kHost = "echo.demo.svc.cluster.local";

std::shared_ptr<const RouteConfig> withMatches(const std::vector<std::string>& matches) {
  std::string spec = R"(hosts: "echo" http { )";
  for (const std::string& match : matches) spec += "match { " + match + " } ";
  spec += R"(route { destination { host: "echo" } } })";
  return build({{virtualService("demo", "echo", spec)}, {}}, {service("demo", "echo")});
}

Request get(std::string path) {
  Request out;
  out.authority = "echo.demo:80";
  out.path = std::move(path);
  return out;
}

struct Case {
  const char* match;
  Request request;
  bool matches;
};

TEST_CASE("each field of a match, satisfied and not") {
  Request post = get("/");
  post.method = "POST";
  Request https = get("/");
  https.scheme = "https";
  Request port8080 = get("/");
  port8080.port = 8080;
  Request frontend = get("/");
  frontend.source_namespace = "frontend";
  Request web = get("/");
  web.source_labels = {{"app", "web"}, {"version", "v1"}};
  Request api = get("/");
  api.source_labels = {{"app", "api"}};

  const std::vector<Case> cases = {
      // uri: against the path without its query; exact, prefix, and regex as a full match.
      {R"(uri { exact: "/a" })", get("/a"), true},
      {R"(uri { exact: "/a" })", get("/a?x=1"), true},
      {R"(uri { exact: "/a" })", get("/a/"), false},
      {R"(uri { exact: "/a" })", get("/A"), false},
      {R"(uri { prefix: "/api" })", get("/api/items"), true},
      {R"(uri { prefix: "/api" })", get("/ap"), false},
      {R"(uri { prefix: "/api" })", get("/x?/api"), false},
      {R"(uri { regex: "/v[0-9]+/.*" })", get("/v12/items"), true},
      {R"(uri { regex: "/v[0-9]+/.*" })", get("/x/v1/items"), false},  // no partial match
      {R"(uri { regex: "/v1" })", get("/v1/items"), false},            // the whole path
      {R"(uri { regex: "/v1" })", get("/v1?page=2"), true},
      // ignoreUriCase: exact and prefix only; a regex keeps its case.
      {R"(uri { exact: "/Api" } ignore_uri_case: true)", get("/aPI"), true},
      {R"(uri { prefix: "/API" } ignore_uri_case: true)", get("/api/items"), true},
      {R"(uri { prefix: "/API" } ignore_uri_case: true)", get("/apx"), false},
      {R"(uri { prefix: "/API" })", get("/api/items"), false},
      {R"(uri { regex: "/api" } ignore_uri_case: true)", get("/API"), false},
      // method, scheme, authority
      {R"(method { exact: "POST" })", post, true},
      {R"(method { exact: "POST" })", get("/"), false},
      {R"(method { prefix: "PO" })", post, true},
      {R"(scheme { exact: "https" })", https, true},
      {R"(scheme { exact: "https" })", get("/"), false},
      {R"(authority { prefix: "echo.demo" })", get("/"), true},
      {R"(authority { regex: "echo\\.demo(:[0-9]+)?" })", get("/"), true},
      {R"(authority { exact: "echo.demo" })", get("/"), false},  // the port is part of it
      // headers: exact, prefix, regex, present; names in any case; repeated values joined.
      {R"(headers { key: "x-tenant" value { exact: "acme" } })",
       get("/").header("x-tenant", "acme"), true},
      {R"(headers { key: "X-Tenant" value { exact: "acme" } })",
       get("/").header("x-tenant", "acme"), true},
      {R"(headers { key: "x-tenant" value { exact: "acme" } })",
       get("/").header("x-tenant", "acme2"), false},
      {R"(headers { key: "x-tenant" value { exact: "acme" } })", get("/"), false},
      {R"(headers { key: "x-tenant" value { prefix: "ac" } })", get("/").header("x-tenant", "acme"),
       true},
      {R"(headers { key: "x-tenant" value { regex: "ac.e" } })",
       get("/").header("x-tenant", "acme"), true},
      {R"(headers { key: "x-tenant" value { regex: "ac" } })", get("/").header("x-tenant", "acme"),
       false},
      {R"(headers { key: "x-tenant" value { } })", get("/").header("x-tenant", ""), true},
      {R"(headers { key: "x-tenant" value { } })", get("/"), false},
      {R"(headers { key: "x-id" value { exact: "1,2" } })",
       get("/").header("x-id", "1").header("x-id", "2"), true},
      {R"(headers { key: "x-id" value { exact: "1" } })",
       get("/").header("x-id", "1").header("x-id", "2"), false},
      {R"(headers { key: ":method" value { exact: "GET" } })", get("/"), true},
      {R"(headers { key: ":path" value { prefix: "/a?" } })", get("/a?b"), true},
      {R"(headers { key: "host" value { prefix: "echo" } })", get("/"), true},
      // withoutHeaders: none may match; regex "*" and no type mean "present".
      {R"(without_headers { key: "end-user" value { exact: "jason" } })", get("/"), true},
      {R"(without_headers { key: "end-user" value { exact: "jason" } })",
       get("/").header("end-user", "bob"), true},
      {R"(without_headers { key: "end-user" value { exact: "jason" } })",
       get("/").header("end-user", "jason"), false},
      {R"(without_headers { key: "end-user" value { regex: "*" } })", get("/"), true},
      {R"(without_headers { key: "end-user" value { regex: "*" } })",
       get("/").header("end-user", "bob"), false},
      {R"(without_headers { key: "end-user" value { } })", get("/").header("end-user", ""), false},
      // queryParams: the first value, percent-decoded; no type means "present".
      {R"(query_params { key: "id" value { exact: "1" } })", get("/items?id=1"), true},
      {R"(query_params { key: "id" value { exact: "1" } })", get("/items?x=2&id=1&id=3"), true},
      {R"(query_params { key: "id" value { exact: "1" } })", get("/items?id=12"), false},
      {R"(query_params { key: "id" value { exact: "1" } })", get("/items?id=3&id=1"), false},
      {R"(query_params { key: "id" value { exact: "1" } })", get("/items"), false},
      {R"(query_params { key: "id" value { exact: "a b" } })", get("/items?id=a%20b"), true},
      {R"(query_params { key: "id" value { prefix: "ab" } })", get("/items?id=abc"), true},
      {R"(query_params { key: "id" value { regex: "[0-9]+" } })", get("/items?id=12"), true},
      {R"(query_params { key: "id" value { regex: "[0-9]+" } })", get("/items?id=a12"), false},
      {R"(query_params { key: "debug" value { } })", get("/items?debug"), true},
      {R"(query_params { key: "debug" value { } })", get("/items?debugger=1"), false},
      // port, source namespace and labels (which Ambit honours).
      {R"(port: 8080)", port8080, true},
      {R"(port: 8080)", get("/"), false},
      {R"(source_namespace: "frontend")", frontend, true},
      {R"(source_namespace: "frontend")", get("/"), false},
      {R"(source_labels { key: "app" value: "web" })", web, true},
      {R"(source_labels { key: "app" value: "web" })", api, false},
      {R"(source_labels { key: "app" value: "web" })", get("/"), false},
      {R"(source_labels { key: "app" value: "web" } source_labels { key: "version" value: "v2" })",
       web, false},
      // gateways: a match for gateways only never applies in the mesh.
      {R"(gateways: "mesh" uri { prefix: "/" })", get("/"), true},
      {R"(gateways: "ingress" uri { prefix: "/" })", get("/"), false},
      // Fields of one match are AND-ed.
      {R"(uri { prefix: "/a" } headers { key: "x" value { exact: "1" } })",
       get("/a").header("x", "1"), true},
      {R"(uri { prefix: "/a" } headers { key: "x" value { exact: "1" } })", get("/a"), false},
      {R"(uri { prefix: "/a" } headers { key: "x" value { exact: "1" } })",
       get("/b").header("x", "1"), false},
  };
  for (const Case& c : cases) {
    const auto config = withMatches({c.match});
    const RouteDecision d = decideRoute(*config, kHost, c.request.view(), 0);
    INFO(c.match << " with " << c.request.path << ": " << d.describe());
    CHECK((d.kind == RouteDecision::Kind::kForward) == c.matches);
    if (!c.matches) {
      CHECK(d.status == 404);
      CHECK(d.explain.size() == 1);
    }
  }
}

TEST_CASE("the matches of a route are OR-ed; no match list takes every request") {
  const auto config = withMatches({R"(uri { prefix: "/a" })", R"(uri { prefix: "/b" })"});
  const RouteDecision b = decideRoute(*config, kHost, get("/b").view(), 0);
  CHECK(b.kind == RouteDecision::Kind::kForward);
  CHECK(b.match_index == 1);
  REQUIRE(b.explain.size() == 1);
  CHECK(b.explain[0] == "demo/echo route 0 (match 0): uri prefix \"/a\" not satisfied");
  CHECK(decideRoute(*config, kHost, get("/c").view(), 0).kind == RouteDecision::Kind::kNoRoute);

  const auto all = withMatches({});
  const RouteDecision any = decideRoute(*all, kHost, get("/anything").view(), 0);
  CHECK(any.kind == RouteDecision::Kind::kForward);
  CHECK(any.match_index == -1);
}

TEST_CASE("explanations say which field failed") {
  const struct {
    const char* match;
    Request request;
    const char* why;
  } cases[] = {
      {R"(without_headers { key: "end-user" value { exact: "jason" } })",
       get("/").header("end-user", "jason"),
       R"(withoutHeaders: header end-user exact "jason" is satisfied)"},
      {R"(headers { key: "x" value { prefix: "a" } })", get("/"),
       R"(header x prefix "a" not satisfied (absent))"},
      {R"(query_params { key: "id" value { exact: "1" } })", get("/?id=2"),
       R"(query parameter id exact "1" not satisfied)"},
      {R"(uri { prefix: "/API" } ignore_uri_case: true)", get("/x"),
       R"(uri prefix "/API" (any case) not satisfied)"},
      {R"(source_labels { key: "app" value: "web" })", get("/"),
       R"(sourceLabels app="web" not satisfied)"},
      {R"(port: 8080)", get("/"), "port 8080 not satisfied"},
      {R"(gateways: "ingress")", get("/"), "bound to gateways [ingress], not mesh"},
  };
  for (const auto& c : cases) {
    const auto config = withMatches({c.match});
    const RouteDecision d = decideRoute(*config, kHost, c.request.view(), 0);
    INFO(c.match);
    REQUIRE(d.explain.size() == 1);
    CHECK(d.explain[0] == std::string("demo/echo route 0 (match 0): ") + c.why);
    CHECK(d.reason == "no route of demo/echo matches the request");
  }
}

TEST_CASE("a regex that does not compile never matches and leaves a note") {
  const auto config = withMatches(
      {R"(headers { key: "x" value { regex: "(unclosed" } })", R"(uri { prefix: "/ok" })"});
  REQUIRE(config->notes().size() == 1);
  CHECK(config->notes()[0].find("VirtualService demo/echo http[0]: header x: regex \"(unclosed\" "
                                "does not compile") == 0);
  const RouteDecision bad =
      decideRoute(*config, kHost, get("/").header("x", "(unclosed").view(), 0);
  CHECK(bad.kind == RouteDecision::Kind::kNoRoute);
  REQUIRE_FALSE(bad.explain.empty());
  CHECK(bad.explain[0] ==
        "demo/echo route 0 (match 0): header x regex \"(unclosed\" (invalid) not satisfied");
  // The other match of the route still works.
  CHECK(decideRoute(*config, kHost, get("/ok").view(), 0).kind == RouteDecision::Kind::kForward);
}

TEST_CASE("a JWT claim match never holds in the mesh") {
  const auto config =
      withMatches({R"(headers { key: "@request.auth.claims.sub" value { exact: "alice" } })"});
  CHECK(config->notes().size() == 1);
  const RouteDecision d =
      decideRoute(*config, kHost, get("/").header("@request.auth.claims.sub", "alice").view(), 0);
  CHECK(d.kind == RouteDecision::Kind::kNoRoute);
}

}  // namespace
}  // namespace ambit::waypoint::testing
