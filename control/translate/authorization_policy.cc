#include "control/translate/authorization_policy.h"

#include <set>

#include <absl/strings/match.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_join.h>

#include "control/translate/ip.h"
#include "control/translate/mesh_objects.h"
#include "core/port_number.h"
#include "istio/security/v1beta1/authorization_policy.pb.h"

namespace ambit::control::translate {
namespace {

namespace sec = istio::security;
namespace api = istio::security::v1beta1;

void addStringMatches(const Strings& values,
                      google::protobuf::RepeatedPtrField<sec::StringMatch>* out) {
  for (const std::string& v : values) *out->Add() = stringMatch(v);
}

void addPorts(const Strings& values, google::protobuf::RepeatedField<uint32_t>* out) {
  for (const std::string& v : values) {
    if (std::optional<uint16_t> port = parsePortNumber(v)) out->Add(*port);
  }
}

void addIps(const Strings& values, google::protobuf::RepeatedPtrField<sec::Address>* out) {
  for (const std::string& v : values) {
    std::optional<IpPrefix> prefix = parseIpOrPrefix(v);
    if (!prefix) continue;  // istiod skips what does not parse
    sec::Address* a = out->Add();
    a->set_address(prefix->address);
    a->set_length(prefix->length);
  }
}

void addServiceAccounts(const Strings& values, const std::string& ns,
                        google::protobuf::RepeatedPtrField<sec::ServiceAccountMatch>* out) {
  for (const std::string& v : values) *out->Add() = serviceAccountMatch(v, ns);
}

// Condition values of one L4 key; the rest of the Match stays empty.
sec::Match conditionMatch(const api::Condition& when) {
  sec::Match m;
  const std::string& key = when.key();
  if (key == "source.namespace") {
    addStringMatches(when.values(), m.mutable_namespaces());
    addStringMatches(when.not_values(), m.mutable_not_namespaces());
  } else if (key == "source.principal") {
    addStringMatches(when.values(), m.mutable_principals());
    addStringMatches(when.not_values(), m.mutable_not_principals());
  } else if (key == "source.ip") {
    addIps(when.values(), m.mutable_source_ips());
    addIps(when.not_values(), m.mutable_not_source_ips());
  } else if (key == "destination.port") {
    addPorts(when.values(), m.mutable_destination_ports());
    addPorts(when.not_values(), m.mutable_not_destination_ports());
  } else if (key == "destination.ip") {
    addIps(when.values(), m.mutable_destination_ips());
    addIps(when.not_values(), m.mutable_not_destination_ips());
  }
  return m;
}

// istiod's handleRule: one Group's rules (to, from, then each when), or nullopt when an ALLOW
// rule uses HTTP attributes and must never match.
std::optional<std::vector<sec::Rules>> convertRule(sec::Action action, const api::Rule& rule,
                                                   const std::string& ns,
                                                   std::set<std::string>& l7) {
  bool found_l7 = false;
  auto flag = [&](bool present, const char* name) {
    if (!present) return;
    found_l7 = true;
    l7.insert(name);
  };
  std::vector<sec::Rules> rules;
  sec::Rules to;
  for (const api::Rule::To& t : rule.to()) {
    const api::Operation& op = t.operation();
    flag(!op.hosts().empty(), "hosts");
    flag(!op.not_hosts().empty(), "notHosts");
    flag(!op.methods().empty(), "methods");
    flag(!op.not_methods().empty(), "notMethods");
    flag(!op.paths().empty(), "paths");
    flag(!op.not_paths().empty(), "notPaths");
    sec::Match* m = to.add_matches();
    addPorts(op.ports(), m->mutable_destination_ports());
    addPorts(op.not_ports(), m->mutable_not_destination_ports());
  }
  sec::Rules from;
  for (const api::Rule::From& f : rule.from()) {
    const api::Source& src = f.source();
    flag(!src.remote_ip_blocks().empty(), "remoteIpBlocks");
    flag(!src.not_remote_ip_blocks().empty(), "notRemoteIpBlocks");
    flag(!src.request_principals().empty(), "requestPrincipals");
    flag(!src.not_request_principals().empty(), "notRequestPrincipals");
    sec::Match* m = from.add_matches();
    addIps(src.ip_blocks(), m->mutable_source_ips());
    addIps(src.not_ip_blocks(), m->mutable_not_source_ips());
    addStringMatches(src.namespaces(), m->mutable_namespaces());
    addStringMatches(src.not_namespaces(), m->mutable_not_namespaces());
    addServiceAccounts(src.service_accounts(), ns, m->mutable_service_accounts());
    addServiceAccounts(src.not_service_accounts(), ns, m->mutable_not_service_accounts());
    addStringMatches(src.principals(), m->mutable_principals());
    addStringMatches(src.not_principals(), m->mutable_not_principals());
  }
  if (to.matches_size() > 0) rules.push_back(std::move(to));
  if (from.matches_size() > 0) rules.push_back(std::move(from));
  for (const api::Condition& when : rule.when()) {
    if (!isL4ConditionKey(when.key())) {
      found_l7 = true;
      l7.insert(when.key());
    }
    sec::Rules clause;
    *clause.add_matches() = conditionMatch(when);
    rules.push_back(std::move(clause));
  }
  if (action == sec::ALLOW && found_l7) return std::nullopt;
  return rules;
}

// True when some group can match at the node agent, which skips empty matches (they match
// nothing) but takes a group without rules as matching everything.
bool hasEffectiveRules(const sec::Authorization& policy) {
  for (const sec::Group& group : policy.groups()) {
    bool effective = true;
    for (const sec::Rules& clause : group.rules()) {
      bool non_empty = false;
      for (const sec::Match& m : clause.matches()) {
        if (m.ByteSizeLong() > 0) non_empty = true;
      }
      if (!non_empty) effective = false;
    }
    if (effective) return true;
  }
  return false;
}

}  // namespace

const char* l7HandlingName(L7Handling handling) {
  switch (handling) {
    case L7Handling::kNone:
      return "none";
    case L7Handling::kAllowRulesDropped:
      return "allow-rules-dropped";
    case L7Handling::kDenyWithoutHttp:
      return "deny-without-http";
    case L7Handling::kDenyNoEffect:
      return "deny-no-effect";
  }
  return "none";
}

sec::StringMatch stringMatch(const std::string& value) {
  sec::StringMatch m;
  if (value == "*") {
    m.mutable_presence();
  } else if (absl::StartsWith(value, "*")) {
    m.set_suffix(value.substr(1));
  } else if (absl::EndsWith(value, "*")) {
    m.set_prefix(value.substr(0, value.size() - 1));
  } else {
    m.set_exact(value);
  }
  return m;
}

sec::ServiceAccountMatch serviceAccountMatch(const std::string& value,
                                             const std::string& policy_namespace) {
  sec::ServiceAccountMatch m;
  const size_t slash = value.find('/');
  if (slash == std::string::npos) {
    m.set_namespace_(policy_namespace);
    m.set_serviceaccount(value);
  } else {
    m.set_namespace_(value.substr(0, slash));
    m.set_serviceaccount(value.substr(slash + 1));
  }
  return m;
}

bool isL4ConditionKey(const std::string& key) {
  return key == "source.ip" || key == "source.namespace" || key == "source.principal" ||
         key == "destination.ip" || key == "destination.port";
}

ConvertedPolicy convertAuthorizationPolicy(const config::Object& object, const Options& options) {
  const auto& spec = object.as<api::AuthorizationPolicy>();
  ConvertedPolicy out;
  auto dry_run = object.meta.annotations().find("istio.io/dry-run");
  if (dry_run != object.meta.annotations().end() && parseGoBool(dry_run->second).value_or(false)) {
    out.reason = "UnsupportedValue";
    out.message = "dry-run policies are not sent to the node agent";
    return out;
  }
  if (spec.has_targetref() || !spec.targetrefs().empty()) return out;  // a waypoint's policy

  sec::Authorization policy;
  policy.set_name(object.name());
  policy.set_namespace_(object.namespace_());
  if (spec.has_selector()) {
    policy.set_scope(sec::WORKLOAD_SELECTOR);
  } else {
    policy.set_scope(object.namespace_() == options.root_namespace ? sec::GLOBAL : sec::NAMESPACE);
  }
  switch (spec.action()) {
    case api::AuthorizationPolicy::ALLOW:
      policy.set_action(sec::ALLOW);
      break;
    case api::AuthorizationPolicy::DENY:
      policy.set_action(sec::DENY);
      break;
    default:
      out.reason = "UnsupportedValue";
      out.message = absl::StrCat("the node agent does not support the ",
                                 api::AuthorizationPolicy::Action_Name(spec.action()), " action");
      return out;
  }

  std::set<std::string> l7;
  for (const api::Rule& rule : spec.rules()) {
    std::optional<std::vector<sec::Rules>> rules =
        convertRule(policy.action(), rule, object.namespace_(), l7);
    if (!rules) continue;
    sec::Group* group = policy.add_groups();
    for (sec::Rules& r : *rules) *group->add_rules() = std::move(r);
  }
  if (!l7.empty()) {
    out.l7_attributes.assign(l7.begin(), l7.end());
    std::string effect;
    if (policy.action() == sec::ALLOW) {
      out.l7 = L7Handling::kAllowRulesDropped;
      effect = "In an ALLOW policy the rules using them are left out and allow nothing.";
    } else if (hasEffectiveRules(policy)) {
      out.l7 = L7Handling::kDenyWithoutHttp;
      effect = "The DENY policy is enforced without them, which denies more than written.";
    } else {
      out.l7 = L7Handling::kDenyNoEffect;
      effect =
          "Without them this DENY policy has no rule the node agent can enforce and has no "
          "effect; attach it to a waypoint with targetRefs.";
    }
    out.reason = "UnsupportedValue";
    out.message = absl::StrCat("the node agent cannot enforce HTTP attributes (found: ",
                               absl::StrJoin(out.l7_attributes, ", "),
                               "); a waypoint must enforce HTTP rules. ", effect);
  }
  out.authorization = std::move(policy);
  return out;
}

}  // namespace ambit::control::translate
