#include "core/config/validate/common.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <vector>

#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>
#include <absl/strings/str_split.h>
#include <re2/re2.h>

#include "core/config/duration.h"

namespace ambit::config::validate {
namespace {

bool isAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// A Kubernetes qualified name: 1..63 alphanumerics, '-', '_' or '.', alphanumeric at both ends.
std::string qualifiedNameProblem(const std::string& name) {
  if (name.empty()) return "the name part must not be empty";
  if (name.size() > 63) return "the name part is longer than 63 characters";
  if (!isAlnum(name.front()) || !isAlnum(name.back()) ||
      !std::all_of(name.begin(), name.end(),
                   [](char c) { return isAlnum(c) || c == '-' || c == '_' || c == '.'; })) {
    return "it must consist of letters, digits, '-', '_' or '.', starting and ending with a letter "
           "or digit";
  }
  return "";
}

std::string labelKeyProblem(const std::string& k) {
  if (k.empty()) return "it must not be empty";
  const size_t slash = k.find('/');
  if (slash != std::string::npos) {
    const std::string prefix = k.substr(0, slash);
    if (prefix.empty() || prefix.size() > 253 || !isDns1123Subdomain(prefix)) {
      return absl::StrCat("prefix ", q(prefix), " is not a DNS subdomain");
    }
    return qualifiedNameProblem(k.substr(slash + 1));
  }
  return qualifiedNameProblem(k);
}

std::string labelValueProblem(const std::string& v) {
  if (v.empty()) return "";
  if (v.size() > 63) return "it is longer than 63 characters";
  if (!isAlnum(v.front()) || !isAlnum(v.back()) || !std::all_of(v.begin(), v.end(), [](char c) {
        return isAlnum(c) || c == '-' || c == '_' || c == '.';
      })) {
    return "it must consist of letters, digits, '-', '_' or '.', starting and ending with a letter "
           "or digit";
  }
  return "";
}

}  // namespace

std::string field(const std::string& path, const char* name) {
  return path.empty() ? std::string(name) : absl::StrCat(path, ".", name);
}

std::string item(const std::string& path, size_t index) {
  return absl::StrCat(path, "[", index, "]");
}

std::string key(const std::string& path, const std::string& map_key) {
  const bool bare = !map_key.empty() && std::all_of(map_key.begin(), map_key.end(), [](char c) {
    return isAlnum(c) || c == '-' || c == '_';
  });
  return bare ? absl::StrCat(path, ".", map_key) : absl::StrCat(path, "[\"", map_key, "\"]");
}

std::string q(const std::string& value) {
  std::string out = "\"";
  for (const char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += absl::StrFormat("\\x%02x", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

void checkHost(Issues& issues, const std::string& path, const std::string& host, const char* what) {
  if (host.empty()) {
    issues.error(path, absl::StrCat(what, " is required"));
    return;
  }
  if (const std::string problem = dnsNameProblem(host, true); !problem.empty()) {
    issues.error(path, absl::StrCat(what, " ", q(host), " is invalid: ", problem));
  }
}

void checkPort(Issues& issues, const std::string& path, int64_t port, const char* what) {
  if (port < 1 || port > 65535) {
    issues.error(path, absl::StrCat(what, " must be between 1 and 65535, got ", port));
  }
}

void checkPercent(Issues& issues, const std::string& path, double value, const char* what) {
  if (value < 0 || value > 100) {
    issues.error(path, absl::StrCat(what, " must be between 0 and 100, got ", value));
  } else if (value > 0 && value < 0.0001) {
    issues.error(path, absl::StrCat(what, " must be 0 or at least 0.0001, got ", value));
  }
}

void checkIntPercent(Issues& issues, const std::string& path, int64_t value, const char* what) {
  if (value < 0 || value > 100) {
    issues.error(path, absl::StrCat(what, " must be between 0 and 100, got ", value));
  }
}

int64_t durationNanos(const google::protobuf::Duration& d) {
  constexpr int64_t kMaxSeconds = INT64_MAX / 1000000000 - 1;
  if (d.seconds() > kMaxSeconds) return INT64_MAX;
  if (d.seconds() < -kMaxSeconds) return INT64_MIN;
  return d.seconds() * 1000000000 + d.nanos();
}

void checkDuration(Issues& issues, const std::string& path, const google::protobuf::Duration& d,
                   const char* what) {
  const int64_t nanos = durationNanos(d);
  if (nanos < 1000000) {
    issues.error(path, absl::StrCat(what, " must be at least 1ms, got ", formatDuration(d)));
  } else if (nanos % 1000000 != 0) {
    issues.error(path, absl::StrCat(what, " must be a whole number of milliseconds, got ",
                                    formatDuration(d)));
  }
}

void checkRegex(Issues& issues, const std::string& path, const std::string& regex) {
  if (regex.empty()) {
    issues.error(path, "regex must not be empty");
    return;
  }
  if (regex.size() > 1024) {
    issues.error(path, absl::StrCat("regex is ", regex.size(),
                                    " characters long; at most 1024 are allowed"));
    return;
  }
  RE2::Options options;
  options.set_log_errors(false);
  const RE2 re(regex, options);
  if (!re.ok()) {
    issues.error(path, absl::StrCat("regex ", q(regex), " does not compile: ", re.error()));
  }
}

void checkStringMatch(Issues& issues, const std::string& path,
                      const istio::networking::v1alpha3::StringMatch& match, StringMatchUse use) {
  using istio::networking::v1alpha3::StringMatch;
  switch (match.match_type_case()) {
    case StringMatch::kExact:
      if (use == StringMatchUse::kCorsOrigin && match.exact().empty()) {
        issues.error(field(path, "exact"), "exact must not be empty");
      }
      break;
    case StringMatch::kPrefix:
      if (use != StringMatchUse::kUri && match.prefix().empty()) {
        issues.error(field(path, "prefix"), "prefix must not be empty");
      }
      break;
    case StringMatch::kRegex:
      if (use == StringMatchUse::kWithoutHeader && match.regex() == "*") break;
      checkRegex(issues, field(path, "regex"), match.regex());
      break;
    case StringMatch::MATCH_TYPE_NOT_SET:
      if (use == StringMatchUse::kCorsOrigin) {
        issues.error(path, "one of exact, prefix or regex is required");
      } else if (use == StringMatchUse::kUri || use == StringMatchUse::kStrict) {
        issues.warning(path,
                       "no match type is set, so this matches everything; set one of "
                       "exact, prefix or regex");
      }
      break;
  }
}

void checkLabels(Issues& issues, const std::string& path, const StringMap& labels) {
  for (const std::string& k : sortedKeys(labels)) {
    const std::string& v = labels.at(k);
    if (const std::string problem = labelKeyProblem(k); !problem.empty()) {
      issues.error(key(path, k), absl::StrCat("label key ", q(k), " is invalid: ", problem));
    }
    if (const std::string problem = labelValueProblem(v); !problem.empty()) {
      issues.error(key(path, k), absl::StrCat("label value ", q(v), " is invalid: ", problem));
    }
  }
}

void checkWorkloadSelector(Issues& issues, const std::string& path, const StringMap& labels) {
  if (labels.empty()) {
    issues.warning(path, "selector has no labels, so it selects every workload in the namespace");
    return;
  }
  StringMap plain;
  for (const std::string& k : sortedKeys(labels)) {
    const std::string& v = labels.at(k);
    if (k.find('*') != std::string::npos || v.find('*') != std::string::npos) {
      issues.error(key(path, k),
                   absl::StrCat("wildcards are not supported in selectors, got ", q(k + "=" + v)));
    } else {
      plain[k] = v;
    }
  }
  checkLabels(issues, path, plain);
}

void checkTargetRef(Issues& issues, const std::string& path,
                    const istio::type::v1beta1::PolicyTargetReference& ref) {
  if (ref.name().empty()) issues.error(field(path, "name"), "name is required");
  if (!ref.namespace_().empty()) {
    issues.error(field(path, "namespace"),
                 absl::StrCat("namespace must not be set (references to other namespaces are not "
                              "supported), got ",
                              q(ref.namespace_())));
  }
  const std::string group = ref.group().empty() ? "core" : ref.group();
  const bool allowed = (group == "core" && ref.kind() == "Service") ||
                       (group == "networking.istio.io" && ref.kind() == "ServiceEntry") ||
                       (group == "gateway.networking.k8s.io" &&
                        (ref.kind() == "Gateway" || ref.kind() == "GatewayClass"));
  if (!allowed) {
    issues.error(
        field(path, "kind"),
        absl::StrCat("targetRef must refer to a Service, a ServiceEntry "
                     "(networking.istio.io), or a Gateway or GatewayClass "
                     "(gateway.networking.k8s.io), got ",
                     q(ref.group().empty() ? ref.kind() : ref.group() + "/" + ref.kind())));
  }
}

void checkExportTo(Issues& issues, const std::string& path,
                   const google::protobuf::RepeatedPtrField<std::string>& export_to,
                   bool service_entry) {
  std::set<std::string> seen;
  for (int i = 0; i < export_to.size(); ++i) {
    const std::string& e = export_to[i];
    const std::string at = item(path, static_cast<size_t>(i));
    if (!seen.insert(e).second) {
      issues.error(at, absl::StrCat("duplicate exportTo entry ", q(e)));
      continue;
    }
    if (e == "~" && !service_entry) {
      issues.error(at, "\"~\" is allowed only in service entries");
    } else if (e != "." && e != "*" && e != "~" && !isDns1123Label(e)) {
      issues.error(at, absl::StrCat("exportTo entry ", q(e),
                                    " is invalid: expected \".\", \"*\" or a namespace name"));
    }
  }
  if (export_to.size() > 1 && seen.count("*") > 0) {
    issues.error(path,
                 "\"*\" exports to every namespace and cannot be combined with other entries");
  }
  if (export_to.size() > 1 && seen.count("~") > 0) {
    issues.error(path, "\"~\" exports to no namespace and cannot be combined with other entries");
  }
}

void checkMatchValue(Issues& issues, const std::string& path, const std::string& value,
                     const char* what) {
  if (value.empty()) {
    issues.error(path, absl::StrCat(what, " must not be empty"));
    return;
  }
  if (value == "*") return;
  const auto stars = std::count(value.begin(), value.end(), '*');
  if (stars > 1) {
    issues.error(path,
                 absl::StrCat(what, " ", q(value), " is invalid: \"*\" may appear only once"));
  } else if (stars == 1 && value.front() != '*' && value.back() != '*') {
    issues.error(path, absl::StrCat(what, " ", q(value),
                                    " is invalid: \"*\" may appear only at the start or the end"));
  }
}

}  // namespace ambit::config::validate
