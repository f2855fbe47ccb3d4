// VirtualService: hosts, gateways, TLS and TCP routes, destinations and weights. HTTP routes are
// checked in http_route.cc.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <absl/strings/str_cat.h>
#include <absl/strings/str_join.h>

#include "core/config/validate/common.h"
#include "core/config/validate/kinds.h"
#include "core/config/validate/route.h"

namespace ambit::config::validate {
namespace {

namespace net = istio::networking::v1alpha3;

constexpr int kMaxPairwiseHosts = 256;

bool contains(const google::protobuf::RepeatedPtrField<std::string>& list, const char* value) {
  for (const std::string& v : list) {
    if (v == value) return true;
  }
  return false;
}

void checkSubnets(const google::protobuf::RepeatedPtrField<std::string>& subnets,
                  const std::string& path, Issues& issues) {
  for (int i = 0; i < subnets.size(); ++i) {
    if (!isIpOrCidr(subnets[i])) {
      issues.error(item(path, static_cast<size_t>(i)),
                   absl::StrCat("destination subnet ", q(subnets[i]),
                                " is not an IP address or a CIDR block"));
    }
  }
}

void checkSourceNamespace(const std::string& ns, const std::string& path, Issues& issues) {
  if (!ns.empty() && !isIstioDnsLabel(ns)) {
    issues.error(path, absl::StrCat("sourceNamespace ", q(ns), " is not a namespace name"));
  }
}

// The virtual service's hosts for a message, the first few only.
std::string listHosts(const net::VirtualService& spec) {
  constexpr int kShown = 5;
  std::vector<std::string> shown(spec.hosts().begin(),
                                 spec.hosts().begin() + std::min(spec.hosts_size(), kShown));
  if (spec.hosts_size() > kShown) {
    shown.push_back(absl::StrCat("and ", spec.hosts_size() - kShown, " more"));
  }
  return absl::StrJoin(shown, ", ");
}

// Whether some host matches every name `host` matches (Istio's SubsetOf), found by looking up
// each wildcard that could cover it rather than comparing with every host.
bool isSubsetOfAny(const std::string& host, const std::set<std::string>& hosts) {
  if (!isWildcarded(host) && hosts.count(host) > 0) return true;
  const std::string base = isWildcarded(host) ? host.substr(1) : host;
  for (size_t i = 0; i <= base.size(); ++i) {
    if (hosts.count("*" + base.substr(i)) > 0) return true;
  }
  return false;
}

void checkSniHost(const std::string& sni, const net::VirtualService& spec,
                  const std::set<std::string>& hosts, const std::string& path, Issues& issues) {
  if (const std::string problem = dnsNameProblem(sni, true); !problem.empty()) {
    if (isIpAddress(sni)) {
      issues.warning(path, absl::StrCat("sniHost ", q(sni),
                                        " is an IP address, which TLS clients rarely send as SNI"));
    } else {
      issues.error(path, absl::StrCat("sniHost ", q(sni), " is invalid: ", problem));
    }
    return;
  }
  if (isSubsetOfAny(sni, hosts)) return;
  issues.error(
      path, absl::StrCat("sniHost ", q(sni), " is not matched by any host of the virtual service (",
                         listHosts(spec), ")"));
}

void checkTlsRoute(const net::TLSRoute& route, const net::VirtualService& spec,
                   const std::set<std::string>& hosts, const std::string& path, Issues& issues) {
  if (route.match_size() == 0) {
    issues.error(field(path, "match"), "a TLS route needs at least one match");
  }
  for (int j = 0; j < route.match_size(); ++j) {
    const net::TLSMatchAttributes& m = route.match(j);
    const std::string mp = item(field(path, "match"), static_cast<size_t>(j));
    if (m.sni_hosts_size() == 0) {
      issues.error(field(mp, "sniHosts"), "a TLS match needs at least one sniHost");
    }
    for (int k = 0; k < m.sni_hosts_size(); ++k) {
      checkSniHost(m.sni_hosts(k), spec, hosts, item(field(mp, "sniHosts"), static_cast<size_t>(k)),
                   issues);
    }
    checkSubnets(m.destination_subnets(), field(mp, "destinationSubnets"), issues);
    if (m.port() != 0) checkPort(issues, field(mp, "port"), m.port());
    checkLabels(issues, field(mp, "sourceLabels"), m.source_labels());
    checkGatewayNames(m.gateways(), field(mp, "gateways"), issues);
    checkSourceNamespace(m.source_namespace(), field(mp, "sourceNamespace"), issues);
  }
  if (route.route_size() == 0) issues.error(field(path, "route"), "route is required");
  checkRouteDestinations(route.route(), field(path, "route"), issues);
}

void checkTcpRoute(const net::TCPRoute& route, const std::string& path, Issues& issues) {
  for (int j = 0; j < route.match_size(); ++j) {
    const net::L4MatchAttributes& m = route.match(j);
    const std::string mp = item(field(path, "match"), static_cast<size_t>(j));
    checkSubnets(m.destination_subnets(), field(mp, "destinationSubnets"), issues);
    if (!m.source_subnet().empty() && !isIpOrCidr(m.source_subnet())) {
      issues.error(field(mp, "sourceSubnet"),
                   absl::StrCat("source subnet ", q(m.source_subnet()),
                                " is not an IP address or a CIDR block"));
    }
    if (m.port() != 0) checkPort(issues, field(mp, "port"), m.port());
    checkLabels(issues, field(mp, "sourceLabels"), m.source_labels());
    checkGatewayNames(m.gateways(), field(mp, "gateways"), issues);
    checkSourceNamespace(m.source_namespace(), field(mp, "sourceNamespace"), issues);
  }
  if (route.route_size() == 0) issues.error(field(path, "route"), "route is required");
  checkRouteDestinations(route.route(), field(path, "route"), issues);
}

// Routing on JWT claims needs the gateway's authentication filters; sidecars cannot do it.
void checkClaimRoutes(const net::VirtualService& spec, Issues& issues) {
  for (int i = 0; i < spec.http_size(); ++i) {
    const std::string rp = item("spec.http", static_cast<size_t>(i));
    for (int j = 0; j < spec.http(i).match_size(); ++j) {
      const net::HTTPMatchRequest& m = spec.http(i).match(j);
      const std::string mp = item(field(rp, "match"), static_cast<size_t>(j));
      for (const auto* map : {&m.headers(), &m.without_headers()}) {
        const char* name = map == &m.headers() ? "headers" : "withoutHeaders";
        for (const std::string& header : sortedKeys(*map)) {
          if (!isJwtClaimHeader(header)) continue;
          issues.error(key(field(mp, name), header),
                       absl::StrCat("routing on JWT claims (", q(header),
                                    ") works only for gateways, and this virtual service applies "
                                    "to the mesh"));
        }
      }
    }
  }
}

void checkHosts(const net::VirtualService& spec, bool applies_to_mesh, Issues& issues) {
  bool all_valid = true;
  for (int i = 0; i < spec.hosts_size(); ++i) {
    const std::string& host = spec.hosts(i);
    const std::string at = item("spec.hosts", static_cast<size_t>(i));
    if (host.empty()) {
      issues.error(at, "host must not be empty");
      all_valid = false;
    } else if (const std::string problem = dnsNameProblem(host, true); !problem.empty()) {
      if (!isIpAddress(host)) {
        issues.error(at, absl::StrCat("host ", q(host), " is invalid: ", problem));
        all_valid = false;
      }
    } else if (applies_to_mesh && host == "*") {
      issues.error(at,
                   "host \"*\" is allowed only in virtual services bound to gateways, not "
                   "to the mesh");
      all_valid = false;
    }
  }
  if (!all_valid) return;
  // Every pair is compared, as Istio does; beyond a few hundred hosts (only hostile input has that
  // many) exact duplicates alone are reported, keeping the check linear.
  if (spec.hosts_size() > kMaxPairwiseHosts) {
    std::set<std::string> seen;
    for (int i = 0; i < spec.hosts_size(); ++i) {
      if (!seen.insert(spec.hosts(i)).second) {
        issues.error(item("spec.hosts", static_cast<size_t>(i)),
                     absl::StrCat("host ", q(spec.hosts(i)), " is listed twice"));
      }
    }
    return;
  }
  for (int i = 0; i < spec.hosts_size(); ++i) {
    for (int j = i + 1; j < spec.hosts_size(); ++j) {
      if (hostsOverlap(spec.hosts(i), spec.hosts(j))) {
        issues.error(
            item("spec.hosts", static_cast<size_t>(j)),
            absl::StrCat("hosts ", q(spec.hosts(i)), " and ", q(spec.hosts(j)), " overlap"));
      }
    }
  }
}

}  // namespace

void checkGatewayNames(const google::protobuf::RepeatedPtrField<std::string>& gateways,
                       const std::string& path, Issues& issues) {
  for (int i = 0; i < gateways.size(); ++i) {
    const std::string& gw = gateways[i];
    const std::string at = item(path, static_cast<size_t>(i));
    const size_t slash = gw.find('/');
    if (slash == std::string::npos) {
      if (const std::string problem = dnsNameProblem(gw, false); !problem.empty()) {
        issues.error(at, absl::StrCat("gateway ", q(gw), " is invalid: ", problem));
      } else if (const size_t dot = gw.find('.'); dot != std::string::npos) {
        issues.warning(
            at, absl::StrCat("gateway ", q(gw), " uses the legacy name.namespace form; write ",
                             q(gw.substr(dot + 1) + "/" + gw.substr(0, dot))));
      }
      continue;
    }
    const std::string ns = gw.substr(0, slash);
    const std::string name = gw.substr(slash + 1);
    if (ns.empty() || name.empty()) {
      issues.error(at, absl::StrCat("gateway ", q(gw),
                                    " is invalid: expected namespace/name with both parts set"));
    } else if (!isIstioDnsLabel(ns)) {
      issues.error(at, absl::StrCat("gateway ", q(gw), " is invalid: namespace ", q(ns),
                                    " is not a DNS label"));
    } else if (!isIstioDnsLabel(name)) {
      issues.error(at, absl::StrCat("gateway ", q(gw), " is invalid: name ", q(name),
                                    " is not a DNS label"));
    }
  }
}

void checkDestination(const net::Destination& destination, const std::string& path,
                      Issues& issues) {
  const std::string& host = destination.host();
  if (host == "*") {
    issues.error(field(path, "host"), "host \"*\" is not allowed in a destination");
  } else {
    checkHost(issues, field(path, "host"), host);
  }
  if (!destination.subset().empty() && !isIstioDnsLabel(destination.subset())) {
    issues.error(field(path, "subset"),
                 absl::StrCat("subset ", q(destination.subset()), " is not a DNS label"));
  }
  if (destination.has_port()) {
    checkPort(issues, field(field(path, "port"), "number"), destination.port().number());
  }
}

void validateVirtualService(const net::VirtualService& spec, Issues& issues) {
  const bool delegate = spec.hosts_size() == 0;
  if (delegate) {
    if (spec.gateways_size() > 0) {
      issues.error("spec.gateways",
                   "a delegate virtual service (one without hosts) must not set gateways");
    }
    if (spec.tls_size() > 0) {
      issues.error("spec.tls",
                   "a delegate virtual service (one without hosts) cannot have TLS "
                   "routes");
    }
    if (spec.tcp_size() > 0) {
      issues.error("spec.tcp",
                   "a delegate virtual service (one without hosts) cannot have TCP "
                   "routes");
    }
  }
  checkGatewayNames(spec.gateways(), "spec.gateways", issues);
  const bool applies_to_mesh = spec.gateways_size() == 0 || contains(spec.gateways(), "mesh");
  // With "mesh" among several gateways, Istio treats the service as bound to the mesh.
  if (applies_to_mesh) checkClaimRoutes(spec, issues);
  checkHosts(spec, applies_to_mesh, issues);

  if (spec.http_size() == 0 && spec.tcp_size() == 0 && spec.tls_size() == 0) {
    issues.error("spec", "at least one http, tcp or tls route is required");
  }
  for (int i = 0; i < spec.http_size(); ++i) {
    validateHttpRoute(spec.http(i), item("spec.http", static_cast<size_t>(i)), delegate, issues);
  }
  const std::set<std::string> hosts(spec.hosts().begin(), spec.hosts().end());
  for (int i = 0; i < spec.tls_size(); ++i) {
    checkTlsRoute(spec.tls(i), spec, hosts, item("spec.tls", static_cast<size_t>(i)), issues);
  }
  for (int i = 0; i < spec.tcp_size(); ++i) {
    checkTcpRoute(spec.tcp(i), item("spec.tcp", static_cast<size_t>(i)), issues);
  }
  checkExportTo(issues, "spec.exportTo", spec.export_to(), false);
}

}  // namespace ambit::config::validate
