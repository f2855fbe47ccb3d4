#include "agent/tunnel/hbone_connection.h"

#include <algorithm>
#include <vector>

#include <absl/strings/str_cat.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "core/log.h"

namespace ambit::agent {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

std::shared_ptr<spdlog::logger> logger() { return log::get("hbone"); }

// Socket reads per tunnel; TLS records carry at most 16 KiB, so larger reads only help the app
// side.
constexpr size_t kSocketReadSize = 64 * 1024;
// TLS reads: several records per call when the peer sends fast.
constexpr size_t kTlsReadSize = 64 * 1024;

asio::awaitable<void> waitFor(asio::steady_timer& timer) {
  timer.expires_at(Clock::time_point::max());
  boost::system::error_code ignored;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
}

}  // namespace

std::string TunnelResult::describe() const {
  std::string how;
  switch (end) {
    case End::kClosed:
      how = "closed";
      break;
    case End::kReset:
      how = absl::StrCat("reset (HTTP/2 error ", error_code, ")");
      break;
    case End::kSocketError:
      how = "socket error";
      break;
    case End::kConnectionLost:
      how = "tunnel connection lost";
      break;
  }
  return absl::StrCat(how, ", ", from_socket, " bytes sent, ", to_socket, " bytes received");
}

// The state of one stream's bridge. Bytes from the tunnel wait in `backlog` while the socket has
// no room; `writing` holds the part being written, so appending never moves bytes under a write.
struct HboneConnection::Bridge {
  Bridge(int32_t stream, const asio::any_io_executor& executor)
      : id(stream), socket_wake(executor), tunnel_wake(executor), done_wake(executor) {}

  const int32_t id;
  tcp::socket* socket = nullptr;
  std::vector<uint8_t> backlog;
  size_t backlog_read = 0;  // a channel's read position in `backlog`
  bool channel = false;     // read and written with readSome() and writeAll()
  bool discard = false;     // finished: bytes from the peer are acknowledged and dropped
  std::vector<uint8_t> writing;
  bool peer_ended = false;  // END_STREAM from the peer
  bool closed = false;      // the stream is gone (see error_code) or the connection is
  uint32_t error_code = 0;  // the stream's close code
  bool connection_lost = false;
  bool tunnel_writable = true;     // false after a short send() until on_writable
  int running = 0;                 // the bridge's coroutines still running
  asio::steady_timer socket_wake;  // wakes the socket writer (backlog, end, close)
  asio::steady_timer tunnel_wake;  // wakes the socket reader (writable, close)
  asio::steady_timer done_wake;    // wakes bridge() when a coroutine ends
  TunnelResult result;
};

HboneConnection::HboneConnection(std::unique_ptr<TlsStream> stream,
                                 std::unique_ptr<hbone::HboneSession> session, std::string label)
    : stream_(std::move(stream)),
      session_(std::move(session)),
      label_(std::move(label)),
      write_wake_(stream_->get_executor()) {
  hbone::HboneStreamHandlers handlers;
  handlers.on_data = [this](int32_t id, std::span<const uint8_t> bytes) { onData(id, bytes); };
  handlers.on_end_of_stream = [this](int32_t id) { onEndOfStream(id); };
  handlers.on_close = [this](int32_t id, uint32_t code) { onClose(id, code); };
  handlers.on_writable = [this](int32_t id) { onWritable(id); };
  session_->setStreamHandlers(std::move(handlers));
}

HboneConnection::~HboneConnection() = default;

void HboneConnection::start(std::function<void()> on_closed) {
  on_closed_ = std::move(on_closed);
  auto self = shared_from_this();
  asio::co_spawn(stream_->get_executor(), readLoop(self), asio::detached);
  asio::co_spawn(stream_->get_executor(), writeLoop(self), asio::detached);
}

void HboneConnection::flush() { write_wake_.cancel(); }

void HboneConnection::drain() {
  session_->shutdown();
  flush();
}

HboneConnection::Bridge& HboneConnection::bridgeFor(int32_t stream) {
  auto it = bridges_.find(stream);
  if (it == bridges_.end()) {
    it = bridges_.emplace(stream, std::make_unique<Bridge>(stream, stream_->get_executor())).first;
  }
  return *it->second;
}

