// Istio AuthorizationPolicy at the waypoint: policies compiled once per configuration change, and
// the L7 decision for one HTTP request over the policies that apply to its destination. A pure
// function, so every decision can be logged with its reason, counted by reason and tested alone.
// The node agent's L4 decision (agent/policy/authorize.h) is the model: same reasons, same
// fail-closed rules.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <absl/status/statusor.h>

#include "istio/security/v1beta1/authorization_policy.pb.h"
#include "waypoint/authz/l7_match.h"
#include "waypoint/authz/l7_request.h"

namespace ambit::waypoint {

enum class L7Action { kAllow, kDeny, kAudit, kCustom, kUnknown };

// Immutable once compiled; shared by every worker.
struct CompiledL7Policy {
  std::string name;  // "namespace/name"
  L7Action action = L7Action::kAllow;
  std::vector<CompiledRule> rules;
  // What makes the whole policy unenforceable (an unknown action); empty otherwise.
  std::string unsupported;
  // What the waypoint cannot evaluate in it, one line each, for the configuration log.
  std::vector<std::string> notes;
};

// Compiles `spec`, named "namespace/name" (the namespace is the one bare service account names
// refer to). A policy the waypoint cannot enforce in full is not an error: what it cannot
// evaluate fails closed at evaluation and is listed in `notes`. So the result is always a policy.
absl::StatusOr<std::shared_ptr<const CompiledL7Policy>> compileL7Policy(
    std::string name, const istio::security::v1beta1::AuthorizationPolicy& spec);

struct L7AuthorizationDecision {
  enum class Reason {
    kAllowedNoPolicy,     // no DENY policy matches and no ALLOW policy applies
    kAllowedByPolicy,     // an ALLOW policy matches (`policy`, `rule`)
    kDeniedByPolicy,      // a DENY policy matches (`policy`, `rule`)
    kDeniedUnsupported,   // what the waypoint cannot evaluate decided (`policy`, `unsupported`)
    kDeniedNoAllowMatch,  // ALLOW policies apply and none matches
    kDeniedCustom,        // a CUSTOM policy applies: no external authorizer, so it denies
    kCount,               // the number of reasons, not a reason
  };

  bool allowed = true;
  Reason reason = Reason::kAllowedNoPolicy;
  // "namespace/name" of the deciding policy; empty when no single policy decided.
  std::string policy;
  // Index in the policy's rules of the rule that decided; -1 when not applicable.
  int rule = -1;
  // For kDeniedUnsupported: what could not be evaluated.
  std::string unsupported;
  // The AUDIT policy that matches the request (or might: fail closed means more audit), empty
  // when none. Logged, never enforced.
  std::string audited;

  // One line for logs, e.g. "denied by default/deny-admin (rule 0)".
  std::string describe() const;
};

inline constexpr size_t kL7AuthorizationReasons =
    static_cast<size_t>(L7AuthorizationDecision::Reason::kCount);
// The reason as a metric label: "no_policy", "allow_policy", "deny_policy", "deny_unsupported",
// "no_allow_match", "custom_unsupported".
const char* l7ReasonLabel(L7AuthorizationDecision::Reason reason);

// Decides `request` against `policies`, the ones that apply to its destination, as Istio does.
// CUSTOM policies first: one whose rules match denies (there is no external authorizer to ask).
// Then DENY: the first in the given order that matches denies. Then ALLOW: when any applies, one
// must match (a policy without rules matches nothing, so `spec: {}` denies all). AUDIT policies
// never change the decision; the first that matches is named in `audited`.
// A policy matches when any rule does. What the waypoint cannot evaluate fails closed: in a CUSTOM
// or DENY policy it counts as matching, in an ALLOW policy as not matching (and when nothing else
// matches, the decision says so); a policy with an unknown action denies.
L7AuthorizationDecision authorizeRequest(
    const std::vector<std::shared_ptr<const CompiledL7Policy>>& policies,
    const L7RequestAttributes& request);

}  // namespace ambit::waypoint
