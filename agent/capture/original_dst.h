// The destination a redirected connection was originally sent to (before nftables' redirect).
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange

#include <boost/asio/ip/tcp.hpp>

#include "core/status.h"

namespace ambit::agent {

// For an accepted TCP socket `fd`: SO_ORIGINAL_DST (IPv4 sockets, and IPv6 sockets carrying a
// v4-mapped connection) or IP6T_SO_ORIGINAL_DST (IPv6), read from conntrack. A connection that
// was not redirected yields the listener's own address (callers must treat a destination equal to
// their listener as "not captured"); NOT_FOUND when conntrack has no entry for it.
absl::StatusOr<boost::asio::ip::tcp::endpoint> originalDestination(int fd);

}  // namespace ambit::agent
