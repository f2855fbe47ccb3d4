#include "waypoint/proxy/stream_pump.h"

#include <vector>

namespace ambit::waypoint {

namespace asio = boost::asio;

asio::awaitable<bool> pump(agent::HboneConnection& from, int32_t from_stream,
                           agent::HboneConnection& to, int32_t to_stream, uint64_t& bytes) {
  std::vector<uint8_t> buffer(16 * 1024);
  for (;;) {
    absl::StatusOr<size_t> n = co_await from.readSome(from_stream, buffer);
    if (!n.ok()) {
      to.abortChannel(to_stream);
      co_return false;
    }
    if (*n == 0) {
      to.endChannel(to_stream);
      co_return true;
    }
    const absl::Status written =
        co_await to.writeAll(to_stream, std::span<const uint8_t>(buffer.data(), *n));
    if (!written.ok()) {
      from.abortChannel(from_stream);
      co_return false;
    }
    bytes += *n;
  }
}

asio::awaitable<void> pumpInto(std::shared_ptr<agent::HboneConnection> from, int32_t from_stream,
                               std::shared_ptr<agent::HboneConnection> to, int32_t to_stream,
                               uint64_t* bytes, bool* done, bool* clean, asio::steady_timer* wake) {
  *clean = co_await pump(*from, from_stream, *to, to_stream, *bytes);
  *done = true;
  wake->cancel();
}

}  // namespace ambit::waypoint
