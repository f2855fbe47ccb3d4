// AuthorizationPolicy, PeerAuthentication and RequestAuthentication rules: each row is a spec and
// every issue it must produce.
#include "test/core/config/validate/validate_test_util.h"

namespace ambit::config::validate::testing {
namespace {

void checkAuthz(const std::vector<Case>& cases) {
  checkCases("security.istio.io/v1", "AuthorizationPolicy", cases);
}

TEST_CASE("valid authorization policies have no issues", "[validate][authorization-policy]") {
  checkAuthz({
      {"{}", {}},
      {"action: DENY\nrules: [{}]", {}},
      {R"yaml(selector: {matchLabels: {app: reviews}}
action: ALLOW
rules:
- from:
  - source:
      principals: ["cluster.local/ns/shop/sa/frontend", "*/sa/admin", "spiffe://*", "*"]
      requestPrincipals: ["https://issuer.example.com/*"]
      namespaces: [shop]
      ipBlocks: [10.0.0.0/8, "2001:db8::1"]
      notRemoteIpBlocks: [192.168.0.1]
  - source:
      serviceAccounts: [shop/frontend, backend]
      trustDomains: ["*.example.com"]
  to:
  - operation:
      hosts: ["*.example.com", "api.example.com:8080"]
      ports: ["8080", "443"]
      methods: [GET, POST]
      paths: ["/api/*", "*/health", "/items/{*}/reviews/{**}"]
      notPaths: ["/admin"]
  when:
  - key: request.headers[x-user]
    values: [alice]
  - key: source.ip
    notValues: [10.1.0.0/16]
  - key: request.auth.claims[groups]
    values: [admins]
  - key: destination.port
    values: ["8080"]
  - key: connection.sni
    values: ["*.example.com"]
  - key: experimental.envoy.filters.http.jwt_authn[issuer]
    values: [x]
)yaml",
       {}},
      {R"yaml(action: CUSTOM
provider: {name: ext-authz}
rules:
- to: [{operation: {paths: [/admin]}}]
)yaml",
       {}},
      {R"yaml(action: DENY
rules:
- from: [{source: {namespaces: [untrusted]}}]
  to: [{operation: {ports: ["22"]}}]
)yaml",
       {}},
  });
}

TEST_CASE("authorization policy actions and selection", "[validate][authorization-policy]") {
  checkAuthz({
      {"action: DENY",
       {"error spec.rules: a DENY policy without rules never applies; add an empty rule {} to "
        "deny every request"}},
      {"action: CUSTOM\nprovider: {name: ext}",
       {"error spec.rules: a CUSTOM policy without rules never applies; add an empty rule {} to "
        "apply it to every request"}},
      {"action: CUSTOM\nrules: [{}]",
       {"error spec.provider.name: provider.name is required with action CUSTOM"}},
      {"action: ALLOW\nprovider: {name: ext}\nrules: [{}]",
       {"error spec.provider: provider is allowed only with action CUSTOM, not ALLOW"}},
      {R"yaml(action: CUSTOM
provider: {name: ext}
rules:
- from: [{source: {principals: [a], namespaces: [b]}}]
  when: [{key: "request.auth.claims[iss]", values: [x]}, {key: source.principal, values: [y]}]
)yaml",
       {"error spec.rules[0].from[0].source.namespaces: namespaces is not supported with action "
        "CUSTOM",
        "error spec.rules[0].from[0].source.principals: principals is not supported with action "
        "CUSTOM",
        "error spec.rules[0].when[0].key: key \"request.auth.claims[iss]\" is not supported with "
        "action CUSTOM",
        "error spec.rules[0].when[1].key: key \"source.principal\" is not supported with action "
        "CUSTOM"}},
      {"selector: {matchLabels: {app: a}}\ntargetRef: {kind: Service, name: a}",
       {"error spec.targetRef: only one of selector, targetRef and targetRefs may be set"}},
      {"targetRef: {kind: Gateway, group: gateway.networking.k8s.io, name: w}\ntargetRefs: "
       "[{kind: ServiceEntry, group: networking.istio.io, name: s}]",
       {"error spec.targetRefs: only one of selector, targetRef and targetRefs may be set"}},
      {"selector: {matchLabels: {}}",
       {"warning spec.selector.matchLabels: selector has no labels, so it selects every workload "
        "in the namespace"}},
      {"selector: {matchLabels: {\"\": x}}",
       {"error spec.selector.matchLabels[\"\"]: label key \"\" is invalid: it must not be "
        "empty"}},
  });
}

