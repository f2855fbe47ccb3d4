// AuthorizationPolicy: action and provider, workload selection, and each rule's sources,
// operations and conditions.
#include <algorithm>

#include <absl/strings/ascii.h>
#include <absl/strings/match.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_split.h>

#include "core/config/validate/common.h"
#include "core/config/validate/kinds.h"
#include "core/port_number.h"

namespace ambit::config::validate {
namespace {

namespace sec = istio::security::v1beta1;
using Strings = google::protobuf::RepeatedPtrField<std::string>;

void checkValues(const Strings& values, const std::string& path, const char* what, Issues& issues) {
  for (int i = 0; i < values.size(); ++i) {
    checkMatchValue(issues, item(path, static_cast<size_t>(i)), values[i], what);
  }
}

void checkIps(const Strings& values, const std::string& path, const char* what, Issues& issues) {
  for (int i = 0; i < values.size(); ++i) {
    const std::string at = item(path, static_cast<size_t>(i));
    if (values[i].empty()) {
      issues.error(at, absl::StrCat(what, " must not be empty"));
    } else if (!isIpOrCidr(values[i])) {
      issues.error(at,
                   absl::StrCat(what, " ", q(values[i]), " is not an IP address or a CIDR block"));
    }
  }
}

void checkPorts(const Strings& values, const std::string& path, Issues& issues) {
  for (int i = 0; i < values.size(); ++i) {
    const std::string& port = values[i];
    if (!parsePortNumber(port)) {
      issues.error(item(path, static_cast<size_t>(i)),
                   absl::StrCat("port ", q(port), " must be a number between 1 and 65535"));
    }
  }
}

void checkServiceAccounts(const Strings& values, const std::string& path, Issues& issues) {
  if (values.size() > 16) {
    issues.error(path,
                 absl::StrCat("at most 16 service accounts are allowed, got ", values.size()));
  }
  for (int i = 0; i < values.size(); ++i) {
    const std::string& sa = values[i];
    const std::string at = item(path, static_cast<size_t>(i));
    const auto slashes = std::count(sa.begin(), sa.end(), '/');
    const size_t slash = sa.find('/');
    if (sa.empty()) {
      issues.error(at, "service account must not be empty");
    } else if (sa.find('*') != std::string::npos) {
      issues.error(at, absl::StrCat("service account ", q(sa),
                                    " is invalid: wildcards are not "
                                    "supported"));
    } else if (sa.size() > 320) {
      issues.error(at, "service account is longer than 320 characters");
    } else if (slashes > 1 || (slashes == 1 && (slash == 0 || slash + 1 == sa.size()))) {
      issues.error(at, absl::StrCat("service account ", q(sa),
                                    " is invalid: expected name or namespace/name"));
    }
  }
}

void checkTrustDomains(const Strings& values, const std::string& path, Issues& issues) {
  checkValues(values, path, "trust domain", issues);
  for (int i = 0; i < values.size(); ++i) {
    if (values[i].find('/') != std::string::npos) {
      issues.error(item(path, static_cast<size_t>(i)),
                   absl::StrCat("trust domain ", q(values[i]), " must not contain \"/\""));
    }
  }
}

// Paths with templates ("/api/{*}/items/{**}") follow Envoy's URI template rules.
void checkPaths(const Strings& values, const std::string& path, Issues& issues) {
  for (int i = 0; i < values.size(); ++i) {
    const std::string& p = values[i];
    const std::string at = item(path, static_cast<size_t>(i));
    if (p.find("{*}") == std::string::npos && p.find("{**}") == std::string::npos) {
      checkMatchValue(issues, at, p, "path");
      continue;
    }
    bool any_seen = false;
    const size_t begin = p.find_first_not_of('/');
    const size_t end = p.find_last_not_of('/');
    const std::string trimmed = begin == std::string::npos ? "" : p.substr(begin, end - begin + 1);
    for (const absl::string_view segment : absl::StrSplit(trimmed, '/')) {
      const std::string s(segment);
      if ((s == "{*}" || s == "{**}") && any_seen) {
        issues.error(at,
                     absl::StrCat("path ", q(p), " is invalid: {**} must be the last operator"));
        break;
      }
      if (s == "{*}") continue;
      if (s == "{**}") {
        any_seen = true;
        continue;
      }
      const bool literal = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
               std::string("-._~%!$&'()+,;:@=").find(c) != std::string::npos;
      });
      if (!literal) {
        issues.error(at, absl::StrCat("path ", q(p), " is invalid: segment ", q(s),
                                      " is neither {*}, {**} nor a literal"));
        break;
      }
    }
  }
}

