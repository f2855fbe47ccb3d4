#include "waypoint/authz/l7_match.h"

#include <charconv>
#include <cmath>
#include <optional>

namespace ambit::waypoint {
namespace {

using Attribute = CompiledCondition::Attribute;

// Three-valued logic.

MatchResult both(MatchResult a, MatchResult b) {
  if (a == MatchResult::kNo || b == MatchResult::kNo) return MatchResult::kNo;
  if (a == MatchResult::kUnknown || b == MatchResult::kUnknown) return MatchResult::kUnknown;
  return MatchResult::kYes;
}

MatchResult negate(MatchResult a) {
  if (a == MatchResult::kYes) return MatchResult::kNo;
  if (a == MatchResult::kNo) return MatchResult::kYes;
  return a;
}

template <typename T, typename Pred>
MatchResult anyValueMatches(const ValueSet<T>& set, Pred pred) {
  for (const T& value : set.values) {
    if (pred(value)) return MatchResult::kYes;
  }
  return set.malformed > 0 ? MatchResult::kUnknown : MatchResult::kNo;
}

// A field and its not-form: some value of `in` must match when it is set, none of `out` may.
template <typename T, typename Pred>
MatchResult fieldResult(const ValueSet<T>& in, const ValueSet<T>& out, Pred pred) {
  MatchResult result = MatchResult::kYes;
  if (in.set()) result = anyValueMatches(in, pred);
  if (result == MatchResult::kNo || !out.set()) return result;
  return both(result, negate(anyValueMatches(out, pred)));
}

// fieldResult for a field only HTTP requests have: unknown when set on a TCP stream.
template <typename T, typename Pred>
MatchResult httpFieldResult(const L7RequestFacts& f, const ValueSet<T>& in, const ValueSet<T>& out,
                            Pred pred) {
  if (!f.request.http && (in.set() || out.set())) return MatchResult::kUnknown;
  return fieldResult(in, out, pred);
}

// What an unknown clause names when the clause itself is fine but the request lacks what it
// needs: HTTP attributes on a stream carried as TCP, or an address not known for sure.
const std::string kHttpOnTcp =
    "attributes this request lacks (HTTP attributes of a TCP stream, or an unverified address)";

// Whether `matcher` matches a value that may be absent.
bool matchesPresent(const ValueMatcher& matcher, std::optional<std::string_view> value) {
  return value.has_value() && matcher.matches(*value);
}

std::optional<std::string_view> nonEmpty(bool available, std::string_view value) {
  if (!available || value.empty()) return std::nullopt;
  return value;
}

std::optional<std::string_view> peerPrincipal(const L7RequestFacts& f) {
  if (!f.has_identity) return std::nullopt;
  return *f.request.source_principal;
}

std::optional<std::string_view> authPrincipal(const L7RequestFacts& f) {
  if (f.request.auth == nullptr) return std::nullopt;
  return nonEmpty(true, f.request.auth->principal);
}

bool accountIs(const ServiceAccountRef& ref, const L7RequestFacts& f) {
  return f.has_identity && !f.service_account.empty() && ref.name == f.service_account &&
         ref.namespace_name == f.identity_namespace;
}

auto ipIn(const std::optional<IpAddress>& ip) {
  return [&ip](const IpRange& range) { return ip.has_value() && range.contains(*ip); };
}

// fieldResult for an address field: unknown when the field is set and the address is not known
// (absent or malformed), so that a rule on addresses fails closed rather than not matching.
MatchResult ipFieldResult(const std::optional<IpAddress>& ip, const ValueSet<IpRange>& in,
                          const ValueSet<IpRange>& out) {
  if (!ip.has_value() && (in.set() || out.set())) return MatchResult::kUnknown;
  return fieldResult(in, out, ipIn(ip));
}

MatchResult evaluateSource(const CompiledSource& s, const L7RequestFacts& f) {
  if (s.unevaluable) return MatchResult::kUnknown;
  const std::optional<std::string_view> principal = peerPrincipal(f);
  const std::optional<std::string_view> request_principal = authPrincipal(f);
  const std::optional<std::string_view> peer_namespace = nonEmpty(f.has_identity, f.peer_namespace);
  const std::optional<std::string_view> trust_domain = nonEmpty(f.has_identity, f.trust_domain);
  auto is = [](std::optional<std::string_view> value) {
    return [value](const ValueMatcher& m) { return matchesPresent(m, value); };
  };
  // Fields AND-ed, in the order of the proto; the first mismatch decides.
  const MatchResult fields[] = {
      fieldResult(s.principals, s.not_principals, is(principal)),
      httpFieldResult(f, s.request_principals, s.not_request_principals, is(request_principal)),
      fieldResult(s.namespaces, s.not_namespaces, is(peer_namespace)),
      fieldResult(s.service_accounts, s.not_service_accounts,
                  [&f](const ServiceAccountRef& ref) { return accountIs(ref, f); }),
      fieldResult(s.trust_domains, s.not_trust_domains, is(trust_domain)),
      ipFieldResult(f.source_ip, s.ip_blocks, s.not_ip_blocks),
      ipFieldResult(f.remote_ip, s.remote_ip_blocks, s.not_remote_ip_blocks),
  };
  MatchResult result = MatchResult::kYes;
  for (const MatchResult field : fields) result = both(result, field);
  return result;
}

MatchResult evaluateOperation(const CompiledOperation& o, const L7RequestFacts& f) {
  if (o.unevaluable) return MatchResult::kUnknown;
  const std::optional<std::string_view> host = nonEmpty(true, f.request.host);
  const std::optional<std::string_view> method = nonEmpty(true, f.request.method);
  const auto port_is = [&f](uint16_t port) {
    return f.request.destination_port != 0 && port == f.request.destination_port;
  };
  const MatchResult fields[] = {
      httpFieldResult(f, o.hosts, o.not_hosts,
                      [&host](const ValueMatcher& m) { return matchesPresent(m, host); }),
      fieldResult(o.ports, o.not_ports, port_is),
      httpFieldResult(f, o.methods, o.not_methods,
                      [&method](const ValueMatcher& m) { return matchesPresent(m, method); }),
      httpFieldResult(f, o.paths, o.not_paths,
                      [&f](const PathMatcher& m) { return m.matches(f.path); }),
  };
  MatchResult result = MatchResult::kYes;
  for (const MatchResult field : fields) result = both(result, field);
  return result;
}

// A claim value as a matcher sees it: strings as they are, numbers and booleans as JSON text.
template <typename Visit>
bool visitScalar(const google::protobuf::Value& value, Visit& visit) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kStringValue:
      return visit(std::string_view(value.string_value()));
    case google::protobuf::Value::kBoolValue:
      return visit(std::string_view(value.bool_value() ? "true" : "false"));
    case google::protobuf::Value::kNumberValue: {
      const double number = value.number_value();
      char buffer[32];
      std::to_chars_result written{};
      // Integers as integers ("42", not "42.0" or "4.2e+01"); others in their shortest form.
      if (std::isfinite(number) && std::trunc(number) == number && std::fabs(number) < 1e15) {
        written = std::to_chars(buffer, buffer + sizeof(buffer), static_cast<int64_t>(number));
      } else {
        written = std::to_chars(buffer, buffer + sizeof(buffer), number);
      }
      if (written.ec != std::errc()) return false;
      return visit(std::string_view(buffer, static_cast<size_t>(written.ptr - buffer)));
    }
    default:
      return false;
  }
}

