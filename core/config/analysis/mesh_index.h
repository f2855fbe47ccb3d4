// Lookups over an analyzed set: Services and ServiceEntry hosts, Gateways, DestinationRules by
// host, Namespaces. Built once per analysis.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/config/object.h"

namespace ambit::config::analysis {

inline constexpr const char* kClusterDomain = "svc.cluster.local";
inline constexpr const char* kRootNamespace = "istio-system";
inline constexpr const char* kDataplaneModeLabel = "istio.io/dataplane-mode";
inline constexpr const char* kUseWaypointLabel = "istio.io/use-waypoint";

// Istio's rule: a name without dots is short for <name>.<namespace>.svc.cluster.local; a name
// with dots is taken as written.
std::string resolveHost(const std::string& host, const std::string& namespace_);

// True when `host` matches `pattern`, where the pattern may be a "*." wildcard or "*".
bool hostMatches(const std::string& pattern, const std::string& host);

class MeshIndex {
 public:
  explicit MeshIndex(const std::vector<Object>& objects);

  // True when the set has any Service or ServiceEntry, so host references can be checked.
  bool hasServices() const { return !service_hosts_.empty(); }
  bool hostKnown(const std::string& fqdn) const;
  bool gatewayExists(const std::string& namespace_, const std::string& name) const;
  // DestinationRules whose resolved host matches `fqdn` and are visible from `namespace_`.
  std::vector<const Object*> destinationRulesFor(const std::string& fqdn,
                                                 const std::string& namespace_) const;
  const Object* namespaceObject(const std::string& name) const;

 private:
  std::set<std::string> service_hosts_;  // FQDNs and ServiceEntry host patterns
  std::set<std::string> gateways_;       // "ns/name"
  std::vector<const Object*> destination_rules_;
  std::map<std::string, const Object*> namespaces_;
};

}  // namespace ambit::config::analysis