void HboneConnection::onData(int32_t stream, std::span<const uint8_t> bytes) {
  last_active_ = Clock::now();
  Bridge& bridge = bridgeFor(stream);
  if (bridge.closed) return;
  if (bridge.discard) {
    (void)session_->consumed(stream, bytes.size());
    return;
  }
  // Straight to the app when it has room: most bytes are never copied.
  if (bridge.socket != nullptr && bridge.backlog.empty() && bridge.writing.empty()) {
    boost::system::error_code ec;
    const size_t n = bridge.socket->write_some(asio::buffer(bytes.data(), bytes.size()), ec);
    if (!ec || ec == asio::error::would_block || ec == asio::error::try_again) {
      if (n > 0) {
        bridge.result.to_socket += n;
        (void)session_->consumed(stream, n);
        bytes = bytes.subspan(n);
      }
    } else {
      bridge.result.end = TunnelResult::End::kSocketError;
      (void)session_->reset(stream, hbone::kCancel);
      return;
    }
  }
  if (!bytes.empty()) {
    bridge.backlog.insert(bridge.backlog.end(), bytes.begin(), bytes.end());
    bridge.socket_wake.cancel();
  }
}

void HboneConnection::onEndOfStream(int32_t stream) {
  Bridge& bridge = bridgeFor(stream);
  bridge.peer_ended = true;
  bridge.socket_wake.cancel();
}

void HboneConnection::onClose(int32_t stream, uint32_t error_code) {
  if (stream_observer_) stream_observer_(stream, error_code);
  auto it = bridges_.find(stream);
  if (it == bridges_.end()) return;  // a stream never bridged (refused, or its bridge is done)
  Bridge& bridge = *it->second;
  bridge.closed = true;
  bridge.error_code = error_code;
  if (error_code != hbone::kNoError && bridge.socket != nullptr) {
    // A reset tunnel resets the app's connection too, and stops a read pending on it.
    boost::system::error_code ignored;
    bridge.socket->set_option(asio::socket_base::linger(true, 0), ignored);
    bridge.socket->close(ignored);
  }
  bridge.socket_wake.cancel();
  bridge.tunnel_wake.cancel();
  if (bridge.running == 0 && bridge.socket == nullptr && !bridge.channel) bridges_.erase(it);
}

void HboneConnection::onWritable(int32_t stream) {
  auto it = bridges_.find(stream);
  if (it == bridges_.end()) return;
  it->second->tunnel_writable = true;
  it->second->tunnel_wake.cancel();
}

asio::awaitable<void> HboneConnection::socketWriter(Bridge& bridge) {
  tcp::socket& socket = *bridge.socket;
  for (;;) {
    // A stream reset by either side drops what the app has not taken yet.
    const bool aborted = bridge.closed && (bridge.error_code != 0 || bridge.connection_lost);
    if (aborted) break;
    if (!bridge.backlog.empty()) {
      bridge.writing.swap(bridge.backlog);
      boost::system::error_code ec;
      const size_t n = co_await asio::async_write(socket, asio::buffer(bridge.writing),
                                                  asio::redirect_error(asio::use_awaitable, ec));
      bridge.writing.clear();
      if (ec) {
        if (!bridge.closed) {
          bridge.result.end = TunnelResult::End::kSocketError;
          (void)session_->reset(bridge.id, hbone::kCancel);
          flush();
        }
        break;
      }
      bridge.result.to_socket += n;
      if (!bridge.closed) {
        (void)session_->consumed(bridge.id, n);
        flush();  // the window update
      }
      continue;
    }
    if (bridge.peer_ended || bridge.closed) {
      boost::system::error_code ignored;
      socket.shutdown(tcp::socket::shutdown_send, ignored);
      break;
    }
    co_await waitFor(bridge.socket_wake);
  }
}

