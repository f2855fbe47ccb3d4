// Host names as Istio resolves them in VirtualServices and DestinationRules: short names are
// relative to the namespace of the object that writes them, wildcards match by suffix.
#pragma once

#include <set>
#include <string>
#include <string_view>

namespace ambit::waypoint {

// Resolves the host names of one configuration snapshot. Istio's rules, in order:
//   - "*" and "*.suffix" are patterns, kept as written;
//   - an IP address literal is kept as written (it names a service by one of its VIPs);
//   - a name without dots, "echo" in namespace "demo", is "echo.demo.svc.<domain>";
//   - "echo.demo" is "echo.demo.svc.<domain>" when "demo" is a namespace of the snapshot (one
//     with a service, a VirtualService or a DestinationRule), and taken as written otherwise, so
//     that "example.com" stays an external name;
//   - "echo.demo.svc" is "echo.demo.svc.<domain>";
//   - anything else is a fully qualified name, taken as written.
// Names are compared in lower case, as DNS does.
class HostResolver {
 public:
  HostResolver(const std::string& domain_suffix, std::set<std::string, std::less<>> namespaces);

  std::string resolve(std::string_view host, std::string_view namespace_) const;
  const std::string& domainSuffix() const { return domain_suffix_; }

  // The namespace of a service FQDN "name.namespace.svc.<domain>"; empty for other names.
  std::string_view namespaceOf(std::string_view fqdn) const;

 private:
  std::string domain_suffix_;  // "cluster.local"
  std::set<std::string, std::less<>> namespaces_;
};

// True for "*" and "*.suffix".
bool isWildcardHost(std::string_view host);

// True when `host` (a resolved name) matches `pattern` (a resolved name or a wildcard): equal
// names, "*", or "*.suffix" for any name that ends with ".suffix" (one label or more before it).
bool hostMatches(std::string_view pattern, std::string_view host);

// True for an IPv4 or IPv6 address literal.
bool isIpLiteral(std::string_view host);

}  // namespace ambit::waypoint