template <typename Visit>
bool visitClaim(const CompiledCondition& c, const RequestAuth& auth, Visit& visit) {
  const google::protobuf::Struct* level = &auth.claims;
  const google::protobuf::Value* value = nullptr;
  for (size_t i = 0; i < c.claim_path.size(); ++i) {
    const auto it = level->fields().find(c.claim_path[i]);
    if (it == level->fields().end()) return false;
    value = &it->second;
    if (i + 1 < c.claim_path.size()) {
      if (value->kind_case() != google::protobuf::Value::kStructValue) return false;
      level = &value->struct_value();
    }
  }
  if (value == nullptr) return false;
  if (value->kind_case() == google::protobuf::Value::kListValue) {
    for (const google::protobuf::Value& element : value->list_value().values()) {
      if (visitScalar(element, visit)) return true;
    }
    return false;
  }
  return visitScalar(*value, visit);
}

template <typename Visit>
bool visitHeader(const CompiledCondition& c, const L7RequestAttributes& r, Visit& visit) {
  // Envoy keeps Host as :authority and exposes the pseudo-headers to header matches.
  if (c.header == ":authority" || c.header == "host") {
    return !r.host.empty() && visit(r.host);
  }
  if (c.header == ":method") return !r.method.empty() && visit(r.method);
  if (c.header == ":path") return !r.path.empty() && visit(r.path);
  if (r.headers == nullptr) return false;
  for (const auto& [name, value] : *r.headers) {
    if (name == c.header && visit(std::string_view(value))) return true;
  }
  return false;
}

// Calls `visit` on each value the condition's (string) attribute has; true when one call is.
template <typename Visit>
bool visitValues(const CompiledCondition& c, const L7RequestFacts& f, Visit visit) {
  const L7RequestAttributes& r = f.request;
  auto one = [&visit](std::optional<std::string_view> value) {
    return value.has_value() && visit(*value);
  };
  switch (c.attribute) {
    case Attribute::kRequestHeader:
      return visitHeader(c, r, visit);
    case Attribute::kSourceNamespace:
      return one(nonEmpty(f.has_identity, f.peer_namespace));
    case Attribute::kSourcePrincipal:
      return one(peerPrincipal(f));
    case Attribute::kSourceTrustDomain:
      return one(nonEmpty(f.has_identity, f.trust_domain));
    case Attribute::kAuthPrincipal:
      return one(authPrincipal(f));
    case Attribute::kAuthPresenter:
      return r.auth != nullptr && one(nonEmpty(true, r.auth->presenter));
    case Attribute::kAuthAudiences:
      if (r.auth == nullptr) return false;
      for (const std::string& audience : r.auth->audiences) {
        if (visit(std::string_view(audience))) return true;
      }
      return false;
    case Attribute::kAuthClaim:
      return r.auth != nullptr && visitClaim(c, *r.auth, visit);
    case Attribute::kConnectionSni:
      return one(nonEmpty(true, r.sni));
    default:
      return false;
  }
}