asio::awaitable<TunnelResult> HboneConnection::bridge(int32_t stream, tcp::socket& socket) {
  auto self = shared_from_this();  // the connection outlives its bridges
  Bridge& bridge = bridgeFor(stream);
  bridge.socket = &socket;
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  socket.non_blocking(true, ignored);  // for onData's direct writes

  // Tunnel to socket in its own coroutine; socket to tunnel here.
  ++bridge.running;
  asio::co_spawn(
      stream_->get_executor(),
      [](std::shared_ptr<HboneConnection> connection, Bridge& b) -> asio::awaitable<void> {
        co_await connection->socketWriter(b);
        --b.running;
        b.done_wake.cancel();
      }(self, bridge),
      asio::detached);

  // Reads go through one buffer per thread, so an idle tunnel holds no read buffer; bytes the
  // stream cannot take at once (its window is full) are copied into `held` until it can.
  thread_local std::vector<uint8_t> read_buffer(kSocketReadSize);
  std::vector<uint8_t> held;
  while (!bridge.closed) {
    boost::system::error_code ec;
    co_await socket.async_wait(tcp::socket::wait_read,
                               asio::redirect_error(asio::use_awaitable, ec));
    if (bridge.closed) break;
    size_t n = 0;
    if (!ec) n = socket.read_some(asio::buffer(read_buffer), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) continue;
    if (ec == asio::error::eof) {
      (void)session_->endStream(stream);
      flush();
      break;
    }
    if (ec) {
      bridge.result.end = TunnelResult::End::kSocketError;
      (void)session_->reset(stream, hbone::kCancel);
      flush();
      break;
    }
    last_active_ = Clock::now();
    std::span<const uint8_t> rest(read_buffer.data(), n);
    bool rest_is_held = false;
    while (!rest.empty() && !bridge.closed) {
      absl::StatusOr<size_t> taken = session_->send(stream, rest);
      if (!taken.ok()) {  // the stream is gone
        bridge.closed = true;
        if (bridge.error_code == 0) bridge.error_code = hbone::kCancel;
        bridge.socket_wake.cancel();
        break;
      }
      bridge.result.from_socket += *taken;
      rest = rest.subspan(*taken);
      flush();
      if (!rest.empty()) {
        if (!rest_is_held) {  // still in the shared buffer: keep a copy
          held.assign(rest.begin(), rest.end());
          rest = std::span<const uint8_t>(held.data(), held.size());
          rest_is_held = true;
        }
        bridge.tunnel_writable = false;
        while (!bridge.tunnel_writable && !bridge.closed) {
          co_await waitFor(bridge.tunnel_wake);
        }
      }
    }
  }
  while (bridge.running > 0) {
    co_await waitFor(bridge.done_wake);
  }

  TunnelResult result = bridge.result;
  if (bridge.connection_lost) {
    result.end = TunnelResult::End::kConnectionLost;
  } else if (result.end == TunnelResult::End::kClosed && bridge.error_code != hbone::kNoError) {
    result.end = TunnelResult::End::kReset;
    result.error_code = bridge.error_code;
  }
  if (result.end != TunnelResult::End::kClosed) {
    socket.set_option(asio::socket_base::linger(true, 0), ignored);
  }
  socket.close(ignored);
  bridges_.erase(stream);
  co_return result;
}

void HboneConnection::attachChannel(int32_t stream) { bridgeFor(stream).channel = true; }

absl::Status HboneConnection::channelError(const Bridge& bridge) const {
  if (bridge.connection_lost) {
    return absl::UnavailableError(absl::StrCat(label_, ": tunnel connection lost"));
  }
  return absl::AbortedError(absl::StrCat(label_, ": stream ", bridge.id, " reset (HTTP/2 error ",
                                         bridge.error_code, ")"));
}

asio::awaitable<absl::StatusOr<size_t>> HboneConnection::readSome(
    int32_t stream, std::span<uint8_t> out, std::optional<Clock::time_point> deadline) {
  auto self = shared_from_this();
  Bridge& bridge = bridgeFor(stream);
  for (;;) {
    const size_t available = bridge.backlog.size() - bridge.backlog_read;
    if (available > 0) {
      const size_t n = std::min(available, out.size());
      std::copy_n(bridge.backlog.begin() + static_cast<std::ptrdiff_t>(bridge.backlog_read), n,
                  out.begin());
      bridge.backlog_read += n;
      if (bridge.backlog_read == bridge.backlog.size()) {
        bridge.backlog.clear();
        bridge.backlog_read = 0;
      }
      bridge.result.to_socket += n;
      if (!bridge.closed) {
        (void)session_->consumed(stream, n);
        flush();  // the window update
      }
      co_return n;
    }
    if (bridge.closed && (bridge.error_code != hbone::kNoError || bridge.connection_lost)) {
      co_return channelError(bridge);
    }
    if (bridge.peer_ended || bridge.closed) co_return size_t{0};
    if (deadline) {
      if (Clock::now() >= *deadline) {
        co_return absl::DeadlineExceededError(absl::StrCat(label_, ": no bytes in time"));
      }
      // Wakes the wait below at the deadline; a wake-up for data cancels it.
      asio::steady_timer alarm(stream_->get_executor(), *deadline);
      alarm.async_wait([&bridge](boost::system::error_code ec) {
        if (!ec) bridge.socket_wake.cancel();
      });
      co_await waitFor(bridge.socket_wake);
      alarm.cancel();
    } else {
      co_await waitFor(bridge.socket_wake);
    }
  }
}

