// The HTTP/2 layer of HBONE (TCP tunnels carried as HTTP/2 CONNECT streams over mutual TLS, as
// Istio's ztunnel speaks on port 15008), without I/O: a session owns an nghttp2 session and trades
// bytes with its caller, who moves them through TLS and the socket. HboneServerSession and
// HboneClientSession (hbone_server.h, hbone_client.h) add the two roles to what is shared here.
//
// Threads: a session is used from one thread (or strand). Callbacks run on it, only from inside
// feed() and pendingOutput(). A callback may call any method except feed(), and must not destroy
// the session.
//
// Output: pendingOutput() returns serialized bytes to write and consumeOutput(n) drops the n bytes
// written. Returned bytes stay valid and in place until consumed, whatever other calls happen
// meanwhile, so a writer may await its socket write while a reader keeps calling feed(). After any
// call, wantsWrite() tells whether there may be something to write; pendingOutput() can come back
// empty when a stream turns out to have nothing to send, and wantsWrite() is then false.
//
// Receiving: bytes given to on_data count against the stream's receive window (and the
// connection's) until acknowledged with consumed(); a consumer that stops acknowledging stops the
// peer after one stream window. Bytes still unacknowledged when a stream closes are credited back
// to the connection then.
//
// Sending: send() accepts at most stream_send_buffer unframed bytes per stream and returns how
// many it took; after a short count, on_writable follows once the stream's queue is half drained.
// Payload bytes are copied once into the output (straight from send()'s argument when the stream
// has window and the output is below its high-water mark, else through the stream's queue).
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/hbone/authority.h"
#include "core/hbone/buffers.h"
#include "core/status.h"

namespace ambit::hbone {

// Regular header fields in arrival order, names in lower case.
using HboneHeaders = std::vector<std::pair<std::string, std::string>>;

// HTTP/2 error codes (RFC 9113 section 7) given to reset() and reported by on_close.
inline constexpr uint32_t kNoError = NGHTTP2_NO_ERROR;
inline constexpr uint32_t kProtocolError = NGHTTP2_PROTOCOL_ERROR;
inline constexpr uint32_t kInternalError = NGHTTP2_INTERNAL_ERROR;
inline constexpr uint32_t kRefusedStream = NGHTTP2_REFUSED_STREAM;
inline constexpr uint32_t kCancel = NGHTTP2_CANCEL;
inline constexpr uint32_t kConnectError = NGHTTP2_CONNECT_ERROR;

struct HboneRequest {
  std::string method;
  std::string authority;
  std::string scheme;     // empty for CONNECT
  std::string path;       // empty for CONNECT
  std::string protocol;   // :protocol of an extended CONNECT (RFC 8441), usually empty
  HboneHeaders headers;   // forwarded, baggage, traceparent, ...
  HboneAuthority target;  // the parsed :authority, set on requests given to on_request

  // The first value of a header field, or nullptr.
  const std::string* header(std::string_view name) const;
};

struct HboneOptions {
  // Server: SETTINGS_MAX_CONCURRENT_STREAMS; streams beyond it are refused (REFUSED_STREAM).
  uint32_t max_concurrent_streams = 100;
  // Client: the server's limit assumed until its SETTINGS arrive.
  uint32_t assumed_peer_max_concurrent_streams = 100;
  // Receive windows: what the peer may send before consumed() acknowledges it. The connection's
  // is larger so that one stalled reader does not stall the other streams.
  uint32_t stream_window = 4 << 20;
  uint32_t connection_window = 16 << 20;
  // Largest frame the peer may send (SETTINGS_MAX_FRAME_SIZE).
  uint32_t max_frame_size = 1 << 20;
  // Largest DATA payload sent (also capped by the peer's SETTINGS_MAX_FRAME_SIZE); small enough
  // that streams sharing the connection interleave finely.
  uint32_t max_send_frame_size = 64 << 10;
  // Unframed bytes send() takes per stream.
  size_t stream_send_buffer = 256 << 10;
  // Serialized output beyond which no DATA is framed until the writer catches up.
  size_t output_high_water = 256 << 10;
  // Largest decoded header block accepted per request or response (SETTINGS_MAX_HEADER_LIST_SIZE).
  uint32_t max_header_list_size = 64 << 10;
  // Server: SETTINGS_ENABLE_CONNECT_PROTOCOL, letting requests carry :protocol.
  bool enable_connect_protocol = false;
};

struct HboneStreamHandlers {
  // Tunnel bytes from the peer; they count against the receive windows until consumed().
  std::function<void(int32_t stream, std::span<const uint8_t> bytes)> on_data;
  // The peer half-closed the stream (END_STREAM): no more on_data for it.
  std::function<void(int32_t stream)> on_end_of_stream;
  // The stream is gone, both sides having ended (kNoError) or either side having reset it (the
  // RST_STREAM code, kRefusedStream for a stream the server never took). The last callback for a
  // stream; it also follows the caller's own reset().
  std::function<void(int32_t stream, uint32_t error_code)> on_close;
  // A send() took fewer bytes than offered and the stream's queue has since drained to half.
  std::function<void(int32_t stream)> on_writable;
};

class HboneSession {
 public:
  virtual ~HboneSession();
  HboneSession(const HboneSession&) = delete;
  HboneSession& operator=(const HboneSession&) = delete;