TEST_CASE("authorization policy sources and operations", "[validate][authorization-policy]") {
  checkAuthz({
      {"rules: [{from: [{}]}]", {"error spec.rules[0].from[0].source: source is required"}},
      {"rules: [{from: [{source: {}}]}]",
       {"error spec.rules[0].from[0].source: source must set at least one field"}},
      {"rules: [{to: [{}]}]", {"error spec.rules[0].to[0].operation: operation is required"}},
      {"rules: [{to: [{operation: {}}]}]",
       {"error spec.rules[0].to[0].operation: operation must set at least one field"}},
      {"rules: [{from: [{source: {principals: [\"a*b\"]}}]}]",
       {"error spec.rules[0].from[0].source.principals[0]: principal \"a*b\" is invalid: \"*\" "
        "may appear only at the start or the end"}},
      {"rules: [{from: [{source: {notPrincipals: [\"*a*\"]}}]}]",
       {"error spec.rules[0].from[0].source.notPrincipals[0]: principal \"*a*\" is invalid: "
        "\"*\" may appear only once"}},
      {"rules: [{from: [{source: {requestPrincipals: [\"\"]}}]}]",
       {"error spec.rules[0].from[0].source.requestPrincipals[0]: request principal must not be "
        "empty"}},
      {"rules: [{from: [{source: {namespaces: [\"te*st\"]}}]}]",
       {"error spec.rules[0].from[0].source.namespaces[0]: namespace \"te*st\" is invalid: \"*\" "
        "may appear only at the start or the end"}},
      {"rules: [{from: [{source: {ipBlocks: [10.0.0.0/40], remoteIpBlocks: [\"\"]}}]}]",
       {"error spec.rules[0].from[0].source.ipBlocks[0]: ipBlock \"10.0.0.0/40\" is not an IP "
        "address or a CIDR block",
        "error spec.rules[0].from[0].source.remoteIpBlocks[0]: remoteIpBlock must not be "
        "empty"}},
      {"rules: [{from: [{source: {principals: [a], serviceAccounts: [b]}}]}]",
       {"error spec.rules[0].from[0].source: serviceAccounts cannot be combined with principals "
        "or namespaces"}},
      {"rules: [{from: [{source: {serviceAccounts: [\"ns/*\", a/b/c, /b]}}]}]",
       {"error spec.rules[0].from[0].source.serviceAccounts[0]: service account \"ns/*\" is "
        "invalid: wildcards are not supported",
        "error spec.rules[0].from[0].source.serviceAccounts[1]: service account \"a/b/c\" is "
        "invalid: expected name or namespace/name",
        "error spec.rules[0].from[0].source.serviceAccounts[2]: service account \"/b\" is "
        "invalid: expected name or namespace/name"}},
      {"rules: [{from: [{source: {trustDomains: [a/b]}}]}]",
       {"error spec.rules[0].from[0].source.trustDomains[0]: trust domain \"a/b\" must not "
        "contain \"/\""}},
      {"rules: [{to: [{operation: {hosts: [\"a.*.com\"], notHosts: [\"\"]}}]}]",
       {"error spec.rules[0].to[0].operation.hosts[0]: host \"a.*.com\" is invalid: \"*\" may "
        "appear only at the start or the end",
        "error spec.rules[0].to[0].operation.notHosts[0]: host must not be empty"}},
      {"rules: [{to: [{operation: {ports: [\"0\", http, \"65536\"]}}]}]",
       {"error spec.rules[0].to[0].operation.ports[0]: port \"0\" must be a number between 1 and "
        "65535",
        "error spec.rules[0].to[0].operation.ports[1]: port \"http\" must be a number between 1 "
        "and 65535",
        "error spec.rules[0].to[0].operation.ports[2]: port \"65536\" must be a number between 1 "
        "and 65535"}},
      {"rules: [{to: [{operation: {methods: [get, \"\"]}}]}]",
       {"warning spec.rules[0].to[0].operation.methods[0]: method \"get\" never matches: HTTP "
        "methods are uppercase, as in \"GET\"",
        "error spec.rules[0].to[0].operation.methods[1]: method must not be empty"}},
      {"rules: [{to: [{operation: {paths: [\"/a*b\", \"/{**}/x/{*}\", \"/a/{x}\"]}}]}]",
       {"error spec.rules[0].to[0].operation.paths[0]: path \"/a*b\" is invalid: \"*\" may "
        "appear only at the start or the end",
        "error spec.rules[0].to[0].operation.paths[1]: path \"/{**}/x/{*}\" is invalid: {**} "
        "must be the last operator"}},
      {"rules: [{to: [{operation: {paths: [\"/a/{*}/b c\"]}}]}]",
       {"error spec.rules[0].to[0].operation.paths[0]: path \"/a/{*}/b c\" is invalid: segment "
        "\"b c\" is neither {*}, {**} nor a literal"}},
      {"action: DENY\nrules: [{to: [{operation: {methods: [POST]}}]}]",
       {"warning spec.rules[0]: this DENY rule uses only HTTP attributes, so it denies all "
        "traffic to TCP ports in the policy's scope; set ports to limit it"}},
      {"action: DENY\nrules: [{from: [{source: {requestPrincipals: [\"*\"]}}]}]",
       {"warning spec.rules[0]: this DENY rule uses only HTTP attributes, so it denies all "
        "traffic to TCP ports in the policy's scope; set ports to limit it"}},
  });
}

