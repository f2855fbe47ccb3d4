// Which AuthorizationPolicies and RequestAuthentications apply to which served service, by their
// targetRefs, and what the compiled security config says of the services and key sets it knows.
#include "waypoint/config/security_config.h"

#include <algorithm>

#include <catch2/catch.hpp>

#include "test/waypoint/config/config_test_support.h"
#include "test/waypoint/jwt/jwt_test_support.h"

namespace ambit::waypoint::testing {
namespace {

const SecurityTarget kWeb = servedService("demo", "web");
const SecurityTarget kApi = servedService("demo", "api");

struct AppliesCase {
  std::string refs_json;  // the targetRefs list
  std::string policy_namespace;
  bool applies;
};

const AppliesCase kAppliesCases[] = {
    // A Service of the policy's own namespace, in the core group however it is written.
    {R"([{"kind":"Service","name":"web"}])", "demo", true},
    {R"([{"group":"","kind":"Service","name":"web"}])", "demo", true},
    {R"([{"group":"core","kind":"Service","name":"web"}])", "demo", true},
    {R"([{"kind":"Service","name":"web","namespace":"demo"}])", "demo", true},
    // Another service, another namespace, or a Service in a group it is not in.
    {R"([{"kind":"Service","name":"api"}])", "demo", false},
    {R"([{"kind":"Service","name":"web"}])", "other", false},
    {R"([{"kind":"Service","name":"web","namespace":"other"}])", "demo", false},
    {R"([{"kind":"Service","name":"web","namespace":"demo"}])", "other", false},
    {R"([{"group":"networking.istio.io","kind":"Service","name":"web"}])", "demo", false},
    {R"([{"group":"apps","kind":"Service","name":"web"}])", "demo", false},
    {R"([{"kind":"service","name":"web"}])", "demo", false},
    // A ServiceEntry, in networking.istio.io only.
    {R"([{"group":"networking.istio.io","kind":"ServiceEntry","name":"web"}])", "demo", true},
    {R"([{"group":"networking.istio.io","kind":"ServiceEntry","name":"web"}])", "other", false},
    {R"([{"kind":"ServiceEntry","name":"web"}])", "demo", false},
    // The waypoint's Gateway or GatewayClass: every service, from any namespace (the control
    // plane sends only the policies naming this waypoint's).
    {R"([{"group":"gateway.networking.k8s.io","kind":"Gateway","name":"waypoint"}])", "demo", true},
    {R"([{"group":"gateway.networking.k8s.io","kind":"Gateway","name":"waypoint"}])",
     "istio-system", true},
    {R"([{"group":"gateway.networking.k8s.io","kind":"GatewayClass","name":"istio-waypoint"}])",
     "istio-system", true},
    // Anything else, and no reference at all.
    {R"([{"kind":"Pod","name":"web"}])", "demo", false},
    {R"([{"kind":"Deployment","name":"web"}])", "demo", false},
    {R"([])", "demo", false},
    // Any reference that applies is enough.
    {R"([{"kind":"Service","name":"api"},{"kind":"Service","name":"web"}])", "demo", true},
};

TEST_CASE("security: which targetRefs name a served service") {
  for (const AppliesCase& c : kAppliesCases) {
    const AuthorizationPolicyEntry entry =
        authorizationPolicy(c.policy_namespace, "p", R"({"targetRefs":)" + c.refs_json + "}");
    INFO(c.refs_json << " in namespace " << c.policy_namespace);
    CHECK(policyAppliesTo(entry.spec.targetrefs(), c.policy_namespace, kWeb) == c.applies);
  }
}

std::vector<std::string> namesOf(const ServiceSecurity& security) {
  std::vector<std::string> out;
  for (const auto& policy : security.policies) out.push_back(policy->name);
  return out;
}

std::vector<std::string> rulePoliciesOf(const ServiceSecurity& security) {
  std::vector<std::string> out;
  if (security.authn == nullptr) return out;
  for (const auto& rule : security.authn->rules()) out.push_back(rule.policy);
  return out;
}

TEST_CASE("security: policies are grouped by the services their targetRefs name") {
  const std::vector<AuthorizationPolicyEntry> policies = {
      authorizationPolicy("demo", "all", R"({"targetRefs":[{"kind":"Gateway","name":"waypoint",
          "group":"gateway.networking.k8s.io"}], "action":"DENY",
          "rules":[{"to":[{"operation":{"paths":["/admin*"]}}]}]})"),
      authorizationPolicy("demo", "web-only",
                          R"({"targetRefs":[{"kind":"Service","name":"web"}], "rules":[{}]})"),
      // The deprecated single targetRef.
      authorizationPolicy("demo", "api-only",
                          R"({"targetRef":{"kind":"Service","name":"api"}, "rules":[{}]})"),
      // Naming a service this waypoint does not serve, or nothing (a selector is for ztunnel).
      authorizationPolicy("demo", "elsewhere",
                          R"({"targetRefs":[{"kind":"Service","name":"db"}], "rules":[{}]})"),
      authorizationPolicy("demo", "selector",
                          R"({"selector":{"matchLabels":{"app":"web"}}, "rules":[{}]})"),
      // Both forms: targetRefs wins, the single targetRef is ignored.
      authorizationPolicy("demo", "both", R"({"targetRefs":[{"kind":"Service","name":"web"}],
          "targetRef":{"kind":"Service","name":"api"}, "rules":[{}]})"),
  };
  std::vector<std::string> notes;
  const auto config =
      SecurityConfig::build(policies, {}, {kWeb, kApi}, PathNormalization::kMergeSlashes, notes);
  REQUIRE(config != nullptr);
  CHECK(config->policyCount() == policies.size());
  CHECK(config->authnCount() == 0);
  CHECK(config->normalization() == PathNormalization::kMergeSlashes);
  CHECK(config->jwksUris().empty());

  // In the order given (the control plane's, by name).
  CHECK(namesOf(config->forHost(kWeb.hostname)) ==
        std::vector<std::string>{"demo/all", "demo/web-only", "demo/both"});
  CHECK(namesOf(config->forHost(kApi.hostname)) ==
        std::vector<std::string>{"demo/all", "demo/api-only"});
  CHECK(config->forHost(kWeb.hostname).authn == nullptr);

  // Unknown hosts, including the unserved service a policy names: nothing applies.
  for (const char* host : {"db.demo.svc.cluster.local", "", "web", "WEB.demo.svc.cluster.local"}) {
    INFO(host);
    const ServiceSecurity& none = config->forHost(host);
    CHECK(none.policies.empty());
    CHECK(none.authn == nullptr);
  }
}