MatchResult evaluateCondition(const CompiledCondition& c, const L7RequestFacts& f) {
  switch (c.attribute) {
    case Attribute::kRequestHeader:
    case Attribute::kAuthPrincipal:
    case Attribute::kAuthAudiences:
    case Attribute::kAuthPresenter:
    case Attribute::kAuthClaim:
      if (!f.request.http) return MatchResult::kUnknown;
      break;
    default:
      break;
  }
  switch (c.attribute) {
    case Attribute::kUnsupported:
      return MatchResult::kUnknown;
    case Attribute::kSourceIp:
      return ipFieldResult(f.source_ip, c.ips, c.not_ips);
    case Attribute::kRemoteIp:
      return ipFieldResult(f.remote_ip, c.ips, c.not_ips);
    case Attribute::kDestinationIp:
      return ipFieldResult(f.destination_ip, c.ips, c.not_ips);
    case Attribute::kDestinationPort:
      return fieldResult(c.ports, c.not_ports, [&f](uint16_t port) {
        return f.request.destination_port != 0 && port == f.request.destination_port;
      });
    case Attribute::kSourceServiceAccount:
      return fieldResult(c.accounts, c.not_accounts,
                         [&f](const ServiceAccountRef& ref) { return accountIs(ref, f); });
    default:
      return fieldResult(c.strings, c.not_strings, [&](const ValueMatcher& m) {
        return visitValues(c, f, [&m](std::string_view value) { return m.matches(value); });
      });
  }
}

// OR over a list of sources or operations; an empty list holds.
template <typename Clause, typename Evaluate>
RuleResult anyClause(const std::vector<Clause>& clauses, Evaluate evaluate,
                     const L7RequestFacts& f) {
  if (clauses.empty()) return {MatchResult::kYes, nullptr};
  RuleResult out;
  for (const Clause& clause : clauses) {
    const MatchResult result = evaluate(clause, f);
    if (result == MatchResult::kYes) return {MatchResult::kYes, nullptr};
    if (result == MatchResult::kUnknown && out.result == MatchResult::kNo) {
      out = {MatchResult::kUnknown, clause.unsupported.empty() ? &kHttpOnTcp : &clause.unsupported};
    }
  }
  return out;
}

}  // namespace

L7RequestFacts::L7RequestFacts(const L7RequestAttributes& attributes)
    : request(attributes),
      path(attributes.path.substr(0, attributes.path.find('?'))),
      source_ip(IpAddress::parse(attributes.source_ip)),
      remote_ip(attributes.remote_ip.empty() ? source_ip : IpAddress::parse(attributes.remote_ip)),
      destination_ip(IpAddress::parse(attributes.destination_ip)),
      has_identity(attributes.source_principal.has_value() &&
                   !attributes.source_principal->empty()) {
  if (!has_identity) return;
  const std::string_view principal = *attributes.source_principal;
  const size_t ns = principal.find("/ns/");
  const size_t sa = ns == std::string_view::npos ? ns : principal.find("/sa/", ns + 4);
  if (sa != std::string_view::npos) {
    trust_domain = principal.substr(0, ns);
    identity_namespace = principal.substr(ns + 4, sa - ns - 4);
    service_account = principal.substr(sa + 4);
  }
  peer_namespace =
      attributes.source_namespace.empty() ? identity_namespace : attributes.source_namespace;
}

RuleResult evaluateRule(const CompiledRule& rule, const L7RequestFacts& request) {
  RuleResult out{MatchResult::kYes, nullptr};
  const auto add = [&out](const RuleResult& part) {
    if (part.result == MatchResult::kNo) {
      out = {MatchResult::kNo, nullptr};
      return false;
    }
    if (part.result == MatchResult::kUnknown && out.result == MatchResult::kYes) out = part;
    return true;
  };
  if (!add(anyClause(rule.from, evaluateSource, request))) return out;
  if (!add(anyClause(rule.to, evaluateOperation, request))) return out;
  for (const CompiledCondition& condition : rule.when) {
    const MatchResult result = evaluateCondition(condition, request);
    const std::string* why = condition.unsupported.empty() ? &kHttpOnTcp : &condition.unsupported;
    if (!add({result, result == MatchResult::kUnknown ? why : nullptr})) {
      return out;
    }
  }
  return out;
}

}  // namespace ambit::waypoint
