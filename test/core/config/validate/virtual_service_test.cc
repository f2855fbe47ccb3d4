// VirtualService rules: each row is a spec and every issue it must produce.
#include "test/core/config/validate/validate_test_util.h"

namespace ambit::config::validate::testing {
namespace {

void check(const std::vector<Case>& cases) {
  checkCases("networking.istio.io/v1", "VirtualService", cases);
}

TEST_CASE("valid virtual services have no issues", "[validate][virtual-service]") {
  check({
      {R"yaml(hosts: [reviews]
http:
- route:
  - destination: {host: reviews, subset: v1}
)yaml",
       {}},
      {R"yaml(hosts: ["*.example.com", "10.0.0.1", reviews.prod.svc.cluster.local.]
gateways: [mesh, istio-system/ingress, ingress]
http:
- name: main
  match:
  - uri: {prefix: /api}
    method: {exact: GET}
    headers:
      x-user: {regex: "^(alice|bob)$"}
      x-present: {}
    withoutHeaders:
      x-debug: {regex: "*"}
    queryParams:
      v: {exact: "2"}
    port: 8080
    sourceLabels: {app: frontend}
    sourceNamespace: shop
  route:
  - destination: {host: reviews, subset: v1, port: {number: 9080}}
    weight: 75
    headers:
      request:
        set: {x-route: v1, host: reviews.internal}
        remove: [x-debug]
  - destination: {host: reviews, subset: v2}
    weight: 25
  timeout: 10s
  retries: {attempts: 3, perTryTimeout: 2s, retryOn: "5xx,reset,503,retriable-status-codes"}
  fault:
    delay: {fixedDelay: 100ms, percentage: {value: 0.5}}
    abort: {grpcStatus: UNAVAILABLE, percentage: {value: 1}}
  mirror: {host: reviews-shadow}
  mirrorPercentage: {value: 10}
  corsPolicy:
    allowOrigins: [{exact: "https://example.com"}, {regex: "https://.*\\.example\\.com"}]
    allowMethods: [GET, POST]
    allowHeaders: [x-user, "*"]
    maxAge: 24h
- match:
  - uri: {exact: /old}
  redirect: {uri: /new, redirectCode: 301}
- match:
  - uri: {prefix: /gone}
  directResponse: {status: 404, body: {string: gone}}
- match:
  - uri: {prefix: /v1}
  rewrite: {uriRegexRewrite: {match: "^/v1/(.*)", rewrite: "/\\1"}}
  route:
  - destination: {host: reviews}
)yaml",
       {}},
      {R"yaml(hosts: ["*"]
gateways: [ingress]
http:
- match:
  - headers:
      "@request.auth.claims.group": {exact: admin}
  route:
  - destination: {host: reviews}
)yaml",
       {}},
      {R"yaml(hosts: [db.example.com]
tls:
- match:
  - sniHosts: [db.example.com]
    destinationSubnets: [10.0.0.0/8]
  route:
  - destination: {host: db.example.com, port: {number: 443}}
tcp:
- match:
  - port: 5432
    destinationSubnets: ["2001:db8::/32"]
  route:
  - destination: {host: db, subset: primary}
    weight: 100
)yaml",
       {}},
      {R"yaml(http:
- route:
  - destination: {host: reviews}
)yaml",
       {}},  // a delegate (no hosts)
      {R"yaml(hosts: [reviews]
http:
- delegate: {name: reviews-routes, namespace: shop}
)yaml",
       {}},
  });
}

