// The decoders: Boost.Beast's basic_parser reads the syntax, a subclass collects the message and
// runs Ambit's checks (http1_checks.h) on the header, and DecoderCore handles the byte accounting.
//
// Beast consumes only whole units (a header line, a chunk-size line, the trailer section) and
// wants the unconsumed rest offered again with more bytes behind it. DecoderCore keeps that rest in
// `pending_` and reports it consumed: an unfinished unit always belongs to the current message, so
// the count returned for the call that completes a message is exact and pipelined bytes stay with
// the caller.
#include <utility>  // before Beast: Boost 1.74's Asio needs std::exchange

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <type_traits>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

#include "waypoint/http/http1_checks.h"
#include "waypoint/http/http1_codec.h"

namespace ambit::waypoint {
namespace {

namespace bhttp = boost::beast::http;
using boost::beast::error_code;
using boost::beast::string_view;

// Beast 1.74 speaks boost::string_view.
std::string_view view(string_view s) { return {s.data(), s.size()}; }

template <bool kRequest>
using MessageOf = std::conditional_t<kRequest, HttpRequest, HttpResponse>;

// Collects one message from Beast's callbacks and checks its header.
template <bool kRequest>
class Parser final : public bhttp::basic_parser<kRequest> {
 public:
  explicit Parser(const Http1Limits& limits) {
    this->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(limits.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    this->body_limit(limits.max_body_bytes);
    max_body_bytes_ = limits.max_body_bytes;
  }

  MessageOf<kRequest> message;
  // Ambit's own refusal of the message. It stops Beast with an error, except on a request without
  // a body: that one is read to its end, so that the connection can go on.
  std::optional<http1::Refusal> refusal;

 private:
  void on_request_impl(bhttp::verb, string_view method, string_view target, int version,
                       error_code&) override {
    if constexpr (kRequest) {
      message.method = std::string(view(method));
      message.target = std::string(view(target));
      message.version = version;
    }
  }

  void on_response_impl(int status, string_view reason, int version, error_code&) override {
    if constexpr (!kRequest) {
      message.status = status;
      message.reason = std::string(view(reason));
      message.version = version;
    }
  }

  void on_field_impl(bhttp::field, string_view name, string_view value, error_code&) override {
    if (this->is_header_done()) return;  // a trailer field: dropped (see http1_codec.h)
    message.headers.add(view(name), view(value));
  }

  void on_header_impl(error_code& ec) override {
    if (auto refused = http1::checkFraming(message.headers, message.version)) {
      refusal = std::move(refused);
      ec = bhttp::error::bad_transfer_encoding;
      return;
    }
    if constexpr (kRequest) {
      if (auto refused = http1::checkRequestHead(message)) {
        refusal = std::move(refused);
        bool has_body = this->chunked() || this->content_length().value_or(0) > 0;
        if (has_body) ec = bhttp::error::bad_target;
      }
    }
  }

  void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override {
    if (length) message.body.reserve(std::min<std::uint64_t>(*length, max_body_bytes_));
  }

  std::size_t on_body_impl(string_view body, error_code&) override {
    message.body.append(body.data(), body.size());
    return body.size();
  }

  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}

  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override {
    message.body.append(body.data(), body.size());
    return body.size();
  }

  void on_finish_impl(error_code&) override {}

  std::size_t max_body_bytes_ = 0;
};

// What both decoders share: feeding Beast, header accounting, obs-fold detection, errors.
template <bool kRequest>
class DecoderCore {
 public:
  DecoderCore(Http1Limits limits, std::string_view request_method)
      : limits_(limits), request_method_(request_method) {
    start();
  }

  // Readies the decoder for a new message.
  void start() {
    parser_ = std::make_unique<Parser<kRequest>>(limits_);
    if constexpr (!kRequest) {
      if (request_method_ == "HEAD") parser_->skip(true);
    }
    pending_.clear();
    header_bytes_ = 0;
    after_lf_ = false;
    state_ = Http1DecodeState::kNeedMore;
    error_ = Http1Error{};
  }