void checkSource(const sec::Source& s, const std::string& path, Issues& issues) {
  const int fields = s.principals_size() + s.not_principals_size() + s.request_principals_size() +
                     s.not_request_principals_size() + s.namespaces_size() +
                     s.not_namespaces_size() + s.service_accounts_size() +
                     s.not_service_accounts_size() + s.ip_blocks_size() + s.not_ip_blocks_size() +
                     s.remote_ip_blocks_size() + s.not_remote_ip_blocks_size() +
                     s.trust_domains_size() + s.not_trust_domains_size();
  if (fields == 0) issues.error(path, "source must set at least one field");
  if (s.principals_size() + s.not_principals_size() + s.namespaces_size() +
              s.not_namespaces_size() >
          0 &&
      s.service_accounts_size() + s.not_service_accounts_size() > 0) {
    issues.error(path, "serviceAccounts cannot be combined with principals or namespaces");
  }
  checkValues(s.principals(), field(path, "principals"), "principal", issues);
  checkValues(s.not_principals(), field(path, "notPrincipals"), "principal", issues);
  checkValues(s.request_principals(), field(path, "requestPrincipals"), "request principal",
              issues);
  checkValues(s.not_request_principals(), field(path, "notRequestPrincipals"), "request principal",
              issues);
  checkValues(s.namespaces(), field(path, "namespaces"), "namespace", issues);
  checkValues(s.not_namespaces(), field(path, "notNamespaces"), "namespace", issues);
  checkServiceAccounts(s.service_accounts(), field(path, "serviceAccounts"), issues);
  checkServiceAccounts(s.not_service_accounts(), field(path, "notServiceAccounts"), issues);
  checkTrustDomains(s.trust_domains(), field(path, "trustDomains"), issues);
  checkTrustDomains(s.not_trust_domains(), field(path, "notTrustDomains"), issues);
  checkIps(s.ip_blocks(), field(path, "ipBlocks"), "ipBlock", issues);
  checkIps(s.not_ip_blocks(), field(path, "notIpBlocks"), "ipBlock", issues);
  checkIps(s.remote_ip_blocks(), field(path, "remoteIpBlocks"), "remoteIpBlock", issues);
  checkIps(s.not_remote_ip_blocks(), field(path, "notRemoteIpBlocks"), "remoteIpBlock", issues);
}

void checkMethods(const Strings& methods, const std::string& path, Issues& issues) {
  for (int i = 0; i < methods.size(); ++i) {
    const std::string at = item(path, static_cast<size_t>(i));
    if (methods[i].empty()) {
      issues.error(at, "method must not be empty");
    } else if (methods[i] != absl::AsciiStrToUpper(methods[i])) {
      issues.warning(at, absl::StrCat("method ", q(methods[i]),
                                      " never matches: HTTP methods are uppercase, as in ",
                                      q(absl::AsciiStrToUpper(methods[i]))));
    }
  }
}

void checkOperation(const sec::Operation& o, const std::string& path, Issues& issues) {
  if (o.hosts_size() + o.not_hosts_size() + o.ports_size() + o.not_ports_size() + o.methods_size() +
          o.not_methods_size() + o.paths_size() + o.not_paths_size() ==
      0) {
    issues.error(path, "operation must set at least one field");
  }
  checkValues(o.hosts(), field(path, "hosts"), "host", issues);
  checkValues(o.not_hosts(), field(path, "notHosts"), "host", issues);
  checkPorts(o.ports(), field(path, "ports"), issues);
  checkPorts(o.not_ports(), field(path, "notPorts"), issues);
  checkMethods(o.methods(), field(path, "methods"), issues);
  checkMethods(o.not_methods(), field(path, "notMethods"), issues);
  checkPaths(o.paths(), field(path, "paths"), issues);
  checkPaths(o.not_paths(), field(path, "notPaths"), issues);
}

