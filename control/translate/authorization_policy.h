// AuthorizationPolicy to the node agent's L4 Authorization, following istiod's
// convertAuthorizationPolicy: what L4 can enforce is kept; HTTP attributes fail closed for ALLOW
// (the rule is dropped) and are left out of DENY rules.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <google/protobuf/repeated_field.h>

#include "control/translate/options.h"
#include "core/config/object.h"
#include "istio/security/authorization.pb.h"

namespace ambit::control::translate {

using Strings = google::protobuf::RepeatedPtrField<std::string>;

// How a policy's HTTP attributes were handled (none, or one of istiod's three cases).
enum class L7Handling {
  kNone,               // only L4 attributes: converted as written
  kAllowRulesDropped,  // ALLOW: rules with HTTP attributes dropped, so they allow nothing
  kDenyWithoutHttp,    // DENY: enforced without its HTTP attributes, which broadens it
  kDenyNoEffect,       // DENY: nothing enforceable is left at L4, so it has no effect
};

const char* l7HandlingName(L7Handling handling);

struct ConvertedPolicy {
  // The policy for the node agent; nullopt when the policy is not the node agent's (targetRefs
  // bind it to a waypoint) or cannot be enforced at all (CUSTOM or AUDIT action, dry run).
  std::optional<istio::security::Authorization> authorization;
  L7Handling l7 = L7Handling::kNone;
  std::vector<std::string> l7_attributes;  // sorted: "methods", "paths", "request.headers[x]"
  // istiod's status: reason ("UnsupportedValue") and message, empty when converted as written.
  std::string reason;
  std::string message;
};

// Converts one AuthorizationPolicy object; scope is GLOBAL in the root namespace, NAMESPACE
// without a selector and WORKLOAD_SELECTOR with one.
ConvertedPolicy convertAuthorizationPolicy(const config::Object& policy, const Options& options);

// Istio's string forms: "*" presence, "*x" suffix x, "x*" prefix x, else exact (principals such
// as "cluster.local/ns/a/sa/b" compare with the peer's identity without "spiffe://").
istio::security::StringMatch stringMatch(const std::string& value);

// "sa" (in `policy_namespace`) or "ns/sa".
istio::security::ServiceAccountMatch serviceAccountMatch(const std::string& value,
                                                         const std::string& policy_namespace);

// The L4 attribute keys of `when` conditions; every other key needs a waypoint.
bool isL4ConditionKey(const std::string& key);

}  // namespace ambit::control::translate
