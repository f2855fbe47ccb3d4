// Tables for the AuthorizationPolicy conversion: string match forms of principals and
// namespaces, ports, service accounts, and istiod's handling of HTTP attributes.
#include <catch2/catch.hpp>

#include "control/translate/authorization_policy.h"
#include "test/control/translate/test_objects.h"

namespace ambit::control::translate {
namespace {

namespace sec = istio::security;
using testing::load;
using testing::parseText;
using testing::textOf;

TEST_CASE("principal and namespace strings become Istio's StringMatch forms", "[authz]") {
  struct Case {
    const char* value;
    const char* expected;
  };
  const Case cases[] = {
      {"cluster.local/ns/a/sa/b", R"(exact: "cluster.local/ns/a/sa/b")"},
      {"cluster.local/ns/a/*", R"(prefix: "cluster.local/ns/a/")"},
      {"*/ns/a/sa/b", R"(suffix: "/ns/a/sa/b")"},
      {"*", "presence {}"},
      {"spiffe://cluster.local/ns/a/sa/b", R"(exact: "spiffe://cluster.local/ns/a/sa/b")"},
      {"team-*", R"(prefix: "team-")"},
      {"**", R"(suffix: "*")"},  // a leading '*' wins, as in istiod
      {"", R"(exact: "")"},
  };
  for (const Case& c : cases) {
    INFO(c.value);
    CHECK(textOf(stringMatch(c.value)) == textOf(parseText<sec::StringMatch>(c.expected)));
  }
}

TEST_CASE("service accounts default to the policy's namespace", "[authz]") {
  sec::ServiceAccountMatch a = serviceAccountMatch("sa", "home");
  CHECK(a.namespace_() == "home");
  CHECK(a.serviceaccount() == "sa");
  sec::ServiceAccountMatch b = serviceAccountMatch("ops/admin", "home");
  CHECK(b.namespace_() == "ops");
  CHECK(b.serviceaccount() == "admin");
}

TEST_CASE("only five condition keys are L4", "[authz]") {
  for (const char* key : {"source.ip", "source.namespace", "source.principal", "destination.ip",
                          "destination.port"}) {
    CHECK(isL4ConditionKey(key));
  }
  for (const char* key : {"remote.ip", "request.headers[x]", "request.auth.principal",
                          "connection.sni", "destination.ports", "source.principals"}) {
    CHECK_FALSE(isL4ConditionKey(key));
  }
}

ConvertedPolicy convert(const std::string& spec, const std::string& ns = "app",
                        const std::string& extra_meta = "") {
  const auto objects = load(
      "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
      "metadata: {name: p, namespace: " +
      ns + extra_meta + "}\nspec:\n" + spec);
  REQUIRE(objects.size() == 1);
  return convertAuthorizationPolicy(objects[0], Options{});
}

TEST_CASE("HTTP attributes: istiod's three cases", "[authz]") {
  struct Case {
    const char* name;
    const char* spec;
    L7Handling handling;
    std::vector<std::string> attributes;
    const char* expected;  // text format of the Authorization
  };
  const Case cases[] = {
      {"L4 only",
       "  rules: [{from: [{source: {namespaces: [a]}}]}]\n",
       L7Handling::kNone,
       {},
       R"(name: "p" namespace: "app" scope: NAMESPACE
          groups { rules { matches { namespaces { exact: "a" } } } })"},
      {"ALLOW: the rule with paths is dropped, the other kept",
       "  rules:\n"
       "  - to: [{operation: {paths: [/x], ports: ['80']}}]\n"
       "  - from: [{source: {namespaces: [a]}}]\n",
       L7Handling::kAllowRulesDropped,
       {"paths"},
       R"(name: "p" namespace: "app" scope: NAMESPACE
          groups { rules { matches { namespaces { exact: "a" } } } })"},
      {"ALLOW: every rule dropped allows nothing",
       "  rules: [{when: [{key: 'request.auth.claims[iss]', values: [x]}]}]\n",
       L7Handling::kAllowRulesDropped,
       {"request.auth.claims[iss]"},
       R"(name: "p" namespace: "app" scope: NAMESPACE)"},
      {"DENY: enforced without methods",
       "  action: DENY\n"
       "  rules: [{to: [{operation: {methods: [GET], ports: ['80']}}]}]\n",
       L7Handling::kDenyWithoutHttp,
       {"methods"},
       R"(name: "p" namespace: "app" scope: NAMESPACE action: DENY
          groups { rules { matches { destination_ports: 80 } } })"},
      {"DENY: only HTTP left, an empty match, no effect",
       "  action: DENY\n"
       "  rules: [{from: [{source: {namespaces: [a]}}], to: [{operation: {hosts: [x]}}]}]\n",
       L7Handling::kDenyNoEffect,
       {"hosts"},
       R"(name: "p" namespace: "app" scope: NAMESPACE action: DENY
          groups { rules { matches {} } rules { matches { namespaces { exact: "a" } } } })"},
      {"DENY: HTTP sources and conditions",
       "  action: DENY\n"
       "  rules:\n"
       "  - from: [{source: {remoteIpBlocks: [1.2.3.4], notRequestPrincipals: ['*']}}]\n"
       "    when: [{key: remote.ip, values: [1.2.3.4]}, {key: source.ip, values: [1.2.3.4]}]\n",
       L7Handling::kDenyNoEffect,
       {"notRequestPrincipals", "remote.ip", "remoteIpBlocks"},
       R"(name: "p" namespace: "app" scope: NAMESPACE action: DENY
          groups {
            rules { matches {} }
            rules { matches {} }
            rules { matches { source_ips { address: "\001\002\003\004" length: 32 } } }
          })"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const ConvertedPolicy got = convert(c.spec);
    REQUIRE(got.authorization.has_value());
    CHECK(got.l7 == c.handling);
    CHECK(got.l7_attributes == c.attributes);
    CHECK(textOf(*got.authorization) == textOf(parseText<sec::Authorization>(c.expected)));
    CHECK(got.reason == (c.handling == L7Handling::kNone ? "" : "UnsupportedValue"));
  }
}

TEST_CASE("policies that are not the node agent's", "[authz]") {
  const ConvertedPolicy targeted = convert(
      "  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: wp}]\n"
      "  rules: [{to: [{operation: {methods: [GET]}}]}]\n");
  CHECK_FALSE(targeted.authorization.has_value());
  CHECK(targeted.reason.empty());

  const ConvertedPolicy custom =
      convert("  action: CUSTOM\n  provider: {name: x}\n  rules: [{}]\n");
  CHECK_FALSE(custom.authorization.has_value());
  CHECK(custom.reason == "UnsupportedValue");
  CHECK(custom.message == "the node agent does not support the CUSTOM action");

  const ConvertedPolicy audit = convert("  action: AUDIT\n  rules: [{}]\n");
  CHECK_FALSE(audit.authorization.has_value());
  CHECK(audit.message == "the node agent does not support the AUDIT action");

  const ConvertedPolicy dry = convert("  action: DENY\n  rules: [{}]\n", "app",
                                      ", annotations: {istio.io/dry-run: 'true'}");
  CHECK_FALSE(dry.authorization.has_value());
  CHECK(dry.reason == "UnsupportedValue");

  const ConvertedPolicy not_dry = convert("  action: DENY\n  rules: [{}]\n", "app",
                                          ", annotations: {istio.io/dry-run: 'false'}");
  REQUIRE(not_dry.authorization.has_value());
  CHECK(not_dry.authorization->groups_size() == 1);
  CHECK(not_dry.authorization->groups(0).rules_size() == 0);  // matches everything
}

TEST_CASE("scope: selector, namespace, root namespace", "[authz]") {
  CHECK(convert("  selector: {matchLabels: {a: b}}\n").authorization->scope() ==
        sec::WORKLOAD_SELECTOR);
  CHECK(convert("  action: ALLOW\n").authorization->scope() == sec::NAMESPACE);
  CHECK(convert("  action: ALLOW\n", "istio-system").authorization->scope() == sec::GLOBAL);
  CHECK(convert("  selector: {matchLabels: {a: b}}\n", "istio-system").authorization->scope() ==
        sec::WORKLOAD_SELECTOR);
}

}  // namespace
}  // namespace ambit::control::translate
