// Gateway: servers with their hosts, ports, protocols, binds and TLS settings.
#include <map>
#include <set>

#include <absl/strings/ascii.h>
#include <absl/strings/match.h>
#include <absl/strings/str_cat.h>

#include "core/config/validate/common.h"
#include "core/config/validate/kinds.h"

namespace ambit::config::validate {
namespace {

namespace net = istio::networking::v1alpha3;

enum class Protocol { kUnsupported, kHttp, kTls, kOther };

Protocol parseProtocol(const std::string& name) {
  const std::string p = protocolName(name);
  if (p.empty()) return Protocol::kUnsupported;
  if (isHttpProtocol(p)) return Protocol::kHttp;
  return isTlsProtocol(p) ? Protocol::kTls : Protocol::kOther;
}

bool isValidCipherSuite(const std::string& suite) {
  static const std::set<std::string> kSuites = {"ECDHE-ECDSA-AES128-GCM-SHA256",
                                                "ECDHE-RSA-AES128-GCM-SHA256",
                                                "ECDHE-ECDSA-AES256-GCM-SHA384",
                                                "ECDHE-RSA-AES256-GCM-SHA384",
                                                "ECDHE-ECDSA-CHACHA20-POLY1305",
                                                "ECDHE-RSA-CHACHA20-POLY1305",
                                                "ECDHE-ECDSA-AES128-SHA",
                                                "ECDHE-RSA-AES128-SHA",
                                                "ECDHE-ECDSA-AES256-SHA",
                                                "ECDHE-RSA-AES256-SHA",
                                                "AES128-GCM-SHA256",
                                                "AES256-GCM-SHA384",
                                                "AES128-SHA",
                                                "AES256-SHA",
                                                "DES-CBC3-SHA"};
  if (suite.empty() || suite == "ALL") return true;
  // Expressions with operators ("-AES128-SHA", "!DES") are left to the TLS library.
  if (!absl::ascii_isalnum(static_cast<unsigned char>(suite[0]))) return true;
  return kSuites.count(suite) > 0;
}

// "[namespace/]host": the namespace is "*", "." or a namespace; the host is "*", an FQDN with an
// optional "*." prefix, or an IP address. Short names are not allowed.
void checkServerHost(const std::string& entry, const std::string& path, Issues& issues) {
  std::string host = entry;
  if (const size_t slash = entry.find('/'); slash != std::string::npos) {
    const std::string ns = entry.substr(0, slash);
    host = entry.substr(slash + 1);
    if (ns.empty() || host.empty()) {
      issues.error(path, absl::StrCat("host ", q(entry),
                                      " is invalid: namespace and host must not be empty"));
      return;
    }
    if (ns != "*" && ns != "." && !isIstioDnsLabel(ns)) {
      issues.error(path, absl::StrCat("host ", q(entry), " is invalid: namespace ", q(ns),
                                      " must be \"*\", \".\" or a namespace name"));
      return;
    }
  }
  if (host.empty()) {
    issues.error(path, "host must not be empty");
  } else if (host != "*" && host.find('.') == std::string::npos) {
    issues.error(path, absl::StrCat("host ", q(entry),
                                    " is invalid: short names are not allowed in gateways; use a "
                                    "fully qualified name such as ",
                                    q(host + ".example.com")));
  } else if (const std::string problem = dnsNameProblem(host, true);
             !problem.empty() && !isIpAddress(host)) {
    issues.error(path, absl::StrCat("host ", q(entry), " is invalid: ", problem));
  } else if (host.find('*') != std::string::npos && host != "*" && !absl::StartsWith(host, "*.")) {
    issues.error(path, absl::StrCat("host ", q(entry),
                                    " is invalid: partial wildcards are not allowed; use \"*\" or "
                                    "a \"*.\" prefix"));
  }
}

void checkBind(const net::Server& server, const std::string& path, Issues& issues) {
  const std::string& bind = server.bind();
  if (absl::StartsWith(bind, "unix://")) {
    const std::string socket = bind.substr(7);
    if (socket.empty() || (socket[0] != '/' && socket[0] != '@') || socket.back() == '/') {
      issues.error(field(path, "bind"),
                   absl::StrCat("bind ", q(bind), " is not an absolute path to a socket file"));
    }
    if (server.port().number() != 0) {
      issues.error(field(field(path, "port"), "number"),
                   absl::StrCat("port number must be 0 for a unix domain socket, got ",
                                server.port().number()));
    }
  } else if (!bind.empty() && !isIpAddress(bind)) {
    issues.error(field(path, "bind"), absl::StrCat("bind ", q(bind), " is not an IP address"));
  }
}

void checkServerTls(const net::ServerTLSSettings& tls, const std::string& path, Issues& issues) {
  using Tls = net::ServerTLSSettings;
  const std::string mode = Tls::TLSmode_Name(tls.mode());
  if ((tls.min_protocol_version() == Tls::TLSV1_0 || tls.min_protocol_version() == Tls::TLSV1_1) &&
      tls.cipher_suites_size() == 0) {
    issues.warning(field(path, "minProtocolVersion"),
                   "TLS versions below 1.2 need cipherSuites set: the default suites no longer "
                   "include ones they support");
  }
  std::set<std::string> seen;
  for (int i = 0; i < tls.cipher_suites_size(); ++i) {
    const std::string& suite = tls.cipher_suites(i);
    const std::string at = item(field(path, "cipherSuites"), static_cast<size_t>(i));
    if (!isValidCipherSuite(suite)) {
      issues.warning(at, absl::StrCat("cipher suite ", q(suite), " is unknown and ignored"));
    } else if (!seen.insert(suite).second) {
      issues.warning(at, absl::StrCat("cipher suite ", q(suite), " is listed twice"));
    }
  }
  const bool server_cert = !tls.server_certificate().empty();
  const bool private_key = !tls.private_key().empty();
  const bool credential = !tls.credential_name().empty() || tls.credential_names_size() > 0;
  if (tls.mode() == Tls::ISTIO_MUTUAL) {
    const std::pair<bool, const char*> forbidden[] = {
        {server_cert, "serverCertificate"},
        {private_key, "privateKey"},
        {!tls.ca_certificates().empty(), "caCertificates"},
        {tls.tls_certificates_size() > 0, "tlsCertificates"},
        {!tls.credential_name().empty(), "credentialName"},
        {tls.credential_names_size() > 0, "credentialNames"}};
    for (const auto& [set, name] : forbidden) {
      if (set) {
        issues.error(
            field(path, name),
            absl::StrCat("ISTIO_MUTUAL mode uses the mesh's certificates and cannot set ", name));
      }
    }
    return;
  }
  if (tls.mode() == Tls::PASSTHROUGH || tls.mode() == Tls::AUTO_PASSTHROUGH) {
    if (!tls.ca_crl().empty() || server_cert || private_key || !tls.ca_certificates().empty() ||
        tls.tls_certificates_size() > 0 || credential) {
      issues.warning(path, absl::StrCat(mode, " mode does not use certificates; they are ignored"));
    }
    return;
  }
  const int sources = static_cast<int>(server_cert && private_key) +
                      static_cast<int>(!tls.credential_name().empty()) +
                      static_cast<int>(tls.credential_names_size() > 0) +
                      static_cast<int>(tls.tls_certificates_size() > 0);
  if (sources > 1) {
    issues.error(path,
                 "only one of credentialName, credentialNames, serverCertificate and "
                 "privateKey, or tlsCertificates may be set");
  }
  if (!tls.ca_crl().empty()) {
    if (!tls.credential_name().empty()) {
      issues.error(field(path, "caCrl"),
                   "caCrl cannot be used with credentialName; put the CRL in the credential");
    }
    if (tls.mode() == Tls::SIMPLE)
      issues.error(field(path, "caCrl"), "SIMPLE mode cannot use caCrl");
  }
  if (credential) return;  // SIMPLE, MUTUAL, OPTIONAL_MUTUAL: certificates come from the secret
  if (tls.mode() != Tls::SIMPLE) {
    if (tls.ca_certificates().empty() && tls.ca_cert_credential_name().empty()) {
      issues.error(field(path, "caCertificates"),
                   absl::StrCat(mode, " mode needs caCertificates (or credentialName)"));
    }
  }
  if (tls.tls_certificates_size() > 2) {
    issues.warning(field(path, "tlsCertificates"),
                   absl::StrCat("at most 2 server certificates are supported, got ",
                                tls.tls_certificates_size()));
  }
  for (int i = 0; i < tls.tls_certificates_size(); ++i) {
    const auto& cert = tls.tls_certificates(i);
    const std::string cp = item(field(path, "tlsCertificates"), static_cast<size_t>(i));
    if (cert.server_certificate().empty()) {
      issues.error(field(cp, "serverCertificate"), "serverCertificate is required");
    }
    if (cert.private_key().empty()) issues.error(field(cp, "privateKey"), "privateKey is required");
  }
  if (tls.tls_certificates_size() == 0) {
    if (!server_cert && !private_key) {
      issues.error(path, absl::StrCat(mode,
                                      " mode needs credentialName, or serverCertificate and "
                                      "privateKey"));
    } else if (!server_cert) {
      issues.error(field(path, "serverCertificate"),
                   absl::StrCat(mode, " mode needs serverCertificate together with privateKey"));
    } else if (!private_key) {
      issues.error(field(path, "privateKey"),
                   absl::StrCat(mode, " mode needs privateKey together with serverCertificate"));
    }
  }
}

void checkServer(const net::Server& server, const std::string& path, Issues& issues) {
  if (server.hosts_size() == 0) issues.error(field(path, "hosts"), "at least one host is required");
  for (int i = 0; i < server.hosts_size(); ++i) {
    checkServerHost(server.hosts(i), item(field(path, "hosts"), static_cast<size_t>(i)), issues);
  }
  if (server.has_tls()) checkServerTls(server.tls(), field(path, "tls"), issues);
  checkBind(server, path, issues);
  if (!server.has_port()) {
    issues.error(field(path, "port"), "port is required");
    return;
  }
  const net::Port& port = server.port();
  const std::string pp = field(path, "port");
  const Protocol protocol = parseProtocol(port.protocol());
  bool port_ok = true;
  if (protocol == Protocol::kUnsupported) {
    issues.error(field(pp, "protocol"),
                 absl::StrCat("protocol ", q(port.protocol()),
                              " is not supported; expected HTTP, HTTPS, GRPC, GRPC-WEB, HTTP2, "
                              "MONGO, REDIS, MYSQL, TCP or TLS"));
    port_ok = false;
  }
  if (port.number() > 0 || !absl::StartsWith(server.bind(), "unix://")) {
    if (port.number() < 1 || port.number() > 65535) port_ok = false;
    checkPort(issues, field(pp, "number"), port.number());
  }
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  if (port.target_port() > 0) {
    issues.error(field(pp, "targetPort"), "targetPort has no effect on gateways");
    port_ok = false;
  }
#pragma GCC diagnostic pop
  if (port.name().empty()) issues.error(field(pp, "name"), "port name is required");
  if (!port_ok) return;
  if (protocol == Protocol::kTls && !server.has_tls()) {
    issues.error(field(path, "tls"), absl::StrCat(absl::AsciiStrToUpper(port.protocol()),
                                                  " servers need tls settings"));
  } else if (protocol != Protocol::kTls && server.has_tls()) {
    const auto& tls = server.tls();
    const bool passthrough = tls.mode() == net::ServerTLSSettings::PASSTHROUGH ||
                             tls.mode() == net::ServerTLSSettings::AUTO_PASSTHROUGH;
    if (protocol != Protocol::kHttp) {
      issues.error(field(path, "tls"),
                   absl::StrCat(absl::AsciiStrToUpper(port.protocol()),
                                " servers cannot have tls settings; use HTTPS or TLS"));
    } else if (!passthrough || !tls.ca_certificates().empty() || !tls.private_key().empty() ||
               !tls.server_certificate().empty()) {
      issues.error(field(path, "tls"),
                   "plain-text HTTP servers cannot have tls settings other "
                   "than httpsRedirect; use HTTPS");
    }
  }
  if (protocol != Protocol::kHttp && server.tls().https_redirect()) {
    issues.warning(field(field(path, "tls"), "httpsRedirect"),
                   "httpsRedirect applies only to HTTP servers");
  }
}

}  // namespace

void validateGateway(const net::Gateway& spec, Issues& issues) {
  if (spec.servers_size() == 0) issues.error("spec.servers", "at least one server is required");
  std::map<std::string, int> port_names;
  for (int i = 0; i < spec.servers_size(); ++i) {
    const std::string sp = item("spec.servers", static_cast<size_t>(i));
    checkServer(spec.servers(i), sp, issues);
    const std::string& name = spec.servers(i).port().name();
    if (name.empty()) continue;
    if (const auto [it, inserted] = port_names.emplace(name, i); !inserted) {
      issues.error(field(field(sp, "port"), "name"),
                   absl::StrCat("port name ", q(name), " is already used by spec.servers[",
                                it->second, "]; server port names must be unique"));
    }
  }
  checkLabels(issues, "spec.selector", spec.selector());
}

}  // namespace ambit::config::validate