TEST_CASE("security: services of several namespaces sharing a hostname get every policy") {
  // Two ServiceEntries for one host: requests name the host, so both namespaces' policies apply.
  const SecurityTarget a{"a", "ext", "api.example.com"};
  const SecurityTarget b{"b", "ext", "api.example.com"};
  const std::vector<AuthorizationPolicyEntry> policies = {
      authorizationPolicy("a", "allow-all", R"({"targetRefs":[{"kind":"ServiceEntry",
          "group":"networking.istio.io","name":"ext"}], "rules":[{}]})"),
      authorizationPolicy("b", "deny-all", R"({"targetRefs":[{"kind":"ServiceEntry",
          "group":"networking.istio.io","name":"ext"}], "action":"DENY", "rules":[{}]})"),
  };
  std::vector<std::string> notes;
  const auto config = SecurityConfig::build(policies, {}, {a, b}, PathNormalization::kBase, notes);
  CHECK(namesOf(config->forHost("api.example.com")) ==
        std::vector<std::string>{"a/allow-all", "b/deny-all"});
}

TEST_CASE("security: a policy's compile notes are passed on with its name") {
  const std::vector<AuthorizationPolicyEntry> policies = {authorizationPolicy(
      "demo", "odd",
      R"({"targetRefs":[{"kind":"Service","name":"web"}], "rules":[{"to":[{"operation":{}}]}]})")};
  std::vector<std::string> notes;
  const auto config = SecurityConfig::build(policies, {}, {kWeb}, PathNormalization::kBase, notes);
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].rfind("AuthorizationPolicy demo/odd: ", 0) == 0);
  CHECK(notes[0].find("the operation sets no field") != std::string::npos);
  // Still enforced: what cannot be evaluated fails closed.
  CHECK(namesOf(config->forHost(kWeb.hostname)) == std::vector<std::string>{"demo/odd"});
}

