#include "core/hbone/authority.h"
#include "core/port_number.h"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace ambit::hbone {

namespace {

absl::Status invalid(std::string_view authority) {
  return absl::InvalidArgumentError(absl::StrCat("hbone: authority \"", std::string(authority),
                                                 "\" is not <ipv4>:<port> or [<ipv6>]:<port>"));
}

}  // namespace

absl::StatusOr<HboneAuthority> parseAuthority(std::string_view authority) {
  HboneAuthority out;
  std::string address;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find("]:");
    if (close == std::string_view::npos) return invalid(authority);
    address = std::string(authority.substr(1, close - 1));
    port = authority.substr(close + 2);
    out.ipv6 = true;
  } else {
    const size_t colon = authority.rfind(':');
    if (colon == std::string_view::npos) return invalid(authority);
    address = std::string(authority.substr(0, colon));
    port = authority.substr(colon + 1);
  }
  const std::optional<uint16_t> number = parsePortNumber(port);
  if (!number) return invalid(authority);
  out.port = *number;

  // inet_pton is strict (no leading zeros, no zone ids, four parts for IPv4); inet_ntop then gives
  // one spelling per address so that targets compare equal however the peer wrote them.
  char canonical[INET6_ADDRSTRLEN];
  if (out.ipv6) {
    in6_addr raw;
    if (inet_pton(AF_INET6, address.c_str(), &raw) != 1) return invalid(authority);
    if (inet_ntop(AF_INET6, &raw, canonical, sizeof(canonical)) == nullptr) {
      return invalid(authority);
    }
  } else {
    in_addr raw;
    if (inet_pton(AF_INET, address.c_str(), &raw) != 1) return invalid(authority);
    if (inet_ntop(AF_INET, &raw, canonical, sizeof(canonical)) == nullptr) {
      return invalid(authority);
    }
  }
  out.address = canonical;
  return out;
}

std::string formatAuthority(std::string_view address, uint16_t port) {
  if (address.find(':') != std::string_view::npos) {
    return absl::StrCat("[", std::string(address), "]:", port);
  }
  return absl::StrCat(std::string(address), ":", port);
}

}  // namespace ambit::hbone