  void start(std::string_view request_method) {
    request_method_ = std::string(request_method);
    start();
  }

  std::size_t feed(std::string_view data) {
    if (state_ != Http1DecodeState::kNeedMore) return 0;
    const std::size_t held = pending_.size();
    std::string_view input = data;
    if (held > 0) {
      pending_.append(data);
      input = pending_;
    }
    std::size_t used = skipEmptyLines(input);
    if (used < input.size() && input.substr(used) == "\r" && !parser_->got_some()) {
      pending_ = "\r";  // perhaps the start of one more empty line
      return data.size();
    }
    while (state_ == Http1DecodeState::kNeedMore && used < input.size()) {
      const bool in_header = !parser_->is_header_done();
      error_code ec;
      std::size_t n =
          parser_->put(boost::asio::const_buffer(input.data() + used, input.size() - used), ec);
      if (in_header) {
        header_bytes_ += n;
        if (hasObsFold(input.substr(used, n))) {
          fail(400, "header field folded over several lines (obs-fold)");
          break;
        }
      }
      used += n;
      if (ec == bhttp::error::need_more) break;
      if (ec) {
        failParse(ec);
        break;
      }
      if (in_header && parser_->is_header_done()) {
        if (header_bytes_ > limits_.max_header_bytes) {
          fail(431, "header too large");
          break;
        }
        parser_->eager(true);
      }
      if (parser_->is_done()) {
        finish();
        break;
      }
      if (n == 0) break;
    }
    if (state_ == Http1DecodeState::kNeedMore) {
      // The rest is an unfinished unit of this message: keep it and take the whole input.
      std::size_t rest = input.size() - used;
      if (!parser_->is_header_done() && header_bytes_ + rest > limits_.max_header_bytes) {
        fail(431, "header too large");
      } else if (parser_->is_header_done() && rest > limits_.max_header_bytes) {
        fail(400, "chunk-size line or trailer section too long");
      } else {
        pending_ = std::string(input.substr(used));  // copies before pending_ changes
        return data.size();
      }
    }
    pending_.clear();
    return used > held ? used - held : 0;
  }

  Http1DecodeState finishOnEof() {
    if (state_ != Http1DecodeState::kNeedMore) return state_;
    if (!parser_->got_some()) {
      fail(400, "connection closed before a message");
      return state_;
    }
    error_code ec;
    parser_->put_eof(ec);
    if (ec) {
      fail(400, "connection closed before the end of the message");
    } else if (parser_->is_done()) {
      finish();
    }
    return state_;
  }

  // Moves the message out; start() must follow before the next feed().
  MessageOf<kRequest> take() { return std::move(parser_->message); }

  Http1DecodeState state() const { return state_; }
  const MessageOf<kRequest>& message() const { return parser_->message; }
  const Http1Error& error() const { return error_; }
  bool needsEof() const { return parser_->is_header_done() && parser_->need_eof(); }

 private:
  // Empty lines before a request-line are ignored (RFC 9112 section 2.2), which tolerates the
  // CRLF some clients send after a body. A lone CR at the end waits for its LF (see feed()).
  std::size_t skipEmptyLines(std::string_view input) const {
    std::size_t used = 0;
    if (!kRequest || parser_->got_some()) return used;
    while (input.substr(used, 2) == "\r\n") used += 2;
    return used;
  }

  // Whether header bytes hold a line that starts with a space or tab after a line end. Beast
  // consumes a folded field whole, so a fold never spans two calls; after_lf_ guards anyway.
  bool hasObsFold(std::string_view bytes) {
    for (char c : bytes) {
      if (after_lf_ && (c == ' ' || c == '\t')) return true;
      after_lf_ = c == '\n';
    }
    return false;
  }

