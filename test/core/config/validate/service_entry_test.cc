// ServiceEntry rules: each row is a spec and every issue it must produce.
#include "test/core/config/validate/validate_test_util.h"

namespace ambit::config::validate::testing {
namespace {

void check(const std::vector<Case>& cases) {
  checkCases("networking.istio.io/v1", "ServiceEntry", cases);
}

TEST_CASE("valid service entries have no issues", "[validate][service-entry]") {
  check({
      {R"yaml(hosts: [api.example.com]
location: MESH_EXTERNAL
resolution: DNS
ports:
- {number: 443, name: https, protocol: TLS}
- {number: 80, name: http, protocol: http, targetPort: 8080}
)yaml",
       {}},
      {R"yaml(hosts: [db.internal]
addresses: [10.1.0.0/16, 192.168.1.5]
resolution: STATIC
ports: [{number: 5432, name: postgres, protocol: TCP}]
endpoints:
- {address: 10.1.0.10, ports: {postgres: 15432}, labels: {version: v1}}
- {address: "unix:///var/run/db.sock"}
exportTo: ["~"]
)yaml",
       {}},
      {R"yaml(hosts: [a.example.com, b.example.com]
resolution: DNS_ROUND_ROBIN
ports: [{number: 80, name: http, protocol: HTTP}]
endpoints: [{address: lb.example.com}]
)yaml",
       {}},
      {R"yaml(hosts: ["*.example.com"]
resolution: DYNAMIC_DNS
ports: [{number: 443, name: tls, protocol: TLS}]
)yaml",
       {}},
      {R"yaml(hosts: [vm.internal]
resolution: STATIC
ports: [{number: 80, name: http}]
workloadSelector: {labels: {app: vm}}
)yaml",
       {}},
  });
}

TEST_CASE("service entry hosts, addresses and ports", "[validate][service-entry]") {
  const std::string port = "ports: [{number: 80, name: http, protocol: HTTP}]\n";
  check({
      {port, {"error spec.hosts: at least one host is required"}},
      {"hosts: [\"*\"]\n" + port,
       {"error spec.hosts[0]: host \"*\" is not allowed in a service "
        "entry"}},
      {"hosts: [a_b.com]\n" + port,
       {"error spec.hosts[0]: host \"a_b.com\" is invalid: label \"a_b\" is not a DNS label "
        "(letters, digits and '-', starting and ending with a letter or digit)"}},
      {"hosts: [\"*foo.example.com\"]\n" + port,
       {"warning spec.hosts[0]: host \"*foo.example.com\" is a partial wildcard, which only "
        "resolution DYNAMIC_DNS supports"}},
      {"hosts: [a.com]\naddresses: [10.0.0.300]\n" + port,
       {"error spec.addresses[0]: address \"10.0.0.300\" is not an IP address or a CIDR block"}},
      {"hosts: [a.com]\naddresses: [10.0.0.0/8]\nresolution: DNS\n" + port,
       {"error spec.addresses: CIDR addresses are allowed only with resolution NONE or STATIC, "
        "not DNS"}},
      {"hosts: [a.com]\nports: [{number: 80, protocol: HTTP}]",
       {"error spec.ports[0].name: port name is required"}},
      {"hosts: [a.com]\nports: [{number: 80, name: http_1, protocol: HTTP}]",
       {"error spec.ports[0].name: port name \"http_1\" is not a DNS label"}},
      {"hosts: [a.com]\nports: [{number: 80, name: http}, {number: 80, name: http}]",
       {"error spec.ports[1].name: port name \"http\" is already used by another port",
        "error spec.ports[1].number: port number 80 is already used by another port"}},
      {"hosts: [a.com]\nports: [{number: 0, name: http, targetPort: 70000}]",
       {"error spec.ports[0].number: port must be between 1 and 65535, got 0",
        "error spec.ports[0].targetPort: targetPort must be between 1 and 65535, got 70000"}},
      {"hosts: [a.com]\nports: [{number: 80, name: http, protocol: QUIC}]",
       {"error spec.ports[0].protocol: protocol \"QUIC\" is not supported; expected HTTP, HTTPS, "
        "GRPC, GRPC-WEB, HTTP2, MONGO, REDIS, MYSQL, TCP, UDP or TLS"}},
      {"hosts: [a.com, b.com]\nresolution: DNS\nports: [{number: 5432, name: pg, protocol: TCP}]",
       {"error spec.hosts: several hosts need HTTP or TLS ports: with resolution DNS TCP traffic "
        "for different hosts cannot be told apart"}},
      {"hosts: [a.com, b.com]\nports: [{number: 5432, name: pg, protocol: TCP}]", {}},
      {"hosts: [a.com]\nexportTo: [\"~\", shop]\n" + port,
       {"error spec.exportTo: \"~\" exports to no namespace and cannot be combined with other "
        "entries"}},
  });
}

