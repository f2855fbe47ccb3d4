// DestinationRule rules: each row is a spec and every issue it must produce.
#include "test/core/config/validate/validate_test_util.h"

namespace ambit::config::validate::testing {
namespace {

void check(const std::vector<Case>& cases) {
  checkCases("networking.istio.io/v1", "DestinationRule", cases);
}

TEST_CASE("valid destination rules have no issues", "[validate][destination-rule]") {
  check({
      {"host: reviews", {}},
      {R"yaml(host: "*.example.com"
exportTo: [".", shop]
trafficPolicy:
  loadBalancer:
    consistentHash:
      httpCookie: {name: user, ttl: 0s, attributes: [{name: SameSite, value: Strict}]}
      maglev: {tableSize: 65537}
    localityLbSetting:
      distribute:
      - from: us-west/zone1/*
        to: {"us-west/zone1/*": 80, "us-west/zone2/*": 20}
    warmup: {duration: 60s, minimumPercent: 10, aggression: 1}
  connectionPool:
    tcp:
      maxConnections: 100
      connectTimeout: 30ms
      idleTimeout: 0s
      tcpKeepalive: {time: 7200s, interval: 75s}
    http:
      http1MaxPendingRequests: 10
      maxRequestsPerConnection: 1
      idleTimeout: 1h
      http2KeepAlive: {interval: 30s, timeout: 10s}
  outlierDetection:
    consecutive5xxErrors: 7
    interval: 5m
    baseEjectionTime: 15m
    maxEjectionPercent: 100
    splitExternalLocalOriginErrors: true
    consecutiveLocalOriginFailures: 3
  tls:
    mode: MUTUAL
    clientCertificate: /etc/certs/cert.pem
    privateKey: /etc/certs/key.pem
  portLevelSettings:
  - port: {number: 8080}
    loadBalancer: {simple: LEAST_REQUEST}
  tunnel: {protocol: CONNECT, targetHost: proxy.example.com, targetPort: 3128}
  retryBudget: {percent: 20, budgetInterval: 10s}
subsets:
- name: v1
  labels: {version: v1, app.kubernetes.io/name: reviews}
  trafficPolicy:
    tls: {mode: SIMPLE, credentialName: reviews-ca}
- name: v2
  labels: {version: v2}
)yaml",
       {}},
      {R"yaml(host: reviews
trafficPolicy:
  loadBalancer:
    simple: ROUND_ROBIN
    localityLbSetting:
      failover: [{from: us-east, to: eu-west}]
  outlierDetection: {consecutiveGatewayErrors: 5}
)yaml",
       {}},
  });
}

TEST_CASE("destination rule host, subsets and selection", "[validate][destination-rule]") {
  check({
      {"subsets: [{name: v1}]", {"error spec.host: host is required"}},
      {"host: a_b",
       {"error spec.host: host \"a_b\" is invalid: label \"a_b\" is not a DNS label "
        "(letters, digits and '-', starting and ending with a letter or digit)"}},
      {"host: a\nsubsets: [{labels: {version: v1}}]",
       {"error spec.subsets[0].name: subset name is required"}},
      {"host: a\nsubsets: [{name: v1.0}]",
       {"error spec.subsets[0].name: subset name \"v1.0\" is not a DNS label"}},
      {"host: a\nsubsets: [{name: v1}, {name: v1}]",
       {"error spec.subsets[1].name: duplicate subset name \"v1\""}},
      {"host: a\nsubsets: [{name: v1, labels: {version: \"v1 beta\"}}]",
       {"error spec.subsets[0].labels.version: label value \"v1 beta\" is invalid: it must "
        "consist of letters, digits, '-', '_' or '.', starting and ending with a letter or "
        "digit"}},
      {"host: a\nsubsets: [{name: v1, labels: {\"example.com/\": x}}]",
       {"error spec.subsets[0].labels[\"example.com/\"]: label key \"example.com/\" is invalid: "
        "the name part must not be empty"}},
      {"host: a\nsubsets: [{name: v1, labels: {\"Example.com/app\": x}}]",
       {"error spec.subsets[0].labels[\"Example.com/app\"]: label key \"Example.com/app\" is "
        "invalid: prefix \"Example.com\" is not a DNS subdomain"}},
      {"host: a\nsubsets: [{name: v1, trafficPolicy: {}}]",
       {"error spec.subsets[0].trafficPolicy: trafficPolicy must set at least one field"}},
      {"host: a\nworkloadSelector: {matchLabels: {app: \"*\"}}",
       {"error spec.workloadSelector.matchLabels.app: wildcards are not supported in selectors, "
        "got \"app=*\""}},
      {"host: a\nworkloadSelector: {}",
       {"warning spec.workloadSelector.matchLabels: selector has no labels, so it selects every "
        "workload in the namespace"}},
      {"host: a\nworkloadSelector: {matchLabels: {app: x}}\nexportTo: [\"*\"]",
       {"error spec.exportTo[0]: a destination rule with a workloadSelector can be exported only "
        "to its own namespace"}},
  });
}

TEST_CASE("destination rule traffic policies", "[validate][destination-rule]") {
  check({
      {"host: a\ntrafficPolicy: {}",
       {"error spec.trafficPolicy: trafficPolicy must set at least one field"}},
      {"host: a\ntrafficPolicy: {tunnel: {targetHost: p.example.com, targetPort: 80}, "
       "proxyProtocol: {}}",
       {"error spec.trafficPolicy.proxyProtocol: tunnel and proxyProtocol cannot both be set"}},
      {"host: a\ntrafficPolicy: {tunnel: {protocol: GET, targetHost: \"a b\", targetPort: 0}}",
       {"error spec.trafficPolicy.tunnel.protocol: protocol must be \"CONNECT\" or \"POST\", got "
        "\"GET\"",
        "error spec.trafficPolicy.tunnel.targetHost: targetHost \"a b\" is not a host name or an "
        "IP address",
        "error spec.trafficPolicy.tunnel.targetPort: targetPort must be between 1 and 65535, got "
        "0"}},
      {"host: a\ntrafficPolicy: {retryBudget: {percent: 150, budgetInterval: 0s}}",
       {"error spec.trafficPolicy.retryBudget.percent: percent must be between 0 and 100, got 150",
        "error spec.trafficPolicy.retryBudget.budgetInterval: budgetInterval must be at least 1ms, "
        "got 0s"}},
      {"host: a\ntrafficPolicy: {portLevelSettings: [{loadBalancer: {simple: RANDOM}}]}",
       {"error spec.trafficPolicy.portLevelSettings[0].port: port is required"}},
      {"host: a\ntrafficPolicy: {portLevelSettings: [{port: {number: 0}, tls: {mode: "
       "ISTIO_MUTUAL}}]}",
       {"error spec.trafficPolicy.portLevelSettings[0].port.number: port must be between 1 and "
        "65535, got 0"}},
      {"host: a\ntrafficPolicy: {portLevelSettings: [{port: {number: 80}}]}",
       {"error spec.trafficPolicy.portLevelSettings[0]: a port-level policy must set at least "
        "one of loadBalancer, connectionPool, outlierDetection or tls"}},
      {"host: a\ntrafficPolicy: {portLevelSettings: [{port: {number: 80}, connectionPool: {tcp: "
       "{maxConnections: -1}}}]}",
       {"error spec.trafficPolicy.portLevelSettings[0].connectionPool.tcp.maxConnections: "
        "maxConnections must not be negative, got -1"}},
  });
}

TEST_CASE("destination rule load balancing", "[validate][destination-rule]") {
  const std::string lb = "host: a\ntrafficPolicy:\n  loadBalancer:\n";
  check({
      {lb + "    consistentHash: {ringHash: {minimumRingSize: 1024}}",
       {"error spec.trafficPolicy.loadBalancer.consistentHash: consistentHash needs one of "
        "httpHeaderName, httpCookie, useSourceIp or httpQueryParameterName"}},
      {lb + "    consistentHash: {httpHeaderName: \"\"}",
       {"error spec.trafficPolicy.loadBalancer.consistentHash.httpHeaderName: httpHeaderName must "
        "not be empty"}},
      {lb + "    consistentHash: {httpQueryParameterName: \"\"}",
       {"error spec.trafficPolicy.loadBalancer.consistentHash.httpQueryParameterName: "
        "httpQueryParameterName must not be empty"}},
      {lb + "    consistentHash: {httpCookie: {ttl: 10s, attributes: [{name: \"\"}, {name: a}, "
            "{name: a}]}}",
       {"error spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.name: name is required",
        "error spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.attributes[0].name: "
        "cookie attribute name must not be empty",
        "error spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.attributes[2].name: "
        "duplicate cookie attribute \"a\""}},
      {lb + "    consistentHash: {useSourceIp: true, minimumRingSize: 1024}",
       {"warning spec.trafficPolicy.loadBalancer.consistentHash.minimumRingSize: minimumRingSize "
        "is deprecated; use ringHash.minimumRingSize"}},
      {lb + "    consistentHash: {useSourceIp: true, minimumRingSize: 1024, ringHash: {}}",
       {"error spec.trafficPolicy.loadBalancer.consistentHash.minimumRingSize: minimumRingSize "
        "cannot be set together with ringHash or maglev"}},
      {lb + "    consistentHash: {useSourceIp: true, maglev: {}}",
       {"error spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize: tableSize is "
        "required for maglev"}},
      {lb + "    consistentHash: {useSourceIp: true, maglev: {tableSize: 65536}}",
       {"error spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize: tableSize must be "
        "a prime number, got 65536"}},
      {lb + "    consistentHash: {useSourceIp: true, maglev: {tableSize: 5000011}}",
       {"error spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize: tableSize must be "
        "less than 5000011, got 5000011"}},
      {lb + "    localityLbSetting: {enabled: true}\n    zoneAwareLbSetting: {enabled: true}",
       {"error spec.trafficPolicy.loadBalancer.zoneAwareLbSetting: localityLbSetting and "
        "zoneAwareLbSetting cannot both be set"}},
      {lb + "    localityLbSetting:\n      distribute: [{from: a/*, to: {b: 10}}]\n      "
            "failover: [{from: a, to: b}]",
       {"error spec.trafficPolicy.loadBalancer.localityLbSetting: distribute and failover cannot "
        "both be set"}},
      {lb + "    localityLbSetting:\n      distribute: [{from: \"a/*/c\", to: {\"b//c\": 0}}]",
       {"error spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].from: locality "
        "\"a/*/c\" is invalid: \"*\" may appear once, at the end",
        "error spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to[\"b//c\"]: "
        "locality \"b//c\" is invalid: region, zone and subzone must not be empty",
        "error spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to[\"b//c\"]: "
        "locality weight must be between 1 and 100, got 0",
        "error spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to: locality "
        "weights must sum to 100, got 0"}},
      {lb + "    localityLbSetting:\n      failover: [{from: us-east, to: us-east}]\n  "
            "outlierDetection: {interval: 1s}",
       {"error spec.trafficPolicy.loadBalancer.localityLbSetting.failover[0]: failover from and "
        "to must be different regions, both are \"us-east\""}},
      {lb + "    localityLbSetting:\n      failover: [{from: us-east/a, to: \"eu-*\"}]",
       {"warning spec.trafficPolicy.loadBalancer.localityLbSetting: failover takes effect only "
        "with outlierDetection set",
        "error spec.trafficPolicy.loadBalancer.localityLbSetting.failover[0].from: failover names "
        "regions only, got \"us-east/a\"",
        "error spec.trafficPolicy.loadBalancer.localityLbSetting.failover[0].to: failover regions "
        "cannot contain \"*\", got \"eu-*\""}},
      {lb + "    localityLbSetting:\n      failover: [{from: us-east, to: eu-west}]\n      "
            "failoverPriority: [topology.kubernetes.io/zone]\n  outlierDetection: {interval: 1s}",
       {"error spec.trafficPolicy.loadBalancer.localityLbSetting.failoverPriority[0]: "
        "failoverPriority cannot use the topology label \"topology.kubernetes.io/zone\" when "
        "failover is set"}},
      {lb + "    zoneAwareLbSetting:\n      failoverPriority: [topology.istio.io/subzone]\n      "
            "failover: [{from: a/b, to: a/b}]\n  outlierDetection: {interval: 1s}",
       {"error spec.trafficPolicy.loadBalancer.zoneAwareLbSetting.failoverPriority[0]: "
        "failoverPriority cannot use the topology label \"topology.istio.io/subzone\"; "
        "zone-aware balancing orders regions and zones itself",
        "error spec.trafficPolicy.loadBalancer.zoneAwareLbSetting.failover[0]: failover from and "
        "to must be different regions, both are \"a/b\"",
        "error spec.trafficPolicy.loadBalancer.zoneAwareLbSetting.failover[0].from: failover "
        "names regions only, got \"a/b\"",
        "error spec.trafficPolicy.loadBalancer.zoneAwareLbSetting.failover[0].to: failover names "
        "regions only, got \"a/b\""}},
      {lb + "    warmup: {minimumPercent: 120, aggression: 0}",
       {"error spec.trafficPolicy.loadBalancer.warmup.duration: duration is required",
        "error spec.trafficPolicy.loadBalancer.warmup.minimumPercent: minimumPercent must be "
        "between 0 and 100, got 120",
        "error spec.trafficPolicy.loadBalancer.warmup.aggression: aggression must be greater than "
        "0, got 0"}},
  });
}

TEST_CASE("destination rule connection pools and outlier detection",
          "[validate][destination-rule]") {
  const std::string tp = "host: a\ntrafficPolicy:\n";
  check({
      {tp + "  connectionPool: {}",
       {"error spec.trafficPolicy.connectionPool: connectionPool must set http or tcp"}},
      {tp + "  connectionPool:\n    http: {http1MaxPendingRequests: -1, http2MaxRequests: -2, "
            "maxRequestsPerConnection: -3, maxRetries: -4, maxConcurrentStreams: -5}",
       {"error spec.trafficPolicy.connectionPool.http.http1MaxPendingRequests: "
        "http1MaxPendingRequests must not be negative, got -1",
        "error spec.trafficPolicy.connectionPool.http.http2MaxRequests: http2MaxRequests must not "
        "be negative, got -2",
        "error spec.trafficPolicy.connectionPool.http.maxRequestsPerConnection: "
        "maxRequestsPerConnection must not be negative, got -3",
        "error spec.trafficPolicy.connectionPool.http.maxRetries: maxRetries must not be "
        "negative, got -4",
        "error spec.trafficPolicy.connectionPool.http.maxConcurrentStreams: maxConcurrentStreams "
        "must not be negative, got -5"}},
      {tp + "  connectionPool:\n    http: {idleTimeout: 0s, h2UpgradePolicy: UPGRADE, "
            "useClientProtocol: true}",
       {"error spec.trafficPolicy.connectionPool.http.idleTimeout: idleTimeout must be at least "
        "1ms, got 0s",
        "error spec.trafficPolicy.connectionPool.http.useClientProtocol: useClientProtocol cannot "
        "be true when h2UpgradePolicy is UPGRADE"}},
      {tp + "  connectionPool:\n    http: {http2KeepAlive: {}}",
       {"error spec.trafficPolicy.connectionPool.http.http2KeepAlive.interval: interval is "
        "required",
        "error spec.trafficPolicy.connectionPool.http.http2KeepAlive.timeout: timeout is "
        "required"}},
      {tp + "  connectionPool:\n    tcp: {connectTimeout: 0s, maxConnectionDuration: 0.5ms, "
            "idleTimeout: 1500us, tcpKeepalive: {time: 0s, interval: 0s}}",
       {"error spec.trafficPolicy.connectionPool.tcp.connectTimeout: connectTimeout must be at "
        "least 1ms, got 0s",
        "error spec.trafficPolicy.connectionPool.tcp.maxConnectionDuration: maxConnectionDuration "
        "must be at least 1ms, got 500us",
        "error spec.trafficPolicy.connectionPool.tcp.idleTimeout: idleTimeout must be a whole "
        "number of milliseconds, got 1500us",
        "error spec.trafficPolicy.connectionPool.tcp.tcpKeepalive.time: time must be at least "
        "1ms, got 0s",
        "error spec.trafficPolicy.connectionPool.tcp.tcpKeepalive.interval: interval must be at "
        "least 1ms, got 0s"}},
      {tp + "  outlierDetection: {interval: 0s, baseEjectionTime: -1s}",
       {"error spec.trafficPolicy.outlierDetection.baseEjectionTime: baseEjectionTime must be at "
        "least 1ms, got -1s",
        "error spec.trafficPolicy.outlierDetection.interval: interval must be at least 1ms, got "
        "0s"}},
      {tp + "  outlierDetection: {maxEjectionPercent: 101, minHealthPercent: -1}",
       {"error spec.trafficPolicy.outlierDetection.maxEjectionPercent: maxEjectionPercent must be "
        "between 0 and 100, got 101",
        "error spec.trafficPolicy.outlierDetection.minHealthPercent: minHealthPercent must be "
        "between 0 and 100, got -1"}},
      {tp + "  outlierDetection: {consecutiveErrors: 5}",
       {"warning spec.trafficPolicy.outlierDetection.consecutiveErrors: consecutiveErrors is "
        "deprecated; use consecutive5xxErrors or consecutiveGatewayErrors"}},
      {tp + "  outlierDetection: {consecutiveErrors: -5}",
       {"error spec.trafficPolicy.outlierDetection.consecutiveErrors: consecutiveErrors must not "
        "be negative, got -5"}},
      {tp + "  outlierDetection: {consecutiveLocalOriginFailures: 3}",
       {"error spec.trafficPolicy.outlierDetection.consecutiveLocalOriginFailures: "
        "consecutiveLocalOriginFailures needs splitExternalLocalOriginErrors: true"}},
  });
}

TEST_CASE("destination rule client TLS", "[validate][destination-rule]") {
  const std::string tp = "host: a\ntrafficPolicy:\n";
  check({
      {tp + "  tls: {mode: MUTUAL}",
       {"error spec.trafficPolicy.tls.clientCertificate: MUTUAL mode needs clientCertificate (or "
        "credentialName)",
        "error spec.trafficPolicy.tls.privateKey: MUTUAL mode needs privateKey (or "
        "credentialName)"}},
      {tp + "  tls: {mode: MUTUAL, credentialName: c}", {}},
      {tp + "  tls: {mode: SIMPLE}", {}},
      {tp + "  tls: {mode: SIMPLE, credentialName: c, caCertificates: /ca.pem}",
       {"error spec.trafficPolicy.tls.credentialName: clientCertificate, privateKey, "
        "caCertificates and caCrl cannot be set together with credentialName"}},
      {tp + "  tls: {mode: SIMPLE, insecureSkipVerify: true, subjectAltNames: [a]}",
       {"error spec.trafficPolicy.tls.insecureSkipVerify: caCertificates, credentialName and "
        "subjectAltNames cannot be set when insecureSkipVerify is true"}},
      {tp + "  tls: {mode: MUTUAL, insecureSkipVerify: true, caCertificates: /ca.pem, "
            "clientCertificate: /c.pem, privateKey: /k.pem}",
       {"error spec.trafficPolicy.tls.insecureSkipVerify: caCertificates and subjectAltNames "
        "cannot be set when insecureSkipVerify is true"}},
  });
}

}  // namespace
}  // namespace ambit::config::validate::testing