  void finish() {
    if (parser_->refusal) {
      bool close = true;
      if constexpr (kRequest) close = !keepAlive(parser_->message);
      fail(parser_->refusal->status, parser_->refusal->reason, close);
      return;
    }
    state_ = Http1DecodeState::kComplete;
  }

  void failParse(const error_code& ec) {
    if (parser_->refusal) {
      fail(parser_->refusal->status, parser_->refusal->reason);
    } else if (ec == bhttp::error::header_limit) {
      fail(431, "header too large");
    } else if (ec == bhttp::error::body_limit) {
      fail(413, "body too large");
    } else if (ec == bhttp::error::bad_version) {
      fail(400, "malformed or unsupported HTTP version");
    } else {
      fail(400, "malformed message: " + ec.message());
    }
  }

  void fail(int status, std::string reason, bool close = true) {
    state_ = Http1DecodeState::kError;
    error_ = Http1Error{status, std::move(reason), close};
  }

  Http1Limits limits_;
  std::string request_method_;  // responses: the method of the request answered
  std::unique_ptr<Parser<kRequest>> parser_;
  std::string pending_;           // consumed bytes Beast has yet to take: an unfinished unit
  std::size_t header_bytes_ = 0;  // header bytes Beast has taken so far
  bool after_lf_ = false;         // the last header byte taken was a line feed
  Http1DecodeState state_ = Http1DecodeState::kNeedMore;
  Http1Error error_;
};

}  // namespace

struct Http1RequestDecoder::Impl : DecoderCore<true> {
  using DecoderCore<true>::DecoderCore;
};

Http1RequestDecoder::Http1RequestDecoder(Http1Limits limits)
    : impl_(std::make_unique<Impl>(limits, "")) {}
Http1RequestDecoder::~Http1RequestDecoder() = default;
Http1RequestDecoder::Http1RequestDecoder(Http1RequestDecoder&&) noexcept = default;
Http1RequestDecoder& Http1RequestDecoder::operator=(Http1RequestDecoder&&) noexcept = default;

std::size_t Http1RequestDecoder::feed(std::string_view data) { return impl_->feed(data); }
Http1DecodeState Http1RequestDecoder::state() const { return impl_->state(); }
const HttpRequest& Http1RequestDecoder::request() const { return impl_->message(); }
HttpRequest Http1RequestDecoder::takeRequest() {
  HttpRequest request = impl_->take();
  impl_->start();
  return request;
}
const Http1Error& Http1RequestDecoder::error() const { return impl_->error(); }
void Http1RequestDecoder::reset() { impl_->start(); }

struct Http1ResponseDecoder::Impl : DecoderCore<false> {
  using DecoderCore<false>::DecoderCore;
};

Http1ResponseDecoder::Http1ResponseDecoder(std::string_view request_method, Http1Limits limits)
    : impl_(std::make_unique<Impl>(limits, request_method)) {}
Http1ResponseDecoder::~Http1ResponseDecoder() = default;
Http1ResponseDecoder::Http1ResponseDecoder(Http1ResponseDecoder&&) noexcept = default;
Http1ResponseDecoder& Http1ResponseDecoder::operator=(Http1ResponseDecoder&&) noexcept = default;

std::size_t Http1ResponseDecoder::feed(std::string_view data) { return impl_->feed(data); }
Http1DecodeState Http1ResponseDecoder::finishOnEof() { return impl_->finishOnEof(); }
Http1DecodeState Http1ResponseDecoder::state() const { return impl_->state(); }
bool Http1ResponseDecoder::needsEof() const { return impl_->needsEof(); }
const HttpResponse& Http1ResponseDecoder::response() const { return impl_->message(); }
HttpResponse Http1ResponseDecoder::takeResponse(std::string_view next_method) {
  HttpResponse response = impl_->take();
  impl_->start(next_method);
  return response;
}
const Http1Error& Http1ResponseDecoder::error() const { return impl_->error(); }
void Http1ResponseDecoder::reset(std::string_view request_method) { impl_->start(request_method); }

}  // namespace ambit::waypoint