TEST_CASE("service entry resolution, endpoints and selectors", "[validate][service-entry]") {
  const std::string port = "ports: [{number: 80, name: http, protocol: HTTP}]\n";
  check({
      {"hosts: [a.com]\n" + port + "endpoints: [{address: 10.0.0.1}]",
       {"error spec.endpoints: endpoints are not allowed with resolution NONE"}},
      {"hosts: [a.com]\n" + port + "workloadSelector: {labels: {app: a}}",
       {"warning spec.workloadSelector: workloadSelector has no effect with resolution NONE"}},
      {"hosts: [a.com]\nresolution: STATIC\n" + port +
           "workloadSelector: {labels: {app: a}}\nendpoints: [{address: 10.0.0.1}]",
       {"error spec.endpoints: workloadSelector and endpoints cannot both be set"}},
      {"hosts: [a.com]\nresolution: STATIC\n" + port + "workloadSelector: {}",
       {"warning spec.workloadSelector.labels: selector has no labels, so it selects every "
        "workload in the namespace"}},
      {"hosts: [a.com]\nresolution: STATIC\n" + port + "endpoints: [{address: backend.local}]",
       {"error spec.endpoints[0].address: address \"backend.local\" is not an IP address "
        "(resolution STATIC needs IP addresses)"}},
      {"hosts: [a.com]\nresolution: STATIC\n" + port + "endpoints: [{ports: {http: 8080}}]",
       {"error spec.endpoints[0].address: address is required"}},
      {"hosts: [a.com]\nresolution: STATIC\n" + port + "endpoints: [{network: remote}]",
       {"warning spec.endpoints[0].address: address is unset; the endpoint is reached through "
        "the gateway of network \"remote\""}},
      {"hosts: [a.com]\nresolution: STATIC\n" + port +
           "endpoints: [{address: 10.0.0.1, ports: {grpc: 0}, labels: {\"a b\": c}}]",
       {"error spec.endpoints[0].ports.grpc: port \"grpc\" is not a port of the service entry",
        "error spec.endpoints[0].ports.grpc: port must be between 1 and 65535, got 0",
        "error spec.endpoints[0].labels[\"a b\"]: label key \"a b\" is invalid: it must consist "
        "of letters, digits, '-', '_' or '.', starting and ending with a letter or digit"}},
      {"hosts: [a.com]\nresolution: STATIC\nports: [{number: 80, name: a}, {number: 81, name: "
       "b}]\nendpoints: [{address: \"unix://sock\", ports: {a: 80}}]",
       {"error spec.endpoints[0].address: address \"unix://sock\" is not an absolute path to a "
        "socket file",
        "error spec.endpoints[0].ports: a unix domain socket endpoint cannot have ports",
        "error spec.endpoints[0].address: a unix domain socket endpoint needs exactly one "
        "service port"}},
      {"hosts: [\"*.a.com\"]\nresolution: DNS\n" + port,
       {"error spec.hosts[0]: host \"*.a.com\" must be a fully qualified name without wildcards: "
        "resolution DNS without endpoints resolves the hosts"}},
      {"hosts: [a.com]\nresolution: DNS\n" + port + "endpoints: [{address: \"a b\"}]",
       {"error spec.endpoints[0].address: address \"a b\" is not an IP address or a host name"}},
      {"hosts: [a.com]\nresolution: DNS_ROUND_ROBIN\n" + port +
           "endpoints: [{address: x.com}, {address: y.com}]",
       {"error spec.endpoints: resolution DNS_ROUND_ROBIN allows at most one endpoint, got 2"}},
      {"hosts: [a.com, b.com]\naddresses: [10.0.0.1]\nresolution: DNS\nports: [{number: 443, "
       "name: tls, protocol: TLS}]",
       {"warning spec.hosts: a service entry with addresses and a TCP port should have a single "
        "host"}},
      {"hosts: [a.com]\nresolution: DYNAMIC_DNS\naddresses: [10.0.0.1]\nports: [{number: 5432, "
       "name: pg, protocol: TCP}]\nendpoints: [{address: 10.0.0.2}]",
       {"error spec.hosts[0]: host \"a.com\" must be a wildcard with resolution DYNAMIC_DNS",
        "error spec.addresses: addresses are not allowed with resolution DYNAMIC_DNS",
        "error spec.endpoints: endpoints are not allowed with resolution DYNAMIC_DNS",
        "error spec.ports[0].protocol: resolution DYNAMIC_DNS supports only HTTP, TLS, GRPC and "
        "HTTP2 ports"}},
  });
}

}  // namespace
}  // namespace ambit::config::validate::testing
