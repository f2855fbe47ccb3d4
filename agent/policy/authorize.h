// The L4 authorization decision for a connection into a workload: Istio's AuthorizationPolicy
// semantics, as ztunnel applies the istio.security.Authorization resources istiod sends, over the
// policies that apply to the destination. A pure function, so every decision can be logged with
// its reason, counted by reason and tested on its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/state/snapshot.h"

namespace ambit::agent {

// What the policies can see of a connection.
struct ConnectionAttributes {
  // The peer's identity in Istio's principal form "<trust-domain>/ns/<namespace>/sa/<account>"
  // (no "spiffe://"); absent for plaintext.
  std::optional<std::string> source_principal;
  // The namespace and service account of that identity; empty without one.
  std::string source_namespace;
  std::string source_service_account;
  IpBytes source_ip;       // 4 or 16 raw bytes, as the protos carry addresses
  IpBytes destination_ip;  // likewise
  uint16_t destination_port = 0;
};

struct AuthorizationDecision {
  enum class Reason {
    kAllowedNoPolicy,         // no enforced policy applies
    kAllowedNoAllowPolicy,    // DENY policies apply, none matches, and no ALLOW policy applies
    kAllowedByPolicy,         // an ALLOW policy matches (`policy`, `group`)
    kDeniedByPolicy,          // a DENY policy matches (`policy`, `group`)
    kDeniedUnsupported,       // a DENY policy holds what this agent cannot evaluate: fail closed
    kDeniedNoAllowMatch,      // ALLOW policies apply and none matches
    kDeniedAllowUnsupported,  // no ALLOW policy matches, but `policy` might have had this agent
                              // been able to evaluate all of it: fail closed
    kCount,                   // the number of reasons, not a reason
  };

  bool allowed = true;
  Reason reason = Reason::kAllowedNoPolicy;
  // "namespace/name" of the deciding policy; empty when no single policy decided.
  std::string policy;
  // Index in the policy's `groups` of the group that matched (one Istio rule each), and in that
  // group's `rules` of the first clause that matched only through what this agent cannot
  // evaluate; -1 when not applicable.
  int group = -1;
  int rule = -1;
  // For the kDenied*Unsupported reasons: what could not be evaluated.
  std::string unsupported;
  // For kDeniedNoAllowMatch: the ALLOW policies that apply, none of which matches.
  std::vector<std::string> unmatched_allow;

  // Dry-run policies never change `allowed`. When some apply, the reason the connection would
  // get were they enforced too, and the policy that would decide it.
  std::optional<Reason> dry_run_reason;
  std::string dry_run_policy;

  // Enforcing the dry-run policies would deny this allowed connection.
  bool dryRunWouldDeny() const;
  // Enforcing the dry-run policies would allow this denied connection.
  bool dryRunWouldAllow() const;

  // One line for logs, e.g. "denied by default/deny-db (group 0)".
  std::string describe() const;
};

inline constexpr size_t kAuthorizationReasons =
    static_cast<size_t>(AuthorizationDecision::Reason::kCount);
// The reason as a metric label: "no_policy", "allow_policy", "deny_policy", ...
const char* authorizationReasonLabel(AuthorizationDecision::Reason reason);
bool isAllowedReason(AuthorizationDecision::Reason reason);

// Decides `connection` against the policies that apply to its destination workload (as
// Snapshot::policiesFor gives them). Any matching DENY policy denies, the first in the given order
// naming the reason; otherwise the connection is allowed when no ALLOW policy applies or when one
// matches. A policy matches when any of its groups matches (a policy without groups matches
// nothing); a group when all of its rules match (a group without rules matches everything); a rule
// when any of its matches matches (a rule without matches matches everything; an empty match
// matches nothing); a match when each field it sets matches: values of one field OR-ed, a not_
// field when none of its values match. What this agent cannot evaluate fails closed: extensions,
// malformed addresses and string matches without a type count as matching in a DENY policy and
// as not matching in an ALLOW policy; a policy with an unknown action denies like a DENY policy
// that cannot be evaluated.
AuthorizationDecision authorize(const std::vector<Snapshot::PolicyPtr>& policies,
                                const ConnectionAttributes& connection);

}  // namespace ambit::agent