TEST_CASE("virtual service hosts and gateways", "[validate][virtual-service]") {
  check({
      {"hosts: [\"*\"]\nhttp: [{route: [{destination: {host: a}}]}]",
       {"error spec.hosts[0]: host \"*\" is allowed only in virtual services bound to gateways, "
        "not to the mesh"}},
      {"hosts: [\"\"]\nhttp: [{route: [{destination: {host: a}}]}]",
       {"error spec.hosts[0]: host must not be empty"}},
      {"hosts: [a_b.example.com]\nhttp: [{route: [{destination: {host: a}}]}]",
       {"error spec.hosts[0]: host \"a_b.example.com\" is invalid: label \"a_b\" is not a DNS "
        "label (letters, digits and '-', starting and ending with a letter or digit)"}},
      {"hosts: [foo.*.com]\nhttp: [{route: [{destination: {host: a}}]}]",
       {"error spec.hosts[0]: host \"foo.*.com\" is invalid: \"*\" may appear only at the start "
        "of the first label"}},
      {"hosts: [foo*.com]\nhttp: [{route: [{destination: {host: a}}]}]",
       {"error spec.hosts[0]: host \"foo*.com\" is invalid: \"*\" may appear only at the start of "
        "the first label"}},
      {"hosts: [example.123]\nhttp: [{route: [{destination: {host: a}}]}]",
       {"error spec.hosts[0]: host \"example.123\" is invalid: top-level domain \"123\" must not "
        "be all digits"}},
      {"hosts: [a..b]\nhttp: [{route: [{destination: {host: a}}]}]",
       {"error spec.hosts[0]: host \"a..b\" is invalid: it has an empty label"}},
      {"hosts: [\"*.example.com\", a.example.com]\nhttp: [{route: [{destination: {host: a}}]}]",
       {"error spec.hosts[1]: hosts \"*.example.com\" and \"a.example.com\" overlap"}},
      {"hosts: [a, a]\nhttp: [{route: [{destination: {host: a}}]}]",
       {"error spec.hosts[1]: hosts \"a\" and \"a\" overlap"}},
      {"hosts: [a]\ngateways: [\"ns/\"]\nhttp: [{route: [{destination: {host: a}}]}]",
       {"error spec.gateways[0]: gateway \"ns/\" is invalid: expected namespace/name with both "
        "parts set"}},
      {"hosts: [a]\ngateways: [NS_1/gw]\nhttp: [{route: [{destination: {host: a}}]}]",
       {"error spec.gateways[0]: gateway \"NS_1/gw\" is invalid: namespace \"NS_1\" is not a DNS "
        "label"}},
      {"hosts: [a]\ngateways: [ns/gw.x]\nhttp: [{route: [{destination: {host: a}}]}]",
       {"error spec.gateways[0]: gateway \"ns/gw.x\" is invalid: name \"gw.x\" is not a DNS "
        "label"}},
      {"hosts: [a]\ngateways: [gw_1]\nhttp: [{route: [{destination: {host: a}}]}]",
       {"error spec.gateways[0]: gateway \"gw_1\" is invalid: label \"gw_1\" is not a DNS label "
        "(letters, digits and '-', starting and ending with a letter or digit)"}},
      {"hosts: [a]\ngateways: [ingress.istio-system]\nhttp: [{route: [{destination: {host: a}}]}]",
       {"warning spec.gateways[0]: gateway \"ingress.istio-system\" uses the legacy "
        "name.namespace form; write \"istio-system/ingress\""}},
      {"hosts: [a]", {"error spec: at least one http, tcp or tls route is required"}},
      {"gateways: [gw]\ntcp: [{route: [{destination: {host: a}}]}]",
       {"error spec.gateways: a delegate virtual service (one without hosts) must not set "
        "gateways",
        "error spec.tcp: a delegate virtual service (one without hosts) cannot have TCP routes"}},
      {"tls: [{match: [{sniHosts: [a.com]}], route: [{destination: {host: a}}]}]",
       {"error spec.tls: a delegate virtual service (one without hosts) cannot have TLS routes",
        "error spec.tls[0].match[0].sniHosts[0]: sniHost \"a.com\" is not matched by any host of "
        "the virtual service ()"}},
      {R"yaml(hosts: [a]
http:
- match:
  - headers:
      "@request.auth.claims.group": {exact: admin}
  route:
  - destination: {host: a}
)yaml",
       {"error spec.http[0].match[0].headers[\"@request.auth.claims.group\"]: routing on JWT "
        "claims (\"@request.auth.claims.group\") works only for gateways, and this virtual "
        "service applies to the mesh"}},
      {"hosts: [a]\nexportTo: [\".\", \".\"]\nhttp: [{route: [{destination: {host: a}}]}]",
       {"error spec.exportTo[1]: duplicate exportTo entry \".\""}},
      {"hosts: [a]\nexportTo: [\"*\", ns1]\nhttp: [{route: [{destination: {host: a}}]}]",
       {"error spec.exportTo: \"*\" exports to every namespace and cannot be combined with other "
        "entries"}},
      {"hosts: [a]\nexportTo: [\"~\"]\nhttp: [{route: [{destination: {host: a}}]}]",
       {"error spec.exportTo[0]: \"~\" is allowed only in service entries"}},
      {"hosts: [a]\nexportTo: [Bad_NS]\nhttp: [{route: [{destination: {host: a}}]}]",
       {"error spec.exportTo[0]: exportTo entry \"Bad_NS\" is invalid: expected \".\", \"*\" or a "
        "namespace name"}},
  });
}

