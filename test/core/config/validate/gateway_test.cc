// Gateway rules: each row is a spec and every issue it must produce.
#include "test/core/config/validate/validate_test_util.h"

namespace ambit::config::validate::testing {
namespace {

void check(const std::vector<Case>& cases) {
  checkCases("networking.istio.io/v1", "Gateway", cases);
}

TEST_CASE("valid gateways have no issues", "[validate][gateway]") {
  check({
      {R"yaml(selector: {istio: ingressgateway}
servers:
- port: {number: 80, name: http, protocol: HTTP}
  hosts: ["*.example.com", "shop/app.example.com", "./b.example.com", "*/c.example.com"]
  tls: {httpsRedirect: true}
- port: {number: 443, name: https, protocol: https}
  hosts: ["*"]
  tls: {mode: SIMPLE, credentialName: example-cert, minProtocolVersion: TLSV1_2,
        cipherSuites: [ECDHE-RSA-AES128-GCM-SHA256, "-AES128-SHA"]}
- port: {number: 8443, name: mtls, protocol: HTTPS}
  hosts: [a.example.com]
  tls: {mode: MUTUAL, serverCertificate: /c.pem, privateKey: /k.pem, caCertificates: /ca.pem}
- port: {number: 15443, name: tls, protocol: TLS}
  hosts: ["*.local"]
  tls: {mode: AUTO_PASSTHROUGH}
- port: {number: 3306, name: mysql, protocol: MYSQL}
  hosts: [db.example.com, 10.0.0.1]
- port: {number: 0, name: uds, protocol: HTTP}
  bind: unix:///var/run/gw.sock
  hosts: [uds.example.com]
- port: {number: 9000, name: grpc, protocol: GRPC-WEB}
  bind: 10.0.0.5
  hosts: [grpc.example.com]
)yaml",
       {}},
  });
}

TEST_CASE("gateway servers, hosts and ports", "[validate][gateway]") {
  const std::string http = "- port: {number: 80, name: http, protocol: HTTP}\n";
  check({
      {"selector: {istio: ingressgateway}",
       {"error spec.servers: at least one server is required"}},
      {"servers:\n" + http, {"error spec.servers[0].hosts: at least one host is required"}},
      {"servers:\n" + http + "  hosts: [reviews]",
       {"error spec.servers[0].hosts[0]: host \"reviews\" is invalid: short names are not allowed "
        "in gateways; use a fully qualified name such as \"reviews.example.com\""}},
      {"servers:\n" + http + "  hosts: [\"*foo.example.com\"]",
       {"error spec.servers[0].hosts[0]: host \"*foo.example.com\" is invalid: partial wildcards "
        "are not allowed; use \"*\" or a \"*.\" prefix"}},
      {"servers:\n" + http + "  hosts: [a_b.example.com]",
       {"error spec.servers[0].hosts[0]: host \"a_b.example.com\" is invalid: label \"a_b\" is "
        "not a DNS label (letters, digits and '-', starting and ending with a letter or digit)"}},
      {"servers:\n" + http + "  hosts: [\"/a.example.com\"]",
       {"error spec.servers[0].hosts[0]: host \"/a.example.com\" is invalid: namespace and host "
        "must not be empty"}},
      {"servers:\n" + http + "  hosts: [\"my_ns/a.example.com\"]",
       {"error spec.servers[0].hosts[0]: host \"my_ns/a.example.com\" is invalid: namespace "
        "\"my_ns\" must be \"*\", \".\" or a namespace name"}},
      {"servers:\n- hosts: [a.example.com]", {"error spec.servers[0].port: port is required"}},
      {"servers:\n- port: {number: 80, name: http, protocol: FTP}\n  hosts: [a.example.com]",
       {"error spec.servers[0].port.protocol: protocol \"FTP\" is not supported; expected HTTP, "
        "HTTPS, GRPC, GRPC-WEB, HTTP2, MONGO, REDIS, MYSQL, TCP or TLS"}},
      {"servers:\n- port: {number: 70000, name: http, protocol: HTTP}\n  hosts: [a.example.com]",
       {"error spec.servers[0].port.number: port must be between 1 and 65535, got 70000"}},
      {"servers:\n- port: {number: 80, protocol: HTTP}\n  hosts: [a.example.com]",
       {"error spec.servers[0].port.name: port name is required"}},
      {"servers:\n- port: {number: 80, name: http, protocol: HTTP, targetPort: 8080}\n  hosts: "
       "[a.example.com]",
       {"error spec.servers[0].port.targetPort: targetPort has no effect on gateways"}},
      {"servers:\n" + http + "  hosts: [a.example.com]\n" + http + "  hosts: [b.example.com]",
       {"error spec.servers[1].port.name: port name \"http\" is already used by spec.servers[0]; "
        "server port names must be unique"}},
      {"servers:\n" + http + "  hosts: [a.example.com]\n  bind: localhost",
       {"error spec.servers[0].bind: bind \"localhost\" is not an IP address"}},
      {"servers:\n" + http + "  hosts: [a.example.com]\n  bind: unix://relative.sock",
       {"error spec.servers[0].bind: bind \"unix://relative.sock\" is not an absolute path to a "
        "socket file",
        "error spec.servers[0].port.number: port number must be 0 for a unix domain socket, got "
        "80"}},
      {"servers:\n" + http + "  hosts: [a.example.com]\nselector: {\"bad key\": x}",
       {"error spec.selector[\"bad key\"]: label key \"bad key\" is invalid: it must consist of "
        "letters, digits, '-', '_' or '.', starting and ending with a letter or digit"}},
  });
}

TEST_CASE("gateway TLS settings", "[validate][gateway]") {
  const std::string https =
      "servers:\n- port: {number: 443, name: https, protocol: HTTPS}\n  hosts: [a.example.com]\n";
  check({
      {https, {"error spec.servers[0].tls: HTTPS servers need tls settings"}},
      {"servers:\n- port: {number: 443, name: tls, protocol: tls}\n  hosts: [a.example.com]",
       {"error spec.servers[0].tls: TLS servers need tls settings"}},
      {https + "  tls: {mode: SIMPLE}",
       {"error spec.servers[0].tls: SIMPLE mode needs credentialName, or serverCertificate and "
        "privateKey"}},
      {https + "  tls: {mode: SIMPLE, serverCertificate: /c.pem}",
       {"error spec.servers[0].tls.privateKey: SIMPLE mode needs privateKey together with "
        "serverCertificate"}},
      {https + "  tls: {mode: SIMPLE, privateKey: /k.pem}",
       {"error spec.servers[0].tls.serverCertificate: SIMPLE mode needs serverCertificate "
        "together with privateKey"}},
      {https + "  tls: {mode: MUTUAL, serverCertificate: /c.pem, privateKey: /k.pem}",
       {"error spec.servers[0].tls.caCertificates: MUTUAL mode needs caCertificates (or "
        "credentialName)"}},
      {https + "  tls: {mode: OPTIONAL_MUTUAL, credentialName: c}", {}},
      {https + "  tls: {mode: MUTUAL, serverCertificate: /c.pem, privateKey: /k.pem, "
               "caCertCredentialName: ca}",
       {}},
      {https + "  tls: {mode: SIMPLE, credentialName: c, serverCertificate: /c.pem, privateKey: "
               "/k.pem}",
       {"error spec.servers[0].tls: only one of credentialName, credentialNames, "
        "serverCertificate and privateKey, or tlsCertificates may be set"}},
      {https + "  tls: {mode: SIMPLE, tlsCertificates: [{serverCertificate: /c.pem}, {}, {}]}",
       {"warning spec.servers[0].tls.tlsCertificates: at most 2 server certificates are "
        "supported, got 3",
        "error spec.servers[0].tls.tlsCertificates[0].privateKey: privateKey is required",
        "error spec.servers[0].tls.tlsCertificates[1].serverCertificate: serverCertificate is "
        "required",
        "error spec.servers[0].tls.tlsCertificates[1].privateKey: privateKey is required",
        "error spec.servers[0].tls.tlsCertificates[2].serverCertificate: serverCertificate is "
        "required",
        "error spec.servers[0].tls.tlsCertificates[2].privateKey: privateKey is required"}},
      {https + "  tls: {mode: ISTIO_MUTUAL, credentialName: c, caCertificates: /ca.pem}",
       {"error spec.servers[0].tls.caCertificates: ISTIO_MUTUAL mode uses the mesh's "
        "certificates and cannot set caCertificates",
        "error spec.servers[0].tls.credentialName: ISTIO_MUTUAL mode uses the mesh's certificates "
        "and cannot set credentialName"}},
      {https + "  tls: {mode: PASSTHROUGH, credentialName: c}",
       {"warning spec.servers[0].tls: PASSTHROUGH mode does not use certificates; they are "
        "ignored"}},
      {https + "  tls: {mode: SIMPLE, credentialName: c, caCrl: /crl.pem}",
       {"error spec.servers[0].tls.caCrl: caCrl cannot be used with credentialName; put the CRL "
        "in the credential",
        "error spec.servers[0].tls.caCrl: SIMPLE mode cannot use caCrl"}},
      {https + "  tls: {mode: SIMPLE, credentialName: c, minProtocolVersion: TLSV1_1}",
       {"warning spec.servers[0].tls.minProtocolVersion: TLS versions below 1.2 need cipherSuites "
        "set: the default suites no longer include ones they support"}},
      {https + "  tls: {mode: SIMPLE, credentialName: c, cipherSuites: [FOO-BAR, AES128-SHA, "
               "AES128-SHA]}",
       {"warning spec.servers[0].tls.cipherSuites[0]: cipher suite \"FOO-BAR\" is unknown and "
        "ignored",
        "warning spec.servers[0].tls.cipherSuites[2]: cipher suite \"AES128-SHA\" is listed "
        "twice"}},
      {"servers:\n- port: {number: 80, name: http, protocol: HTTP}\n  hosts: [a.example.com]\n  "
       "tls: {mode: SIMPLE, credentialName: c}",
       {"error spec.servers[0].tls: plain-text HTTP servers cannot have tls settings other than "
        "httpsRedirect; use HTTPS"}},
      {"servers:\n- port: {number: 9000, name: grpc, protocol: GRPC}\n  hosts: [a.example.com]\n  "
       "tls: {mode: ISTIO_MUTUAL}",
       {"error spec.servers[0].tls: plain-text HTTP servers cannot have tls settings other than "
        "httpsRedirect; use HTTPS"}},
      {"servers:\n- port: {number: 9000, name: tcp, protocol: TCP}\n  hosts: [a.example.com]\n  "
       "tls: {httpsRedirect: true}",
       {"error spec.servers[0].tls: TCP servers cannot have tls settings; use HTTPS or TLS",
        "warning spec.servers[0].tls.httpsRedirect: httpsRedirect applies only to HTTP "
        "servers"}},
  });
}

}  // namespace
}  // namespace ambit::config::validate::testing
