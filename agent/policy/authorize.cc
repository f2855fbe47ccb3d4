#include "agent/policy/authorize.h"

#include <algorithm>

#include <absl/strings/match.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_join.h>

namespace ambit::agent {
namespace {

namespace sec = istio::security;
using Reason = AuthorizationDecision::Reason;

std::string policyName(const sec::Authorization& policy) {
  return absl::StrCat(policy.namespace_(), "/", policy.name());
}

// Whether `value` satisfies `match`; false for a match without a type, which is refused as
// malformed before it gets here.
bool stringMatches(const sec::StringMatch& match, const std::string& value) {
  switch (match.match_type_case()) {
    case sec::StringMatch::kExact:
      return value == match.exact();
    case sec::StringMatch::kPrefix:
      return absl::StartsWith(value, match.prefix());
    case sec::StringMatch::kSuffix:
      return absl::EndsWith(value, match.suffix());
    case sec::StringMatch::kPresence:
      return !value.empty();
    case sec::StringMatch::MATCH_TYPE_NOT_SET:
      break;
  }
  return false;
}

bool validAddress(const sec::Address& address) {
  const size_t size = address.address().size();
  return (size == 4 || size == 16) && address.length() <= size * 8;
}

// Whether `ip` lies in the range; the range's address is compared only on its prefix, as istiod
// sends it unmasked. Addresses of the other family never match.
bool inRange(const sec::Address& range, const IpBytes& ip) {
  const std::string& base = range.address();
  if (ip.size() != base.size()) return false;
  const uint32_t full_bytes = range.length() / 8;
  if (ip.compare(0, full_bytes, base, 0, full_bytes) != 0) return false;
  const uint32_t rest = range.length() % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (static_cast<uint8_t>(ip[full_bytes]) & mask) ==
         (static_cast<uint8_t>(base[full_bytes]) & mask);
}

// A field of a Match: when `positive` is set some value must satisfy `pred`; no value of
// `negative` may.
template <typename List, typename Pred>
bool fieldMatches(const List& positive, const List& negative, Pred pred) {
  if (!positive.empty() && std::none_of(positive.begin(), positive.end(), pred)) return false;
  return std::none_of(negative.begin(), negative.end(), pred);
}

bool isEmpty(const sec::Match& m) {
  return m.namespaces().empty() && m.not_namespaces().empty() && m.service_accounts().empty() &&
         m.not_service_accounts().empty() && m.principals().empty() && m.not_principals().empty() &&
         m.source_ips().empty() && m.not_source_ips().empty() && m.destination_ips().empty() &&
         m.not_destination_ips().empty() && m.destination_ports().empty() &&
         m.not_destination_ports().empty() && m.extensions().empty();
}

// What in `match` this agent cannot evaluate; empty when it can evaluate all of it.
std::string unsupportedIn(const sec::Match& m) {
  if (!m.extensions().empty()) return absl::StrCat("extension \"", m.extensions(0).name(), "\"");
  const std::pair<const char*, const google::protobuf::RepeatedPtrField<sec::Address>*> ips[] = {
      {"source_ips", &m.source_ips()},
      {"not_source_ips", &m.not_source_ips()},
      {"destination_ips", &m.destination_ips()},
      {"not_destination_ips", &m.not_destination_ips()},
  };
  for (const auto& [field, list] : ips) {
    for (const sec::Address& a : *list) {
      if (!validAddress(a)) {
        return absl::StrCat("malformed address in ", field, " (", a.address().size(),
                            " bytes, length ", a.length(), ")");
      }
    }
  }
  const std::pair<const char*, const google::protobuf::RepeatedPtrField<sec::StringMatch>*>
      strings[] = {
          {"namespaces", &m.namespaces()},
          {"not_namespaces", &m.not_namespaces()},
          {"principals", &m.principals()},
          {"not_principals", &m.not_principals()},
      };
  for (const auto& [field, list] : strings) {
    for (const sec::StringMatch& s : *list) {
      if (s.match_type_case() == sec::StringMatch::MATCH_TYPE_NOT_SET) {
        return absl::StrCat("string match without a type in ", field);
      }
    }
  }
  return "";
}

bool matchMatches(const sec::Match& m, const ConnectionAttributes& c) {
  const bool has_identity = c.source_principal.has_value();
  auto ip_in = [](const IpBytes& ip) {
    return [&ip](const sec::Address& range) { return inRange(range, ip); };
  };
  auto port_is = [&c](uint32_t port) { return port == c.destination_port; };
  // ztunnel compares namespaces with the identity's namespace, the empty string without one.
  auto namespace_is = [&c](const sec::StringMatch& s) {
    return stringMatches(s, c.source_namespace);
  };
  auto principal_is = [&](const sec::StringMatch& s) {
    return has_identity && stringMatches(s, *c.source_principal);
  };
  auto account_is = [&](const sec::ServiceAccountMatch& s) {
    return has_identity && s.namespace_() == c.source_namespace &&
           s.serviceaccount() == c.source_service_account;
  };
  return fieldMatches(m.destination_ips(), m.not_destination_ips(), ip_in(c.destination_ip)) &&
         fieldMatches(m.source_ips(), m.not_source_ips(), ip_in(c.source_ip)) &&
         fieldMatches(m.destination_ports(), m.not_destination_ports(), port_is) &&
         fieldMatches(m.service_accounts(), m.not_service_accounts(), account_is) &&
         fieldMatches(m.principals(), m.not_principals(), principal_is) &&
         fieldMatches(m.namespaces(), m.not_namespaces(), namespace_is);
}

// The first group of a policy that matches, with matches this agent cannot evaluate taken as
// `assume_unsupported`.
struct GroupsResult {
  bool matched = false;
  int group = -1;
  int rule = -1;            // the first rule of `group` satisfied only by an assumed match
  std::string unsupported;  // what that assumed match holds
  bool saw_unsupported = false;
};

GroupsResult evaluateGroups(const sec::Authorization& policy, const ConnectionAttributes& c,
                            bool assume_unsupported) {
  GroupsResult out;
  for (int g = 0; g < policy.groups_size(); ++g) {
    const sec::Group& group = policy.groups(g);
    bool all = true;
    int assumed_rule = -1;
    std::string assumed_what;
    for (int r = 0; r < group.rules_size() && all; ++r) {
      const sec::Rules& clause = group.rules(r);
      if (clause.matches().empty()) continue;  // ztunnel: a rule without matches matches
      bool any = false;
      std::string unsupported;
      for (const sec::Match& m : clause.matches()) {
        if (isEmpty(m)) continue;  // what istiod puts in place of HTTP-only parts: no match
        if (std::string what = unsupportedIn(m); !what.empty()) {
          out.saw_unsupported = true;
          if (unsupported.empty()) unsupported = std::move(what);
          continue;
        }
        if (matchMatches(m, c)) {
          any = true;
          break;
        }
      }
      if (!any && assume_unsupported && !unsupported.empty()) {
        any = true;
        if (assumed_rule < 0) {
          assumed_rule = r;
          assumed_what = std::move(unsupported);
        }
      }
      all = any;
    }
    if (all) {
      out.matched = true;
      out.group = g;
      out.rule = assumed_rule;
      out.unsupported = std::move(assumed_what);
      return out;
    }
  }
  return out;
}

struct PolicyResult {
  bool matched = false;
  // Set when what this agent cannot evaluate decided the result: for a DENY policy, it matched
  // only through it; for an ALLOW policy, it might have matched.
  bool fail_closed = false;
  int group = -1;
  int rule = -1;
  std::string unsupported;
};

PolicyResult evaluatePolicy(const sec::Authorization& policy, const ConnectionAttributes& c) {
  PolicyResult out;
  const bool allow = policy.action() == sec::ALLOW;
  if (!allow && policy.action() != sec::DENY) {
    out.matched = true;
    out.fail_closed = true;
    out.unsupported = absl::StrCat("unknown action ", static_cast<int>(policy.action()));
    return out;
  }
  if (!policy.extensions().empty()) {
    out.matched = !allow;
    out.fail_closed = true;
    out.unsupported = absl::StrCat("extension \"", policy.extensions(0).name(), "\" on the policy");
    return out;
  }
  // The fail-closed reading first: assumed matches count for a DENY policy, not for an ALLOW.
  GroupsResult first = evaluateGroups(policy, c, /*assume_unsupported=*/!allow);
  if (!first.saw_unsupported) {
    out.matched = first.matched;
    out.group = first.group;
    return out;
  }
  // The other reading tells whether what could not be evaluated decided the result.
  GroupsResult other = evaluateGroups(policy, c, /*assume_unsupported=*/allow);
  if (first.matched == other.matched) {
    const GroupsResult& evaluated = allow ? first : other;
    out.matched = evaluated.matched;
    out.group = evaluated.group;
    return out;
  }
  const GroupsResult& assumed = allow ? other : first;
  out.matched = !allow;
  out.fail_closed = true;
  out.group = assumed.group;
  out.rule = assumed.rule;
  out.unsupported = assumed.unsupported;
  return out;
}

AuthorizationDecision decide(const std::vector<Snapshot::PolicyPtr>& policies,
                             const ConnectionAttributes& c, bool enforce_dry_run) {
  AuthorizationDecision out;
  auto applies = [&](const sec::Authorization& p) { return enforce_dry_run || !p.dry_run(); };
  auto from = [&out](Reason reason, const sec::Authorization* policy, const PolicyResult& r) {
    out.allowed = isAllowedReason(reason);
    out.reason = reason;
    if (policy != nullptr) out.policy = policyName(*policy);
    out.group = r.group;
    out.rule = r.rule;
    out.unsupported = r.unsupported;
    return out;
  };
  bool any_deny = false;
  bool any_allow = false;
  for (const Snapshot::PolicyPtr& p : policies) {
    if (!applies(*p)) continue;
    if (p->action() == sec::ALLOW) {
      any_allow = true;
      continue;
    }
    any_deny = true;
    if (PolicyResult r = evaluatePolicy(*p, c); r.matched) {
      return from(r.fail_closed ? Reason::kDeniedUnsupported : Reason::kDeniedByPolicy, p.get(), r);
    }
  }
  if (!any_allow) {
    return from(any_deny ? Reason::kAllowedNoAllowPolicy : Reason::kAllowedNoPolicy, nullptr, {});
  }
  const sec::Authorization* blocked = nullptr;
  PolicyResult blocked_result;
  std::vector<std::string> unmatched;
  for (const Snapshot::PolicyPtr& p : policies) {
    if (!applies(*p) || p->action() != sec::ALLOW) continue;
    PolicyResult r = evaluatePolicy(*p, c);
    if (r.matched) return from(Reason::kAllowedByPolicy, p.get(), r);
    unmatched.push_back(policyName(*p));
    if (r.fail_closed && blocked == nullptr) {
      blocked = p.get();
      blocked_result = std::move(r);
    }
  }
  if (blocked != nullptr) return from(Reason::kDeniedAllowUnsupported, blocked, blocked_result);
  from(Reason::kDeniedNoAllowMatch, nullptr, {});
  out.unmatched_allow = std::move(unmatched);
  return out;
}

std::string where(const std::string& policy, int group, int rule) {
  std::string out = policy;
  if (group >= 0) absl::StrAppend(&out, " (group ", group);
  if (group >= 0 && rule >= 0) absl::StrAppend(&out, " rule ", rule);
  if (group >= 0) absl::StrAppend(&out, ")");
  return out;
}

}  // namespace

const char* authorizationReasonLabel(Reason reason) {
  switch (reason) {
    case Reason::kAllowedNoPolicy:
      return "no_policy";
    case Reason::kAllowedNoAllowPolicy:
      return "no_allow_policy";
    case Reason::kAllowedByPolicy:
      return "allow_policy";
    case Reason::kDeniedByPolicy:
      return "deny_policy";
    case Reason::kDeniedUnsupported:
      return "deny_unsupported";
    case Reason::kDeniedNoAllowMatch:
      return "no_allow_match";
    case Reason::kDeniedAllowUnsupported:
      return "allow_unsupported";
    case Reason::kCount:
      break;
  }
  return "unknown";
}

bool isAllowedReason(Reason reason) {
  return reason == Reason::kAllowedNoPolicy || reason == Reason::kAllowedNoAllowPolicy ||
         reason == Reason::kAllowedByPolicy;
}

bool AuthorizationDecision::dryRunWouldDeny() const {
  return allowed && dry_run_reason.has_value() && !isAllowedReason(*dry_run_reason);
}

bool AuthorizationDecision::dryRunWouldAllow() const {
  return !allowed && dry_run_reason.has_value() && isAllowedReason(*dry_run_reason);
}

std::string AuthorizationDecision::describe() const {
  std::string out;
  switch (reason) {
    case Reason::kAllowedNoPolicy:
      out = "allowed: no policy applies";
      break;
    case Reason::kAllowedNoAllowPolicy:
      out = "allowed: no DENY policy matches and no ALLOW policy applies";
      break;
    case Reason::kAllowedByPolicy:
      out = absl::StrCat("allowed by ", where(policy, group, rule));
      break;
    case Reason::kDeniedByPolicy:
      out = absl::StrCat("denied by ", where(policy, group, rule));
      break;
    case Reason::kDeniedUnsupported:
      out = absl::StrCat("denied by ", where(policy, group, rule),
                         ": it holds what this agent cannot evaluate (", unsupported,
                         "), which fails closed");
      break;
    case Reason::kDeniedNoAllowMatch:
      out = "denied: no ALLOW policy matches";
      if (!unmatched_allow.empty()) {
        absl::StrAppend(&out, " (", absl::StrJoin(unmatched_allow, ", "), ")");
      }
      break;
    case Reason::kDeniedAllowUnsupported:
      out = absl::StrCat("denied: no ALLOW policy matches; ", where(policy, group, rule),
                         " might but holds what this agent cannot evaluate (", unsupported,
                         "), which fails closed");
      break;
    case Reason::kCount:
      out = allowed ? "allowed" : "denied";
      break;
  }
  if (dryRunWouldDeny() || dryRunWouldAllow()) {
    absl::StrAppend(&out, "; dry run: would be ", dryRunWouldDeny() ? "denied" : "allowed", " (",
                    authorizationReasonLabel(*dry_run_reason));
    if (!dry_run_policy.empty()) absl::StrAppend(&out, " ", dry_run_policy);
    absl::StrAppend(&out, ")");
  }
  return out;
}

AuthorizationDecision authorize(const std::vector<Snapshot::PolicyPtr>& policies,
                                const ConnectionAttributes& connection) {
  AuthorizationDecision out = decide(policies, connection, /*enforce_dry_run=*/false);
  const bool any_dry_run = std::any_of(policies.begin(), policies.end(),
                                       [](const Snapshot::PolicyPtr& p) { return p->dry_run(); });
  if (any_dry_run) {
    AuthorizationDecision shadow = decide(policies, connection, /*enforce_dry_run=*/true);
    out.dry_run_reason = shadow.reason;
    out.dry_run_policy = std::move(shadow.policy);
  }
  return out;
}

}  // namespace ambit::agent
