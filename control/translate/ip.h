// IP addresses and CIDR ranges as the workload and authorization APIs carry them: raw bytes (4
// for IPv4, 16 for IPv6) with a prefix length, parsed with Go's net/netip rules as istiod does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace ambit::control::translate {

// The bytes of an IPv4 or IPv6 address ("10.0.0.1", "fd00::1"); an IPv6 zone is dropped.
std::optional<std::string> parseIp(const std::string& text);

struct IpPrefix {
  std::string address;  // 4 or 16 bytes, as written (not masked)
  uint32_t length = 0;
};

// "1.2.3.4" (length 32), "fd00::1" (128) or "10.0.0.0/8"; nullopt when malformed.
std::optional<IpPrefix> parseIpOrPrefix(const std::string& text);

// The text form of 4 or 16 address bytes ("10.0.0.1", "fd00::1"), for notes and golden headers.
std::string formatIp(const std::string& bytes);

}  // namespace ambit::control::translate
