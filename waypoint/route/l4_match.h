// One L4MatchAttributes of a VirtualService's tcp routes, compiled, and its evaluation against a
// connection.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "istio/networking/v1alpha3/virtual_service.pb.h"

namespace ambit::waypoint {

// What TCP route matching sees of a connection. Views only.
struct ConnectionView {
  uint16_t port = 0;                     // the destination port the client asked for
  std::string_view destination_address;  // the destination IP as text ("10.96.0.10")
  std::string_view source_address;       // the client's IP as text
  std::string_view source_namespace;
  const std::map<std::string, std::string>* source_labels = nullptr;  // may be null
};

// An IPv4 or IPv6 range.
struct Cidr {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // the first 4 for IPv4
  int prefix = 0;

  // "10.0.0.0/8", "fd00::/64" or a single address; nullopt when malformed.
  static std::optional<Cidr> parse(std::string_view text);
  // Whether the address literal `ip` lies in the range; false for malformed or other-family ones.
  bool contains(std::string_view ip) const;
};

// A compiled L4MatchAttributes.
struct L4Match {
  uint32_t port = 0;                      // 0: any
  std::vector<Cidr> destination_subnets;  // any of them; empty: any
  std::optional<Cidr> source_subnet;
  std::string source_namespace;
  std::vector<std::pair<std::string, std::string>> source_labels;
  std::string never;  // set when it can never hold here, and why
};

L4Match compileL4Match(const istio::networking::v1alpha3::L4MatchAttributes& match,
                       std::string_view where, std::vector<std::string>& notes);

// Whether `connection` satisfies every field `match` sets; when not and `why` is not null, `*why`
// says which field failed first.
bool matchesConnection(const L4Match& match, const ConnectionView& connection, std::string* why);

}  // namespace ambit::waypoint
