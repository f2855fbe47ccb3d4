// One HBONE connection on one executor: a reader feeding the HTTP/2 session what TLS decrypts, a
// writer sending what the session serializes, and bridges between the session's CONNECT streams
// and plain TCP sockets (the app's side of each tunnel). The session decides everything about
// HTTP/2; this class only moves bytes and wakes the side that can make progress.
//
// Threads: everything runs on the executor of the TLS stream, which must not run handlers
// concurrently (an io_context run by one thread). Bytes from the peer are written straight to the
// app's socket when it has room and copied once into the stream's backlog when it has not; the
// session's flow control bounds that backlog to one stream window.
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/hbone/hbone_session.h"
#include "core/status.h"

namespace ambit::agent {

// How one tunnel ended.
struct TunnelResult {
  enum class End {
    kClosed,          // both directions ended cleanly
    kReset,           // the peer or this side reset the stream (`error_code`)
    kSocketError,     // the app's socket failed
    kConnectionLost,  // the HBONE connection went away
  };
  End end = End::kClosed;
  uint32_t error_code = 0;   // HTTP/2 error code for kReset
  uint64_t to_socket = 0;    // bytes from the tunnel written to the socket
  uint64_t from_socket = 0;  // bytes read from the socket sent into the tunnel
  std::string describe() const;
};

class HboneConnection : public std::enable_shared_from_this<HboneConnection> {
 public:
  using TlsStream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;

  // `label` names the connection in logs ("10.244.1.5:41234 -> 10.244.2.7:15008").
  HboneConnection(std::unique_ptr<TlsStream> stream, std::unique_ptr<hbone::HboneSession> session,
                  std::string label);
  ~HboneConnection();

  // Starts the reader and the writer; `on_closed` runs once, on the executor, when the connection
  // is gone. Streams' own callbacks beyond data (requests, responses) are the session's, set by
  // the owner before start().
  void start(std::function<void()> on_closed);

  hbone::HboneSession& session() { return *session_; }
  const std::string& label() const { return label_; }
  bool closed() const { return closed_; }

  // Wakes the writer: call after anything that may have queued output (a new stream, a response).
  void flush();

  // Carries `stream` to and from `socket` until both directions end, the stream is reset or the
  // connection is lost. The stream must be usable for data (server: after respond(200); client:
  // after a 200 response). The socket is closed when this returns.
  boost::asio::awaitable<TunnelResult> bridge(int32_t stream, boost::asio::ip::tcp::socket& socket);

  // Stream I/O without a socket, for a proxy that reads and writes a tunnel's bytes itself (the
  // waypoint's HTTP codecs), under the same flow control as bridge(). attachChannel() must be
  // called as soon as the stream is usable for data (server: right after respond(200); client:
  // when the 2xx arrives), before any other coroutine runs, and releaseChannel() when done: until
  // then the stream's state is kept even after it closes.
  void attachChannel(int32_t stream);
  // Up to out.size() bytes from the peer; 0 once the peer ended the stream and every byte was
  // read. An error when the stream was reset (ABORTED) or the connection lost (UNAVAILABLE).
  // With a `deadline`, DEADLINE_EXCEEDED when no byte came by then (the stream stays usable).
  boost::asio::awaitable<absl::StatusOr<size_t>> readSome(
      int32_t stream, std::span<uint8_t> out,
      std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);
  // Sends all of `bytes`, waiting for the peer's window as needed.
  boost::asio::awaitable<absl::Status> writeAll(int32_t stream, std::span<const uint8_t> bytes);
  // Half-closes the stream (END_STREAM after the bytes written).
  void endChannel(int32_t stream);
  // Resets the stream now (a timeout): a readSome() or writeAll() waiting on it returns ABORTED.
  // The stream's state stays until releaseChannel().
  void abortChannel(int32_t stream, uint32_t error_code = hbone::kCancel);
  // Done with a stream that ended well: END_STREAM is sent and the stream is forgotten once the
  // peer ends it too; bytes still arriving are acknowledged and dropped.
  void finishChannel(int32_t stream);
  // Done with the stream: reset with `error_code` if it is still open, then forget it.
  void releaseChannel(int32_t stream, uint32_t error_code = hbone::kCancel);

  // Graceful drain: GOAWAY, so streams in flight finish and the peer opens no new one.
  void drain();
  // Closes at once: every bridge ends with kConnectionLost.
  void close();

  std::chrono::steady_clock::time_point lastActive() const { return last_active_; }

  // Told of every stream that closes, bridged or not, before its bridge is: a client waiting for
  // a response learns that its stream was refused or reset.
  void setStreamObserver(std::function<void(int32_t stream, uint32_t error_code)> observer) {
    stream_observer_ = std::move(observer);
  }

 private:
  struct Bridge;

  boost::asio::awaitable<void> readLoop(std::shared_ptr<HboneConnection> self);
  boost::asio::awaitable<void> writeLoop(std::shared_ptr<HboneConnection> self);
  boost::asio::awaitable<void> socketWriter(Bridge& bridge);
  absl::Status channelError(const Bridge& bridge) const;
  void onData(int32_t stream, std::span<const uint8_t> bytes);
  void onEndOfStream(int32_t stream);
  void onClose(int32_t stream, uint32_t error_code);
  void onWritable(int32_t stream);
  Bridge& bridgeFor(int32_t stream);
  void finish();

  std::unique_ptr<TlsStream> stream_;
  std::unique_ptr<hbone::HboneSession> session_;
  const std::string label_;
  boost::asio::steady_timer write_wake_;
  std::function<void()> on_closed_;
  std::function<void(int32_t, uint32_t)> stream_observer_;
  bool closed_ = false;
  bool reader_done_ = false;
  bool writer_done_ = false;
  std::chrono::steady_clock::time_point last_active_ = std::chrono::steady_clock::now();
  // Per stream: the bridge's state, created by the first event (data may arrive before bridge()).
  std::unordered_map<int32_t, std::unique_ptr<Bridge>> bridges_;
};

}  // namespace ambit::agent