TEST_CASE("virtual service destinations and weights", "[validate][virtual-service]") {
  check({
      {R"yaml(hosts: [a]
http:
- route:
  - destination: {host: a, subset: v1}
    weight: 90
  - destination: {host: a, subset: v2}
)yaml",
       {"error spec.http[0].route: weights must sum to 100, got 90"}},
      {R"yaml(hosts: [a]
http:
- route:
  - destination: {host: a, subset: v1}
  - destination: {host: a, subset: v2}
)yaml",
       {"error spec.http[0].route: weights must sum to 100, got 0"}},
      {R"yaml(hosts: [a]
http:
- route:
  - destination: {host: a}
    weight: 150
)yaml",
       {"error spec.http[0].route[0].weight: weight must be between 0 and 100, got 150"}},
      {R"yaml(hosts: [a]
http:
- route:
  - destination: {host: a, subset: v1}
    weight: -10
  - destination: {host: a, subset: v2}
    weight: 110
)yaml",
       {"error spec.http[0].route[0].weight: weight must be between 0 and 100, got -10",
        "error spec.http[0].route[1].weight: weight must be between 0 and 100, got 110"}},
      {"hosts: [a]\nhttp: [{route: [{weight: 100}]}]",
       {"error spec.http[0].route[0].destination: destination is required"}},
      {"hosts: [a]\nhttp: [{route: [{destination: {subset: v1}}]}]",
       {"error spec.http[0].route[0].destination.host: host is required"}},
      {"hosts: [a]\nhttp: [{route: [{destination: {host: \"*\"}}]}]",
       {"error spec.http[0].route[0].destination.host: host \"*\" is not allowed in a "
        "destination"}},
      {"hosts: [a]\nhttp: [{route: [{destination: {host: a, subset: v1_beta}}]}]",
       {"error spec.http[0].route[0].destination.subset: subset \"v1_beta\" is not a DNS label"}},
      {"hosts: [a]\nhttp: [{route: [{destination: {host: a, port: {number: 70000}}}]}]",
       {"error spec.http[0].route[0].destination.port.number: port must be between 1 and 65535, "
        "got 70000"}},
      {"hosts: [a]\nhttp: [{route: [{destination: {host: a, port: {number: 0}}}]}]",
       {"error spec.http[0].route[0].destination.port.number: port must be between 1 and 65535, "
        "got 0"}},
      {R"yaml(hosts: [a.com]
tcp:
- route:
  - destination: {host: a}
    weight: 60
  - destination: {host: b}
    weight: 60
)yaml",
       {"error spec.tcp[0].route: weights must sum to 100, got 120"}},
      {"hosts: [a.com]\ntcp: [{match: [{port: 5432}]}]",
       {"error spec.tcp[0].route: route is required"}},
      {R"yaml(hosts: [a.com]
tcp:
- match: [{destinationSubnets: [10.0.0.0/33], sourceSubnet: nope, sourceNamespace: Bad_NS}]
  route: [{destination: {host: a}}]
)yaml",
       {"error spec.tcp[0].match[0].destinationSubnets[0]: destination subnet \"10.0.0.0/33\" is "
        "not an IP address or a CIDR block",
        "error spec.tcp[0].match[0].sourceSubnet: source subnet \"nope\" is not an IP address or "
        "a CIDR block",
        "error spec.tcp[0].match[0].sourceNamespace: sourceNamespace \"Bad_NS\" is not a "
        "namespace name"}},
      {"hosts: [a.com]\ntls: [{route: [{destination: {host: a}}]}]",
       {"error spec.tls[0].match: a TLS route needs at least one match"}},
      {"hosts: [a.com]\ntls: [{match: [{port: 443}], route: [{destination: {host: a}}]}]",
       {"error spec.tls[0].match[0].sniHosts: a TLS match needs at least one sniHost"}},
      {"hosts: [a.com]\ntls: [{match: [{sniHosts: [b.com]}], route: [{destination: {host: a}}]}]",
       {"error spec.tls[0].match[0].sniHosts[0]: sniHost \"b.com\" is not matched by any host of "
        "the virtual service (a.com)"}},
      {"hosts: [\"*.a.com\"]\ntls: [{match: [{sniHosts: [x.a.com, 10.1.2.3]}], route: "
       "[{destination: {host: a}}]}]",
       {"warning spec.tls[0].match[0].sniHosts[1]: sniHost \"10.1.2.3\" is an IP address, which "
        "TLS clients rarely send as SNI"}},
      {"hosts: [a.com]\ntls: [{match: [{sniHosts: [a.com]}]}]",
       {"error spec.tls[0].route: route is required"}},
  });
}

