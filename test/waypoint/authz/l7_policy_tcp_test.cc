// Policies over a stream the waypoint carries as TCP: what needs HTTP is unknown there, so an
// ALLOW rule that needs it does not allow and a DENY rule that needs it denies (fail closed), while
// rules over the peer and the port decide as for HTTP.
#include <string>

#include <catch2/catch.hpp>

#include "test/waypoint/authz/authz_test_support.h"

namespace ambit::waypoint::testing {
namespace {

TEST_CASE("a TCP stream: HTTP attributes are unknown, L4 ones decide") {
  struct Case {
    const char* rule;
    Outcome expected;
  };
  const Case cases[] = {
      {R"({"from": [{"source": {"principals": ["cluster.local/ns/frontend/sa/web"]}}]})",
       Outcome::kMatch},
      {R"({"from": [{"source": {"namespaces": ["backend"]}}]})", Outcome::kNoMatch},
      {R"({"to": [{"operation": {"ports": ["8080"]}}]})", Outcome::kMatch},
      {R"({"to": [{"operation": {"ports": ["9090"]}}]})", Outcome::kNoMatch},
      {R"({"to": [{"operation": {"methods": ["GET"]}}]})", Outcome::kUnknown},
      {R"({"to": [{"operation": {"notMethods": ["DELETE"]}}]})", Outcome::kUnknown},
      {R"({"to": [{"operation": {"paths": ["/api/*"]}}]})", Outcome::kUnknown},
      {R"({"to": [{"operation": {"hosts": ["echo.demo:8080"]}}]})", Outcome::kUnknown},
      {R"({"from": [{"source": {"requestPrincipals": ["*"]}}]})", Outcome::kUnknown},
      {R"({"when": [{"key": "request.headers[x-tenant]", "values": ["a"]}]})", Outcome::kUnknown},
      {R"({"when": [{"key": "request.auth.claims[groups]", "values": ["admin"]}]})",
       Outcome::kUnknown},
      {R"({"when": [{"key": "request.auth.principal", "values": ["*"]}]})", Outcome::kUnknown},
      // A part that does not hold decides, whatever the HTTP part would say.
      {R"({"from": [{"source": {"namespaces": ["backend"]}}],
           "to": [{"operation": {"methods": ["GET"]}}]})",
       Outcome::kNoMatch},
      {R"({"to": [{"operation": {"ports": ["8080"]}}],
           "when": [{"key": "source.ip", "values": ["10.0.0.0/24"]}]})",
       Outcome::kMatch},
  };
  for (const Case& c : cases) {
    INFO(c.rule);
    CHECK(outcomeName(ruleOutcome(c.rule, tcpStream())) == outcomeName(c.expected));
    // The same rule over HTTP is never unknown: these are all parts the waypoint can evaluate.
    CHECK(ruleOutcome(c.rule, TestRequest{}) != Outcome::kUnknown);
  }
}

TEST_CASE("an address not known for sure makes address rules unknown") {
  TestRequest unverified;
  unverified.source_ip.clear();
  CHECK(outcomeName(ruleOutcome(R"({"from": [{"source": {"ipBlocks": ["10.0.0.0/8"]}}]})",
                                unverified)) == outcomeName(Outcome::kUnknown));
  CHECK(outcomeName(ruleOutcome(R"({"from": [{"source": {"notIpBlocks": ["10.0.0.0/8"]}}]})",
                                unverified)) == outcomeName(Outcome::kUnknown));
  CHECK(outcomeName(ruleOutcome(R"({"when": [{"key": "source.ip", "values": ["10.0.0.5"]}]})",
                                unverified)) == outcomeName(Outcome::kUnknown));
  // Rules that do not look at the address still decide.
  CHECK(outcomeName(ruleOutcome(R"({"from": [{"source": {"namespaces": ["frontend"]}}]})",
                                unverified)) == outcomeName(Outcome::kMatch));
  // So a DENY on an address range denies, and an ALLOW on one does not allow.
  const Policies deny = {policy("default/deny-range", R"({"action": "DENY", "rules": [
      {"from": [{"source": {"ipBlocks": ["192.168.0.0/16"]}}]}]})")};
  CHECK_FALSE(decide(deny, unverified).allowed);
  CHECK(decide(deny, TestRequest{}).allowed);
  const Policies allow = {policy("default/allow-range", R"({"action": "ALLOW", "rules": [
      {"from": [{"source": {"ipBlocks": ["10.0.0.0/8"]}}]}]})")};
  CHECK_FALSE(decide(allow, unverified).allowed);
  CHECK(decide(allow, TestRequest{}).allowed);
}

TEST_CASE("a TCP stream against ALLOW and DENY policies that need HTTP") {
  const Policies allow_paths = {policy("default/allow-api", R"({"action": "ALLOW", "rules": [
      {"to": [{"operation": {"paths": ["/api/*"]}}]}]})")};
  const L7AuthorizationDecision allowed_over_http = decide(allow_paths, TestRequest{});
  CHECK(allowed_over_http.allowed);
  const L7AuthorizationDecision tcp = decide(allow_paths, tcpStream());
  CHECK_FALSE(tcp.allowed);
  CHECK(tcp.reason == Reason::kDeniedUnsupported);
  CHECK_THAT(tcp.unsupported, Catch::Contains("HTTP attributes of a TCP stream"));

  const Policies deny_delete = {policy("default/deny-delete", R"({"action": "DENY", "rules": [
      {"to": [{"operation": {"methods": ["DELETE"]}}]}]})")};
  CHECK(decide(deny_delete, TestRequest{}).allowed);
  const L7AuthorizationDecision denied = decide(deny_delete, tcpStream());
  CHECK_FALSE(denied.allowed);
  CHECK(denied.policy == "default/deny-delete");

  const Policies allow_peer = {policy("default/allow-web", R"({"action": "ALLOW", "rules": [
      {"from": [{"source": {"principals": ["cluster.local/ns/frontend/sa/web"]}}]}]})")};
  CHECK(decide(allow_peer, tcpStream()).allowed);
  TestRequest stranger = tcpStream();
  stranger.principal = "cluster.local/ns/other/sa/x";
  CHECK(decide(allow_peer, stranger).reason == Reason::kDeniedNoAllowMatch);
}

}  // namespace
}  // namespace ambit::waypoint::testing
