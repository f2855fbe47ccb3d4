// The Istio documentation examples Ambit must accept as they are: no errors, and only the
// warnings Istio would give too.
#include <algorithm>

#include "test/core/config/validate/validate_test_util.h"

namespace ambit::config::validate::testing {
namespace {

struct Example {
  const char* name;
  const char* yaml;
  std::vector<std::string> expected;
};

const Example kExamples[] = {
    {"01-route-by-user-agent.yaml",
     R"yaml(apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: my-service
spec:
  hosts:
  - my-service
  http:
  - match:
    - headers:
        user-agent:
          prefix: "Mozilla"
    route:
    - destination:
        host: my-service
        subset: v2
  - route:
    - destination:
        host: my-service
        subset: v1
)yaml",
     {}},
    {"02-destinationrule-pool-lb-subsets.yaml",
     R"yaml(apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: my-service
spec:
  host: my-service
  trafficPolicy:
    connectionPool:
      tcp:
        maxConnections: 100
      http:
        h2UpgradePolicy: UPGRADE
        http1MaxPendingRequests: 100
        http2MaxRequests: 1000
    loadBalancer:
      simple: ROUND_ROBIN
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
    trafficPolicy:
      loadBalancer:
        simple: LEAST_CONN
)yaml",
     {}},
    {"03-canary-90-10.yaml",
     R"yaml(apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: my-service
spec:
  hosts:
  - my-service
  http:
  - route:
    - destination:
        host: my-service
        subset: v1
      weight: 90
    - destination:
        host: my-service
        subset: v2
      weight: 10
)yaml",
     {}},
    {"04-ab-testing.yaml",
     R"yaml(apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: my-service
spec:
  hosts:
  - my-service
  http:
  - match:
    - headers:
        x-user-type:
          exact: "beta"
    route:
    - destination:
        host: my-service
        subset: v2
  - route:
    - destination:
        host: my-service
        subset: v1
)yaml",
     {}},
    {"05-request-routing.yaml",
     R"yaml(apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: my-service
spec:
  hosts:
  - my-service
  http:
  # Route by URI
  - match:
    - uri:
        prefix: "/api/v2"
    route:
    - destination:
        host: my-service
        subset: v2
  # Route by header
  - match:
    - headers:
        end-user:
          exact: "jason"
    route:
    - destination:
        host: my-service
        subset: v2
  # Default route
  - route:
    - destination:
        host: my-service
        subset: v1
)yaml",
     {}},
    {"06-timeouts-retries.yaml",
     R"yaml(apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: my-service
spec:
  hosts:
  - my-service
  http:
  - route:
    - destination:
        host: my-service
    timeout: 10s
    retries:
      attempts: 3
      perTryTimeout: 3s
      retryOn: gateway-error,connect-failure,refused-stream
)yaml",
     {}},
    {"07-circuit-breaker.yaml",
     R"yaml(apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: my-service
spec:
  host: my-service
  trafficPolicy:
    outlierDetection:
      consecutive5xxErrors: 5
      interval: 30s
      baseEjectionTime: 30s
      maxEjectionPercent: 100
      minHealthPercent: 0
)yaml",
     {}},
    {"08-fault-injection.yaml",
     R"yaml(apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: my-service
spec:
  hosts:
  - my-service
  http:
  - fault:
      delay:
        percentage:
          value: 10
        fixedDelay: 5s
      abort:
        percentage:
          value: 5
        httpStatus: 500
    route:
    - destination:
        host: my-service
)yaml",
     {}},
    {"09-rate-limit-envoyfilter.yaml",
     R"yaml(apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata:
  name: rate-limit
spec:
  workloadSelector:
    labels:
      app: my-service
  configPatches:
  - applyTo: HTTP_FILTER
    match:
      context: SIDECAR_INBOUND
      listener:
        filterChain:
          filter:
            name: envoy.filters.network.http_connection_manager
    patch:
      operation: INSERT_BEFORE
      value:
        name: envoy.filters.http.local_ratelimit
        typed_config:
          "@type": type.googleapis.com/udpa.type.v1.TypedStruct
          type_url: type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
          value:
            stat_prefix: http_local_rate_limiter
            token_bucket:
              max_tokens: 100
              tokens_per_fill: 100
              fill_interval: 60s
            filter_enabled:
              runtime_key: local_rate_limit_enabled
              default_value:
                numerator: 100
                denominator: HUNDRED
)yaml",
     {}},
    {"10-peer-authentication.yaml",
     R"yaml(# Enable strict mTLS
apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata:
  name: default
  namespace: istio-system
spec:
  mtls:
    mode: STRICT
---
# Permissive mode for specific namespace
apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata:
  name: default
  namespace: legacy
spec:
  mtls:
    mode: PERMISSIVE
)yaml",
     {}},
    {"11-authorization-policy.yaml",
     R"yaml(# Deny all by default
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: deny-all
  namespace: default
spec:
  {}
---
# Allow specific access
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: allow-frontend
  namespace: default
spec:
  selector:
    matchLabels:
      app: backend
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/default/sa/frontend"]
    to:
    - operation:
        methods: ["GET", "POST"]
        paths: ["/api/*"]
)yaml",
     {}},
    {"12-jwt.yaml",
     R"yaml(apiVersion: security.istio.io/v1beta1
kind: RequestAuthentication
metadata:
  name: jwt-auth
  namespace: default
spec:
  selector:
    matchLabels:
      app: my-service
  jwtRules:
  - issuer: "https://auth.example.com"
    jwksUri: "https://auth.example.com/.well-known/jwks.json"
    audiences:
    - "my-service"
    forwardOriginalToken: true
---
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: require-jwt
  namespace: default
spec:
  selector:
    matchLabels:
      app: my-service
  action: ALLOW
  rules:
  - from:
    - source:
        requestPrincipals: ["https://auth.example.com/*"]
    when:
    - key: request.auth.claims[groups]
      values: ["admin"]
)yaml",
     {}},
    {"13-ingress-gateway.yaml",
     R"yaml(apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
  name: my-gateway
spec:
  selector:
    istio: ingressgateway
  servers:
  - port:
      number: 80
      name: http
      protocol: HTTP
    hosts:
    - "*.example.com"
  - port:
      number: 443
      name: https
      protocol: HTTPS
    tls:
      mode: SIMPLE
      credentialName: example-credential
    hosts:
    - "*.example.com"
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: my-service
spec:
  hosts:
  - "app.example.com"
  gateways:
  - my-gateway
  http:
  - match:
    - uri:
        prefix: "/api"
    route:
    - destination:
        host: api-service
        port:
          number: 8080
  - route:
    - destination:
        host: web-service
        port:
          number: 80
)yaml",
     {}},
    {"14-tracing-istiooperator.yaml",
     R"yaml(# Enable tracing
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  meshConfig:
    enableTracing: true
    defaultConfig:
      tracing:
        sampling: 100.0
        zipkin:
          address: zipkin.istio-system:9411
)yaml",
     {}},
    {"15-telemetry.yaml",
     R"yaml(apiVersion: telemetry.istio.io/v1alpha1
kind: Telemetry
metadata:
  name: namespace-metrics
  namespace: default
spec:
  metrics:
  - providers:
    - name: prometheus
    overrides:
    - match:
        metric: REQUEST_COUNT
      tagOverrides:
        response_code:
          operation: UPSERT
---
apiVersion: telemetry.istio.io/v1alpha1
kind: Telemetry
metadata:
  name: mesh-default
  namespace: istio-system
spec:
  accessLogging:
  - providers:
    - name: envoy
)yaml",
     {"Telemetry default/namespace-metrics: warning "
      "spec.metrics[0].overrides[0].tagOverrides.response_code: tag override \"response_code\" "
      "has operation UPSERT but no value, so it sets nothing; set value to an expression such as "
      "request.host"}},
};

TEST_CASE("Istio documentation examples validate without errors", "[validate]") {
  for (const Example& example : kExamples) {
    INFO(example.name);
    CHECK(issuesOfAll(example.yaml) == example.expected);
  }
}

// The project's own samples must stay free of validation errors (warnings are allowed).
TEST_CASE("samples validate without errors", "[validate]") {
  LoadResult result;
  Loader().loadPath(std::string(AMBIT_SOURCE_DIR) + "/samples", result);
  REQUIRE_FALSE(result.objects.empty());
  std::vector<Diagnostic> diagnostics;
  const std::vector<bool> valid = validateAll(result.objects, diagnostics);
  std::vector<std::string> errors;
  for (const Diagnostic& d : diagnostics) {
    if (d.severity == Severity::kError) errors.push_back(d.format());
  }
  CHECK(errors.empty());
  CHECK(std::count(valid.begin(), valid.end(), false) == 0);
}

}  // namespace
}  // namespace ambit::config::validate::testing
