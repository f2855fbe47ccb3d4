#include "waypoint/config/security_config.h"

#include <absl/strings/str_cat.h>

#include <algorithm>
#include <map>

namespace ambit::waypoint {
namespace {

using Refs = google::protobuf::RepeatedPtrField<istio::type::v1beta1::PolicyTargetReference>;

// targetRefs, or the deprecated single targetRef.
template <class Spec>
Refs targetRefsOf(const Spec& spec) {
  Refs refs = spec.targetrefs();
  if (refs.empty() && spec.has_targetref()) *refs.Add() = spec.targetref();
  return refs;
}

}  // namespace

bool policyAppliesTo(const Refs& refs, const std::string& policy_namespace,
                     const SecurityTarget& service) {
  for (const auto& ref : refs) {
    if (ref.kind() == "Gateway" || ref.kind() == "GatewayClass") return true;
    const bool core = ref.group().empty() || ref.group() == "core";
    const bool names_service =
        (core && ref.kind() == "Service") ||
        (ref.group() == "networking.istio.io" && ref.kind() == "ServiceEntry");
    if (names_service && ref.name() == service.name && policy_namespace == service.namespace_ &&
        (ref.namespace_().empty() || ref.namespace_() == policy_namespace)) {
      return true;
    }
  }
  return false;
}

std::shared_ptr<const SecurityConfig> SecurityConfig::build(
    const std::vector<AuthorizationPolicyEntry>& policies,
    const std::vector<RequestAuthnEntry>& authns, const std::vector<SecurityTarget>& services,
    PathNormalization normalization, std::vector<std::string>& notes) {
  auto out = std::make_shared<SecurityConfig>();
  out->normalization_ = normalization;
  out->policy_count_ = policies.size();
  out->authn_count_ = authns.size();
  std::vector<std::shared_ptr<const CompiledL7Policy>> compiled;
  compiled.reserve(policies.size());
  for (const AuthorizationPolicyEntry& entry : policies) {
    absl::StatusOr<std::shared_ptr<const CompiledL7Policy>> policy =
        compileL7Policy(absl::StrCat(entry.namespace_, "/", entry.name), entry.spec);
    if (!policy.ok()) {
      // compileL7Policy always gives a policy; should that change, an unusable one must still
      // deny rather than vanish.
      notes.push_back(absl::StrCat("AuthorizationPolicy ", entry.namespace_, "/", entry.name, ": ",
                                   policy.status().message()));
      auto deny = std::make_shared<CompiledL7Policy>();
      deny->name = absl::StrCat(entry.namespace_, "/", entry.name);
      deny->action = L7Action::kUnknown;
      deny->unsupported = std::string(policy.status().message());
      compiled.push_back(std::move(deny));
      continue;
    }
    for (const std::string& note : (*policy)->notes) {
      notes.push_back(absl::StrCat("AuthorizationPolicy ", (*policy)->name, ": ", note));
    }
    compiled.push_back(std::move(*policy));
  }
  // Requests name a service by hostname, and services of several namespaces may share one
  // (ServiceEntries): what applies to any of them applies to the hostname, so no policy is lost.
  std::map<std::string, std::vector<const SecurityTarget*>> by_hostname;
  for (const SecurityTarget& service : services) by_hostname[service.hostname].push_back(&service);
  for (const auto& [hostname, targets] : by_hostname) {
    const std::vector<const SecurityTarget*>& group = targets;  // a binding cannot be captured
    auto applies = [&group](const auto& refs, const std::string& policy_namespace) {
      return std::any_of(group.begin(), group.end(), [&](const SecurityTarget* target) {
        return policyAppliesTo(refs, policy_namespace, *target);
      });
    };
    ServiceSecurity security;
    for (size_t i = 0; i < policies.size(); ++i) {
      if (applies(targetRefsOf(policies[i].spec), policies[i].namespace_)) {
        security.policies.push_back(compiled[i]);
      }
    }
    std::vector<RequestAuthnEntry> applying;
    for (const RequestAuthnEntry& entry : authns) {
      if (applies(targetRefsOf(entry.spec), entry.namespace_)) applying.push_back(entry);
    }
    if (!applying.empty()) {
      security.authn = CompiledRequestAuthn::compile(applying);
      for (const std::string& note : security.authn->notes()) {
        notes.push_back(absl::StrCat("RequestAuthentication for ", hostname, ": ", note));
      }
      out->jwks_uris_.insert(security.authn->jwksUris().begin(), security.authn->jwksUris().end());
    }
    if (!security.policies.empty() || security.authn != nullptr) {
      out->by_host_.emplace(hostname, std::move(security));
    }
  }
  return out;
}

const ServiceSecurity& SecurityConfig::forHost(std::string_view hostname) const {
  static const ServiceSecurity kNone;
  auto it = by_host_.find(hostname);
  return it != by_host_.end() ? it->second : kNone;
}

}  // namespace ambit::waypoint