// Keys written as name[entry], such as request.headers[User-Agent].
bool hasEntry(const std::string& key) {
  const size_t open = key.find('[');
  return absl::EndsWith(key, "]") && open != std::string::npos && open > 0 && open + 2 < key.size();
}

void checkCondition(const sec::Condition& c, const std::string& path, Issues& issues) {
  const std::string& k = c.key();
  if (k.empty()) {
    issues.error(field(path, "key"), "key is required");
    return;
  }
  if (c.values_size() == 0 && c.not_values_size() == 0) {
    issues.error(path, absl::StrCat("values or notValues is required for key ", q(k)));
    return;
  }
  const std::string kp = field(path, "key");
  for (const auto* list : {&c.values(), &c.not_values()}) {
    const std::string lp = field(path, list == &c.values() ? "values" : "notValues");
    if (k == "source.ip" || k == "remote.ip" || k == "destination.ip") {
      checkIps(*list, lp, "value", issues);
    } else if (k == "destination.port") {
      checkPorts(*list, lp, issues);
    } else if (k == "source.serviceAccount") {
      checkServiceAccounts(*list, lp, issues);
    } else if (k == "source.trustDomain") {
      checkTrustDomains(*list, lp, issues);
    } else {
      for (int i = 0; i < list->size(); ++i) {
        if ((*list)[i].empty()) {
          issues.error(item(lp, static_cast<size_t>(i)),
                       absl::StrCat("value for key ", q(k), " must not be empty"));
        }
      }
    }
  }
  if (absl::StartsWith(k, "request.headers") || absl::StartsWith(k, "request.auth.claims") ||
      absl::StartsWith(k, "experimental.envoy.filters.")) {
    if (!hasEntry(k)) {
      issues.error(kp, absl::StrCat("key ", q(k), " must name an entry, as in ",
                                    q("request.headers[x-user]")));
    }
  } else if (k == "destination.namespace") {
    issues.error(kp,
                 "key \"destination.namespace\" is not supported; a policy applies to its own "
                 "namespace");
  } else if (absl::StartsWith(k, "destination.labels")) {
    issues.error(kp, absl::StrCat("key ", q(k), " is not supported; use the selector instead"));
  } else if (k == "destination.name" || k == "destination.user") {
    issues.error(kp, absl::StrCat("key ", q(k), " is no longer supported"));
  } else if (k != "source.ip" && k != "remote.ip" && k != "source.namespace" &&
             k != "source.serviceAccount" && k != "source.principal" && k != "source.trustDomain" &&
             k != "request.auth.principal" && k != "request.auth.audiences" &&
             k != "request.auth.presenter" && k != "destination.ip" && k != "destination.port" &&
             k != "connection.sni") {
    issues.error(kp, absl::StrCat("key ", q(k),
                                  " is unknown; expected request.headers[...], source.ip, "
                                  "remote.ip, source.namespace, source.serviceAccount, "
                                  "source.principal, source.trustDomain, request.auth.principal, "
                                  "request.auth.audiences, request.auth.presenter, "
                                  "request.auth.claims[...], destination.ip, destination.port, "
                                  "connection.sni or experimental.envoy.filters.*"));
  }
}

// CUSTOM (external authorization) runs before authentication, so identities are unknown.
void checkCustomRule(const sec::Rule& rule, const std::string& path, Issues& issues) {
  for (int j = 0; j < rule.from_size(); ++j) {
    const sec::Source& s = rule.from(j).source();
    const std::string sp = field(item(field(path, "from"), static_cast<size_t>(j)), "source");
    const std::pair<int, const char*> fields[] = {
        {s.namespaces_size(), "namespaces"},
        {s.not_namespaces_size(), "notNamespaces"},
        {s.service_accounts_size(), "serviceAccounts"},
        {s.not_service_accounts_size(), "notServiceAccounts"},
        {s.trust_domains_size(), "trustDomains"},
        {s.not_trust_domains_size(), "notTrustDomains"},
        {s.principals_size(), "principals"},
        {s.not_principals_size(), "notPrincipals"},
        {s.request_principals_size(), "requestPrincipals"},
        {s.not_request_principals_size(), "notRequestPrincipals"}};
    for (const auto& [count, name] : fields) {
      if (count > 0) {
        issues.error(field(sp, name), absl::StrCat(name, " is not supported with action CUSTOM"));
      }
    }
  }
  for (int j = 0; j < rule.when_size(); ++j) {
    const std::string& k = rule.when(j).key();
    if (k == "source.namespace" || k == "source.serviceAccount" || k == "source.trustDomain" ||
        k == "source.principal" || absl::StartsWith(k, "request.auth.")) {
      issues.error(field(item(field(path, "when"), static_cast<size_t>(j)), "key"),
                   absl::StrCat("key ", q(k), " is not supported with action CUSTOM"));
    }
  }
}

