// Every field of a rule and its not-form, each value form, and the `when` keys: one rule of an
// ALLOW policy (in namespace "frontend") against the default request of authz_test_support.h,
// changed where the case needs it. "unknown" is what the waypoint cannot evaluate.
#include <functional>

#include <catch2/catch.hpp>

#include "test/waypoint/authz/authz_test_support.h"

namespace ambit::waypoint::testing {
namespace {

constexpr Outcome kMatch = Outcome::kMatch;
constexpr Outcome kNoMatch = Outcome::kNoMatch;
constexpr Outcome kUnknown = Outcome::kUnknown;

struct Case {
  const char* rule;  // JSON
  std::function<TestRequest()> request;
  Outcome expected;
};

TestRequest base() { return TestRequest(); }

std::function<TestRequest()> with(const std::function<void(TestRequest&)>& change) {
  return [change] {
    TestRequest out;
    change(out);
    return out;
  };
}

std::function<TestRequest()> path(const std::string& value) {
  return with([value](TestRequest& r) { r.path = value; });
}

std::function<TestRequest()> jwt(const std::string& claims = "{}") {
  return [claims] { return withJwt(claims); };
}

void run(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    const TestRequest request = c.request();
    INFO(c.rule << " on " << request.method << " " << request.host << request.path << " from "
                << request.principal.value_or("(plaintext)"));
    CHECK(outcomeName(ruleOutcome(c.rule, request)) == std::string(outcomeName(c.expected)));
  }
}

TEST_CASE("operation hosts: case-insensitive, against the host as sent") {
  run({
      {R"({"to": [{"operation": {"hosts": ["echo.demo:8080"]}}]})", base, kMatch},
      {R"({"to": [{"operation": {"hosts": ["ECHO.Demo:8080"]}}]})", base, kMatch},
      {R"({"to": [{"operation": {"hosts": ["echo.demo"]}}]})", base, kNoMatch},
      {R"({"to": [{"operation": {"hosts": ["echo.demo"]}}]})",
       with([](TestRequest& r) { r.host = "Echo.Demo"; }), kMatch},
      {R"({"to": [{"operation": {"hosts": ["echo.demo", "echo.demo:*"]}}]})", base, kMatch},
      {R"({"to": [{"operation": {"hosts": ["*.demo:8080"]}}]})", base, kMatch},
      {R"({"to": [{"operation": {"hosts": ["*.other:8080"]}}]})", base, kNoMatch},
      {R"({"to": [{"operation": {"hosts": ["*"]}}]})", base, kMatch},
      {R"({"to": [{"operation": {"hosts": ["*"]}}]})", with([](TestRequest& r) { r.host = ""; }),
       kNoMatch},
      {R"({"to": [{"operation": {"notHosts": ["echo.demo:*"]}}]})", base, kNoMatch},
      {R"({"to": [{"operation": {"notHosts": ["ECHO.DEMO:8080"]}}]})", base, kNoMatch},
      {R"({"to": [{"operation": {"notHosts": ["other.demo:*"]}}]})", base, kMatch},
  });
}

TEST_CASE("operation ports and methods") {
  run({
      {R"({"to": [{"operation": {"ports": ["8080"]}}]})", base, kMatch},
      {R"({"to": [{"operation": {"ports": ["80", "8080"]}}]})", base, kMatch},
      {R"({"to": [{"operation": {"ports": ["80"]}}]})", base, kNoMatch},
      {R"({"to": [{"operation": {"notPorts": ["8080"]}}]})", base, kNoMatch},
      {R"({"to": [{"operation": {"notPorts": ["9090"]}}]})", base, kMatch},
      {R"({"to": [{"operation": {"ports": ["http"]}}]})", base, kUnknown},
      {R"({"to": [{"operation": {"ports": ["70000", "8080"]}}]})", base, kMatch},
      {R"({"to": [{"operation": {"notPorts": ["0"]}}]})", base, kUnknown},
      {R"({"to": [{"operation": {"methods": ["GET"]}}]})", base, kMatch},
      {R"({"to": [{"operation": {"methods": ["get"]}}]})", base, kNoMatch},
      {R"({"to": [{"operation": {"methods": ["POST", "PUT"]}}]})", base, kNoMatch},
      {R"({"to": [{"operation": {"methods": ["G*"]}}]})", base, kMatch},
      {R"({"to": [{"operation": {"methods": ["*ET"]}}]})", base, kMatch},
      {R"({"to": [{"operation": {"methods": ["*"]}}]})", base, kMatch},
      {R"({"to": [{"operation": {"notMethods": ["GET"]}}]})", base, kNoMatch},
      {R"({"to": [{"operation": {"notMethods": ["DELETE"]}}]})", base, kMatch},
  });
}

TEST_CASE("operation paths: exact, prefix, suffix and presence, without the query") {
  run({
      {R"({"to": [{"operation": {"paths": ["/api/items"]}}]})", base, kMatch},
      {R"({"to": [{"operation": {"paths": ["/api/items?id=7"]}}]})", base, kNoMatch},
      {R"({"to": [{"operation": {"paths": ["/api"]}}]})", base, kNoMatch},
      {R"({"to": [{"operation": {"paths": ["/API/items"]}}]})", base, kNoMatch},
      {R"({"to": [{"operation": {"paths": ["/api/*"]}}]})", base, kMatch},
      {R"({"to": [{"operation": {"paths": ["*/items"]}}]})", base, kMatch},
      {R"({"to": [{"operation": {"paths": ["*/other"]}}]})", base, kNoMatch},
      {R"({"to": [{"operation": {"paths": ["*"]}}]})", base, kMatch},
      {R"({"to": [{"operation": {"paths": ["/a/*/c"]}}]})", path("/a/b/c"), kNoMatch},
      {R"({"to": [{"operation": {"paths": ["/a/*/c"]}}]})", path("/a/*/c"), kMatch},
      {R"({"to": [{"operation": {"notPaths": ["/api/*"]}}]})", base, kNoMatch},
      {R"({"to": [{"operation": {"notPaths": ["/admin*"]}}]})", base, kMatch},
  });
}

TEST_CASE("operation paths: templates") {
  run({
      {R"({"to": [{"operation": {"paths": ["/api/{*}"]}}]})", base, kMatch},
      {R"({"to": [{"operation": {"paths": ["/api/{*}"]}}]})", path("/api/items/7"), kNoMatch},
      {R"({"to": [{"operation": {"paths": ["/api/{*}"]}}]})", path("/api/"), kNoMatch},
      {R"({"to": [{"operation": {"paths": ["/{*}/items"]}}]})", base, kMatch},
      {R"({"to": [{"operation": {"paths": ["/{*}/items"]}}]})", path("/a/b/items"), kNoMatch},
      {R"({"to": [{"operation": {"paths": ["/api/{**}"]}}]})", path("/api/items/7"), kMatch},
      {R"({"to": [{"operation": {"paths": ["/api/{**}"]}}]})", path("/api/"), kMatch},
      {R"({"to": [{"operation": {"paths": ["/api/{**}"]}}]})", path("/api"), kNoMatch},
      {R"({"to": [{"operation": {"paths": ["/api/{**}"]}}]})", path("/apix/1"), kNoMatch},
      {R"({"to": [{"operation": {"paths": ["/foo/{**}/"]}}]})", path("/foo/bar/"), kMatch},
      {R"({"to": [{"operation": {"paths": ["/foo/{**}/"]}}]})", path("/foo/bar/baz/"), kMatch},
      {R"({"to": [{"operation": {"paths": ["/foo/{**}/"]}}]})", path("/foo//"), kMatch},
      {R"({"to": [{"operation": {"paths": ["/foo/{**}/"]}}]})", path("/foo/bar"), kNoMatch},
      {R"({"to": [{"operation": {"paths": ["/foo/{*}/bar/{**}"]}}]})", path("/foo/buzz/bar/"),
       kMatch},
      {R"({"to": [{"operation": {"paths": ["/foo/{*}/bar/{**}"]}}]})", path("/foo/buzz/bar/baz"),
       kMatch},
      {R"({"to": [{"operation": {"paths": ["/foo/{*}/bar/{**}"]}}]})", path("/foo/a/b/bar/c"),
       kNoMatch},
      {R"({"to": [{"operation": {"paths": ["/{**}/items.pdf"]}}]})", path("/a/b/items.pdf"),
       kMatch},
      {R"({"to": [{"operation": {"notPaths": ["/api/{*}"]}}]})", base, kNoMatch},
      // Invalid templates cannot be evaluated.
      {R"({"to": [{"operation": {"paths": ["/{**}/foo/{*}"]}}]})", base, kUnknown},
      {R"({"to": [{"operation": {"paths": ["/foo/{*}.txt"]}}]})", base, kUnknown},
      {R"({"to": [{"operation": {"paths": ["/*/baz/{*}"]}}]})", base, kUnknown},
      {R"({"to": [{"operation": {"paths": ["api/{*}"]}}]})", base, kUnknown},
      {R"({"to": [{"operation": {"paths": ["/{**}/foo/{*}", "/api/*"]}}]})", base, kMatch},
  });
}

TEST_CASE("source principals, namespaces, service accounts and trust domains") {
  run({
      {R"({"from": [{"source": {"principals": ["cluster.local/ns/frontend/sa/web"]}}]})", base,
       kMatch},
      {R"({"from": [{"source": {"principals": ["cluster.local/ns/frontend/*"]}}]})", base, kMatch},
      {R"({"from": [{"source": {"principals": ["*/sa/web"]}}]})", base, kMatch},
      {R"({"from": [{"source": {"principals": ["*/sa/db"]}}]})", base, kNoMatch},
      {R"({"from": [{"source": {"principals": ["*"]}}]})", base, kMatch},
      {R"({"from": [{"source": {"principals": ["*"]}}]})", plaintext, kNoMatch},
      {R"({"from": [{"source": {"notPrincipals": ["*"]}}]})", base, kNoMatch},
      {R"({"from": [{"source": {"notPrincipals": ["*"]}}]})", plaintext, kMatch},
      {R"({"from": [{"source": {"notPrincipals": ["*/sa/db"]}}]})", base, kMatch},
      {R"({"from": [{"source": {"namespaces": ["frontend"]}}]})", base, kMatch},
      {R"({"from": [{"source": {"namespaces": ["front*"]}}]})", base, kMatch},
      {R"({"from": [{"source": {"namespaces": ["backend"]}}]})", base, kNoMatch},
      // Namespaces come from the peer certificate: plaintext has none, whatever the caller says.
      {R"({"from": [{"source": {"namespaces": ["frontend"]}}]})", plaintext, kNoMatch},
      {R"({"from": [{"source": {"notNamespaces": ["frontend"]}}]})", plaintext, kMatch},
      {R"({"from": [{"source": {"notNamespaces": ["frontend"]}}]})", base, kNoMatch},
      {R"({"from": [{"source": {"namespaces": ["frontend"]}}]})",
       with([](TestRequest& r) { r.source_namespace = ""; }), kMatch},
      {R"({"from": [{"source": {"serviceAccounts": ["frontend/web"]}}]})", base, kMatch},
      {R"({"from": [{"source": {"serviceAccounts": ["web"]}}]})", base, kMatch},
      {R"({"from": [{"source": {"serviceAccounts": ["backend/web"]}}]})", base, kNoMatch},
      {R"({"from": [{"source": {"serviceAccounts": ["frontend/web"]}}]})", plaintext, kNoMatch},
      {R"({"from": [{"source": {"notServiceAccounts": ["frontend/web"]}}]})", base, kNoMatch},
      {R"({"from": [{"source": {"serviceAccounts": ["frontend/*"]}}]})", base, kUnknown},
      {R"({"from": [{"source": {"trustDomains": ["cluster.local"]}}]})", base, kMatch},
      {R"({"from": [{"source": {"trustDomains": ["other.domain"]}}]})", base, kNoMatch},
      {R"({"from": [{"source": {"notTrustDomains": ["other.domain"]}}]})", base, kMatch},
  });
}

TEST_CASE("source requestPrincipals") {
  run({
      {R"({"from": [{"source": {"requestPrincipals": ["*"]}}]})", jwt(), kMatch},
      {R"({"from": [{"source": {"requestPrincipals": ["*"]}}]})", base, kNoMatch},
      {R"({"from": [{"source": {"requestPrincipals": ["issuer.example.com/alice"]}}]})", jwt(),
       kMatch},
      {R"({"from": [{"source": {"requestPrincipals": ["issuer.example.com/*"]}}]})", jwt(), kMatch},
      {R"({"from": [{"source": {"requestPrincipals": ["issuer.example.com/bob"]}}]})", jwt(),
       kNoMatch},
      {R"({"from": [{"source": {"notRequestPrincipals": ["*"]}}]})", base, kMatch},
      {R"({"from": [{"source": {"notRequestPrincipals": ["*"]}}]})", jwt(), kNoMatch},
  });
}

TEST_CASE("source ipBlocks and remoteIpBlocks, IPv4 and IPv6") {
  const auto v6 = with([](TestRequest& r) { r.source_ip = "fd00::5"; });
  const auto mapped = with([](TestRequest& r) { r.source_ip = "::ffff:10.0.0.5"; });
  const auto forwarded = with([](TestRequest& r) { r.remote_ip = "203.0.113.9"; });
  run({
      {R"({"from": [{"source": {"ipBlocks": ["10.0.0.0/24"]}}]})", base, kMatch},
      {R"({"from": [{"source": {"ipBlocks": ["10.0.0.5"]}}]})", base, kMatch},
      {R"({"from": [{"source": {"ipBlocks": ["10.0.0.6"]}}]})", base, kNoMatch},
      {R"({"from": [{"source": {"ipBlocks": ["10.0.1.0/24"]}}]})", base, kNoMatch},
      {R"({"from": [{"source": {"ipBlocks": ["10.0.0.4/31"]}}]})", base, kMatch},
      {R"({"from": [{"source": {"ipBlocks": ["10.0.0.0/30"]}}]})", base, kNoMatch},
      {R"({"from": [{"source": {"ipBlocks": ["0.0.0.0/0"]}}]})", base, kMatch},
      {R"({"from": [{"source": {"ipBlocks": ["fd00::/64"]}}]})", v6, kMatch},
      {R"({"from": [{"source": {"ipBlocks": ["fd01::/64"]}}]})", v6, kNoMatch},
      {R"({"from": [{"source": {"ipBlocks": ["10.0.0.0/8"]}}]})", v6, kNoMatch},
      {R"({"from": [{"source": {"ipBlocks": ["fd00::/8"]}}]})", base, kNoMatch},
      {R"({"from": [{"source": {"ipBlocks": ["10.0.0.0/8"]}}]})", mapped, kMatch},
      {R"({"from": [{"source": {"ipBlocks": ["::ffff:10.0.0.0/104"]}}]})", base, kMatch},
      {R"({"from": [{"source": {"notIpBlocks": ["10.0.0.0/8"]}}]})", base, kNoMatch},
      {R"({"from": [{"source": {"notIpBlocks": ["10.0.0.0/8"]}}]})", mapped, kNoMatch},
      {R"({"from": [{"source": {"notIpBlocks": ["192.168.0.0/16"]}}]})", base, kMatch},
      {R"({"from": [{"source": {"ipBlocks": ["10.0.0.0/33"]}}]})", base, kUnknown},
      {R"({"from": [{"source": {"ipBlocks": ["bogus"]}}]})", base, kUnknown},
      {R"({"from": [{"source": {"ipBlocks": ["bogus", "10.0.0.0/8"]}}]})", base, kMatch},
      {R"({"from": [{"source": {"notIpBlocks": ["10.0.0.0/-1"]}}]})", base, kUnknown},
      {R"({"from": [{"source": {"remoteIpBlocks": ["203.0.113.0/24"]}}]})", forwarded, kMatch},
      {R"({"from": [{"source": {"remoteIpBlocks": ["10.0.0.0/8"]}}]})", forwarded, kNoMatch},
      {R"({"from": [{"source": {"ipBlocks": ["10.0.0.0/8"]}}]})", forwarded, kMatch},
      {R"({"from": [{"source": {"remoteIpBlocks": ["10.0.0.0/8"]}}]})", base, kMatch},
      {R"({"from": [{"source": {"notRemoteIpBlocks": ["203.0.113.0/24"]}}]})", forwarded, kNoMatch},
  });
}

TEST_CASE("conditions on headers") {
  const auto no_headers = with([](TestRequest& r) { r.headers.clear(); });
  run({
      {R"({"when": [{"key": "request.headers[User-Agent]", "values": ["curl/*"]}]})", base, kMatch},
      {R"({"when": [{"key": "request.headers[user-agent]", "values": ["Mozilla/*"]}]})", base,
       kNoMatch},
      {R"({"when": [{"key": "request.headers[user-agent]", "notValues": ["curl/*"]}]})", base,
       kNoMatch},
      {R"({"when": [{"key": "request.headers[x-tenant]", "values": ["b"]}]})", base, kMatch},
      {R"({"when": [{"key": "request.headers[x-tenant]", "values": ["a,b"]}]})", base, kNoMatch},
      {R"({"when": [{"key": "request.headers[x-tenant]", "notValues": ["b"]}]})", base, kNoMatch},
      {R"({"when": [{"key": "request.headers[x-tenant]", "values": ["*"]}]})", no_headers,
       kNoMatch},
      {R"({"when": [{"key": "request.headers[x-tenant]", "notValues": ["*"]}]})", no_headers,
       kMatch},
      {R"({"when": [{"key": "request.headers[x-tenant]", "values": ["a"], "notValues": ["b"]}]})",
       base, kNoMatch},
      {R"({"when": [{"key": "request.headers[:authority]", "values": ["echo.demo:*"]}]})", base,
       kMatch},
      {R"({"when": [{"key": "request.headers[Host]", "values": ["echo.demo:8080"]}]})", base,
       kMatch},
      {R"({"when": [{"key": "request.headers[:method]", "values": ["GET"]}]})", base, kMatch},
      {R"({"when": [{"key": "request.headers[:path]", "values": ["*?id=7"]}]})", base, kMatch},
  });
}

TEST_CASE("conditions on the peer and the connection") {
  run({
      {R"({"when": [{"key": "source.ip", "values": ["10.0.0.0/8"]}]})", base, kMatch},
      {R"({"when": [{"key": "source.ip", "notValues": ["10.0.0.5"]}]})", base, kNoMatch},
      {R"({"when": [{"key": "remote.ip", "values": ["203.0.113.9"]}]})",
       with([](TestRequest& r) { r.remote_ip = "203.0.113.9"; }), kMatch},
      {R"({"when": [{"key": "destination.ip", "values": ["10.0.1.0/24"]}]})", base, kMatch},
      {R"({"when": [{"key": "destination.ip", "values": ["10.0.2.0/24"]}]})", base, kNoMatch},
      {R"({"when": [{"key": "destination.ip", "values": ["10.0.2.0/24x"]}]})", base, kUnknown},
      {R"({"when": [{"key": "destination.port", "values": ["8080"]}]})", base, kMatch},
      {R"({"when": [{"key": "destination.port", "notValues": ["8080"]}]})", base, kNoMatch},
      {R"({"when": [{"key": "destination.port", "values": ["http"]}]})", base, kUnknown},
      {R"({"when": [{"key": "source.namespace", "values": ["frontend"]}]})", base, kMatch},
      {R"({"when": [{"key": "source.namespace", "values": ["frontend"]}]})", plaintext, kNoMatch},
      {R"({"when": [{"key": "source.principal", "values": ["cluster.local/ns/frontend/*"]}]})",
       base, kMatch},
      // One wildcard only: a leading "*" makes a suffix of the rest, "*" included.
      {R"({"when": [{"key": "source.principal", "values": ["*/ns/frontend/*"]}]})", base, kNoMatch},
      {R"({"when": [{"key": "source.principal", "notValues": ["*"]}]})", plaintext, kMatch},
      {R"({"when": [{"key": "source.serviceAccount", "values": ["frontend/web"]}]})", base, kMatch},
      {R"({"when": [{"key": "source.trustDomain", "values": ["cluster.local"]}]})", base, kMatch},
      {R"({"when": [{"key": "connection.sni", "values": ["*.svc.cluster.local"]}]})",
       with([](TestRequest& r) { r.sni = "echo.demo.svc.cluster.local"; }), kMatch},
      {R"({"when": [{"key": "connection.sni", "values": ["*"]}]})", base, kNoMatch},
  });
}

TEST_CASE("conditions on the JWT") {
  const char* claims = R"({"group": "admins", "groups": ["dev", "ops"], "level": 3,
      "ratio": 1.5, "verified": true, "realm": {"roles": ["admin", "user"], "tier": "gold"},
      "mixed": [7, false, "x"]})";
  run({
      {R"({"when": [{"key": "request.auth.principal", "values": ["issuer.example.com/alice"]}]})",
       jwt(), kMatch},
      {R"({"when": [{"key": "request.auth.principal", "values": ["*"]}]})", base, kNoMatch},
      {R"({"when": [{"key": "request.auth.principal", "notValues": ["*"]}]})", base, kMatch},
      {R"({"when": [{"key": "request.auth.audiences", "values": ["api"]}]})", jwt(), kMatch},
      {R"({"when": [{"key": "request.auth.audiences", "values": ["admin"]}]})", jwt(), kNoMatch},
      {R"({"when": [{"key": "request.auth.presenter", "values": ["client-*"]}]})", jwt(), kMatch},
      {R"({"when": [{"key": "request.auth.claims[group]", "values": ["admins"]}]})", jwt(claims),
       kMatch},
      {R"({"when": [{"key": "request.auth.claims[group]", "values": ["adm*"]}]})", jwt(claims),
       kMatch},
      {R"({"when": [{"key": "request.auth.claims[group]", "values": ["users"]}]})", jwt(claims),
       kNoMatch},
      {R"({"when": [{"key": "request.auth.claims[groups]", "values": ["ops"]}]})", jwt(claims),
       kMatch},
      {R"({"when": [{"key": "request.auth.claims[groups]", "values": ["qa"]}]})", jwt(claims),
       kNoMatch},
      {R"({"when": [{"key": "request.auth.claims[groups]", "notValues": ["dev"]}]})", jwt(claims),
       kNoMatch},
      {R"({"when": [{"key": "request.auth.claims[realm][roles]", "values": ["admin"]}]})",
       jwt(claims), kMatch},
      {R"({"when": [{"key": "request.auth.claims[realm][tier]", "values": ["gold"]}]})",
       jwt(claims), kMatch},
      {R"({"when": [{"key": "request.auth.claims[realm][nope]", "values": ["*"]}]})", jwt(claims),
       kNoMatch},
      {R"({"when": [{"key": "request.auth.claims[realm]", "values": ["*"]}]})", jwt(claims),
       kNoMatch},
      {R"({"when": [{"key": "request.auth.claims[group][x]", "values": ["*"]}]})", jwt(claims),
       kNoMatch},
      {R"({"when": [{"key": "request.auth.claims[level]", "values": ["3"]}]})", jwt(claims),
       kMatch},
      {R"({"when": [{"key": "request.auth.claims[ratio]", "values": ["1.5"]}]})", jwt(claims),
       kMatch},
      {R"({"when": [{"key": "request.auth.claims[verified]", "values": ["true"]}]})", jwt(claims),
       kMatch},
      {R"({"when": [{"key": "request.auth.claims[mixed]", "values": ["7"]}]})", jwt(claims),
       kMatch},
      {R"({"when": [{"key": "request.auth.claims[mixed]", "values": ["false"]}]})", jwt(claims),
       kMatch},
      {R"({"when": [{"key": "request.auth.claims[missing]", "values": ["*"]}]})", jwt(claims),
       kNoMatch},
      {R"({"when": [{"key": "request.auth.claims[missing]", "notValues": ["x"]}]})", jwt(claims),
       kMatch},
      {R"({"when": [{"key": "request.auth.claims[group]", "values": ["admins"]}]})", base,
       kNoMatch},
  });
}

TEST_CASE("conditions the waypoint cannot evaluate") {
  run({
      {R"({"when": [{"key": "experimental.envoy.filters.network.mysql_proxy[db.table]",
          "values": ["[update]"]}]})",
       base, kUnknown},
      {R"({"when": [{"key": "destination.labels[app]", "values": ["echo"]}]})", base, kUnknown},
      {R"({"when": [{"key": "request.regex.headers[x]", "values": ["a"]}]})", base, kUnknown},
      {R"({"when": [{"key": "request.headers", "values": ["a"]}]})", base, kUnknown},
      {R"({"when": [{"key": "request.headers[]", "values": ["a"]}]})", base, kUnknown},
      {R"({"when": [{"key": "request.auth.claims[a]x", "values": ["a"]}]})", base, kUnknown},
      {R"({"when": [{"key": "source.ip"}]})", base, kUnknown},
      {R"({"from": [{"source": {}}]})", base, kUnknown},
      {R"({"to": [{}]})", base, kUnknown},
  });
}

}  // namespace
}  // namespace ambit::waypoint::testing
