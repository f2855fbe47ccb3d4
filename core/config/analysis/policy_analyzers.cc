// Analyzers of security policy placement: L7 rules that only a waypoint can enforce, and policies
// in namespaces that are not in the mesh.
#include <set>

#include <absl/strings/match.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_join.h>

#include "core/config/analysis/analyzers.h"
#include "core/config/codes.h"
#include "istio/security/v1beta1/authorization_policy.pb.h"

namespace ambit::config::analysis {
namespace {

namespace sec = istio::security::v1beta1;

// Condition keys the node agent can evaluate without HTTP; everything else needs a waypoint.
bool isL4ConditionKey(const std::string& key) {
  static const std::set<std::string> kL4 = {"source.ip", "source.namespace", "source.principal",
                                            "destination.ip", "destination.port"};
  return kL4.count(key) > 0;
}

// The L7 attributes a policy uses, by field name, e.g. {"paths", "methods"}.
std::set<std::string> l7Attributes(const sec::AuthorizationPolicy& policy) {
  std::set<std::string> used;
  for (const sec::Rule& rule : policy.rules()) {
    for (const auto& from : rule.from()) {
      const sec::Source& s = from.source();
      if (!s.request_principals().empty()) used.insert("requestPrincipals");
      if (!s.not_request_principals().empty()) used.insert("notRequestPrincipals");
      if (!s.remote_ip_blocks().empty()) used.insert("remoteIpBlocks");
      if (!s.not_remote_ip_blocks().empty()) used.insert("notRemoteIpBlocks");
    }
    for (const auto& to : rule.to()) {
      const sec::Operation& op = to.operation();
      if (!op.hosts().empty()) used.insert("hosts");
      if (!op.not_hosts().empty()) used.insert("notHosts");
      if (!op.methods().empty()) used.insert("methods");
      if (!op.not_methods().empty()) used.insert("notMethods");
      if (!op.paths().empty()) used.insert("paths");
      if (!op.not_paths().empty()) used.insert("notPaths");
    }
    for (const sec::Condition& c : rule.when()) {
      if (!isL4ConditionKey(c.key())) used.insert(absl::StrCat("when ", c.key()));
    }
  }
  return used;
}

bool isNamespacePolicy(const Object& o) {
  return o.kind->kind == Kind::kAuthorizationPolicy || o.kind->kind == Kind::kPeerAuthentication ||
         o.kind->kind == Kind::kRequestAuthentication;
}

}  // namespace

void analyzeAuthorizationPolicies(const std::vector<Object>& objects, const MeshIndex& /*index*/,
                                  std::vector<Diagnostic>& out) {
  for (const Object& o : objects) {
    if (o.kind->kind != Kind::kAuthorizationPolicy) continue;
    const auto& policy = o.as<sec::AuthorizationPolicy>();
    // Policies attached with targetRefs are enforced by the waypoint (or gateway) they name.
    if (policy.has_targetref() || !policy.targetrefs().empty()) continue;
    const std::set<std::string> l7 = l7Attributes(policy);
    if (l7.empty()) continue;
    out.push_back(finding(
        o, codes::kL7PolicyWithoutWaypoint, Severity::kWarning, "spec.rules",
        absl::StrCat("uses HTTP attributes (", absl::StrJoin(l7, ", "),
                     ") but selects workloads directly, so the node agent enforces it and cannot "
                     "see HTTP: matching traffic is denied (fail closed). Attach it to a waypoint "
                     "with targetRefs to enforce the HTTP rules")));
  }
}

void analyzeNamespaces(const std::vector<Object>& objects, const MeshIndex& index,
                       std::vector<Diagnostic>& out) {
  std::set<std::string> reported;
  for (const Object& o : objects) {
    if (!isNamespacePolicy(o) || o.namespace_() == kRootNamespace) continue;
    const Object* ns = index.namespaceObject(o.namespace_());
    if (ns == nullptr || reported.count(o.namespace_()) > 0) continue;
    auto label = ns->meta.labels().find(kDataplaneModeLabel);
    if (label != ns->meta.labels().end() && label->second == "ambient") continue;
    reported.insert(o.namespace_());
    out.push_back(finding(*ns, codes::kNamespaceNotAmbient, Severity::kWarning, "metadata.labels",
                          absl::StrCat("has policies (", o.kind->displayName(), " ", o.name(),
                                       " and maybe others) but is not in the mesh: add the label ",
                                       kDataplaneModeLabel, "=ambient or they have no effect")));
  }
}

}  // namespace ambit::config::analysis
