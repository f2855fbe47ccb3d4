#include "core/config/analysis/mesh_index.h"

#include <absl/strings/match.h>
#include <absl/strings/str_cat.h>

#include "istio/networking/v1alpha3/destination_rule.pb.h"
#include "istio/networking/v1alpha3/service_entry.pb.h"

namespace ambit::config::analysis {

namespace net = istio::networking::v1alpha3;

std::string resolveHost(const std::string& host, const std::string& namespace_) {
  if (host.find('.') != std::string::npos || host == "*") return host;
  return absl::StrCat(host, ".", namespace_, ".", kClusterDomain);
}

bool hostMatches(const std::string& pattern, const std::string& host) {
  if (pattern == "*" || pattern == host) return true;
  if (absl::StartsWith(pattern, "*.")) {
    return absl::EndsWith(host, pattern.substr(1)) && host.size() > pattern.size() - 1;
  }
  return false;
}

MeshIndex::MeshIndex(const std::vector<Object>& objects) {
  for (const Object& o : objects) {
    switch (o.kind->kind) {
      case Kind::kService:
        service_hosts_.insert(absl::StrCat(o.name(), ".", o.namespace_(), ".", kClusterDomain));
        break;
      case Kind::kServiceEntry:
        for (const std::string& h : o.as<net::ServiceEntry>().hosts()) {
          service_hosts_.insert(resolveHost(h, o.namespace_()));
        }
        break;
      case Kind::kGateway:
        gateways_.insert(absl::StrCat(o.namespace_(), "/", o.name()));
        break;
      case Kind::kDestinationRule:
        destination_rules_.push_back(&o);
        break;
      case Kind::kNamespace:
        namespaces_.emplace(o.name(), &o);
        break;
      default:
        break;
    }
  }
}

bool MeshIndex::hostKnown(const std::string& fqdn) const {
  for (const std::string& known : service_hosts_) {
    if (hostMatches(known, fqdn) || hostMatches(fqdn, known)) return true;
  }
  return false;
}

bool MeshIndex::gatewayExists(const std::string& namespace_, const std::string& name) const {
  return gateways_.count(absl::StrCat(namespace_, "/", name)) > 0;
}

std::vector<const Object*> MeshIndex::destinationRulesFor(const std::string& fqdn,
                                                          const std::string& namespace_) const {
  std::vector<const Object*> out;
  for (const Object* dr : destination_rules_) {
    const auto& spec = dr->as<net::DestinationRule>();
    if (!hostMatches(resolveHost(spec.host(), dr->namespace_()), fqdn)) continue;
    bool visible = spec.export_to().empty();
    for (const std::string& to : spec.export_to()) {
      if (to == "*" || to == namespace_ || (to == "." && dr->namespace_() == namespace_)) {
        visible = true;
      }
    }
    if (visible) out.push_back(dr);
  }
  return out;
}

const Object* MeshIndex::namespaceObject(const std::string& name) const {
  auto it = namespaces_.find(name);
  return it == namespaces_.end() ? nullptr : it->second;
}

}  // namespace ambit::config::analysis
