// The target of an HBONE tunnel: the CONNECT request's :authority, which must be an IP address and
// port (`10.0.0.5:8080`, `[fd00::5]:8080`), never a host name, since the node agent dials it as is.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ambit::hbone {

struct HboneAuthority {
  std::string address;  // canonical text form, without brackets ("fd00::5")
  uint16_t port = 0;    // never 0
  bool ipv6 = false;
};

// Parses `<ipv4>:<port>` or `[<ipv6>]:<port>`; anything else (host names, a missing or zero port,
// IPv6 zone ids) is an error.
absl::StatusOr<HboneAuthority> parseAuthority(std::string_view authority);

// The :authority for an address and port, bracketing IPv6 addresses.
std::string formatAuthority(std::string_view address, uint16_t port);

}  // namespace ambit::hbone
