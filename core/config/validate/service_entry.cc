// ServiceEntry: hosts, addresses, ports, and what each resolution allows of endpoints, addresses
// and workload selectors.
#include <set>

#include <absl/strings/match.h>
#include <absl/strings/str_cat.h>

#include "core/config/validate/common.h"
#include "core/config/validate/kinds.h"

namespace ambit::config::validate {
namespace {

namespace net = istio::networking::v1alpha3;

const char* resolutionName(net::ServiceEntry::Resolution resolution) {
  switch (resolution) {
    case net::ServiceEntry::NONE:
      return "NONE";
    case net::ServiceEntry::STATIC:
      return "STATIC";
    case net::ServiceEntry::DNS:
      return "DNS";
    case net::ServiceEntry::DNS_ROUND_ROBIN:
      return "DNS_ROUND_ROBIN";
    case net::ServiceEntry::DYNAMIC_DNS:
      return "DYNAMIC_DNS";
    default:
      return "unknown";
  }
}

void checkEndpoint(const net::WorkloadEntry& endpoint, const std::set<std::string>& port_names,
                   bool allow_fqdn, const std::string& path, Issues& issues) {
  const std::string& address = endpoint.address();
  if (address.empty()) {
    if (endpoint.network().empty()) {
      issues.error(field(path, "address"), "address is required");
    } else {
      issues.warning(field(path, "address"),
                     absl::StrCat("address is unset; the endpoint is reached through the gateway "
                                  "of network ",
                                  q(endpoint.network())));
    }
  } else if (absl::StartsWith(address, "unix://")) {
    const std::string socket = address.substr(7);
    if (socket.empty() || (socket[0] != '/' && socket[0] != '@') || socket.back() == '/') {
      issues.error(
          field(path, "address"),
          absl::StrCat("address ", q(address), " is not an absolute path to a socket file"));
    }
    if (!endpoint.ports().empty()) {
      issues.error(field(path, "ports"), "a unix domain socket endpoint cannot have ports");
    }
    if (port_names.size() != 1) {
      issues.error(field(path, "address"),
                   "a unix domain socket endpoint needs exactly one service port");
    }
  } else if (!isIpAddress(address)) {
    if (!allow_fqdn) {
      issues.error(field(path, "address"),
                   absl::StrCat("address ", q(address),
                                " is not an IP address (resolution STATIC needs IP addresses)"));
    } else if (!dnsNameProblem(address, false).empty()) {
      issues.error(field(path, "address"),
                   absl::StrCat("address ", q(address), " is not an IP address or a host name"));
    }
  }
  for (const std::string& name : sortedKeys(endpoint.ports())) {
    const std::string at = key(field(path, "ports"), name);
    if (port_names.count(name) == 0) {
      issues.error(at, absl::StrCat("port ", q(name), " is not a port of the service entry"));
    }
    if (!isIstioDnsLabel(name)) {
      issues.error(at, absl::StrCat("port name ", q(name), " is not a DNS label"));
    }
    checkPort(issues, at, endpoint.ports().at(name));
  }
  checkLabels(issues, field(path, "labels"), endpoint.labels());
}

void checkPorts(const net::ServiceEntry& spec, Issues& issues) {
  std::set<std::string> names;
  std::set<uint32_t> numbers;
  for (int i = 0; i < spec.ports_size(); ++i) {
    const net::ServicePort& port = spec.ports(i);
    const std::string pp = item("spec.ports", static_cast<size_t>(i));
    if (port.name().empty()) {
      issues.error(field(pp, "name"), "port name is required");
    } else if (!isIstioDnsLabel(port.name())) {
      issues.error(field(pp, "name"),
                   absl::StrCat("port name ", q(port.name()), " is not a DNS label"));
    } else if (!names.insert(port.name()).second) {
      issues.error(field(pp, "name"),
                   absl::StrCat("port name ", q(port.name()), " is already used by another port"));
    }
    checkPort(issues, field(pp, "number"), port.number());
    if (port.number() != 0 && !numbers.insert(port.number()).second) {
      issues.error(field(pp, "number"),
                   absl::StrCat("port number ", port.number(), " is already used by another port"));
    }
    if (port.target_port() != 0) {
      checkPort(issues, field(pp, "targetPort"), port.target_port(), "targetPort");
    }
    if (!port.protocol().empty() && protocolName(port.protocol()).empty()) {
      issues.error(field(pp, "protocol"),
                   absl::StrCat("protocol ", q(port.protocol()),
                                " is not supported; expected HTTP, HTTPS, GRPC, GRPC-WEB, HTTP2, "
                                "MONGO, REDIS, MYSQL, TCP, UDP or TLS"));
    }
  }
}

void checkResolution(const net::ServiceEntry& spec, const std::set<std::string>& port_names,
                     Issues& issues) {
  const char* resolution = resolutionName(spec.resolution());
  switch (spec.resolution()) {
    case net::ServiceEntry::NONE:
      if (spec.endpoints_size() > 0) {
        issues.error("spec.endpoints", "endpoints are not allowed with resolution NONE");
      }
      if (spec.has_workload_selector()) {
        issues.warning("spec.workloadSelector",
                       "workloadSelector has no effect with resolution NONE");
      }
      break;
    case net::ServiceEntry::STATIC:
      for (int i = 0; i < spec.endpoints_size(); ++i) {
        checkEndpoint(spec.endpoints(i), port_names, false,
                      item("spec.endpoints", static_cast<size_t>(i)), issues);
      }
      break;
    case net::ServiceEntry::DNS:
    case net::ServiceEntry::DNS_ROUND_ROBIN:
      if (spec.endpoints_size() == 0) {
        for (int i = 0; i < spec.hosts_size(); ++i) {
          if (!dnsNameProblem(spec.hosts(i), false).empty()) {
            issues.error(item("spec.hosts", static_cast<size_t>(i)),
                         absl::StrCat("host ", q(spec.hosts(i)),
                                      " must be a fully qualified name "
                                      "without wildcards: resolution ",
                                      resolution, " without endpoints resolves the hosts"));
            break;
          }
        }
      }
      if (spec.resolution() == net::ServiceEntry::DNS_ROUND_ROBIN && spec.endpoints_size() > 1) {
        issues.error("spec.endpoints",
                     absl::StrCat("resolution DNS_ROUND_ROBIN allows at most one endpoint, got ",
                                  spec.endpoints_size()));
      }
      for (int i = 0; i < spec.endpoints_size(); ++i) {
        checkEndpoint(spec.endpoints(i), port_names, true,
                      item("spec.endpoints", static_cast<size_t>(i)), issues);
      }
      if (spec.addresses_size() > 0 && spec.hosts_size() > 1) {
        for (const net::ServicePort& port : spec.ports()) {
          const std::string p = protocolName(port.protocol());
          if (p == "tcp" || p == "https" || p == "tls" || p == "mongo" || p == "redis" ||
              p == "mysql") {
            issues.warning("spec.hosts",
                           "a service entry with addresses and a TCP port should "
                           "have a single host");
            break;
          }
        }
      }
      break;
    case net::ServiceEntry::DYNAMIC_DNS:
      for (int i = 0; i < spec.hosts_size(); ++i) {
        if (!isWildcarded(spec.hosts(i))) {
          issues.error(item("spec.hosts", static_cast<size_t>(i)),
                       absl::StrCat("host ", q(spec.hosts(i)),
                                    " must be a wildcard with resolution DYNAMIC_DNS"));
        }
      }
      if (spec.addresses_size() > 0) {
        issues.error("spec.addresses", "addresses are not allowed with resolution DYNAMIC_DNS");
      }
      if (spec.endpoints_size() > 0) {
        issues.error("spec.endpoints", "endpoints are not allowed with resolution DYNAMIC_DNS");
      }
      for (int i = 0; i < spec.ports_size(); ++i) {
        const std::string p = protocolName(spec.ports(i).protocol());
        if (p != "http" && p != "tls" && p != "grpc" && p != "http2") {
          issues.error(field(item("spec.ports", static_cast<size_t>(i)), "protocol"),
                       "resolution DYNAMIC_DNS supports only HTTP, TLS, GRPC and HTTP2 ports");
        }
      }
      break;
    default:
      break;
  }
  if (spec.resolution() != net::ServiceEntry::NONE && spec.hosts_size() > 1) {
    for (const net::ServicePort& port : spec.ports()) {
      const std::string p = protocolName(port.protocol());
      if (!isHttpProtocol(p) && !isTlsProtocol(p)) {
        issues.error(
            "spec.hosts",
            absl::StrCat("several hosts need HTTP or TLS ports: with resolution ", resolution,
                         " TCP traffic for different hosts cannot be told "
                         "apart"));
        break;
      }
    }
  }
}

}  // namespace

void validateServiceEntry(const net::ServiceEntry& spec, Issues& issues) {
  if (spec.has_workload_selector()) {
    checkWorkloadSelector(issues, "spec.workloadSelector.labels",
                          spec.workload_selector().labels());
    if (spec.endpoints_size() > 0) {
      issues.error("spec.endpoints", "workloadSelector and endpoints cannot both be set");
    }
  }
  if (spec.hosts_size() == 0) issues.error("spec.hosts", "at least one host is required");
  for (int i = 0; i < spec.hosts_size(); ++i) {
    const std::string& host = spec.hosts(i);
    const std::string at = item("spec.hosts", static_cast<size_t>(i));
    if (host == "*") {
      issues.error(at, "host \"*\" is not allowed in a service entry");
      continue;
    }
    checkHost(issues, at, host);
    if (spec.resolution() != net::ServiceEntry::DYNAMIC_DNS && isWildcarded(host) && host != "*" &&
        !absl::StartsWith(host, "*.") && dnsNameProblem(host, true).empty()) {
      issues.warning(at, absl::StrCat("host ", q(host),
                                      " is a partial wildcard, which only resolution DYNAMIC_DNS "
                                      "supports"));
    }
  }
  bool cidr = false;
  for (int i = 0; i < spec.addresses_size(); ++i) {
    const std::string& address = spec.addresses(i);
    cidr = cidr || address.find('/') != std::string::npos;
    if (!isIpOrCidr(address)) {
      issues.error(item("spec.addresses", static_cast<size_t>(i)),
                   absl::StrCat("address ", q(address), " is not an IP address or a CIDR block"));
    }
  }
  if (cidr && spec.resolution() != net::ServiceEntry::NONE &&
      spec.resolution() != net::ServiceEntry::STATIC) {
    issues.error("spec.addresses", absl::StrCat("CIDR addresses are allowed only with resolution "
                                                "NONE or STATIC, not ",
                                                resolutionName(spec.resolution())));
  }
  checkPorts(spec, issues);
  std::set<std::string> port_names;
  for (const net::ServicePort& port : spec.ports()) port_names.insert(port.name());
  checkResolution(spec, port_names, issues);
  checkExportTo(issues, "spec.exportTo", spec.export_to(), true);
}

}  // namespace ambit::config::validate