TEST_CASE("authorization policy conditions", "[validate][authorization-policy]") {
  checkAuthz({
      {"rules: [{when: [{values: [a]}]}]", {"error spec.rules[0].when[0].key: key is required"}},
      {"rules: [{when: [{key: source.ip}]}]",
       {"error spec.rules[0].when[0]: values or notValues is required for key \"source.ip\""}},
      {"rules: [{when: [{key: request.regex, values: [a]}]}]",
       {"error spec.rules[0].when[0].key: key \"request.regex\" is unknown; expected "
        "request.headers[...], source.ip, remote.ip, source.namespace, source.serviceAccount, "
        "source.principal, source.trustDomain, request.auth.principal, request.auth.audiences, "
        "request.auth.presenter, request.auth.claims[...], destination.ip, destination.port, "
        "connection.sni or experimental.envoy.filters.*"}},
      {"rules: [{when: [{key: request.headers, values: [a]}]}]",
       {"error spec.rules[0].when[0].key: key \"request.headers\" must name an entry, as in "
        "\"request.headers[x-user]\""}},
      {"rules: [{when: [{key: \"request.auth.claims[]\", values: [a]}]}]",
       {"error spec.rules[0].when[0].key: key \"request.auth.claims[]\" must name an entry, as "
        "in \"request.headers[x-user]\""}},
      {"rules: [{when: [{key: remote.ip, values: [1.2.3], notValues: [\"\"]}]}]",
       {"error spec.rules[0].when[0].values[0]: value \"1.2.3\" is not an IP address or a CIDR "
        "block",
        "error spec.rules[0].when[0].notValues[0]: value must not be empty"}},
      {"rules: [{when: [{key: destination.port, values: [\"80a\"]}]}]",
       {"error spec.rules[0].when[0].values[0]: port \"80a\" must be a number between 1 and "
        "65535"}},
      {"rules: [{when: [{key: source.namespace, values: [\"\"]}]}]",
       {"error spec.rules[0].when[0].values[0]: value for key \"source.namespace\" must not be "
        "empty"}},
      {"rules: [{when: [{key: destination.namespace, values: [a]}]}]",
       {"error spec.rules[0].when[0].key: key \"destination.namespace\" is not supported; a "
        "policy applies to its own namespace"}},
      {"rules: [{when: [{key: \"destination.labels[app]\", values: [a]}]}]",
       {"error spec.rules[0].when[0].key: key \"destination.labels[app]\" is not supported; use "
        "the selector instead"}},
      {"rules: [{when: [{key: destination.user, values: [a]}]}]",
       {"error spec.rules[0].when[0].key: key \"destination.user\" is no longer supported"}},
  });
}

