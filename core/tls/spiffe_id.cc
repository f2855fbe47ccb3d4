#include "core/tls/spiffe_id.h"

#include <algorithm>
#include <vector>

#include <absl/strings/str_split.h>

#include "core/dns_names.h"

namespace ambit::tls {
namespace {

constexpr size_t kMaxUriLength = 2048;   // the SPIFFE limit for a whole ID
constexpr size_t kMaxTrustDomain = 255;  // the SPIFFE limit for the trust domain

bool isTrustDomainChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

// Returned text quotes the offending value; SPIFFE IDs are public, so echoing them is safe.
absl::Status bad(const std::string& uri, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("SPIFFE ID \"", uri, "\": ", why));
}

}  // namespace

absl::StatusOr<SpiffeId> SpiffeId::parse(const std::string& uri) {
  constexpr const char* kScheme = "spiffe://";
  if (uri.size() > kMaxUriLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SPIFFE ID is ", uri.size(), " characters long; the limit is ", kMaxUriLength));
  }
  if (uri.rfind(kScheme, 0) != 0) return bad(uri, "must start with spiffe://");
  const std::string rest = uri.substr(std::string(kScheme).size());
  const size_t slash = rest.find('/');
  if (slash == std::string::npos)
    return bad(uri, "has no path; expected /ns/<namespace>/sa/<name>");

  SpiffeId id;
  id.trust_domain = rest.substr(0, slash);
  if (!isTrustDomain(id.trust_domain)) {
    return bad(uri, "trust domain must be 1 to 255 of lowercase letters, digits, '.', '-', '_'");
  }

  const std::vector<std::string> parts = absl::StrSplit(rest.substr(slash + 1), '/');
  if (parts.size() != 4 || parts[0] != "ns" || parts[2] != "sa") {
    return bad(uri, "path must be /ns/<namespace>/sa/<service-account>");
  }
  id.ns = parts[1];
  id.service_account = parts[3];
  if (!isDns1123Label(id.ns)) {
    return bad(uri, "namespace must be a DNS-1123 label");
  }
  if (!isDns1123Subdomain(id.service_account)) {
    return bad(uri, "service account must be a DNS-1123 subdomain");
  }
  return id;
}

bool isTrustDomain(const std::string& value) {
  return !value.empty() && value.size() <= kMaxTrustDomain &&
         std::all_of(value.begin(), value.end(), isTrustDomainChar);
}

std::string SpiffeId::toString() const {
  return absl::StrCat("spiffe://", trust_domain, "/ns/", ns, "/sa/", service_account);
}

std::string SpiffeId::principal() const {
  return absl::StrCat(trust_domain, "/ns/", ns, "/sa/", service_account);
}

}  // namespace ambit::tls
