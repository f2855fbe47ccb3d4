// One AuthorizationPolicy rule compiled once per configuration (its sources, operations and
// conditions) and its evaluation against a request, with Istio's semantics.
//
// Evaluation has three outcomes: a part the waypoint cannot evaluate (an unknown condition key, a
// malformed IP block, port or path template, an empty source) is unknown, and unknown propagates
// as in three-valued logic: an OR with a match is a match, an AND with a mismatch a mismatch,
// and otherwise the result stays unknown. The policy decides what unknown means (fail closed).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "istio/security/v1beta1/authorization_policy.pb.h"
#include "waypoint/authz/l7_request.h"
#include "waypoint/authz/l7_values.h"

namespace ambit::waypoint {

enum class MatchResult : uint8_t { kNo, kYes, kUnknown };

// The values of one field. Values that did not compile match nothing the waypoint knows: when no
// good value matches, the field's result is unknown rather than a mismatch.
template <typename T>
struct ValueSet {
  std::vector<T> values;
  int malformed = 0;
  bool set() const { return !values.empty() || malformed > 0; }
};

// serviceAccounts: "<namespace>/<name>", or "<name>" in the policy's namespace.
struct ServiceAccountRef {
  std::string namespace_name;
  std::string name;
};

// A `from.source`. Every field it sets must hold: some value of a field, none of a not-field.
struct CompiledSource {
  ValueSet<ValueMatcher> principals, not_principals;                  // the peer identity
  ValueSet<ValueMatcher> request_principals, not_request_principals;  // the JWT's "<iss>/<sub>"
  ValueSet<ValueMatcher> namespaces, not_namespaces;                  // the peer's namespace
  ValueSet<ServiceAccountRef> service_accounts, not_service_accounts;
  ValueSet<ValueMatcher> trust_domains, not_trust_domains;
  ValueSet<IpRange> ip_blocks, not_ip_blocks;                // source_ip
  ValueSet<IpRange> remote_ip_blocks, not_remote_ip_blocks;  // remote_ip
  bool unevaluable = false;  // the whole source is unknown (it sets no field)
  std::string unsupported;   // what in it cannot be evaluated; empty when all can
};

// A `to.operation`, with the same rules.
struct CompiledOperation {
  ValueSet<ValueMatcher> hosts, not_hosts;  // case-insensitive, against the host as sent
  ValueSet<uint16_t> ports, not_ports;      // destination_port
  ValueSet<ValueMatcher> methods, not_methods;
  ValueSet<PathMatcher> paths, not_paths;  // the path without its query
  bool unevaluable = false;
  std::string unsupported;
};

// A `when` condition: some value of `values` (when set) and none of `notValues` must match.
struct CompiledCondition {
  enum class Attribute {
    kRequestHeader,  // request.headers[name]: each value of the header
    kSourceIp,
    kRemoteIp,
    kDestinationIp,
    kDestinationPort,
    kSourceNamespace,
    kSourcePrincipal,
    kSourceServiceAccount,
    kSourceTrustDomain,
    kAuthPrincipal,
    kAuthAudiences,
    kAuthPresenter,
    kAuthClaim,  // request.auth.claims[a][b]...
    kConnectionSni,
    kUnsupported,  // always unknown
  };

  Attribute attribute = Attribute::kUnsupported;
  std::string header;                   // kRequestHeader: the name in lower case
  std::vector<std::string> claim_path;  // kAuthClaim: ["a", "b"]
  // The values, in the form the attribute takes.
  ValueSet<ValueMatcher> strings, not_strings;
  ValueSet<IpRange> ips, not_ips;
  ValueSet<uint16_t> ports, not_ports;
  ValueSet<ServiceAccountRef> accounts, not_accounts;
  std::string unsupported;
};

// A rule: from (sources OR-ed), to (operations OR-ed) and when (conditions AND-ed) must all hold;
// an empty list holds, so an empty rule matches every request.
struct CompiledRule {
  std::vector<CompiledSource> from;
  std::vector<CompiledOperation> to;
  std::vector<CompiledCondition> when;
};

// Compiles `rule` of a policy in namespace `policy_namespace` (which bare service account names
// refer to). Each part it cannot evaluate is appended to `notes`, prefixed with `where`
// ("default/deny-admin: rules[0]").
CompiledRule compileRule(const istio::security::v1beta1::Rule& rule,
                         std::string_view policy_namespace, std::string_view where,
                         std::vector<std::string>& notes);

struct RuleResult {
  MatchResult result = MatchResult::kNo;
  // For kUnknown: the first part that could not be evaluated (it lives in the compiled rule).
  const std::string* unsupported = nullptr;
};

// Evaluates `rule`. Attributes follow Istio: principals, namespaces, service accounts and trust
// domains need a peer identity (plaintext has no value, so a field does not match and a not-field
// holds); requestPrincipals and request.auth.* need a validated JWT; "*" matches any value that is
// present, so principals ["*"] means "any mTLS peer" and requestPrincipals ["*"] "any valid JWT".
// request.headers[name] matches when any value of the header does (":authority" and "host" are
// the host, ":method" the method, ":path" the path with its query). A claim matches when it is a
// string that matches, or a list holding one; numbers and booleans as their JSON text.
RuleResult evaluateRule(const CompiledRule& rule, const L7RequestFacts& request);

}  // namespace ambit::waypoint