// Two rules for web: one with fetched keys, one with inline keys and a jwksUri as well.
RequestAuthnEntry webAuthn() {
  RequestAuthnEntry entry =
      requestAuthentication("demo", "web", R"({"targetRefs":[{"kind":"Service","name":"web"}],
          "jwtRules":[{"issuer":"https://web.example","jwksUri":"https://web.example/jwks"},
                      {"issuer":"https://inline.example",
                       "jwksUri":"https://inline.example/never-fetched"}]})");
  entry.spec.mutable_jwt_rules(1)->set_jwks(jwksJson({TestKey::p256().jwk("inline")}));
  return entry;
}

TEST_CASE("security: RequestAuthentications are grouped the same way, with their jwksUris") {
  const std::vector<RequestAuthnEntry> authns = {
      requestAuthentication("demo", "gateway", R"({"targetRefs":[{"kind":"Gateway",
          "group":"gateway.networking.k8s.io","name":"waypoint"}],
          "jwtRules":[{"issuer":"https://gw.example","jwksUri":"https://gw.example/jwks"}]})"),
      webAuthn(),
      // The deprecated targetRef.
      requestAuthentication("demo", "api", R"({"targetRef":{"kind":"Service","name":"api"},
          "jwtRules":[{"issuer":"https://api.example"}]})"),
      // A service this waypoint does not serve: its key set is not needed.
      requestAuthentication("demo", "db", R"({"targetRefs":[{"kind":"Service","name":"db"}],
          "jwtRules":[{"issuer":"https://db.example","jwksUri":"https://db.example/jwks"}]})"),
  };
  std::vector<std::string> notes;
  const auto config =
      SecurityConfig::build({}, authns, {kWeb, kApi}, PathNormalization::kBase, notes);
  CHECK(config->authnCount() == authns.size());
  CHECK(config->policyCount() == 0);
  // Inline keys win over a jwksUri, which is then not fetched.
  CHECK(config->jwksUris() ==
        std::set<std::string>{"https://gw.example/jwks", "https://web.example/jwks"});

  const ServiceSecurity& web = config->forHost(kWeb.hostname);
  CHECK(web.policies.empty());
  CHECK(rulePoliciesOf(web) == std::vector<std::string>{"demo/gateway", "demo/web", "demo/web"});
  CHECK(rulePoliciesOf(config->forHost(kApi.hostname)) ==
        std::vector<std::string>{"demo/gateway", "demo/api"});
  CHECK(config->forHost("db.demo.svc.cluster.local").authn == nullptr);

  // The api rule has no key source: its note names the service it applies to.
  const bool noted = std::any_of(notes.begin(), notes.end(), [](const std::string& note) {
    return note.rfind("RequestAuthentication for api.demo.svc.cluster.local: demo/api", 0) == 0;
  });
  INFO(::Catch::Detail::stringify(notes));
  CHECK(noted);
}

TEST_CASE("security: without services nothing applies and no key set is needed") {
  const std::vector<AuthorizationPolicyEntry> policies = {authorizationPolicy(
      "demo", "web", R"({"targetRefs":[{"kind":"Service","name":"web"}], "rules":[{}]})")};
  const std::vector<RequestAuthnEntry> authns = {
      requestAuthentication("demo", "web", R"({"targetRefs":[{"kind":"Service","name":"web"}],
          "jwtRules":[{"issuer":"https://web.example","jwksUri":"https://web.example/jwks"}]})")};
  std::vector<std::string> notes;
  const auto config = SecurityConfig::build(policies, authns, {}, PathNormalization::kNone, notes);
  CHECK(config->forHost(kWeb.hostname).policies.empty());
  CHECK(config->forHost(kWeb.hostname).authn == nullptr);
  CHECK(config->jwksUris().empty());
  CHECK(config->policyCount() == 1);
  CHECK(config->authnCount() == 1);
  CHECK(config->normalization() == PathNormalization::kNone);
}

}  // namespace
}  // namespace ambit::waypoint::testing