TEST_CASE("virtual services with many hosts stay linear", "[validate][virtual-service]") {
  // Past 256 hosts only exact duplicates are reported (overlapping wildcards are not).
  std::string hosts = "hosts: [\"*.example.com\"";
  for (int i = 0; i < 300; ++i) hosts += ", h" + std::to_string(i) + ".example.com";
  hosts += ", h7.example.com]\n";
  check({{hosts + "http: [{route: [{destination: {host: a}}]}]",
          {"error spec.hosts[301]: host \"h7.example.com\" is listed twice"}},
         {hosts + "tls: [{match: [{sniHosts: [x.example.com, other.com]}], route: "
                  "[{destination: {host: a}}]}]",
          {"error spec.hosts[301]: host \"h7.example.com\" is listed twice",
           "error spec.tls[0].match[0].sniHosts[1]: sniHost \"other.com\" is not matched by any "
           "host of the virtual service (*.example.com, h0.example.com, h1.example.com, "
           "h2.example.com, h3.example.com, and 297 more)"}}});
}

TEST_CASE("SNI hosts must fall within the virtual service's hosts", "[validate][virtual-service]") {
  const std::string route = "  route: [{destination: {host: a}}]\n";
  check({
      {"hosts: [\"*.a.com\"]\ntls:\n- match: [{sniHosts: [\"*.b.a.com\", x.a.com]}]\n" + route, {}},
      {"hosts: [\"*foo.com\"]\ntls:\n- match: [{sniHosts: [barfoo.com]}]\n" + route, {}},
      {"hosts: [\"*\"]\ngateways: [gw]\ntls:\n- match: [{sniHosts: [any.com]}]\n" + route, {}},
      {"hosts: [\"*.b.a.com\"]\ntls:\n- match: [{sniHosts: [\"*.a.com\"]}]\n" + route,
       {"error spec.tls[0].match[0].sniHosts[0]: sniHost \"*.a.com\" is not matched by any host "
        "of the virtual service (*.b.a.com)"}},
  });
}

}  // namespace
}  // namespace ambit::config::validate::testing