  void setStreamHandlers(HboneStreamHandlers handlers) { handlers_ = std::move(handlers); }

  // Bytes read from the peer. An error means the connection is unusable (the peer broke HTTP/2,
  // flooded us, or closed with an error): write what pendingOutput() still holds (it may carry a
  // GOAWAY saying why), then close. No callbacks follow an error; streamIds() lists the streams
  // that were still open.
  absl::Status feed(std::span<const uint8_t> bytes);
  absl::Status feed(const uint8_t* data, size_t size) { return feed({data, size}); }

  std::span<const uint8_t> pendingOutput();
  void consumeOutput(size_t n);
  // All serialized bytes not yet consumed (pendingOutput() returns them a chunk at a time).
  size_t pendingOutputBytes() const { return out_.size(); }
  bool wantsWrite() const;
  // Nothing left to do: after shutdown() or the peer's GOAWAY every stream has closed, or the
  // session failed, and the output is written.
  bool wantsClose() const;

  // Queues tunnel bytes; returns how many were taken (possibly 0, see on_writable).
  absl::StatusOr<size_t> send(int32_t stream, std::span<const uint8_t> bytes);
  size_t queuedBytes(int32_t stream) const;
  // Half-closes the stream (END_STREAM after the queued bytes).
  absl::Status endStream(int32_t stream);
  absl::Status reset(int32_t stream, uint32_t error_code);
  // Acknowledges `n` bytes of on_data as processed, reopening the peer's window.
  absl::Status consumed(int32_t stream, size_t n);

  // Drain: GOAWAY with the last stream taken, so open streams finish and no new one is accepted.
  void shutdown();

  // Streams not yet closed, counting those the session is refusing itself.
  size_t activeStreams() const { return streams_.size(); }
  // The streams the caller knows and that have not closed, in order.
  std::vector<int32_t> streamIds() const;
  // OK until the session fails; then the error feed() returned.
  const absl::Status& status() const { return failed_; }

 protected:
  enum class Role { kClient, kServer };

  struct Stream {
    int32_t id = 0;
    bool visible = false;   // the caller knows the stream (and gets its callbacks)
    bool can_send = false;  // a DATA provider is attached
    bool end_requested = false;
    bool reset_requested = false;
    bool deferred = false;  // nghttp2 holds the DATA provider until resumed
    bool owes_writable = false;
    bool headers_done = false;  // request (server) or final response (client) received
    bool reset_after_response = false;
    size_t unconsumed = 0;
    size_t header_bytes = 0;
    ByteRing queue;
    std::span<const uint8_t> direct;  // send()'s argument while it is framed in place
    HboneRequest request;             // server: the request being received
    int status = 0;                   // client: the response being received
    HboneHeaders headers;
  };

  HboneSession(Role role, const HboneOptions& options);
  absl::Status init();

  // A complete request (server) or response (client) header block arrived on `stream`.
  virtual void onHeadersComplete(Stream& stream) = 0;

  Stream* find(int32_t id);
  const Stream* find(int32_t id) const;
  Stream& addStream(int32_t id, std::unique_ptr<Stream> stream);
  nghttp2_data_provider dataProvider(Stream& stream);
  // Appends `headers` to `nva` after checking they are valid, non-pseudo HTTP/2 fields.
  static absl::Status appendHeaders(const HboneHeaders& headers, std::vector<nghttp2_nv>& nva);
  static nghttp2_nv field(std::string_view name, std::string_view value);

  nghttp2_session* session_ = nullptr;
  const HboneOptions options_;
  HboneStreamHandlers handlers_;
  bool shutdown_ = false;
  int32_t goaway_last_stream_ = 0;  // the last peer stream taken, once shutdown() was called

 private:
  struct Callbacks;
  struct Event {
    bool close;  // else writable
    int32_t stream;
    uint32_t error_code;
  };

  void fail(absl::Status status);
  void flush();
  void deliverEvents();
  void resume(Stream& stream);
  void closeStream(int32_t id, uint32_t error_code);

  const Role role_;
  std::unordered_map<int32_t, std::unique_ptr<Stream>> streams_;
  OutputQueue out_;
  std::vector<Event> events_;  // raised while serializing, delivered by feed() or pendingOutput()
  absl::Status failed_;
  bool receiving_ = false;
  bool sending_ = false;
  bool delivering_ = false;
};

}  // namespace ambit::hbone
