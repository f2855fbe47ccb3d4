// Policy routing for source-preserving inbound delivery, shared by the capture modes. The agent
// delivers inbound connections to the app from the client's own address (IP_TRANSPARENT); the
// app's replies to that non-local address carry CaptureConfig::route_mark and are routed to the
// local stack, where the agent's socket takes them:
//   ip rule add fwmark <route_mark> lookup <route_table> priority 32764
//   ip route replace local 0.0.0.0/0 dev lo table <route_table>   (and ::/0 with IPv6)
// How replies get the mark differs: nftables mode sets it from conntrack, eBPF mode has the kernel
// copy the delivering SYN's mark onto the app's socket (net.ipv4.tcp_fwmark_accept).
#pragma once

#include "agent/capture/redirector.h"

namespace ambit::agent {

inline constexpr int kLocalRoutingPriority = 32764;

// Installs (replacing) the rule and routes above in `netns`.
absl::Status installLocalRouting(const Netns& netns, const CaptureConfig& config);
// Deletes every rule at kLocalRoutingPriority and flushes the tables they looked up; works
// without knowing the config installLocalRouting() used.
absl::Status removeLocalRouting(const Netns& netns);
// Sets a sysctl of `netns`, e.g. ("net/ipv4/tcp_fwmark_accept", "1").
absl::Status setNetnsSysctl(const Netns& netns, const std::string& key, const std::string& value);

}  // namespace ambit::agent