TEST_CASE("authorization policy dry-run annotation", "[validate][authorization-policy]") {
  const auto doc = [](const std::string& value, const std::string& action) {
    return "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: p\n"
           "  annotations: {istio.io/dry-run: \"" +
           value + "\"}\nspec:\n  action: " + action + "\n  rules: [{}]\n";
  };
  CHECK(issuesOf(doc("true", "DENY")).empty());
  CHECK(issuesOf(doc("maybe", "ALLOW")) ==
        std::vector<std::string>{"error metadata.annotations[\"istio.io/dry-run\"]: annotation "
                                 "istio.io/dry-run must be true or false, got \"maybe\""});
  CHECK(issuesOf(doc("true", "AUDIT")) ==
        std::vector<std::string>{"error metadata.annotations[\"istio.io/dry-run\"]: annotation "
                                 "istio.io/dry-run supports only actions ALLOW and DENY, not "
                                 "AUDIT"});
}

TEST_CASE("peer authentication rules", "[validate][peer-authentication]") {
  checkCases("security.istio.io/v1", "PeerAuthentication",
             {
                 {"mtls: {mode: STRICT}", {}},
                 {"selector: {matchLabels: {app: a}}\nmtls: {mode: PERMISSIVE}\n"
                  "portLevelMtls: {8080: {mode: DISABLE}}",
                  {}},
                 {"mtls: {mode: STRICT}\nportLevelMtls: {8080: {mode: DISABLE}}",
                  {"error spec.portLevelMtls: portLevelMtls needs a selector with labels; "
                   "mesh-wide and namespace-wide policies cannot set it"}},
                 {"selector: {matchLabels: {}}\nportLevelMtls: {8080: {mode: DISABLE}}",
                  {"warning spec.selector.matchLabels: selector has no labels, so it selects "
                   "every workload in the namespace",
                   "error spec.portLevelMtls: portLevelMtls needs a selector with labels; "
                   "mesh-wide and namespace-wide policies cannot set it"}},
                 {"selector: {matchLabels: {app: a}}\nportLevelMtls: {0: {mode: DISABLE}, "
                  "70000: {mode: STRICT}}",
                  {"error spec.portLevelMtls.0: port must be between 1 and 65535, got 0",
                   "error spec.portLevelMtls.70000: port must be between 1 and 65535, got "
                   "70000"}},
                 {"selector: {matchLabels: {app: \"a*\"}}",
                  {"error spec.selector.matchLabels.app: wildcards are not supported in "
                   "selectors, got \"app=a*\""}},
             });
}

