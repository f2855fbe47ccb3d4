// IstioOperator spec.meshConfig rules: each row is a spec and every issue it must produce.
#include "test/core/config/validate/validate_test_util.h"

namespace ambit::config::validate::testing {
namespace {

void check(const std::vector<Case>& cases) {
  checkCases("install.istio.io/v1alpha1", "IstioOperator", cases);
}

TEST_CASE("valid mesh configs have no issues", "[validate][mesh-config]") {
  check({
      {"profile: default", {}},
      {R"yaml(meshConfig:
  enableTracing: true
  accessLogFile: /dev/stdout
  accessLogEncoding: JSON
  trustDomain: cluster.local
  trustDomainAliases: [old.example.com, "example.org."]
  connectTimeout: 10s
  protocolDetectionTimeout: 0s
  defaultConfig:
    discoveryAddress: istiod.istio-system.svc:15012
    proxyAdminPort: 15000
    drainDuration: 45s
    concurrency: 2
    proxyStatsMatcher: {inclusionRegexps: [".*outlier_detection.*"]}
    tracing:
      sampling: 1.5
      datadog: {address: "$(HOST_IP):8126"}
  extensionProviders:
  - name: otel
    opentelemetry: {service: otel-collector.observability.svc.cluster.local, port: 4317}
  - name: ext-authz
    envoyExtAuthzHttp: {service: authz/authz.example.com, port: 8000, pathPrefix: /check}
  - name: files
    envoyFileAccessLog: {path: /dev/stdout}
  defaultProviders:
    tracing: [otel]
    metrics: [prometheus]
    accessLogging: [envoy, files]
  localityLbSetting: {enabled: true}
  defaultHttpRetryPolicy: {attempts: 2, retryOn: "connect-failure,reset"}
  defaultTrafficPolicy:
    connectionPool: {tcp: {connectTimeout: 5s}}
  tlsDefaults: {ecdhCurves: [X25519, P-256]}
)yaml",
       {}},
      {"meshConfig: {defaultConfig: {tracing: {zipkin: {address: \"[::1]:9411\"}}}}", {}},
  });
}

TEST_CASE("mesh config rules", "[validate][mesh-config]") {
  const std::string m = "meshConfig:\n";
  check({
      {m + "  defaultConfig: {tracing: {sampling: 150}}",
       {"error spec.meshConfig.defaultConfig.tracing.sampling: sampling must be between 0 and "
        "100, got 150"}},
      {m + "  defaultConfig: {tracing: {zipkin: {address: zipkin.istio-system}}}",
       {"error spec.meshConfig.defaultConfig.tracing.zipkin.address: address "
        "\"zipkin.istio-system\" is invalid: expected host:port"}},
      {m + "  defaultConfig: {tracing: {zipkin: {address: \"zipkin:99999\"}}}",
       {"error spec.meshConfig.defaultConfig.tracing.zipkin.address: address \"zipkin:99999\" is "
        "invalid: port \"99999\" is not a number between 1 and 65535"}},
      {m + "  defaultConfig: {tracing: {datadog: {address: \"dd_agent:8126\"}}}",
       {"error spec.meshConfig.defaultConfig.tracing.datadog.address: address \"dd_agent:8126\" "
        "is invalid: \"dd_agent\" is not a host name or an IP address"}},
      {m + "  defaultConfig: {tracing: {lightstep: {address: \"ls:443\"}}}",
       {"error spec.meshConfig.defaultConfig.tracing.lightstep.accessToken: accessToken is "
        "required"}},
      {m + "  defaultConfig: {tracing: {tlsSettings: {mode: MUTUAL, credentialName: c, "
           "privateKey: /k}}}",
       {"error spec.meshConfig.defaultConfig.tracing.tlsSettings.credentialName: "
        "clientCertificate, privateKey, caCertificates and caCrl cannot be set together with "
        "credentialName"}},
      {m + "  defaultConfig: {discoveryAddress: istiod, statsdUdpAddress: \"s:0\"}",
       {"error spec.meshConfig.defaultConfig.discoveryAddress: address \"istiod\" is invalid: "
        "expected host:port",
        "error spec.meshConfig.defaultConfig.statsdUdpAddress: address \"s:0\" is invalid: port "
        "\"0\" is not a number between 1 and 65535"}},
      {m + "  defaultConfig: {proxyAdminPort: 70000, statusPort: -1, drainDuration: 1500ms, "
           "concurrency: -2}",
       {"error spec.meshConfig.defaultConfig.proxyAdminPort: proxyAdminPort must be between 1 "
        "and 65535, got 70000",
        "error spec.meshConfig.defaultConfig.statusPort: statusPort must be between 1 and 65535, "
        "got -1",
        "error spec.meshConfig.defaultConfig.drainDuration: drainDuration must be a whole number "
        "of seconds",
        "error spec.meshConfig.defaultConfig.concurrency: concurrency must not be negative, got "
        "-2"}},
      {m + "  defaultConfig: {proxyStatsMatcher: {inclusionRegexps: [\"(\"]}}",
       {"error spec.meshConfig.defaultConfig.proxyStatsMatcher.inclusionRegexps[0]: regex \"(\" "
        "does not compile: missing ): ("}},
      {m + "  trustDomain: cluster_local",
       {"error spec.meshConfig.trustDomain: trustDomain \"cluster_local\" is invalid: label "
        "\"cluster_local\" is not a DNS label"}},
      {m + "  trustDomainAliases: [\"\", a..b]",
       {"error spec.meshConfig.trustDomainAliases[0]: trust domain alias must not be empty",
        "error spec.meshConfig.trustDomainAliases[1]: trust domain alias \"a..b\" is invalid: "
        "label \"\" is not a DNS label"}},
      {m + "  proxyListenPort: 70000\n  connectTimeout: 0s\n  protocolDetectionTimeout: 1500us",
       {"error spec.meshConfig.proxyListenPort: proxyListenPort must be between 1 and 65535, got "
        "70000",
        "error spec.meshConfig.connectTimeout: connectTimeout must be at least 1ms, got 0s",
        "error spec.meshConfig.protocolDetectionTimeout: protocolDetectionTimeout must be 0s "
        "(disabled) or a positive whole number of milliseconds"}},
      {m + "  extensionProviders:\n  - {zipkin: {service: zipkin, port: 9411}}\n  - {name: z, "
           "zipkin: {service: zipkin, port: 9411}}\n  - {name: z, prometheus: {}}",
       {"error spec.meshConfig.extensionProviders[0].name: name is required",
        "error spec.meshConfig.extensionProviders[2].name: duplicate extension provider name "
        "\"z\""}},
      {m + "  extensionProviders:\n  - {name: a, envoyExtAuthzGrpc: {port: 0}}\n  - {name: b, "
           "datadog: {service: \"bad host\", port: 8126}}\n  - {name: c}\n  - {name: d, "
           "envoyExtAuthzHttp: {service: authz, port: 80, pathPrefix: check}}",
       {"warning spec.meshConfig.extensionProviders[0].envoyExtAuthzGrpc.service: service is not "
        "set, so this provider cannot be used",
        "warning spec.meshConfig.extensionProviders[0].envoyExtAuthzGrpc.port: port must be "
        "between 1 and 65535, got 0, so this provider cannot be used",
        "warning spec.meshConfig.extensionProviders[1].datadog.service: service \"bad host\" is "
        "not a host name or an IP address, so this provider cannot be used",
        "warning spec.meshConfig.extensionProviders[2]: no provider type is set (such as zipkin "
        "or envoyExtAuthzHttp), so this provider cannot be used",
        "warning spec.meshConfig.extensionProviders[3].envoyExtAuthzHttp.pathPrefix: pathPrefix "
        "\"check\" should start with \"/\""}},
      {m + "  defaultProviders: {tracing: [\"\"], accessLogging: [missing]}",
       {"error spec.meshConfig.defaultProviders.tracing[0]: provider name must not be empty",
        "warning spec.meshConfig.defaultProviders.accessLogging[0]: provider \"missing\" is not "
        "defined in extensionProviders"}},
      {m + "  meshMTLS: {ecdhCurves: [P-256]}\n  tlsDefaults: {ecdhCurves: [P-999]}",
       {"error spec.meshConfig.meshMTLS.ecdhCurves: meshMTLS does not support ecdhCurves; set "
        "them in tlsDefaults",
        "warning spec.meshConfig.tlsDefaults.ecdhCurves[0]: ECDH curve \"P-999\" is unknown and "
        "ignored"}},
      {m + "  serviceSettings: [{hosts: [\"a_b.com\"]}]",
       {"error spec.meshConfig.serviceSettings[0].hosts[0]: host \"a_b.com\" is invalid: label "
        "\"a_b\" is not a DNS label (letters, digits and '-', starting and ending with a letter "
        "or digit)"}},
      {m + "  localityLbSetting: {distribute: [{from: a, to: {b: 50}}]}",
       {"error spec.meshConfig.localityLbSetting.distribute[0].to: locality weights must sum to "
        "100, got 50"}},
      {m + "  defaultHttpRetryPolicy: {attempts: 0, retryOn: 5xx}",
       {"error spec.meshConfig.defaultHttpRetryPolicy.attempts: attempts is 0, which disables "
        "retries, yet perTryTimeout, retryOn or retryRemoteLocalities is set"}},
      {m + "  defaultTrafficPolicy:\n    connectionPool: {}\n    outlierDetection: "
           "{maxEjectionPercent: 200}",
       {"error spec.meshConfig.defaultTrafficPolicy.connectionPool: connectionPool must set http "
        "or tcp",
        "error spec.meshConfig.defaultTrafficPolicy.outlierDetection.maxEjectionPercent: "
        "maxEjectionPercent must be between 0 and 100, got 200"}},
  });
}

}  // namespace
}  // namespace ambit::config::validate::testing
