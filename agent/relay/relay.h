// Copying bytes between two connected TCP sockets, both directions at once.
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange

#include <chrono>
#include <cstdint>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace ambit::agent {

struct RelayOptions {
  // Both sockets are closed after this long without a byte in either direction.
  std::chrono::steady_clock::duration idle_timeout = std::chrono::hours(1);
  // Buffer per direction: at most this many bytes are in the relay per direction (a direction
  // reads again only once its previous write completed).
  size_t buffer_size = 64 * 1024;
};

struct RelayResult {
  enum class End {
    kClosed,       // both directions reached EOF and were half-closed in turn
    kError,        // a read or write failed (`error`); both sockets were closed
    kIdleTimeout,  // idle_timeout without traffic; both sockets were closed
  };
  uint64_t a_to_b = 0;  // bytes written to b
  uint64_t b_to_a = 0;  // bytes written to a
  End end = End::kClosed;
  boost::system::error_code error;  // kError only
  // E.g. "closed, 10 bytes a->b, 20 bytes b->a".
  std::string describe() const;
};

// Relays between `a` and `b` until both directions are done. EOF read from one side becomes
// shutdown(send) on the other while the other direction keeps going. On an error or the idle
// timeout both sockets are closed at once. Both sockets are closed when this returns.
//
// Runs on the awaiting coroutine's executor, which must not run handlers concurrently (an
// io_context run by one thread, or a strand); the sockets must stay alive until it completes.
boost::asio::awaitable<RelayResult> relayBothWays(boost::asio::ip::tcp::socket& a,
                                                  boost::asio::ip::tcp::socket& b,
                                                  RelayOptions options = {});

}  // namespace ambit::agent
