// The waypoint's L7 security config: the AuthorizationPolicies and RequestAuthentications the
// control plane sends this waypoint (it selected them by targetRefs), compiled once per change and
// grouped by the served service they apply to, as istiod attaches them to a waypoint: a policy
// naming a Service applies to requests to that service; one naming the waypoint's Gateway or its
// GatewayClass applies to every request through the waypoint.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "istio/security/v1beta1/authorization_policy.pb.h"
#include "waypoint/authz/l7_policy.h"
#include "waypoint/authz/path_normalization.h"
#include "waypoint/jwt/request_authn.h"

namespace ambit::waypoint {

struct AuthorizationPolicyEntry {
  std::string namespace_;
  std::string name;
  istio::security::v1beta1::AuthorizationPolicy spec;
};

// What applies to the requests to one service.
struct ServiceSecurity {
  std::vector<std::shared_ptr<const CompiledL7Policy>> policies;  // in name order
  std::shared_ptr<const CompiledRequestAuthn> authn;              // null: no RequestAuthentication
};

// A service the waypoint serves, as the policies name it.
struct SecurityTarget {
  std::string namespace_;
  std::string name;
  std::string hostname;  // the FQDN requests name it by
};

class SecurityConfig {
 public:
  // Compiles `policies` and `authns` for `services`. Notes worth a log line go to `notes`.
  static std::shared_ptr<const SecurityConfig> build(
      const std::vector<AuthorizationPolicyEntry>& policies,
      const std::vector<RequestAuthnEntry>& authns, const std::vector<SecurityTarget>& services,
      PathNormalization normalization, std::vector<std::string>& notes);

  // What applies to the service with this hostname; an empty set for one not served.
  const ServiceSecurity& forHost(std::string_view hostname) const;
  PathNormalization normalization() const { return normalization_; }
  // Every jwksUri some rule needs.
  const std::set<std::string>& jwksUris() const { return jwks_uris_; }
  size_t policyCount() const { return policy_count_; }
  size_t authnCount() const { return authn_count_; }

 private:
  std::map<std::string, ServiceSecurity, std::less<>> by_host_;
  PathNormalization normalization_ = PathNormalization::kBase;
  std::set<std::string> jwks_uris_;
  size_t policy_count_ = 0;
  size_t authn_count_ = 0;
};

// Whether a policy of `policy_namespace` with these targetRefs applies to `service`: it names the
// Service (or ServiceEntry) in its own namespace, or names a Gateway or GatewayClass (the control
// plane sends a waypoint only the policies naming its own).
bool policyAppliesTo(
    const google::protobuf::RepeatedPtrField<istio::type::v1beta1::PolicyTargetReference>& refs,
    const std::string& policy_namespace, const SecurityTarget& service);

}  // namespace ambit::waypoint
