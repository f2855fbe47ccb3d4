// A small synchronous HTTP/1.1 GET client for the admin and debug endpoints of Ambit's components
// (the control plane's /debug/syncz, an agent's or waypoint's /config_dump), with one deadline for
// the whole exchange so that a silent peer cannot hang ambitctl.
#pragma once

#include <chrono>
#include <string>

#include "core/status.h"

namespace ambit::ctl::proxy {

inline constexpr std::chrono::milliseconds kDefaultTimeout{10000};

struct HostPort {
  std::string host;  // a name or an IP address, without brackets
  std::string port;
};

// "host:port", "1.2.3.4:15000" or "[::1]:15000"; INVALID_ARGUMENT naming the problem otherwise.
absl::StatusOr<HostPort> parseHostPort(const std::string& address);

// GETs http://<address><path> and returns the body of a 200 answer. Errors name the URL:
// INVALID_ARGUMENT for a malformed address, UNAVAILABLE when it cannot be resolved or reached,
// the connection fails or nothing complete arrives within `timeout`, NOT_FOUND for a 404, and
// FAILED_PRECONDITION for any other status (with the first line of the body).
absl::StatusOr<std::string> httpGet(const std::string& address, const std::string& path,
                                    std::chrono::milliseconds timeout = kDefaultTimeout);

}  // namespace ambit::ctl::proxy
