#include "control/translate/ip.h"

#include <arpa/inet.h>

#include <array>

namespace ambit::control::translate {

std::optional<std::string> parseIp(const std::string& text) {
  if (text.find(':') == std::string::npos) {
    std::array<unsigned char, 4> v4{};
    // glibc's inet_pton, like netip, refuses leading zeros, short forms and trailing text.
    if (inet_pton(AF_INET, text.c_str(), v4.data()) != 1) return std::nullopt;
    return std::string(v4.begin(), v4.end());
  }
  const std::string address = text.substr(0, text.find('%'));
  if (address.size() + 1 == text.size()) return std::nullopt;  // "fe80::1%" has an empty zone
  std::array<unsigned char, 16> v6{};
  if (inet_pton(AF_INET6, address.c_str(), v6.data()) != 1) return std::nullopt;
  return std::string(v6.begin(), v6.end());
}

std::optional<IpPrefix> parseIpOrPrefix(const std::string& text) {
  const size_t slash = text.find('/');
  if (slash == std::string::npos) {
    std::optional<std::string> address = parseIp(text);
    if (!address) return std::nullopt;
    return IpPrefix{*address, static_cast<uint32_t>(address->size() * 8)};
  }
  const std::string address_text = text.substr(0, slash);
  const std::string bits = text.substr(slash + 1);
  if (address_text.find('%') != std::string::npos) return std::nullopt;  // no zones in prefixes
  std::optional<std::string> address = parseIp(address_text);
  if (!address || bits.empty() || bits.size() > 3) return std::nullopt;
  if (bits.size() > 1 && bits[0] == '0') return std::nullopt;
  uint32_t length = 0;
  for (char c : bits) {
    if (c < '0' || c > '9') return std::nullopt;
    length = length * 10 + static_cast<uint32_t>(c - '0');
  }
  if (length > address->size() * 8) return std::nullopt;
  return IpPrefix{*address, length};
}

std::string formatIp(const std::string& bytes) {
  char buffer[INET6_ADDRSTRLEN] = {};
  const int family = bytes.size() == 4 ? AF_INET : AF_INET6;
  if (bytes.size() != 4 && bytes.size() != 16) return "<invalid>";
  if (inet_ntop(family, bytes.data(), buffer, sizeof(buffer)) == nullptr) return "<invalid>";
  return buffer;
}

}  // namespace ambit::control::translate
