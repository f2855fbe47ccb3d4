// The waypoint's HTTP/1.1 codec, without I/O: incremental decoders for requests and responses and
// the encoder that writes a message on to the next hop. The caller owns the sockets and buffers.
//
// Decoding rests on Boost.Beast's parser, with the checks a proxy needs on top of it so that the
// waypoint and the server behind it can never disagree on where a message ends (request
// smuggling). A request is refused when:
//   - it has both Content-Length and Transfer-Encoding (400), or Content-Length values that differ
//     or do not parse (400);
//   - its Transfer-Encoding is not a well-formed list ending in exactly one `chunked` (400), or
//     names another coding before it, which the waypoint does not decode (501); an HTTP/1.0
//     message with Transfer-Encoding is refused too (400);
//   - a field name is not a token, a value holds control characters, a line ends in a bare CR, a
//     field is folded over several lines (obs-fold) or the chunked framing is malformed (400);
//   - HTTP/1.1 without a Host, several Host fields or an invalid one (400);
//   - the header is longer than max_header_bytes (431) or the body than max_body_bytes (413).
// Targets: origin-form ("/path?query") passes as is, "*" only for OPTIONS. An absolute-form
// target ("http://host/path") is normalized to origin-form with its authority as the Host; when
// the request also has a Host naming anything else (default ports aside), it is refused (400), so
// that the routing decision and the upstream always see the same authority. CONNECT is not
// supported (501); other forms are refused (400).
//
// Every error leaves the connection unusable (`close`), except a request refused for its target,
// Host or method that had no body: the decoder then consumes it whole and reports the error at its
// end, so the caller can answer it and read on, unless the request itself asked to close.
//
// Trailer fields of chunked messages are checked for syntax and dropped: the encoder re-frames
// bodies with Content-Length, which has no room for them.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "waypoint/http/http_message.h"

namespace ambit::waypoint {

struct Http1Limits {
  std::size_t max_header_bytes = 60 * 1024;  // start line and fields, with their line ends
  std::size_t max_body_bytes = 1024 * 1024;  // the decoded body (chunk framing excluded)
};

enum class Http1DecodeState {
  kNeedMore,  // the message is not complete: feed more bytes
  kComplete,  // a whole message is ready to take
  kError,     // the bytes are not an acceptable message: see error()
};

struct Http1Error {
  int status = 0;  // the status to answer with: 400, 413, 431, 501 (and see the response decoder)
  std::string reason;  // what was wrong, for logs and the body of the local reply
  bool close = true;   // the connection cannot carry another message
};

// Decodes the requests of one connection, one after the other. Not thread-safe.
class Http1RequestDecoder {
 public:
  explicit Http1RequestDecoder(Http1Limits limits = {});
  ~Http1RequestDecoder();
  Http1RequestDecoder(Http1RequestDecoder&&) noexcept;
  Http1RequestDecoder& operator=(Http1RequestDecoder&&) noexcept;

  // Offers the next bytes of the connection and returns how many were consumed. Bytes that end an
  // incomplete line are kept inside the decoder and count as consumed; bytes after the end of a
  // message are not consumed (pipelining): offer them again once the message has been taken. Once
  // the state is kComplete or kError, feed() consumes nothing.
  std::size_t feed(std::string_view data);

  Http1DecodeState state() const;
  // The request; whole once kComplete (while decoding, what has been read so far).
  const HttpRequest& request() const;
  // Moves the complete request out and readies the decoder for the next one.
  HttpRequest takeRequest();
  // Valid in kError.
  const Http1Error& error() const;
  // Forgets the current message (complete or not) and any error; the next byte starts a request.
  void reset();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Decodes the responses of one upstream connection. A response's framing depends on the request it
// answers, so each starts with the request's method. Errors carry the status that describes the
// fault (400, 413, 431, 501) but are the upstream's: a proxy answers its client 502 whatever the
// status, and always closes the upstream connection.
//
// A 1xx response is interim: it completes with no body, and the final response follows (101
// Switching Protocols ends HTTP on the connection). Responses to HEAD, 204, 304 and 2xx responses
// to CONNECT have no body whatever their fields say. A response with neither Content-Length nor
// Transfer-Encoding ends when the connection closes: needsEof() then turns true, and the caller
// reports the close with finishOnEof().
class Http1ResponseDecoder {
 public:
  explicit Http1ResponseDecoder(std::string_view request_method, Http1Limits limits = {});
  ~Http1ResponseDecoder();
  Http1ResponseDecoder(Http1ResponseDecoder&&) noexcept;
  Http1ResponseDecoder& operator=(Http1ResponseDecoder&&) noexcept;

  // As Http1RequestDecoder::feed().
  std::size_t feed(std::string_view data);
  // The upstream closed the connection: completes a response delimited by the close, or turns an
  // unfinished one into an error (a close before any byte of a response is an error too).
  Http1DecodeState finishOnEof();

  Http1DecodeState state() const;
  // The body runs to the close of the connection (known once the header is read).
  bool needsEof() const;
  const HttpResponse& response() const;
  // Moves the complete response out and readies the decoder for the response to `next_method`.
  HttpResponse takeResponse(std::string_view next_method);
  const Http1Error& error() const;
  void reset(std::string_view request_method);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Writes a request as HTTP/1.1 for the next hop: hop-by-hop fields (see removeHopByHopHeaders)
// and any Content-Length are left out, and the body is framed with a Content-Length of its size,
// written whenever the body is not empty, the request had a Content-Length or the method is POST,
// PUT or PATCH. The Host field is written as it is in `request.headers`: the caller sets it for a
// request that came without one. With `close`, adds "Connection: close".
std::string encodeRequest(const HttpRequest& request, bool close = false);

// Writes a response as HTTP/1.1 for the client, framed like encodeRequest(). 1xx and 204
// responses get neither Content-Length nor body. A response to HEAD (`head_request`) and a 304
// get no body: they keep the Content-Length received from upstream (the size of the
// representation), or, for a locally made reply with a body, get its size. With `close`, adds
// "Connection: close".
std::string encodeResponse(const HttpResponse& response, bool head_request, bool close = false);

// Removes the fields that concern one connection only: Connection, Keep-Alive, Proxy-Connection,
// TE, Trailer, Transfer-Encoding, Upgrade, and every field the Connection fields name.
void removeHopByHopHeaders(HttpHeaders& headers);

// Whether the client's connection may carry another request after this one: HTTP/1.1 unless a
// Connection field says "close", HTTP/1.0 only when it says "keep-alive".
bool keepAlive(const HttpRequest& request);
// The same for a response and the upstream connection it came on.
bool keepAlive(const HttpResponse& response);

// A reply made by the waypoint itself: the standard reason phrase, a text/plain body and its
// Content-Length.
HttpResponse simpleResponse(int status, std::string_view body);

// The standard reason phrase of a status code ("Not Found"), or "Unknown".
std::string_view reasonPhrase(int status);

}  // namespace ambit::waypoint
