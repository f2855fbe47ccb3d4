#include "waypoint/route/hosts.h"

#include <arpa/inet.h>

#include <algorithm>
#include <utility>

#include <absl/strings/str_cat.h>

#include "waypoint/route/text.h"

namespace ambit::waypoint {

HostResolver::HostResolver(const std::string& domain_suffix,
                           std::set<std::string, std::less<>> namespaces)
    : domain_suffix_(toLower(domain_suffix)), namespaces_(std::move(namespaces)) {}

std::string HostResolver::resolve(std::string_view host, std::string_view namespace_) const {
  std::string name = toLower(host);
  if (isWildcardHost(name) || isIpLiteral(name)) return name;
  const auto dots = std::count(name.begin(), name.end(), '.');
  if (dots == 0) return absl::StrCat(name, ".", av(namespace_), ".svc.", domain_suffix_);
  if (dots == 1) {
    const std::string_view second = std::string_view(name).substr(name.find('.') + 1);
    if (namespaces_.count(second) > 0) return absl::StrCat(name, ".svc.", domain_suffix_);
    return name;
  }
  if (dots == 2 && name.ends_with(".svc")) return absl::StrCat(name, ".", domain_suffix_);
  return name;
}

std::string_view HostResolver::namespaceOf(std::string_view fqdn) const {
  const std::string suffix = absl::StrCat(".svc.", domain_suffix_);
  if (!fqdn.ends_with(suffix)) return {};
  const std::string_view rest = fqdn.substr(0, fqdn.size() - suffix.size());  // "name.namespace"
  const size_t dot = rest.rfind('.');
  if (dot == std::string_view::npos) return {};
  return rest.substr(dot + 1);
}

bool isWildcardHost(std::string_view host) { return host == "*" || host.starts_with("*."); }

bool hostMatches(std::string_view pattern, std::string_view host) {
  if (pattern == "*" || pattern == host) return true;
  if (!pattern.starts_with("*.")) return false;
  const std::string_view suffix = pattern.substr(1);  // ".suffix"
  return host.size() > suffix.size() && host.ends_with(suffix);
}

bool isIpLiteral(std::string_view host) {
  if (host.empty() || host.size() > 45) return false;
  const std::string text(host);
  unsigned char bytes[16];
  return inet_pton(AF_INET, text.c_str(), bytes) == 1 ||
         inet_pton(AF_INET6, text.c_str(), bytes) == 1;
}

}  // namespace ambit::waypoint
