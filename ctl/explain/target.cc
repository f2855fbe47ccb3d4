#include "ctl/explain/target.h"

#include <algorithm>
#include <utility>
#include <vector>

#include <absl/strings/ascii.h>
#include <absl/strings/match.h>
#include <absl/strings/numbers.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_join.h>

#include "waypoint/route/hosts.h"

namespace ambit::ctl::explain {
namespace {

constexpr int kNdots = 5;  // Kubernetes' resolv.conf for pods

absl::string_view av(std::string_view text) { return absl::string_view(text.data(), text.size()); }

}  // namespace

absl::StatusOr<Url> parseUrl(std::string_view url) {
  std::string_view rest = url;
  if (const size_t scheme_end = rest.find("://"); scheme_end != std::string_view::npos) {
    const std::string scheme = absl::AsciiStrToLower(av(rest.substr(0, scheme_end)));
    if (scheme != "http") {
      return absl::InvalidArgumentError(
          absl::StrCat("URL ", av(url), ": only http:// URLs, the plain HTTP a waypoint routes"));
    }
    rest.remove_prefix(scheme_end + 3);
  }
  const size_t path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  std::string_view target = path_start == std::string_view::npos ? "" : rest.substr(path_start);
  if (const size_t fragment = target.find('#'); fragment != std::string_view::npos) {
    target = target.substr(0, fragment);
  }
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);  // user info is not part of the Host header
  }
  Url out;
  std::string_view host = authority;
  std::string_view port;
  if (absl::StartsWith(av(authority), "[")) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("URL ", av(url), ": unclosed [ in host"));
    }
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after[0] != ':') {
      return absl::InvalidArgumentError(absl::StrCat("URL ", av(url), ": bad host"));
    }
    if (!after.empty()) port = after.substr(1);
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return absl::InvalidArgumentError(absl::StrCat("URL ", av(url), ": no host"));
  out.host = absl::AsciiStrToLower(av(host));
  if (!port.empty()) {
    uint32_t number = 0;
    if (!absl::SimpleAtoi(av(port), &number) || number == 0 || number > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("URL ", av(url), ": bad port \"", av(port), "\""));
    }
    out.port = static_cast<uint16_t>(number);
  }
  out.target =
      target.empty() || target[0] != '/' ? absl::StrCat("/", av(target)) : std::string(target);
  const std::string bracketed =
      out.host.find(':') != std::string::npos ? absl::StrCat("[", out.host, "]") : out.host;
  out.authority = out.port == 80 ? bracketed : absl::StrCat(bracketed, ":", out.port);
  return out;
}

absl::StatusOr<ResolvedService> resolveService(const Inventory& inventory, std::string_view host,
                                               const std::string& namespace_) {
  if (waypoint::isIpLiteral(host)) {
    const config::Object* service = inventory.serviceByVip(host);
    if (service == nullptr) {
      return absl::NotFoundError(
          absl::StrCat(av(host), " is not the cluster IP of any Service of the loaded objects"));
    }
    return ResolvedService{
        service, Inventory::hostnameOf(*service),
        absl::StrCat("cluster IP of Service ", service->namespace_(), "/", service->name())};
  }
  std::string name = absl::AsciiStrToLower(av(host));
  const bool absolute = absl::EndsWith(name, ".");
  if (absolute) name.pop_back();
  // (candidate, how it came about), in the resolver's order.
  std::vector<std::pair<std::string, std::string>> candidates;
  if (!absolute) {
    const std::string search[] = {absl::StrCat(namespace_, ".svc.", kDomainSuffix),
                                  absl::StrCat("svc.", kDomainSuffix), kDomainSuffix};
    const std::string whys[] = {
        absl::StrCat("search domain ", search[0], ", the caller's namespace"),
        absl::StrCat("search domain ", search[1]), absl::StrCat("search domain ", search[2])};
    for (int i = 0; i < 3; ++i)
      candidates.emplace_back(absl::StrCat(name, ".", search[i]), whys[i]);
  }
  const auto dots = std::count(name.begin(), name.end(), '.');
  auto as_written = std::make_pair(name, std::string("the name as written"));
  if (absolute || dots >= kNdots) {
    candidates.insert(candidates.begin(), as_written);
  } else {
    candidates.push_back(as_written);
  }
  std::vector<std::string> tried;
  for (const auto& [candidate, why] : candidates) {
    if (const config::Object* service = inventory.serviceByHost(candidate)) {
      return ResolvedService{service, candidate, why};
    }
    tried.push_back(candidate);
  }
  return absl::NotFoundError(absl::StrCat("host ", av(host),
                                          " is not a Service of the loaded objects (tried ",
                                          absl::StrJoin(tried, ", "), ")"));
}

}  // namespace ambit::ctl::explain