TEST_CASE("request authentication rules", "[validate][request-authentication]") {
  checkCases(
      "security.istio.io/v1", "RequestAuthentication",
      {
          {R"yaml(selector: {matchLabels: {app: a}}
jwtRules:
- issuer: https://issuer.example.com
  jwksUri: "https://issuer.example.com:8443/keys?x=1"
  audiences: [a, b]
  fromHeaders: [{name: Authorization, prefix: "Bearer "}]
  fromParams: [token]
  fromCookies: [session]
  outputClaimToHeaders: [{header: x-user_id, claim: sub}]
  timeout: 5s
- issuer: other
  jwks: '{"keys": []}'
)yaml",
           {}},
          {"jwtRules: [{jwksUri: \"https://a.example.com/keys\"}]", {}},
          {"jwtRules: [{audiences: [a]}]",
           {"error spec.jwtRules[0].issuer: issuer is required (or jwksUri)"}},
          {"jwtRules: [{issuer: a, jwksUri: \"ftp://a.example.com/keys\"}]",
           {"error spec.jwtRules[0].jwksUri: jwksUri \"ftp://a.example.com/keys\" is invalid: "
            "scheme \"ftp\" is not supported; use http or https"}},
          {"jwtRules: [{issuer: a, jwksUri: a.example.com/keys}]",
           {"error spec.jwtRules[0].jwksUri: jwksUri \"a.example.com/keys\" is invalid: expected "
            "an http:// or https:// URL"}},
          {"jwtRules: [{issuer: a, jwksUri: \"https:///keys\"}]",
           {"error spec.jwtRules[0].jwksUri: jwksUri \"https:///keys\" is invalid: it has no "
            "host"}},
          {"jwtRules: [{issuer: a, jwksUri: \"http://a.example.com:99999/keys\"}]",
           {"error spec.jwtRules[0].jwksUri: jwksUri \"http://a.example.com:99999/keys\" is "
            "invalid: port \"99999\" is not a number between 1 and 65535"}},
          {"jwtRules: [{issuer: a, jwksUri: \"https://a.example.com/k\", jwks: '{\"keys\": []}'}]",
           {"warning spec.jwtRules[0].jwks: jwks and jwksUri are both set; jwks is used and "
            "jwksUri is ignored"}},
          {"jwtRules: [{issuer: a, jwks: \"not json\"}]",
           {"error spec.jwtRules[0].jwks: jwks is not a JSON object (a JSON Web Key Set)"}},
          {"jwtRules: [{issuer: a, audiences: [\"\"], fromParams: [\"\"], fromCookies: [\"\"]}]",
           {"error spec.jwtRules[0].audiences[0]: audience must not be empty",
            "error spec.jwtRules[0].fromParams[0]: query parameter name must not be empty",
            "error spec.jwtRules[0].fromCookies[0]: cookie name must not be empty"}},
          {"jwtRules: [{issuer: a, fromHeaders: [{prefix: x}, {name: \"a b\"}]}]",
           {"error spec.jwtRules[0].fromHeaders[0].name: header name must not be empty",
            "error spec.jwtRules[0].fromHeaders[1].name: header name \"a b\" is not a valid HTTP "
            "header name"}},
          {"jwtRules: [{issuer: a, outputClaimToHeaders: [{header: x}, {header: \"x.y\", claim: "
           "sub}]}]",
           {"error spec.jwtRules[0].outputClaimToHeaders[0]: header and claim are both required",
            "error spec.jwtRules[0].outputClaimToHeaders[1].header: header \"x.y\" is invalid: "
            "use letters, digits, '-' and '_'"}},
          {"jwtRules: [{issuer: a, outputPayloadToHeader: \"x y\", timeout: 0s}]",
           {"error spec.jwtRules[0].outputPayloadToHeader: header \"x y\" is invalid: use "
            "letters, digits, '-' and '_'",
            "error spec.jwtRules[0].timeout: timeout must be at least 1ms, got 0s"}},
          {"selector: {matchLabels: {app: a}}\ntargetRefs: [{kind: Service, name: a}]",
           {"error spec.targetRefs: only one of selector, targetRef and targetRefs may be set"}},
      });
}

}  // namespace
}  // namespace ambit::config::validate::testing
