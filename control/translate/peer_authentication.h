// PeerAuthentication to L4 DENY policies, following istiod: one static policy denying
// plaintext that workloads under an effective STRICT mode reference, and a converted policy per
// workload PeerAuthentication whose port-level modes differ from its effective mode.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "control/translate/mesh_objects.h"
#include "control/translate/options.h"
#include "istio/security/authorization.pb.h"

namespace ambit::control::translate {

inline constexpr const char* kStaticStrictPolicyName = "istio_converted_static_strict";
inline constexpr const char* kConvertedPeerAuthenticationPrefix = "converted_peer_authentication_";

// The static STRICT policy: in the root namespace, DENY connections without a peer identity.
istio::security::Authorization staticStrictPolicy(const Options& options);

// istiod's convertPeerAuthentication: for a PeerAuthentication with a selector and port-level
// modes outside the root namespace, the DENY policy that carries its port exceptions (merged
// with a STRICT namespace or mesh mode); nullopt when the static policy says it all.
// `namespace_policy` and `root_policy` are the oldest namespace-wide policies, or null.
std::optional<istio::security::Authorization> convertPeerAuthentication(
    const config::Object& policy, const config::Object* namespace_policy,
    const config::Object* root_policy, const Options& options);

class PeerAuthentications {
 public:
  PeerAuthentications(const MeshObjects& objects, const Options& options);

  bool empty() const { return policies_.empty(); }

  // Every policy the node agent needs: the static STRICT policy (when any PeerAuthentication
  // exists) and each converted workload policy.
  std::vector<istio::security::Authorization> policies() const;

  // The policies ("namespace/name") a workload with these labels references.
  std::vector<std::string> keysFor(const std::string& namespace_, const Labels& labels) const;

 private:
  // The oldest PeerAuthentication without a selector in a namespace, or null.
  const config::Object* namespacePolicy(const std::string& namespace_) const;

  std::vector<const config::Object*> policies_;
  Options options_;
};

}  // namespace ambit::control::translate