void checkRule(const sec::Rule& rule, sec::AuthorizationPolicy::Action action,
               const std::string& path, Issues& issues) {
  bool from_exists = false, to_exists = false, tcp_in_from = false, tcp_in_to = false;
  for (int j = 0; j < rule.from_size(); ++j) {
    const std::string fp = item(field(path, "from"), static_cast<size_t>(j));
    if (!rule.from(j).has_source()) {
      issues.error(field(fp, "source"), "source is required");
      continue;
    }
    const sec::Source& s = rule.from(j).source();
    from_exists = true;
    tcp_in_from = tcp_in_from || s.principals_size() + s.not_principals_size() +
                                         s.ip_blocks_size() + s.not_ip_blocks_size() +
                                         s.namespaces_size() + s.not_namespaces_size() +
                                         s.remote_ip_blocks_size() + s.not_remote_ip_blocks_size() +
                                         s.service_accounts_size() + s.not_service_accounts_size() >
                                     0;
    checkSource(s, field(fp, "source"), issues);
  }
  for (int j = 0; j < rule.to_size(); ++j) {
    const std::string tp = item(field(path, "to"), static_cast<size_t>(j));
    if (!rule.to(j).has_operation()) {
      issues.error(field(tp, "operation"), "operation is required");
      continue;
    }
    const sec::Operation& o = rule.to(j).operation();
    to_exists = true;
    tcp_in_to = tcp_in_to || o.ports_size() + o.not_ports_size() > 0;
    checkOperation(o, field(tp, "operation"), issues);
  }
  for (int j = 0; j < rule.when_size(); ++j) {
    checkCondition(rule.when(j), item(field(path, "when"), static_cast<size_t>(j)), issues);
  }
  if (action == sec::AuthorizationPolicy::DENY &&
      ((from_exists && !to_exists && !tcp_in_from) || (to_exists && !tcp_in_to))) {
    issues.warning(path,
                   "this DENY rule uses only HTTP attributes, so it denies all traffic to "
                   "TCP ports in the policy's scope; set ports to limit it");
  }
}

}  // namespace

void validateAuthorizationPolicy(const sec::AuthorizationPolicy& spec, Issues& issues) {
  using Policy = sec::AuthorizationPolicy;
  checkPolicyTargets(issues, spec);
  if (spec.action() == Policy::CUSTOM) {
    if (spec.rules_size() == 0) {
      issues.error("spec.rules",
                   "a CUSTOM policy without rules never applies; add an empty rule "
                   "{} to apply it to every request");
    } else if (!spec.has_provider() || spec.provider().name().empty()) {
      issues.error("spec.provider.name", "provider.name is required with action CUSTOM");
    }
    for (int i = 0; i < spec.rules_size(); ++i) {
      checkCustomRule(spec.rules(i), item("spec.rules", static_cast<size_t>(i)), issues);
    }
  } else if (spec.has_provider()) {
    issues.error("spec.provider", absl::StrCat("provider is allowed only with action CUSTOM, not ",
                                               Policy::Action_Name(spec.action())));
  }
  if (spec.action() == Policy::DENY && spec.rules_size() == 0) {
    issues.error("spec.rules",
                 "a DENY policy without rules never applies; add an empty rule {} "
                 "to deny every request");
  }
  for (int i = 0; i < spec.rules_size(); ++i) {
    checkRule(spec.rules(i), spec.action(), item("spec.rules", static_cast<size_t>(i)), issues);
  }
}

}  // namespace ambit::config::validate