asio::awaitable<absl::Status> HboneConnection::writeAll(int32_t stream,
                                                        std::span<const uint8_t> bytes) {
  auto self = shared_from_this();
  Bridge& bridge = bridgeFor(stream);
  while (!bytes.empty()) {
    if (bridge.closed) co_return channelError(bridge);
    absl::StatusOr<size_t> taken = session_->send(stream, bytes);
    if (!taken.ok()) co_return taken.status();
    last_active_ = Clock::now();
    bridge.result.from_socket += *taken;
    bytes = bytes.subspan(*taken);
    flush();
    if (!bytes.empty()) {
      bridge.tunnel_writable = false;
      while (!bridge.tunnel_writable && !bridge.closed) {
        co_await waitFor(bridge.tunnel_wake);
      }
    }
  }
  co_return absl::OkStatus();
}

void HboneConnection::endChannel(int32_t stream) {
  (void)session_->endStream(stream);
  flush();
}

void HboneConnection::abortChannel(int32_t stream, uint32_t error_code) {
  Bridge& bridge = bridgeFor(stream);
  if (bridge.closed) return;
  (void)session_->reset(stream, error_code);
  flush();
  bridge.closed = true;
  bridge.error_code = error_code;
  bridge.socket_wake.cancel();
  bridge.tunnel_wake.cancel();
}

void HboneConnection::finishChannel(int32_t stream) {
  auto it = bridges_.find(stream);
  if (it == bridges_.end()) return;
  Bridge& bridge = *it->second;
  if (bridge.closed) {
    bridges_.erase(it);
    return;
  }
  (void)session_->endStream(stream);
  if (!bridge.backlog.empty()) {
    (void)session_->consumed(stream, bridge.backlog.size() - bridge.backlog_read);
  }
  bridge.backlog.clear();
  bridge.backlog_read = 0;
  bridge.channel = false;  // onClose forgets it
  bridge.discard = true;
  flush();
}

void HboneConnection::releaseChannel(int32_t stream, uint32_t error_code) {
  auto it = bridges_.find(stream);
  if (it != bridges_.end() && !it->second->closed) {
    (void)session_->reset(stream, error_code);
    flush();
  }
  it = bridges_.find(stream);  // reset() may have closed it, which keeps channels
  if (it != bridges_.end()) bridges_.erase(it);
}

asio::awaitable<void> HboneConnection::readLoop(
    std::shared_ptr<HboneConnection> /*keeps this alive*/) {
  std::vector<uint8_t> buffer(kTlsReadSize);
  while (!closed_) {
    boost::system::error_code ec;
    const size_t n = co_await stream_->async_read_some(
        asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
    if (closed_) break;
    if (ec) {
      if (ec != asio::error::eof && ec != asio::ssl::error::stream_truncated) {
        logger()->debug("{}: read: {}", label_, ec.message());
      }
      close();
      break;
    }
    last_active_ = Clock::now();
    const absl::Status fed = session_->feed(buffer.data(), n);
    flush();
    if (!fed.ok()) {
      // The writer sends what the session still holds (a GOAWAY saying why), then closes.
      logger()->warn("{}: {}", label_, std::string(fed.message()));
      break;
    }
  }
  reader_done_ = true;
  if (writer_done_) finish();
}

asio::awaitable<void> HboneConnection::writeLoop(
    std::shared_ptr<HboneConnection> /*keeps this alive*/) {
  while (!closed_) {
    if (session_->wantsWrite()) {
      const std::span<const uint8_t> out = session_->pendingOutput();
      if (out.empty()) continue;
      boost::system::error_code ec;
      const size_t n = co_await asio::async_write(*stream_, asio::buffer(out.data(), out.size()),
                                                  asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        logger()->debug("{}: write: {}", label_, ec.message());
        close();
        break;
      }
      session_->consumeOutput(n);
      continue;
    }
    if (session_->wantsClose()) {
      close();
      break;
    }
    co_await waitFor(write_wake_);
  }
  writer_done_ = true;
  if (reader_done_) finish();
}

void HboneConnection::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  stream_->lowest_layer().close(ignored);  // ends a pending read or write
  write_wake_.cancel();
  for (auto& [id, bridge] : bridges_) {
    bridge->closed = true;
    bridge->connection_lost = true;
    if (bridge->socket != nullptr) {
      bridge->socket->set_option(asio::socket_base::linger(true, 0), ignored);
      bridge->socket->close(ignored);
    }
    bridge->socket_wake.cancel();
    bridge->tunnel_wake.cancel();
  }
}

void HboneConnection::finish() {
  // Streams never bridged hold no coroutine; bridged ones erase themselves.
  for (auto it = bridges_.begin(); it != bridges_.end();) {
    const Bridge& b = *it->second;
    it = b.socket == nullptr && b.running == 0 && !b.channel ? bridges_.erase(it) : ++it;
  }
  if (on_closed_) {
    auto done = std::move(on_closed_);
    on_closed_ = nullptr;
    done();
  }
}

}  // namespace ambit::agent
