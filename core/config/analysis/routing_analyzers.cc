// Analyzers of VirtualService and DestinationRule references: subsets, hosts, gateways, and
// DestinationRules that compete for one host.
#include <map>

#include <absl/strings/str_cat.h>
#include <absl/strings/str_join.h>

#include "core/config/analysis/analyzers.h"
#include "core/config/codes.h"
#include "istio/networking/v1alpha3/destination_rule.pb.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"

namespace ambit::config::analysis {
namespace {

namespace net = istio::networking::v1alpha3;

struct DestinationRef {
  const net::Destination* destination;
  std::string path;
};

std::vector<DestinationRef> destinationsOf(const net::VirtualService& vs) {
  std::vector<DestinationRef> out;
  for (int i = 0; i < vs.http_size(); ++i) {
    const auto& http = vs.http(i);
    for (int j = 0; j < http.route_size(); ++j) {
      out.push_back({&http.route(j).destination(),
                     absl::StrCat("spec.http[", i, "].route[", j, "].destination")});
    }
    if (http.has_mirror())
      out.push_back({&http.mirror(), absl::StrCat("spec.http[", i, "].mirror")});
    for (int j = 0; j < http.mirrors_size(); ++j) {
      out.push_back({&http.mirrors(j).destination(),
                     absl::StrCat("spec.http[", i, "].mirrors[", j, "].destination")});
    }
  }
  for (int i = 0; i < vs.tcp_size(); ++i) {
    for (int j = 0; j < vs.tcp(i).route_size(); ++j) {
      out.push_back({&vs.tcp(i).route(j).destination(),
                     absl::StrCat("spec.tcp[", i, "].route[", j, "].destination")});
    }
  }
  for (int i = 0; i < vs.tls_size(); ++i) {
    for (int j = 0; j < vs.tls(i).route_size(); ++j) {
      out.push_back({&vs.tls(i).route(j).destination(),
                     absl::StrCat("spec.tls[", i, "].route[", j, "].destination")});
    }
  }
  return out;
}

std::string subsetNames(const net::DestinationRule& dr) {
  std::vector<std::string> names;
  for (const auto& s : dr.subsets()) names.push_back(s.name());
  return names.empty() ? "none" : absl::StrJoin(names, ", ");
}

void checkSubset(const Object& vs, const DestinationRef& ref, const MeshIndex& index,
                 std::vector<Diagnostic>& out) {
  const std::string& subset = ref.destination->subset();
  if (subset.empty()) return;
  const std::string fqdn = resolveHost(ref.destination->host(), vs.namespace_());
  const auto rules = index.destinationRulesFor(fqdn, vs.namespace_());
  if (rules.empty()) {
    out.push_back(finding(vs, codes::kDestinationRuleNotFound, Severity::kWarning,
                          ref.path + ".subset",
                          absl::StrCat("subset \"", subset, "\" of host ", fqdn,
                                       " needs a DestinationRule that defines it; none is in "
                                       "the analyzed set")));
    return;
  }
  for (const Object* dr : rules) {
    for (const auto& s : dr->as<net::DestinationRule>().subsets()) {
      if (s.name() == subset) return;
    }
  }
  const Object* dr = rules.front();
  out.push_back(
      finding(vs, codes::kSubsetNotFound, Severity::kError, ref.path + ".subset",
              absl::StrCat("subset \"", subset, "\" is not defined by DestinationRule ",
                           dr->namespace_(), "/", dr->name(), " for host ", fqdn, " (it defines ",
                           subsetNames(dr->as<net::DestinationRule>()), ")")));
}

void checkGateways(const Object& vs, const MeshIndex& index, std::vector<Diagnostic>& out) {
  const auto& spec = vs.as<net::VirtualService>();
  auto check = [&](const std::string& ref, const std::string& path) {
    if (ref == "mesh") return;
    // "ns/name", "name" (the VirtualService's namespace), or Istio's legacy "name.ns".
    const size_t slash = ref.find('/');
    const size_t dot = ref.find('.');
    std::string ns = vs.namespace_();
    std::string name = ref;
    if (slash != std::string::npos) {
      ns = ref.substr(0, slash);
      name = ref.substr(slash + 1);
    } else if (dot != std::string::npos) {
      name = ref.substr(0, dot);
      ns = ref.substr(dot + 1);
    }
    if (!index.gatewayExists(ns, name)) {
      out.push_back(
          finding(vs, codes::kGatewayNotFound, Severity::kWarning, path,
                  absl::StrCat("gateway ", ns, "/", name, " is not in the analyzed set")));
    }
  };
  for (int i = 0; i < spec.gateways_size(); ++i) {
    check(spec.gateways(i), absl::StrCat("spec.gateways[", i, "]"));
  }
  for (int i = 0; i < spec.http_size(); ++i) {
    for (int j = 0; j < spec.http(i).match_size(); ++j) {
      const auto& gateways = spec.http(i).match(j).gateways();
      for (int k = 0; k < gateways.size(); ++k) {
        check(gateways[k], absl::StrCat("spec.http[", i, "].match[", j, "].gateways[", k, "]"));
      }
    }
  }
}

}  // namespace

void analyzeVirtualServices(const std::vector<Object>& objects, const MeshIndex& index,
                            std::vector<Diagnostic>& out) {
  for (const Object& o : objects) {
    if (o.kind->kind != Kind::kVirtualService) continue;
    for (const DestinationRef& ref : destinationsOf(o.as<net::VirtualService>())) {
      checkSubset(o, ref, index, out);
      const std::string fqdn = resolveHost(ref.destination->host(), o.namespace_());
      if (index.hasServices() && !ref.destination->host().empty() && !index.hostKnown(fqdn)) {
        out.push_back(finding(o, codes::kHostNotFound, Severity::kWarning, ref.path + ".host",
                              absl::StrCat("host ", fqdn,
                                           " matches no Service or ServiceEntry in the analyzed "
                                           "set")));
      }
    }
    checkGateways(o, index, out);
  }
}

void analyzeDestinationRules(const std::vector<Object>& objects, const MeshIndex& index,
                             std::vector<Diagnostic>& out) {
  // First rule seen for each (namespace, host, workload selector) claims it.
  std::map<std::string, const Object*> claimed;
  for (const Object& o : objects) {
    if (o.kind->kind != Kind::kDestinationRule) continue;
    const auto& spec = o.as<net::DestinationRule>();
    const std::string fqdn = resolveHost(spec.host(), o.namespace_());
    if (index.hasServices() && !spec.host().empty() && !index.hostKnown(fqdn)) {
      out.push_back(finding(o, codes::kHostNotFound, Severity::kWarning, "spec.host",
                            absl::StrCat("host ", fqdn,
                                         " matches no Service or ServiceEntry in the analyzed "
                                         "set")));
    }
    const std::map<std::string, std::string> selector(
        spec.workload_selector().match_labels().begin(),
        spec.workload_selector().match_labels().end());
    const std::string key = absl::StrCat(o.namespace_(), "|", fqdn, "|",
                                         absl::StrJoin(selector, ",", absl::PairFormatter("=")));
    auto [it, inserted] = claimed.emplace(key, &o);
    if (!inserted) {
      out.push_back(finding(
          o, codes::kConflictingDestinationRules, Severity::kError, "spec.host",
          absl::StrCat("host ", fqdn, " already has DestinationRule ", it->second->namespace_(),
                       "/", it->second->name(), " (", it->second->origin.file, ":",
                       it->second->origin.line, "); merge them into one")));
    }
  }
}

}  // namespace ambit::config::analysis
