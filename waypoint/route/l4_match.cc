#include "waypoint/route/l4_match.h"

#include <arpa/inet.h>

#include <algorithm>

#include <absl/strings/numbers.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_join.h>

#include "waypoint/route/text.h"

namespace ambit::waypoint {
namespace {

namespace networking = istio::networking::v1alpha3;

// Parses an address literal into `out`; returns the family's bit count, or 0 when malformed.
int parseAddress(std::string_view text, std::array<uint8_t, 16>& out) {
  if (text.empty() || text.size() > 45) return 0;
  const std::string copy(text);
  if (inet_pton(AF_INET, copy.c_str(), out.data()) == 1) return 32;
  if (inet_pton(AF_INET6, copy.c_str(), out.data()) == 1) return 128;
  return 0;
}

}  // namespace

std::optional<Cidr> Cidr::parse(std::string_view text) {
  const size_t slash = text.find('/');
  Cidr out;
  const int bits = parseAddress(text.substr(0, slash), out.bytes);
  if (bits == 0) return std::nullopt;
  out.v6 = bits == 128;
  out.prefix = bits;
  if (slash != std::string_view::npos) {
    int prefix = -1;
    if (!absl::SimpleAtoi(av(text.substr(slash + 1)), &prefix) || prefix < 0 || prefix > bits) {
      return std::nullopt;
    }
    out.prefix = prefix;
  }
  return out;
}

bool Cidr::contains(std::string_view ip) const {
  std::array<uint8_t, 16> address{};
  const int bits = parseAddress(ip, address);
  if (bits == 0 || (bits == 128) != v6) return false;
  const int full = prefix / 8;
  if (!std::equal(bytes.begin(), bytes.begin() + full, address.begin())) return false;
  const int rest = prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (bytes[full] & mask) == (address[full] & mask);
}

L4Match compileL4Match(const networking::L4MatchAttributes& match, std::string_view where,
                       std::vector<std::string>& notes) {
  L4Match out;
  out.port = match.port();
  for (const std::string& subnet : match.destination_subnets()) {
    if (std::optional<Cidr> cidr = Cidr::parse(subnet)) {
      out.destination_subnets.push_back(*cidr);
    } else {
      notes.push_back(absl::StrCat(av(where), ": destination subnet \"", subnet,
                                   "\" is malformed: it never matches"));
    }
  }
  if (!match.destination_subnets().empty() && out.destination_subnets.empty()) {
    out.never = "no well-formed destination subnet";
  }
  if (!match.source_subnet().empty()) {
    out.source_subnet = Cidr::parse(match.source_subnet());
    if (!out.source_subnet)
      out.never = absl::StrCat("malformed sourceSubnet ", match.source_subnet());
  }
  out.source_namespace = match.source_namespace();
  for (const auto& [key, value] : match.source_labels()) out.source_labels.emplace_back(key, value);
  std::sort(out.source_labels.begin(), out.source_labels.end());
  const auto& gateways = match.gateways();
  if (!gateways.empty() && std::find(gateways.begin(), gateways.end(), "mesh") == gateways.end()) {
    out.never = absl::StrCat("bound to gateways [", absl::StrJoin(gateways, ", "), "], not mesh");
  }
  if (!out.never.empty()) notes.push_back(absl::StrCat(av(where), ": never matches: ", out.never));
  return out;
}

bool matchesConnection(const L4Match& match, const ConnectionView& connection, std::string* why) {
  const auto fail = [why](auto&&... parts) {
    if (why != nullptr) *why = absl::StrCat(parts...);
    return false;
  };
  if (!match.never.empty()) return fail(match.never);
  if (match.port != 0 && match.port != connection.port) {
    return fail("port ", match.port, " not satisfied");
  }
  if (!match.destination_subnets.empty() &&
      std::none_of(
          match.destination_subnets.begin(), match.destination_subnets.end(),
          [&](const Cidr& cidr) { return cidr.contains(connection.destination_address); })) {
    return fail("destinationSubnets not satisfied");
  }
  if (match.source_subnet && !match.source_subnet->contains(connection.source_address)) {
    return fail("sourceSubnet not satisfied");
  }
  if (!match.source_namespace.empty() && match.source_namespace != connection.source_namespace) {
    return fail("sourceNamespace \"", match.source_namespace, "\" not satisfied");
  }
  for (const auto& [key, value] : match.source_labels) {
    const auto* labels = connection.source_labels;
    const bool equal = labels != nullptr && labels->count(key) > 0 && labels->at(key) == value;
    if (!equal) return fail("sourceLabels ", key, "=\"", value, "\" not satisfied");
  }
  return true;
}

}  // namespace ambit::waypoint
