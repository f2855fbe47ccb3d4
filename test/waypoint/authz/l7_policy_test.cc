// How rules combine inside a policy, how policies combine by action (CUSTOM, DENY, ALLOW, AUDIT),
// what fails closed, and Istio's deny-all plus allow-frontend example.
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "test/waypoint/authz/authz_test_support.h"

namespace ambit::waypoint::testing {
namespace {

TEST_CASE("combination inside a rule") {
  struct Case {
    const char* rule;
    Outcome expected;
  };
  const Case cases[] = {
      // Fields of a source are AND-ed, values of one field OR-ed.
      {R"({"from": [{"source": {"principals": ["*/sa/web"], "namespaces": ["frontend"]}}]})",
       Outcome::kMatch},
      {R"({"from": [{"source": {"principals": ["*/sa/web"], "namespaces": ["backend"]}}]})",
       Outcome::kNoMatch},
      {R"({"from": [{"source": {"principals": ["*/sa/db", "*/sa/web"]}}]})", Outcome::kMatch},
      {R"({"from": [{"source": {"namespaces": ["frontend"], "notPrincipals": ["*/sa/web"]}}]})",
       Outcome::kNoMatch},
      // Sources OR-ed, operations OR-ed.
      {R"({"from": [{"source": {"namespaces": ["backend"]}},
                    {"source": {"namespaces": ["frontend"]}}]})",
       Outcome::kMatch},
      {R"({"to": [{"operation": {"methods": ["POST"]}}, {"operation": {"paths": ["/api/*"]}}]})",
       Outcome::kMatch},
      {R"({"to": [{"operation": {"methods": ["GET"], "paths": ["/admin"]}}]})", Outcome::kNoMatch},
      // from, to and when AND-ed; conditions AND-ed.
      {R"({"from": [{"source": {"namespaces": ["frontend"]}}],
           "to": [{"operation": {"methods": ["POST"]}}]})",
       Outcome::kNoMatch},
      {R"({"from": [{"source": {"namespaces": ["frontend"]}}],
           "to": [{"operation": {"methods": ["GET"]}}],
           "when": [{"key": "destination.port", "values": ["8080"]}]})",
       Outcome::kMatch},
      {R"({"when": [{"key": "destination.port", "values": ["8080"]},
                    {"key": "source.namespace", "values": ["backend"]}]})",
       Outcome::kNoMatch},
      // The empty rule matches everything.
      {R"({})", Outcome::kMatch},
      // What cannot be evaluated: unknown unless the rest decides.
      {R"({"from": [{"source": {"namespaces": ["frontend"]}}],
           "when": [{"key": "destination.labels[app]", "values": ["x"]}]})",
       Outcome::kUnknown},
      {R"({"from": [{"source": {"namespaces": ["backend"]}}],
           "when": [{"key": "destination.labels[app]", "values": ["x"]}]})",
       Outcome::kNoMatch},
      {R"({"from": [{"source": {"ipBlocks": ["bad"]}}, {"source": {"namespaces": ["frontend"]}}]})",
       Outcome::kMatch},
      {R"({"from": [{"source": {"ipBlocks": ["bad"]}}, {"source": {"namespaces": ["backend"]}}]})",
       Outcome::kUnknown},
  };
  for (const Case& c : cases) {
    INFO(c.rule);
    CHECK(outcomeName(ruleOutcome(c.rule, TestRequest())) == std::string(outcomeName(c.expected)));
  }
}

TEST_CASE("rules of a policy are OR-ed and the first match is named") {
  const auto allow = policy("frontend/allow", R"({"rules": [
      {"to": [{"operation": {"methods": ["POST"]}}]},
      {"to": [{"operation": {"methods": ["GET"]}}]},
      {}]})");
  const L7AuthorizationDecision d = decide({allow}, TestRequest());
  CHECK(d.allowed);
  CHECK(d.reason == Reason::kAllowedByPolicy);
  CHECK(d.policy == "frontend/allow");
  CHECK(d.rule == 1);
  CHECK(d.describe() == "allowed by frontend/allow (rule 1)");
}

TEST_CASE("no policy, DENY only, and policies without rules") {
  SECTION("no policy allows") {
    const L7AuthorizationDecision d = decide({}, TestRequest());
    CHECK(d.allowed);
    CHECK(d.reason == Reason::kAllowedNoPolicy);
  }
  SECTION("DENY policies that do not match allow") {
    const auto deny = policy("demo/deny-post", R"({"action": "DENY", "rules": [
        {"to": [{"operation": {"methods": ["POST"]}}]}]})");
    const L7AuthorizationDecision d = decide({deny}, TestRequest());
    CHECK(d.allowed);
    CHECK(d.reason == Reason::kAllowedNoPolicy);
    CHECK(d.policy.empty());
  }
  SECTION("a DENY policy without rules matches nothing") {
    const L7AuthorizationDecision d =
        decide({policy("demo/deny-none", R"({"action": "DENY"})")}, TestRequest());
    CHECK(d.allowed);
  }
  SECTION("spec {} is an ALLOW policy that matches nothing: deny-all") {
    const L7AuthorizationDecision d = decide({policy("demo/deny-all", "{}")}, TestRequest());
    CHECK_FALSE(d.allowed);
    CHECK(d.reason == Reason::kDeniedNoAllowMatch);
    CHECK(d.describe() == "denied: no ALLOW policy matches");
  }
  SECTION("a DENY policy with the empty rule denies everything") {
    const auto deny = policy("demo/deny-everything", R"({"action": "DENY", "rules": [{}]})");
    const L7AuthorizationDecision d = decide({deny}, plaintext());
    CHECK_FALSE(d.allowed);
    CHECK(d.reason == Reason::kDeniedByPolicy);
    CHECK(d.rule == 0);
  }
}

TEST_CASE("action order: CUSTOM, then DENY, then ALLOW") {
  const auto allow_all = policy("demo/allow-all", R"({"action": "ALLOW", "rules": [{}]})");
  const auto allow_post = policy("demo/allow-post", R"({"rules": [
      {"to": [{"operation": {"methods": ["POST"]}}]}]})");
  const auto deny_get = policy("demo/deny-get", R"({"action": "DENY", "rules": [
      {"to": [{"operation": {"methods": ["GET"]}}]}]})");
  const auto deny_api = policy("demo/deny-api", R"({"action": "DENY", "rules": [
      {"to": [{"operation": {"paths": ["/api/*"]}}]}]})");
  const auto custom = policy("demo/ext-authz", R"({"action": "CUSTOM",
      "provider": {"name": "opa"}, "rules": [{"to": [{"operation": {"paths": ["/api/*"]}}]}]})");
  const auto custom_elsewhere = policy("demo/ext-authz-admin", R"({"action": "CUSTOM",
      "provider": {"name": "opa"}, "rules": [{"to": [{"operation": {"paths": ["/admin*"]}}]}]})");
  const auto custom_no_rules =
      policy("demo/ext-authz-none", R"({"action": "CUSTOM", "provider": {"name": "opa"}})");

  SECTION("a matching DENY wins over a matching ALLOW, whatever the order") {
    for (const Policies& policies :
         {Policies{allow_all, deny_get}, Policies{deny_get, allow_all}}) {
      const L7AuthorizationDecision d = decide(policies, TestRequest());
      CHECK_FALSE(d.allowed);
      CHECK(d.reason == Reason::kDeniedByPolicy);
      CHECK(d.policy == "demo/deny-get");
    }
  }
  SECTION("the first matching DENY in the given order is named") {
    CHECK(decide({deny_api, deny_get}, TestRequest()).policy == "demo/deny-api");
    CHECK(decide({deny_get, deny_api}, TestRequest()).policy == "demo/deny-get");
  }
  SECTION("ALLOW policies apply: one must match") {
    const L7AuthorizationDecision d = decide({allow_post}, TestRequest());
    CHECK_FALSE(d.allowed);
    CHECK(d.reason == Reason::kDeniedNoAllowMatch);
    CHECK(decide({allow_post, allow_all}, TestRequest()).reason == Reason::kAllowedByPolicy);
  }
  SECTION("CUSTOM denies what it applies to, before DENY and ALLOW") {
    const L7AuthorizationDecision d = decide({allow_all, deny_get, custom}, TestRequest());
    CHECK_FALSE(d.allowed);
    CHECK(d.reason == Reason::kDeniedCustom);
    CHECK(d.policy == "demo/ext-authz");
    CHECK(std::string(l7ReasonLabel(d.reason)) == "custom_unsupported");
    CHECK(d.describe().find("demo/ext-authz (rule 0)") != std::string::npos);
  }
  SECTION("CUSTOM that does not apply changes nothing") {
    const L7AuthorizationDecision d =
        decide({custom_elsewhere, custom_no_rules, allow_all}, TestRequest());
    CHECK(d.allowed);
    CHECK(d.reason == Reason::kAllowedByPolicy);
    CHECK(custom->notes.size() == 1);
  }
}

TEST_CASE("AUDIT is logged, never enforced") {
  const auto audit_api = policy("demo/audit-api", R"({"action": "AUDIT", "rules": [
      {"to": [{"operation": {"paths": ["/api/*"]}}]}]})");
  const auto audit_admin = policy("demo/audit-admin", R"({"action": "AUDIT", "rules": [
      {"to": [{"operation": {"paths": ["/admin*"]}}]}]})");
  const auto allow_post = policy("demo/allow-post", R"({"rules": [
      {"to": [{"operation": {"methods": ["POST"]}}]}]})");
  const auto deny_get = policy("demo/deny-get", R"({"action": "DENY", "rules": [
      {"to": [{"operation": {"methods": ["GET"]}}]}]})");

  SECTION("AUDIT alone: allowed, audited") {
    const L7AuthorizationDecision d = decide({audit_admin, audit_api}, TestRequest());
    CHECK(d.allowed);
    CHECK(d.reason == Reason::kAllowedNoPolicy);
    CHECK(d.audited == "demo/audit-api");
    CHECK(d.describe() ==
          "allowed: no DENY policy matches and no ALLOW policy applies; audited by "
          "demo/audit-api");
  }
  SECTION("a matching AUDIT does not satisfy ALLOW policies") {
    const L7AuthorizationDecision d = decide({audit_api, allow_post}, TestRequest());
    CHECK_FALSE(d.allowed);
    CHECK(d.reason == Reason::kDeniedNoAllowMatch);
    CHECK(d.audited == "demo/audit-api");
  }
  SECTION("denied requests are audited too") {
    const L7AuthorizationDecision d = decide({deny_get, audit_api}, TestRequest());
    CHECK_FALSE(d.allowed);
    CHECK(d.audited == "demo/audit-api");
  }
  SECTION("an AUDIT that does not match leaves no name") {
    CHECK(decide({audit_admin}, TestRequest()).audited.empty());
  }
}

TEST_CASE("what cannot be evaluated fails closed") {
  const auto deny_unknown_key = policy("demo/deny-labels", R"({"action": "DENY", "rules": [
      {"when": [{"key": "destination.labels[app]", "values": ["echo"]}]}]})");
  const auto deny_unknown_and_mismatch = policy("demo/deny-post-labels", R"({"action": "DENY",
      "rules": [{"to": [{"operation": {"methods": ["POST"]}}],
                 "when": [{"key": "destination.labels[app]", "values": ["echo"]}]}]})");
  const auto allow_unknown_key = policy("demo/allow-labels", R"({"rules": [
      {"when": [{"key": "experimental.envoy.filters.x[y]", "values": ["z"]}]}]})");
  const auto allow_get = policy("demo/allow-get", R"({"rules": [
      {"to": [{"operation": {"methods": ["GET"]}}]}]})");
  const auto allow_bad_cidr = policy("demo/allow-cidr", R"({"rules": [
      {"from": [{"source": {"ipBlocks": ["10.0.0.0/40"]}}]}]})");

  SECTION("in a DENY rule it counts as matching") {
    const L7AuthorizationDecision d = decide({deny_unknown_key}, TestRequest());
    CHECK_FALSE(d.allowed);
    CHECK(d.reason == Reason::kDeniedUnsupported);
    CHECK(d.policy == "demo/deny-labels");
    CHECK(d.rule == 0);
    CHECK(d.unsupported.find("destination.labels[app]") != std::string::npos);
    CHECK(d.describe().find("fails closed") != std::string::npos);
    CHECK(std::string(l7ReasonLabel(d.reason)) == "deny_unsupported");
  }
  SECTION("a DENY rule that fails on what can be evaluated does not match") {
    CHECK(decide({deny_unknown_and_mismatch}, TestRequest()).allowed);
  }
  SECTION("in an ALLOW rule it counts as not matching") {
    const L7AuthorizationDecision d = decide({allow_unknown_key}, TestRequest());
    CHECK_FALSE(d.allowed);
    CHECK(d.reason == Reason::kDeniedUnsupported);
    CHECK(d.policy == "demo/allow-labels");
    CHECK(d.unsupported.find("experimental.envoy.filters") != std::string::npos);
    const L7AuthorizationDecision cidr = decide({allow_bad_cidr}, TestRequest());
    CHECK_FALSE(cidr.allowed);
    CHECK(cidr.unsupported.find("10.0.0.0/40") != std::string::npos);
  }
  SECTION("another ALLOW policy that matches still allows") {
    const L7AuthorizationDecision d = decide({allow_unknown_key, allow_get}, TestRequest());
    CHECK(d.allowed);
    CHECK(d.policy == "demo/allow-get");
  }
  SECTION("compilation keeps a note for each problem") {
    REQUIRE(allow_bad_cidr->notes.size() == 1);
    CHECK(allow_bad_cidr->notes[0].find("demo/allow-cidr: rules[0].from[0].source: ipBlocks[0]") !=
          std::string::npos);
    CHECK(deny_unknown_key->notes.size() == 1);
    CHECK(allow_get->notes.empty());
  }
  SECTION("a policy with an unknown action denies everything") {
    istio::security::v1beta1::AuthorizationPolicy spec;
    spec.set_action(static_cast<istio::security::v1beta1::AuthorizationPolicy::Action>(9));
    const auto compiled = compileL7Policy("demo/future", spec);
    REQUIRE(compiled.ok());
    CHECK_FALSE((*compiled)->notes.empty());
    const auto allow_all = policy("demo/allow-all", R"({"rules": [{}]})");
    const L7AuthorizationDecision d = decide({allow_all, *compiled}, TestRequest());
    CHECK_FALSE(d.allowed);
    CHECK(d.reason == Reason::kDeniedUnsupported);
    CHECK(d.policy == "demo/future");
  }
}

TEST_CASE("Istio example 11: deny-all plus allow-frontend") {
  // /work/shared/istio-examples/11-authorization-policy.yaml. Both apply to app=backend; only
  // deny-all to the namespace's other workloads.
  const auto deny_all = policy("default/deny-all", "{}");
  const auto allow_frontend = policy("default/allow-frontend", R"({
      "selector": {"matchLabels": {"app": "backend"}},
      "action": "ALLOW",
      "rules": [{
        "from": [{"source": {"principals": ["cluster.local/ns/default/sa/frontend"]}}],
        "to": [{"operation": {"methods": ["GET", "POST"], "paths": ["/api/*"]}}]}]})");
  const Policies backend = {deny_all, allow_frontend};

  auto from_frontend = [](std::string method, std::string path) {
    TestRequest r;
    r.principal = "cluster.local/ns/default/sa/frontend";
    r.source_namespace = "default";
    r.method = std::move(method);
    r.path = std::move(path);
    return r;
  };
  struct Case {
    const char* what;
    TestRequest request;
    bool allowed;
  };
  TestRequest other = from_frontend("GET", "/api/users");
  other.principal = "cluster.local/ns/default/sa/other";
  TestRequest plain = from_frontend("GET", "/api/users");
  plain.principal.reset();
  const Case cases[] = {
      {"frontend GET /api/users", from_frontend("GET", "/api/users"), true},
      {"frontend POST /api/orders?x=1", from_frontend("POST", "/api/orders?x=1"), true},
      {"frontend DELETE /api/users", from_frontend("DELETE", "/api/users"), false},
      {"frontend GET /admin", from_frontend("GET", "/admin"), false},
      {"frontend GET /api", from_frontend("GET", "/api"), false},
      {"another account", other, false},
      {"plaintext", plain, false},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    const L7AuthorizationDecision d = decide(backend, c.request);
    CHECK(d.allowed == c.allowed);
    if (c.allowed) {
      CHECK(d.policy == "default/allow-frontend");
    } else {
      CHECK(d.reason == Reason::kDeniedNoAllowMatch);
    }
    // Another workload of the namespace: deny-all alone.
    CHECK_FALSE(decide({deny_all}, c.request).allowed);
  }
}

TEST_CASE("reason labels are distinct") {
  std::set<std::string> labels;
  for (size_t i = 0; i < kL7AuthorizationReasons; ++i) {
    labels.insert(l7ReasonLabel(static_cast<Reason>(i)));
  }
  CHECK(labels.size() == kL7AuthorizationReasons);
  CHECK(labels.count("unknown") == 0);
}

}  // namespace
}  // namespace ambit::waypoint::testing
