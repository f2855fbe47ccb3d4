// The L4 policies of a set: AuthorizationPolicies converted for the node agent, the
// PeerAuthentication-derived DENY policies, and which of them each workload references.
#pragma once

#include <string>
#include <vector>

#include "control/translate/authorization_policy.h"
#include "control/translate/mesh_objects.h"
#include "control/translate/note.h"
#include "control/translate/options.h"
#include "control/translate/peer_authentication.h"
#include "istio/security/authorization.pb.h"

namespace ambit::control::translate {

class PolicyIndex {
 public:
  // Converts every policy once; what istiod reports in a policy's status becomes a note.
  PolicyIndex(const MeshObjects& objects, const Options& options, std::vector<Note>& notes);

  // Every Authorization for the node agents, in input order.
  const std::vector<istio::security::Authorization>& authorizations() const {
    return authorizations_;
  }

  // What a workload lists in authorization_policies: the WORKLOAD_SELECTOR AuthorizationPolicies
  // of its namespace or the root namespace whose selector matches its labels (sorted
  // "namespace/name"), then the PeerAuthentication-derived policies it is under.
  std::vector<std::string> keysFor(const std::string& namespace_, const Labels& labels) const;

 private:
  struct Selecting {
    std::string key;  // "namespace/name"
    std::string namespace_;
    Labels selector;
  };

  std::vector<istio::security::Authorization> authorizations_;
  std::vector<Selecting> selecting_;
  PeerAuthentications peer_authentications_;
  Options options_;
};

}  // namespace ambit::control::translate
