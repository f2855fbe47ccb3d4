// compileRule: each value parsed once, each problem noted (evaluation is in l7_match.cc).
#include "waypoint/authz/l7_match.h"

#include <optional>
#include <utility>

#include <absl/status/status.h>
#include <absl/strings/str_cat.h>

#include "core/port_number.h"
#include "waypoint/route/text.h"

namespace ambit::waypoint {
namespace {

namespace sec = istio::security::v1beta1;
using Strings = google::protobuf::RepeatedPtrField<std::string>;
using Attribute = CompiledCondition::Attribute;

// Where problems of one source, operation or condition are recorded.
class Problems {
 public:
  Problems(std::string where, std::vector<std::string>& notes, std::string& unsupported)
      : where_(std::move(where)), notes_(notes), unsupported_(unsupported) {}

  void add(std::string what) {
    notes_.push_back(absl::StrCat(where_, ": ", what, "; it fails closed"));
    if (unsupported_.empty()) unsupported_ = std::move(what);
  }

 private:
  std::string where_;
  std::vector<std::string>& notes_;
  std::string& unsupported_;
};

// Compiles the values of `field`; `parse` gives the compiled value or why it is malformed.
template <typename T, typename Parse>
ValueSet<T> compileValues(const Strings& values, std::string_view field, Parse parse,
                          Problems& problems) {
  ValueSet<T> out;
  out.values.reserve(static_cast<size_t>(values.size()));
  for (int i = 0; i < values.size(); ++i) {
    absl::StatusOr<T> value = parse(values[i]);
    if (value.ok()) {
      out.values.push_back(*std::move(value));
    } else {
      ++out.malformed;
      problems.add(absl::StrCat(av(field), "[", i, "]: ", value.status().message()));
    }
  }
  return out;
}

ValueSet<ValueMatcher> strings(const Strings& values, std::string_view field, Problems& problems,
                               bool ignore_case = false) {
  return compileValues<ValueMatcher>(
      values, field,
      [ignore_case](const std::string& v) -> absl::StatusOr<ValueMatcher> {
        return ValueMatcher(v, ignore_case);
      },
      problems);
}

ValueSet<IpRange> ipRanges(const Strings& values, std::string_view field, Problems& problems) {
  return compileValues<IpRange>(
      values, field,
      [](const std::string& v) -> absl::StatusOr<IpRange> {
        if (std::optional<IpRange> range = IpRange::parse(v)) return *range;
        return absl::InvalidArgumentError(
            absl::StrCat("\"", v, "\" is not an IP address or a CIDR block"));
      },
      problems);
}

ValueSet<uint16_t> ports(const Strings& values, std::string_view field, Problems& problems) {
  return compileValues<uint16_t>(
      values, field,
      [](const std::string& v) -> absl::StatusOr<uint16_t> {
        if (std::optional<uint16_t> port = parsePortNumber(v)) return *port;
        return absl::InvalidArgumentError(absl::StrCat("\"", v, "\" is not a port number"));
      },
      problems);
}

ValueSet<PathMatcher> paths(const Strings& values, std::string_view field, Problems& problems) {
  return compileValues<PathMatcher>(
      values, field, [](const std::string& v) { return PathMatcher::compile(v); }, problems);
}

ValueSet<ServiceAccountRef> accounts(const Strings& values, std::string_view policy_namespace,
                                     std::string_view field, Problems& problems) {
  return compileValues<ServiceAccountRef>(
      values, field,
      [policy_namespace](const std::string& v) -> absl::StatusOr<ServiceAccountRef> {
        const size_t slash = v.find('/');
        ServiceAccountRef out;
        if (slash == std::string::npos) {
          out.namespace_name = policy_namespace;
          out.name = v;
        } else {
          out.namespace_name = v.substr(0, slash);
          out.name = v.substr(slash + 1);
        }
        if (out.namespace_name.empty() || out.name.empty() ||
            out.name.find('/') != std::string::npos || v.find('*') != std::string::npos) {
          return absl::InvalidArgumentError(absl::StrCat(
              "\"", v, "\" is not a service account (\"<namespace>/<name>\" or \"<name>\")"));
        }
        return out;
      },
      problems);
}

CompiledSource compileSource(const sec::Source& s, std::string_view policy_namespace,
                             std::string where, std::vector<std::string>& notes) {
  CompiledSource out;
  Problems problems(std::move(where), notes, out.unsupported);
  out.principals = strings(s.principals(), "principals", problems);
  out.not_principals = strings(s.not_principals(), "notPrincipals", problems);
  out.request_principals = strings(s.request_principals(), "requestPrincipals", problems);
  out.not_request_principals =
      strings(s.not_request_principals(), "notRequestPrincipals", problems);
  out.namespaces = strings(s.namespaces(), "namespaces", problems);
  out.not_namespaces = strings(s.not_namespaces(), "notNamespaces", problems);
  out.service_accounts =
      accounts(s.service_accounts(), policy_namespace, "serviceAccounts", problems);
  out.not_service_accounts =
      accounts(s.not_service_accounts(), policy_namespace, "notServiceAccounts", problems);
  out.trust_domains = strings(s.trust_domains(), "trustDomains", problems);
  out.not_trust_domains = strings(s.not_trust_domains(), "notTrustDomains", problems);
  out.ip_blocks = ipRanges(s.ip_blocks(), "ipBlocks", problems);
  out.not_ip_blocks = ipRanges(s.not_ip_blocks(), "notIpBlocks", problems);
  out.remote_ip_blocks = ipRanges(s.remote_ip_blocks(), "remoteIpBlocks", problems);
  out.not_remote_ip_blocks = ipRanges(s.not_remote_ip_blocks(), "notRemoteIpBlocks", problems);
  if (s.ByteSizeLong() == 0) {
    out.unevaluable = true;
    problems.add("the source sets no field");
  }
  return out;
}

CompiledOperation compileOperation(const sec::Operation& o, std::string where,
                                   std::vector<std::string>& notes) {
  CompiledOperation out;
  Problems problems(std::move(where), notes, out.unsupported);
  out.hosts = strings(o.hosts(), "hosts", problems, /*ignore_case=*/true);
  out.not_hosts = strings(o.not_hosts(), "notHosts", problems, /*ignore_case=*/true);
  out.ports = ports(o.ports(), "ports", problems);
  out.not_ports = ports(o.not_ports(), "notPorts", problems);
  out.methods = strings(o.methods(), "methods", problems);
  out.not_methods = strings(o.not_methods(), "notMethods", problems);
  out.paths = paths(o.paths(), "paths", problems);
  out.not_paths = paths(o.not_paths(), "notPaths", problems);
  if (o.ByteSizeLong() == 0) {
    out.unevaluable = true;
    problems.add("the operation sets no field");
  }
  return out;
}

// "[a][b]" after a key's name: the entries, or nullopt when malformed.
std::optional<std::vector<std::string>> bracketEntries(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const size_t close = text.find(']');
    if (text.front() != '[' || close == std::string_view::npos || close == 1) return std::nullopt;
    const std::string_view entry = text.substr(1, close - 1);
    if (entry.find('[') != std::string_view::npos) return std::nullopt;
    out.emplace_back(entry);
    text.remove_prefix(close + 1);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

// What `key` names; kUnsupported with `why` set for what the waypoint cannot evaluate.
Attribute conditionAttribute(const std::string& key, CompiledCondition& out, std::string& why) {
  static const std::pair<const char*, Attribute> kPlain[] = {
      {"source.ip", Attribute::kSourceIp},
      {"remote.ip", Attribute::kRemoteIp},
      {"destination.ip", Attribute::kDestinationIp},
      {"destination.port", Attribute::kDestinationPort},
      {"source.namespace", Attribute::kSourceNamespace},
      {"source.principal", Attribute::kSourcePrincipal},
      {"source.serviceAccount", Attribute::kSourceServiceAccount},
      {"source.trustDomain", Attribute::kSourceTrustDomain},
      {"request.auth.principal", Attribute::kAuthPrincipal},
      {"request.auth.audiences", Attribute::kAuthAudiences},
      {"request.auth.presenter", Attribute::kAuthPresenter},
      {"connection.sni", Attribute::kConnectionSni},
  };
  for (const auto& [name, attribute] : kPlain) {
    if (key == name) return attribute;
  }
  constexpr std::string_view kHeaders = "request.headers";
  constexpr std::string_view kClaims = "request.auth.claims";
  if (key.starts_with(kHeaders)) {
    std::optional<std::vector<std::string>> entries =
        bracketEntries(std::string_view(key).substr(kHeaders.size()));
    if (entries && entries->size() == 1) {
      out.header = toLower(entries->front());
      return Attribute::kRequestHeader;
    }
  } else if (key.starts_with(kClaims)) {
    std::optional<std::vector<std::string>> entries =
        bracketEntries(std::string_view(key).substr(kClaims.size()));
    if (entries) {
      out.claim_path = std::move(*entries);
      return Attribute::kAuthClaim;
    }
  } else if (key.starts_with("experimental.envoy.filters.")) {
    why = absl::StrCat("key \"", key, "\" reads Envoy filter metadata, which the waypoint has not");
    return Attribute::kUnsupported;
  } else {
    why = absl::StrCat("key \"", key, "\" is not supported");
    return Attribute::kUnsupported;
  }
  why = absl::StrCat("key \"", key, "\" is malformed");
  return Attribute::kUnsupported;
}

CompiledCondition compileCondition(const sec::Condition& c, std::string_view policy_namespace,
                                   std::string where, std::vector<std::string>& notes) {
  CompiledCondition out;
  Problems problems(std::move(where), notes, out.unsupported);
  std::string why;
  out.attribute = conditionAttribute(c.key(), out, why);
  if (out.attribute == Attribute::kUnsupported) {
    problems.add(std::move(why));
    return out;
  }
  if (c.values().empty() && c.not_values().empty()) {
    out.attribute = Attribute::kUnsupported;
    problems.add(absl::StrCat("key \"", c.key(), "\" has neither values nor notValues"));
    return out;
  }
  switch (out.attribute) {
    case Attribute::kSourceIp:
    case Attribute::kRemoteIp:
    case Attribute::kDestinationIp:
      out.ips = ipRanges(c.values(), "values", problems);
      out.not_ips = ipRanges(c.not_values(), "notValues", problems);
      break;
    case Attribute::kDestinationPort:
      out.ports = ports(c.values(), "values", problems);
      out.not_ports = ports(c.not_values(), "notValues", problems);
      break;
    case Attribute::kSourceServiceAccount:
      out.accounts = accounts(c.values(), policy_namespace, "values", problems);
      out.not_accounts = accounts(c.not_values(), policy_namespace, "notValues", problems);
      break;
    default:
      out.strings = strings(c.values(), "values", problems);
      out.not_strings = strings(c.not_values(), "notValues", problems);
      break;
  }
  return out;
}

}  // namespace

CompiledRule compileRule(const sec::Rule& rule, std::string_view policy_namespace,
                         std::string_view where, std::vector<std::string>& notes) {
  CompiledRule out;
  for (int i = 0; i < rule.from_size(); ++i) {
    out.from.push_back(compileSource(rule.from(i).source(), policy_namespace,
                                     absl::StrCat(av(where), ".from[", i, "].source"), notes));
  }
  for (int i = 0; i < rule.to_size(); ++i) {
    out.to.push_back(compileOperation(rule.to(i).operation(),
                                      absl::StrCat(av(where), ".to[", i, "].operation"), notes));
  }
  for (int i = 0; i < rule.when_size(); ++i) {
    out.when.push_back(compileCondition(rule.when(i), policy_namespace,
                                        absl::StrCat(av(where), ".when[", i, "]"), notes));
  }
  return out;
}

}  // namespace ambit::waypoint
