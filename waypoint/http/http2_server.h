// The server side of HTTP/2 in cleartext with prior knowledge (h2c, RFC 9113 section 3.3), without
// I/O: the waypoint's HBONE tunnels carry it. The client opens with the connection preface ("PRI *
// HTTP/2.0\r\n\r\nSM\r\n\r\n"); the codec turns its streams into whole requests (bodies buffered)
// and whole responses into frames. The caller owns the socket and moves the bytes.
//
// Requests (HttpRequest, version 20): :method and :path become the method and target; :authority
// becomes a Host field placed first (a Host field the client sent as well must name the same
// authority and is then dropped; without :authority, the client's Host moves first); :scheme is
// checked and dropped. Regular fields follow in arrival order, with the lower-case names HTTP/2
// requires; several cookie fields are joined into one ("; "), as RFC 9113 section 8.2.3 asks
// before a message goes on as HTTP/1.1. Trailers are dropped.
//
// nghttp2 checks the HTTP/2 rules of each request (pseudo-header fields present, valid and before
// the others, :authority or Host, no connection-specific fields, valid lower-case names and valid
// values, a Content-Length that matches the DATA) and resets a stream that breaks them with
// PROTOCOL_ERROR. The codec answers some requests itself, on their stream alone, and never hands
// them out: CONNECT (501); a :scheme other than http or https, a :path not in origin form ("*"
// only for OPTIONS), a Host that differs from :authority (400); a header list larger than
// max_header_list_size (431, counted as RFC 9113 section 6.5.2 does); a body larger than
// max_body_bytes (413, as soon as a Content-Length announces it or the DATA exceed it). When the
// client is still sending, the answer is followed by RST_STREAM(NO_ERROR) and the rest of its DATA
// is dropped.
//
// Flow control: DATA is acknowledged as it is buffered, so a stream's window stays open until its
// body is complete or over the limit; memory is bounded by max_concurrent_streams bodies of
// max_body_bytes each. Floods are left to nghttp2's own limits, set explicitly: at most 1000
// SETTINGS and PING acknowledgements queued (nghttp2_option_set_max_outbound_ack), 32 entries per
// SETTINGS frame (nghttp2_option_set_max_settings), incoming RST_STREAM rate-limited to a burst of
// 1000 and 33 a second (nghttp2_option_set_stream_reset_rate_limit, against "rapid reset"), 8
// CONTINUATION frames per header block (nghttp2_option_set_max_continuations). Serialized output
// stops growing at a high-water mark while the caller does not write it, so acknowledgements owed
// to a peer that does not read pile up inside nghttp2, where those limits count them. Streams
// beyond max_concurrent_streams are refused by nghttp2 (REFUSED_STREAM).
//
// Not thread-safe: one connection, one thread (or strand).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "core/status.h"
#include "waypoint/http/http_message.h"

namespace ambit::waypoint {

// HttpRequest::version of a request read from HTTP/2 (http_message.h knows 10 and 11).
inline constexpr int kHttp2Version = 20;

struct Http2Limits {
  uint32_t max_concurrent_streams = 100;      // SETTINGS_MAX_CONCURRENT_STREAMS
  uint32_t max_header_list_size = 60 * 1024;  // SETTINGS_MAX_HEADER_LIST_SIZE; beyond it, 431
  std::size_t max_body_bytes = 1 << 20;       // per request; beyond it, 413
  uint32_t initial_window = 1 << 20;          // SETTINGS_INITIAL_WINDOW_SIZE and the connection's
};

class Http2ServerCodec {
 public:
  static absl::StatusOr<std::unique_ptr<Http2ServerCodec>> create(Http2Limits limits = {});
  ~Http2ServerCodec();
  Http2ServerCodec(const Http2ServerCodec&) = delete;
  Http2ServerCodec& operator=(const Http2ServerCodec&) = delete;

  // Bytes from the client, starting with the connection preface. An error means the connection is
  // unusable (not HTTP/2, a protocol error, a flood, the client's GOAWAY with an error): write what
  // pendingOutput() still holds (it may carry a GOAWAY saying why), then close. Every later call
  // returns the same error. While the output is backed up (not written), the GOAWAY for a protocol
  // error waits behind it and the error shows in status() and wantsClose() once it is serialized.
  absl::Status feed(std::span<const uint8_t> bytes);

  // The requests completed since the last call, in the order they completed, each with its stream
  // id. A stream the client resets before its request is taken is left out.
  std::vector<std::pair<int32_t, HttpRequest>> takeRequests();

  // Answers a taken request with a whole response (status 200..599). Header names are lower-cased
  // and the fields that concern one connection are left out (removeHopByHopHeaders: Connection,
  // Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade and the fields Connection
  // names), which HTTP/2 forbids. Content-Length is set to the size of the body, except as
  // encodeResponse() does: 204 gets none, and 304 or a response to HEAD (`head_request`) keep the
  // one received when their body is empty; those three send no body. Fails, leaving the stream
  // unanswered, when the stream is gone (the client reset it), was answered, or a field is not
  // valid in HTTP/2.
  absl::Status respond(int32_t stream, const HttpResponse& response, bool head_request);

  // Serialized bytes to write (a chunk of them). They stay valid and in place until consumed,
  // whatever other calls happen meanwhile.
  std::span<const uint8_t> pendingOutput();
  // Drops the first `n` bytes of pendingOutput() once written.
  void consumeOutput(std::size_t n);
  // Whether there may be something to write; pendingOutput() may still come back empty, and then
  // wantsWrite() turns false.
  bool wantsWrite() const;
  // Nothing left to do: after shutdown() or the client's GOAWAY every stream has ended, or the
  // codec failed; and the output is written.
  bool wantsClose() const;

  // Graceful close: a GOAWAY naming the last stream received, so those streams finish and no new
  // one starts (the client retries later streams on another connection).
  void shutdown();

  // Streams not yet closed: being received, waiting for respond(), or sending their response.
  std::size_t openStreams() const;
  // OK until the codec fails; then the error feed() returned.
  const absl::Status& status() const;

 private:
  struct Impl;
  explicit Http2ServerCodec(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ambit::waypoint
