// What the CA asks the control plane's view of the cluster before it lets a node agent obtain a
// certificate on behalf of a pod.
#pragma once

#include <string>

namespace ambit::control::ca {

class IdentityDirectory {
 public:
  virtual ~IdentityDirectory() = default;
  // True when a pod scheduled on `node` runs as `spiffe_id` (its namespace and service account).
  // Called from gRPC threads concurrently: implementations must be thread-safe.
  virtual bool podOnNodeHasIdentity(const std::string& node,
                                    const std::string& spiffe_id) const = 0;
};

}  // namespace ambit::control::ca
