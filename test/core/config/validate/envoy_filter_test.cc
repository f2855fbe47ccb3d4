// EnvoyFilter rules: each row is a spec and every issue it must produce.
#include "test/core/config/validate/validate_test_util.h"

namespace ambit::config::validate::testing {
namespace {

void check(const std::vector<Case>& cases) {
  checkCases("networking.istio.io/v1alpha3", "EnvoyFilter", cases);
}

TEST_CASE("valid envoy filters have no issues", "[validate][envoy-filter]") {
  check({
      {R"yaml(workloadSelector: {labels: {app: reviews}}
configPatches:
- applyTo: HTTP_FILTER
  match:
    context: SIDECAR_INBOUND
    proxy: {proxyVersion: "^1\\.2[0-9].*"}
    listener:
      filterChain:
        filter:
          name: envoy.filters.network.http_connection_manager
          subFilter: {name: envoy.filters.http.router}
  patch:
    operation: INSERT_BEFORE
    value: {name: envoy.filters.http.local_ratelimit}
- applyTo: CLUSTER
  match: {cluster: {service: reviews.default.svc.cluster.local}}
  patch: {operation: REMOVE}
- applyTo: HTTP_ROUTE
  match: {routeConfiguration: {vhost: {name: "reviews:80"}}}
  patch: {operation: MERGE, value: {timeout: 5s}}
- applyTo: HTTP_FILTER
  match: {context: WAYPOINT}
)yaml",
       {}},
      {R"yaml(targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]
configPatches: []
)yaml",
       {}},
  });
}

TEST_CASE("envoy filter patches and selection", "[validate][envoy-filter]") {
  check({
      {"configPatches: [{patch: {operation: REMOVE}}]",
       {"error spec.configPatches[0].applyTo: applyTo is required"}},
      {"configPatches: [{applyTo: CLUSTER}]",
       {"error spec.configPatches[0].patch: patch is required"}},
      {"configPatches: [{applyTo: CLUSTER, patch: {value: {a: 1}}}]",
       {"error spec.configPatches[0].patch.operation: operation is required"}},
      {"configPatches: [{applyTo: CLUSTER, patch: {operation: ADD}}]",
       {"error spec.configPatches[0].patch.value: value is required for operation ADD"}},
      {"configPatches: [{applyTo: HTTP_FILTER, patch: {operation: INSERT_FIRST}}]",
       {"error spec.configPatches[0].patch.value: value is required for operation INSERT_FIRST"}},
      {"configPatches: [{applyTo: CLUSTER, patch: {operation: MERGE}}]",
       {"error spec.configPatches[0].patch.value: value is required for operation MERGE"}},
      {"configPatches: [{applyTo: CLUSTER, match: {proxy: {proxyVersion: \"1.(\"}}, patch: "
       "{operation: REMOVE}}]",
       {"error spec.configPatches[0].match.proxy.proxyVersion: regex \"1.(\" does not compile: "
        "missing ): 1.("}},
      {"configPatches: [{applyTo: HTTP_FILTER, match: {cluster: {service: a}}, patch: "
       "{operation: REMOVE}}]",
       {"error spec.configPatches[0].match: applyTo HTTP_FILTER needs a listener match"}},
      {"configPatches: [{applyTo: VIRTUAL_HOST, match: {listener: {portNumber: 80}}, patch: "
       "{operation: REMOVE}}]",
       {"error spec.configPatches[0].match: applyTo VIRTUAL_HOST needs a routeConfiguration "
        "match"}},
      {"configPatches: [{applyTo: CLUSTER, match: {listener: {portNumber: 80}}, patch: "
       "{operation: REMOVE}}]",
       {"error spec.configPatches[0].match: applyTo CLUSTER needs a cluster match"}},
      {"configPatches: [{applyTo: NETWORK_FILTER, match: {listener: {filterChain: {filter: "
       "{}}}}, patch: {operation: REMOVE}}]",
       {"error spec.configPatches[0].match.listener.filterChain.filter.name: name is required in "
        "a filter match"}},
      {"configPatches: [{applyTo: LISTENER, match: {listener: {filterChain: {filter: {name: "
       "f}}}}, patch: {operation: REMOVE}}]",
       {"warning spec.configPatches[0].match.listener.filterChain.filter: a filter match has no "
        "effect with applyTo LISTENER"}},
      {"configPatches: [{applyTo: NETWORK_FILTER, match: {listener: {filterChain: {filter: "
       "{name: envoy.filters.network.http_connection_manager, subFilter: {name: x}}}}}, patch: "
       "{operation: REMOVE}}]",
       {"error spec.configPatches[0].match.listener.filterChain.filter.subFilter: a subFilter "
        "match works only with applyTo HTTP_FILTER"}},
      {"configPatches: [{applyTo: HTTP_FILTER, match: {listener: {filterChain: {filter: {name: "
       "envoy.filters.network.tcp_proxy, subFilter: {name: x}}}}}, patch: {operation: REMOVE}}]",
       {"error spec.configPatches[0].match.listener.filterChain.filter.subFilter: a subFilter "
        "match needs the filter match to name envoy.filters.network.http_connection_manager"}},
      {"configPatches: [{applyTo: HTTP_FILTER, match: {listener: {filterChain: {filter: {name: "
       "envoy.filters.network.http_connection_manager, subFilter: {}}}}}, patch: {operation: "
       "REMOVE}}]",
       {"error spec.configPatches[0].match.listener.filterChain.filter.subFilter.name: name is "
        "required in a subFilter match"}},
      {"workloadSelector: {labels: {app: a}}\ntargetRefs: [{kind: Service, name: a}]",
       {"error spec.targetRefs: only one of workloadSelector and targetRefs may be set"}},
      {"workloadSelector: {}",
       {"warning spec.workloadSelector.labels: selector has no labels, so it selects every "
        "workload in the namespace"}},
      {"targetRefs: [{kind: Deployment, group: apps, name: a, namespace: other}]",
       {"error spec.targetRefs[0].namespace: namespace must not be set (references to other "
        "namespaces are not supported), got \"other\"",
        "error spec.targetRefs[0].kind: targetRef must refer to a Service, a ServiceEntry "
        "(networking.istio.io), or a Gateway or GatewayClass (gateway.networking.k8s.io), got "
        "\"apps/Deployment\""}},
      {"targetRefs: [{kind: Service}]", {"error spec.targetRefs[0].name: name is required"}},
  });
}

}  // namespace
}  // namespace ambit::config::validate::testing
