// Upstream sockets the agent opens inside a pod's network namespace. Both carry SO_MARK = the
// capture mark (CaptureConfig::mark) so the capture rules leave them alone. Wrap the fd in Asio
// with `tcp::socket socket(executor, protocol, fd.release())` and connect it.
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange

#include <sys/socket.h>

#include <cstdint>

#include <boost/asio/ip/tcp.hpp>

#include "agent/netns/netns.h"
#include "core/status.h"

namespace ambit::agent {

// For delivering an inbound connection to the app with the client's address as source: a TCP
// socket in `netns` with SO_MARK=`mark` and IP_TRANSPARENT (IPV6_TRANSPARENT), bound to
// `client_source`'s address. With port 0 in `client_source` the port is chosen at connect time
// (IP_BIND_ADDRESS_NO_PORT); with the client's port, a port other than that one is bound now
// (the accepted connection may hold the same addresses). Needs CAP_NET_ADMIN, and the capture's
// policy routing in `netns` so the app's replies to that non-local address come back here.
absl::StatusOr<UniqueFd> inboundUpstreamSocket(const Netns& netns,
                                               const boost::asio::ip::tcp::endpoint& client_source,
                                               uint32_t mark);

// For a pod's outbound connections to their upstream: a TCP socket in `netns` (family `domain`,
// AF_INET or AF_INET6) with SO_MARK=`mark` (none for 0), so it is not redirected back to the agent.
absl::StatusOr<UniqueFd> outboundUpstreamSocket(const Netns& netns, uint32_t mark,
                                                int domain = AF_INET);

}  // namespace ambit::agent
