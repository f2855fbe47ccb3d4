// Copying one HBONE stream into another, for the streams the waypoint carries as TCP.
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange

#include <cstdint>
#include <memory>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "agent/tunnel/hbone_connection.h"

namespace ambit::waypoint {

// Copies `from`'s stream into `to`'s until it ends (END_STREAM passed on: true) or fails (the
// other side is reset: false); `bytes` counts what was copied.
boost::asio::awaitable<bool> pump(agent::HboneConnection& from, int32_t from_stream,
                                  agent::HboneConnection& to, int32_t to_stream, uint64_t& bytes);

// pump() as a coroutine of its own: sets *clean and *done when it ends and wakes `wake`. Takes
// parameters rather than captures, so nothing it uses lives in a temporary closure; the caller
// keeps the pointed-to values alive until *done.
boost::asio::awaitable<void> pumpInto(std::shared_ptr<agent::HboneConnection> from,
                                      int32_t from_stream,
                                      std::shared_ptr<agent::HboneConnection> to, int32_t to_stream,
                                      uint64_t* bytes, bool* done, bool* clean,
                                      boost::asio::steady_timer* wake);

}  // namespace ambit::waypoint
