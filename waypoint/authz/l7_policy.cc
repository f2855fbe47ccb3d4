#include "waypoint/authz/l7_policy.h"

#include <absl/strings/str_cat.h>

namespace ambit::waypoint {
namespace {

namespace sec = istio::security::v1beta1;
using Reason = L7AuthorizationDecision::Reason;
using PolicyList = std::vector<std::shared_ptr<const CompiledL7Policy>>;

// Whether a policy's rules match: the first rule that does, else the first that might.
struct PolicyMatch {
  MatchResult result = MatchResult::kNo;
  int rule = -1;
  const std::string* unsupported = nullptr;
};

PolicyMatch evaluatePolicy(const CompiledL7Policy& policy, const L7RequestFacts& request) {
  PolicyMatch out;
  for (size_t i = 0; i < policy.rules.size(); ++i) {
    const RuleResult r = evaluateRule(policy.rules[i], request);
    if (r.result == MatchResult::kYes) return {MatchResult::kYes, static_cast<int>(i), nullptr};
    if (r.result == MatchResult::kUnknown && out.result == MatchResult::kNo) {
      out = {MatchResult::kUnknown, static_cast<int>(i), r.unsupported};
    }
  }
  return out;
}

L7AuthorizationDecision decision(Reason reason, const CompiledL7Policy* policy,
                                 const PolicyMatch& match) {
  L7AuthorizationDecision out;
  out.allowed = reason == Reason::kAllowedNoPolicy || reason == Reason::kAllowedByPolicy;
  out.reason = reason;
  if (policy != nullptr) out.policy = policy->name;
  out.rule = match.rule;
  if (match.unsupported != nullptr) out.unsupported = *match.unsupported;
  return out;
}

// CUSTOM, then DENY, then ALLOW; AUDIT is apart.
L7AuthorizationDecision enforce(const PolicyList& policies, const L7RequestFacts& request) {
  for (const auto& p : policies) {
    if (p->action != L7Action::kCustom) continue;
    if (PolicyMatch m = evaluatePolicy(*p, request); m.result != MatchResult::kNo) {
      return decision(Reason::kDeniedCustom, p.get(), m);
    }
  }
  for (const auto& p : policies) {
    if (p->action == L7Action::kUnknown) {
      return decision(Reason::kDeniedUnsupported, p.get(),
                      {MatchResult::kUnknown, -1, &p->unsupported});
    }
    if (p->action != L7Action::kDeny) continue;
    const PolicyMatch m = evaluatePolicy(*p, request);
    if (m.result == MatchResult::kYes) return decision(Reason::kDeniedByPolicy, p.get(), m);
    if (m.result == MatchResult::kUnknown) return decision(Reason::kDeniedUnsupported, p.get(), m);
  }
  bool any_allow = false;
  const CompiledL7Policy* blocked = nullptr;  // the first ALLOW policy that might have matched
  PolicyMatch blocked_match;
  for (const auto& p : policies) {
    if (p->action != L7Action::kAllow) continue;
    any_allow = true;
    const PolicyMatch m = evaluatePolicy(*p, request);
    if (m.result == MatchResult::kYes) return decision(Reason::kAllowedByPolicy, p.get(), m);
    if (m.result == MatchResult::kUnknown && blocked == nullptr) {
      blocked = p.get();
      blocked_match = m;
    }
  }
  if (!any_allow) return decision(Reason::kAllowedNoPolicy, nullptr, {});
  if (blocked != nullptr) return decision(Reason::kDeniedUnsupported, blocked, blocked_match);
  return decision(Reason::kDeniedNoAllowMatch, nullptr, {});
}

std::string where(const std::string& policy, int rule) {
  return rule < 0 ? policy : absl::StrCat(policy, " (rule ", rule, ")");
}

}  // namespace

absl::StatusOr<std::shared_ptr<const CompiledL7Policy>> compileL7Policy(
    std::string name, const sec::AuthorizationPolicy& spec) {
  auto out = std::make_shared<CompiledL7Policy>();
  out->name = std::move(name);
  const size_t slash = out->name.find('/');
  const std::string policy_namespace =
      slash == std::string::npos ? std::string() : out->name.substr(0, slash);
  switch (spec.action()) {
    case sec::AuthorizationPolicy::ALLOW:
      out->action = L7Action::kAllow;
      break;
    case sec::AuthorizationPolicy::DENY:
      out->action = L7Action::kDeny;
      break;
    case sec::AuthorizationPolicy::AUDIT:
      out->action = L7Action::kAudit;
      break;
    case sec::AuthorizationPolicy::CUSTOM:
      out->action = L7Action::kCustom;
      out->notes.push_back(absl::StrCat(
          out->name, ": action CUSTOM (provider \"", spec.provider().name(),
          "\") needs an external authorizer, which the waypoint has not; the requests it applies "
          "to are denied"));
      break;
    default:
      out->action = L7Action::kUnknown;
      out->unsupported = absl::StrCat("unknown action ", static_cast<int>(spec.action()));
      out->notes.push_back(
          absl::StrCat(out->name, ": ", out->unsupported, "; every request is denied"));
      break;
  }
  out->rules.reserve(static_cast<size_t>(spec.rules_size()));
  for (int i = 0; i < spec.rules_size(); ++i) {
    out->rules.push_back(compileRule(spec.rules(i), policy_namespace,
                                     absl::StrCat(out->name, ": rules[", i, "]"), out->notes));
  }
  return std::shared_ptr<const CompiledL7Policy>(std::move(out));
}

L7AuthorizationDecision authorizeRequest(const PolicyList& policies,
                                         const L7RequestAttributes& request) {
  if (policies.empty()) return {};
  const L7RequestFacts facts(request);
  L7AuthorizationDecision out = enforce(policies, facts);
  for (const auto& p : policies) {
    if (p->action != L7Action::kAudit) continue;
    if (evaluatePolicy(*p, facts).result != MatchResult::kNo) {
      out.audited = p->name;
      break;
    }
  }
  return out;
}

const char* l7ReasonLabel(Reason reason) {
  switch (reason) {
    case Reason::kAllowedNoPolicy:
      return "no_policy";
    case Reason::kAllowedByPolicy:
      return "allow_policy";
    case Reason::kDeniedByPolicy:
      return "deny_policy";
    case Reason::kDeniedUnsupported:
      return "deny_unsupported";
    case Reason::kDeniedNoAllowMatch:
      return "no_allow_match";
    case Reason::kDeniedCustom:
      return "custom_unsupported";
    case Reason::kCount:
      break;
  }
  return "unknown";
}

std::string L7AuthorizationDecision::describe() const {
  std::string out;
  switch (reason) {
    case Reason::kAllowedNoPolicy:
      out = "allowed: no DENY policy matches and no ALLOW policy applies";
      break;
    case Reason::kAllowedByPolicy:
      out = absl::StrCat("allowed by ", where(policy, rule));
      break;
    case Reason::kDeniedByPolicy:
      out = absl::StrCat("denied by ", where(policy, rule));
      break;
    case Reason::kDeniedUnsupported:
      out = absl::StrCat("denied: ", where(policy, rule),
                         " holds what the waypoint cannot evaluate (", unsupported,
                         "), which fails closed");
      break;
    case Reason::kDeniedNoAllowMatch:
      out = "denied: no ALLOW policy matches";
      break;
    case Reason::kDeniedCustom:
      out = absl::StrCat("denied by ", where(policy, rule),
                         ": CUSTOM needs an external authorizer, which the waypoint has not, so it "
                         "fails closed");
      break;
    case Reason::kCount:
      out = allowed ? "allowed" : "denied";
      break;
  }
  if (!audited.empty()) absl::StrAppend(&out, "; audited by ", audited);
  return out;
}

}  // namespace ambit::waypoint
