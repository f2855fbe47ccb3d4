// Http2ServerCodec over an nghttp2 server session: nghttp2 frames, checks and flow-controls; the
// callbacks here collect each stream's request and hand it out once its END_STREAM arrives.
#include "waypoint/http/http2_server.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <deque>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "waypoint/http/http1_codec.h"

namespace ambit::waypoint {

namespace {

constexpr uint32_t kMaxWindow = (1u << 31) - 1;
constexpr std::size_t kOutputChunk = 64 << 10;
// Serialized output beyond which nothing more is serialized until the caller writes: what nghttp2
// still holds is then what its flood limits count.
constexpr std::size_t kOutputHighWater = 256 << 10;

// nghttp2's flood limits, set explicitly (these are its defaults).
constexpr std::size_t kMaxOutboundAck = 1000;
constexpr std::size_t kMaxSettingsEntries = 32;
constexpr uint64_t kResetBurst = 1000;
constexpr uint64_t kResetsPerSecond = 33;
constexpr std::size_t kMaxContinuations = 8;

std::string_view text(const uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

const uint8_t* bytes(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

std::string lowerCase(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool allDigits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// nghttp2 has checked the value is a number; anything too long to hold is too large anyway.
bool lengthExceeds(std::string_view value, std::size_t limit) {
  value = trim(value);
  if (value.size() > 19) return true;
  std::size_t n = 0;
  for (const char c : value) n = n * 10 + static_cast<std::size_t>(c - '0');
  return n > limit;
}

std::string goawayText(const nghttp2_goaway& goaway) {
  std::string out = nghttp2_http2_strerror(goaway.error_code);
  if (goaway.opaque_data_len > 0) {
    absl::StrAppend(&out, " (", std::string(text(goaway.opaque_data, goaway.opaque_data_len)), ")");
  }
  return out;
}

absl::Status recvError(ssize_t rv) {
  switch (rv) {
    case NGHTTP2_ERR_BAD_CLIENT_MAGIC:
      return absl::InvalidArgumentError(
          "http2: the client did not open with the HTTP/2 connection preface");
    case NGHTTP2_ERR_FLOODED:
      return absl::ResourceExhaustedError(
          "http2: the client flooded the connection with frames that need answers it does not "
          "read");
    case NGHTTP2_ERR_NOMEM:
      return absl::ResourceExhaustedError("http2: out of memory");
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("http2: malformed input: ", nghttp2_strerror(static_cast<int>(rv))));
  }
}

// Serialized output in fixed chunks, so that bytes handed to the writer never move while more is
// appended behind them.
class OutputChunks {
 public:
  std::size_t size() const { return size_; }

  void append(const uint8_t* data, std::size_t n) {
    size_ += n;
    while (n > 0) {
      if (chunks_.empty() || chunks_.back().size() == chunks_.back().capacity()) {
        chunks_.emplace_back().reserve(kOutputChunk);
      }
      std::string& tail = chunks_.back();
      const std::size_t take = std::min(n, tail.capacity() - tail.size());
      tail.append(reinterpret_cast<const char*>(data), take);  // within capacity: no move
      data += take;
      n -= take;
    }
  }

  std::span<const uint8_t> front() const {
    if (chunks_.empty()) return {};
    const std::string& head = chunks_.front();
    return {bytes(head) + read_, head.size() - read_};
  }

  void consume(std::size_t n) {
    n = std::min(n, size_);
    size_ -= n;
    while (n > 0) {
      const std::size_t take = std::min(n, chunks_.front().size() - read_);
      read_ += take;
      n -= take;
      if (read_ == chunks_.front().size()) {
        chunks_.pop_front();
        read_ = 0;
      }
    }
  }

 private:
  std::deque<std::string> chunks_;
  std::size_t read_ = 0;  // consumed bytes of the first chunk
  std::size_t size_ = 0;
};

}  // namespace

struct Http2ServerCodec::Impl {
  struct Stream {
    int32_t id = 0;
    HttpRequest request;
    std::string authority;
    std::string scheme;
    bool has_authority = false;
    bool has_path = false;
    std::size_t header_bytes = 0;
    bool headers_done = false;
    int refusal = 0;          // the status the codec answers itself; the request is dropped
    std::string refusal_why;  // the body of that answer
    bool delivered = false;   // complete and handed to takeRequests()
    bool answered = false;
    bool reset_after_response = false;  // the client may still be sending: stop it once answered
    std::string body_out;               // the response body not yet framed
    std::size_t body_sent = 0;
  };

  explicit Impl(const Http2Limits& l) : limits(l) {}
  ~Impl() { nghttp2_session_del(session); }

  absl::Status init();
  void flush();
  void fail(absl::Status status) {
    if (failed.ok()) failed = std::move(status);
  }
  Stream* find(int32_t id) {
    const auto it = streams.find(id);
    return it == streams.end() ? nullptr : it->second.get();
  }
  void onRequestHeaders(Stream& stream);
  void onRequestEnd(Stream& stream);
  void refuse(Stream& stream, int status, std::string_view why);
  absl::Status submit(Stream& stream, const HttpResponse& response, bool head_request);

  // nghttp2 callbacks; user_data is the Impl.
  static int beginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user_data);
  static int header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                    std::size_t namelen, const uint8_t* value, std::size_t valuelen, uint8_t,
                    void* user_data);
  static int invalidHeader(nghttp2_session*, const nghttp2_frame*, const uint8_t*, std::size_t,
                           const uint8_t*, std::size_t, uint8_t, void*);
  static int frameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data);
  static int dataChunk(nghttp2_session* session, uint8_t, int32_t id, const uint8_t* data,
                       std::size_t len, void* user_data);
  static int frameSend(nghttp2_session* session, const nghttp2_frame* frame, void* user_data);
  static int streamClose(nghttp2_session*, int32_t id, uint32_t, void* user_data);
  static ssize_t readBody(nghttp2_session*, int32_t, uint8_t* buf, std::size_t length,
                          uint32_t* data_flags, nghttp2_data_source* source, void*);

  const Http2Limits limits;
  nghttp2_session* session = nullptr;
  std::unordered_map<int32_t, std::unique_ptr<Stream>> streams;
  std::vector<int32_t> ready;  // streams whose request is complete, in order
  OutputChunks out;
  absl::Status failed;
  bool shutting_down = false;
  int32_t goaway_last_stream = 0;
};

int Http2ServerCodec::Impl::beginHeaders(nghttp2_session*, const nghttp2_frame* frame,
                                         void* user_data) {
  Impl& self = *static_cast<Impl*>(user_data);
  if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
    auto stream = std::make_unique<Stream>();
    stream->id = frame->hd.stream_id;
    stream->request.version = kHttp2Version;
    self.streams[frame->hd.stream_id] = std::move(stream);
  }
  return 0;
}

int Http2ServerCodec::Impl::header(nghttp2_session*, const nghttp2_frame* frame,
                                   const uint8_t* name, std::size_t namelen, const uint8_t* value,
                                   std::size_t valuelen, uint8_t, void* user_data) {
  Impl& self = *static_cast<Impl*>(user_data);
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  Stream* stream = self.find(frame->hd.stream_id);
  if (stream == nullptr || stream->headers_done) return 0;  // trailers are dropped
  // RFC 9113 section 6.5.2 counts 32 bytes of overhead per field.
  stream->header_bytes += namelen + valuelen + 32;
  if (stream->header_bytes > self.limits.max_header_list_size) {
    // The rest of the block is still decoded (HPACK state is shared), but not kept.
    if (stream->refusal == 0) {
      stream->refusal = 431;
      stream->refusal_why = "request header fields too large";
    }
    stream->request.headers.fields.clear();
    return 0;
  }
  if (stream->refusal == 431) return 0;
  const std::string_view key = text(name, namelen);
  const std::string_view val = text(value, valuelen);
  HttpRequest& request = stream->request;
  if (key == ":method") {
    request.method = std::string(val);
  } else if (key == ":path") {
    request.target = std::string(val);
    stream->has_path = true;
  } else if (key == ":authority") {
    stream->authority = std::string(val);
    stream->has_authority = true;
  } else if (key == ":scheme") {
    stream->scheme = std::string(val);
  } else if (!key.starts_with(':')) {
    if (key == "content-length" && lengthExceeds(val, self.limits.max_body_bytes) &&
        stream->refusal == 0) {
      stream->refusal = 413;
      stream->refusal_why = "request body too large";
    }
    request.headers.add(key, val);
  }
  return 0;
}

int Http2ServerCodec::Impl::invalidHeader(nghttp2_session*, const nghttp2_frame*, const uint8_t*,
                                          std::size_t, const uint8_t*, std::size_t, uint8_t,
                                          void*) {
  // nghttp2 would drop a regular field with an invalid name or value and go on; RFC 9113 section
  // 8.2.1 makes the request malformed. nghttp2 resets the stream with PROTOCOL_ERROR.
  return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
}

void Http2ServerCodec::Impl::onRequestHeaders(Stream& stream) {
  stream.headers_done = true;
  if (shutting_down && stream.id > goaway_last_stream) {
    // Beyond the GOAWAY's last stream: the client treats it as never processed and retries it.
    nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream.id, NGHTTP2_REFUSED_STREAM);
    return;
  }
  HttpRequest& request = stream.request;
  if (stream.refusal != 0) {
    // Already decided while reading the fields (431, 413).
  } else if (request.method == "CONNECT") {
    stream.refusal = 501;
    stream.refusal_why = "CONNECT is not supported";
  } else if (!equalsIgnoreCase(stream.scheme, "http") &&
             !equalsIgnoreCase(stream.scheme, "https")) {
    stream.refusal = 400;
    stream.refusal_why = "unsupported :scheme";
  } else if (!stream.has_path || !(request.target.starts_with('/') ||
                                   (request.target == "*" && request.method == "OPTIONS"))) {
    stream.refusal = 400;
    stream.refusal_why = "invalid :path";
  } else if (std::optional<std::string_view> host = request.headers.get("host");
             stream.has_authority && host && !equalsIgnoreCase(*host, stream.authority)) {
    stream.refusal = 400;
    stream.refusal_why = "Host differs from :authority";
  }
  if (stream.refusal != 0) {
    refuse(stream, stream.refusal, stream.refusal_why);
    return;
  }

  // The authority as the first field, named as HTTP/1.1 names it; nghttp2 has made sure there is
  // one (:authority or Host, at most one Host).
  std::string authority =
      stream.has_authority ? stream.authority : std::string(*request.headers.get("host"));
  request.headers.remove("host");
  request.headers.fields.insert(request.headers.fields.begin(), {"host", std::move(authority)});

  if (request.headers.count("cookie") > 1) {
    std::string joined;
    for (std::string_view crumb : request.headers.getAll("cookie")) {
      if (!joined.empty()) joined.append("; ");
      joined.append(crumb);
    }
    request.headers.set("cookie", joined);
  }
}

void Http2ServerCodec::Impl::onRequestEnd(Stream& stream) {
  if (!stream.headers_done || stream.refusal != 0 || stream.delivered) return;
  if (shutting_down && stream.id > goaway_last_stream) return;  // refused
  stream.delivered = true;
  ready.push_back(stream.id);
}

void Http2ServerCodec::Impl::refuse(Stream& stream, int status, std::string_view why) {
  stream.refusal = status;
  stream.reset_after_response = true;
  stream.request.headers.fields.clear();
  std::string().swap(stream.request.body);
  const bool head = stream.request.method == "HEAD";
  if (!submit(stream, simpleResponse(status, why), head).ok()) {
    // Only nghttp2 can refuse a valid local answer (the stream is closing); reset instead.
    nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream.id, NGHTTP2_INTERNAL_ERROR);
  }
}

int Http2ServerCodec::Impl::frameRecv(nghttp2_session*, const nghttp2_frame* frame,
                                      void* user_data) {
  Impl& self = *static_cast<Impl*>(user_data);
  const int32_t id = frame->hd.stream_id;
  switch (frame->hd.type) {
    case NGHTTP2_HEADERS:
    case NGHTTP2_DATA:
      break;
    case NGHTTP2_GOAWAY:
      if (frame->goaway.error_code != NGHTTP2_NO_ERROR) {
        self.fail(absl::UnavailableError(
            absl::StrCat("http2: the client closed the connection: ", goawayText(frame->goaway))));
      }
      return 0;
    default:
      return 0;
  }
  Stream* stream = self.find(id);
  if (stream == nullptr) return 0;
  if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
    self.onRequestHeaders(*stream);
  }
  if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) self.onRequestEnd(*stream);
  return 0;
}

int Http2ServerCodec::Impl::dataChunk(nghttp2_session* session, uint8_t, int32_t id,
                                      const uint8_t* data, std::size_t len, void* user_data) {
  Impl& self = *static_cast<Impl*>(user_data);
  // Acknowledged as buffered (or dropped), so the window stays open while the body is in bounds.
  nghttp2_session_consume(session, id, len);
  Stream* stream = self.find(id);
  if (stream == nullptr || stream->refusal != 0 || stream->delivered) return 0;
  std::string& body = stream->request.body;
  if (len > self.limits.max_body_bytes - std::min(body.size(), self.limits.max_body_bytes)) {
    self.refuse(*stream, 413, "request body too large");
    return 0;
  }
  body.append(reinterpret_cast<const char*>(data), len);
  return 0;
}

int Http2ServerCodec::Impl::frameSend(nghttp2_session* session, const nghttp2_frame* frame,
                                      void* user_data) {
  Impl& self = *static_cast<Impl*>(user_data);
  if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR) {
    // nghttp2 ends the connection this way when the client breaks the protocol.
    self.fail(absl::InvalidArgumentError(
        absl::StrCat("http2: the client broke the protocol: ", goawayText(frame->goaway))));
    return 0;
  }
  if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
      (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
    // A local answer is complete: tell a client still sending its request to stop (RFC 9113
    // section 8.1). Submitting this earlier would cancel the answer itself.
    const Stream* stream = self.find(frame->hd.stream_id);
    if (stream != nullptr && stream->reset_after_response &&
        nghttp2_session_get_stream_remote_close(session, frame->hd.stream_id) == 0) {
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_NO_ERROR);
    }
  }
  return 0;
}

int Http2ServerCodec::Impl::streamClose(nghttp2_session*, int32_t id, uint32_t, void* user_data) {
  static_cast<Impl*>(user_data)->streams.erase(id);
  return 0;
}

ssize_t Http2ServerCodec::Impl::readBody(nghttp2_session*, int32_t, uint8_t* buf,
                                         std::size_t length, uint32_t* data_flags,
                                         nghttp2_data_source* source, void*) {
  Stream& stream = *static_cast<Stream*>(source->ptr);
  const std::size_t n = std::min(length, stream.body_out.size() - stream.body_sent);
  std::copy_n(bytes(stream.body_out) + stream.body_sent, n, buf);
  stream.body_sent += n;
  if (stream.body_sent == stream.body_out.size()) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    std::string().swap(stream.body_out);
    stream.body_sent = 0;
  }
  return static_cast<ssize_t>(n);
}

absl::Status Http2ServerCodec::Impl::init() {
  if (limits.initial_window > kMaxWindow) {
    return absl::InvalidArgumentError("http2: initial_window must be at most 2 GiB - 1");
  }
  if (limits.max_concurrent_streams == 0) {
    return absl::InvalidArgumentError("http2: max_concurrent_streams must be at least 1");
  }

  nghttp2_session_callbacks* callbacks = nullptr;
  if (nghttp2_session_callbacks_new(&callbacks) != 0) {
    return absl::ResourceExhaustedError("http2: out of memory");
  }
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &beginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &header);
  nghttp2_session_callbacks_set_on_invalid_header_callback(callbacks, &invalidHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &frameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &dataChunk);
  nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, &frameSend);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &streamClose);

  nghttp2_option* option = nullptr;
  if (nghttp2_option_new(&option) != 0) {
    nghttp2_session_callbacks_del(callbacks);
    return absl::ResourceExhaustedError("http2: out of memory");
  }
  nghttp2_option_set_no_auto_window_update(option, 1);  // dataChunk() acknowledges
  nghttp2_option_set_max_outbound_ack(option, kMaxOutboundAck);
  nghttp2_option_set_max_settings(option, kMaxSettingsEntries);
  nghttp2_option_set_stream_reset_rate_limit(option, kResetBurst, kResetsPerSecond);
  nghttp2_option_set_max_continuations(option, kMaxContinuations);
  const int rv = nghttp2_session_server_new2(&session, callbacks, this, option);
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);
  if (rv != 0) return absl::ResourceExhaustedError(absl::StrCat("http2: ", nghttp2_strerror(rv)));

  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, limits.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, limits.initial_window},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, limits.max_header_list_size},
      // RFC 9218: no priority tree, so closed streams are not kept around for it.
      {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1},
  };
  int status = nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  if (status == 0) {
    const uint32_t connection_window =
        std::max<uint32_t>(limits.initial_window, NGHTTP2_INITIAL_CONNECTION_WINDOW_SIZE);
    status = nghttp2_session_set_local_window_size(session, NGHTTP2_FLAG_NONE, 0,
                                                   static_cast<int32_t>(connection_window));
  }
  if (status != 0) {
    return absl::InternalError(absl::StrCat("http2: settings: ", nghttp2_strerror(status)));
  }
  return absl::OkStatus();
}

void Http2ServerCodec::Impl::flush() {
  if (!failed.ok()) return;
  while (out.size() < kOutputHighWater) {
    const uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(session, &data);
    if (n < 0) {
      fail(absl::InternalError(
          absl::StrCat("http2: serializing frames: ", nghttp2_strerror(static_cast<int>(n)))));
      break;
    }
    if (n == 0) break;
    out.append(data, static_cast<std::size_t>(n));
  }
}

absl::Status Http2ServerCodec::Impl::submit(Stream& stream, const HttpResponse& response,
                                            bool head_request) {
  if (response.status < 200 || response.status > 599) {
    return absl::InvalidArgumentError(
        absl::StrCat("http2: status ", response.status, " cannot answer a request"));
  }
  HttpHeaders headers = response.headers;
  removeHopByHopHeaders(headers);
  std::vector<std::pair<std::string, std::string>> fields;
  fields.reserve(headers.size() + 2);
  fields.emplace_back(":status", std::to_string(response.status));
  std::optional<std::string_view> received_length;
  for (const HttpHeader& field : headers) {
    std::string name = lowerCase(field.name);
    if (name == "content-length") {
      if (!received_length) received_length = field.value;
      continue;
    }
    if (name.empty() || name.front() == ':' ||
        nghttp2_check_header_name(bytes(name), name.size()) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("http2: \"", field.name, "\" is not a header field name HTTP/2 allows"));
    }
    if (nghttp2_check_header_value_rfc9113(bytes(field.value), field.value.size()) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("http2: the value of header field \"", field.name, "\" is not valid"));
    }
    fields.emplace_back(std::move(name), field.value);
  }

  // The framing of encodeResponse(), with DATA frames in place of Content-Length delimiting.
  const bool no_length = response.status == 204;
  const bool bodiless = no_length || response.status == 304 || head_request;
  if (no_length) {
    // Neither a length nor a body.
  } else if (bodiless && response.body.empty()) {
    // The representation's length as upstream gave it (a list of equal values: the first).
    if (received_length) {
      const std::string_view first = trim(received_length->substr(0, received_length->find(',')));
      if (allDigits(first)) fields.emplace_back("content-length", std::string(first));
    }
  } else {
    fields.emplace_back("content-length", std::to_string(response.body.size()));
  }

  std::vector<nghttp2_nv> nva;
  nva.reserve(fields.size());
  for (const auto& [name, value] : fields) {
    // NGHTTP2_NV_FLAG_NONE: nghttp2 copies both strings when the frame is submitted.
    nva.push_back({const_cast<uint8_t*>(bytes(name)), const_cast<uint8_t*>(bytes(value)),
                   name.size(), value.size(), NGHTTP2_NV_FLAG_NONE});
  }
  const bool with_body = !bodiless && !response.body.empty();
  nghttp2_data_provider provider{};
  if (with_body) {
    provider.source.ptr = &stream;
    provider.read_callback = &readBody;
  }
  const int rv = nghttp2_submit_response(session, stream.id, nva.data(), nva.size(),
                                         with_body ? &provider : nullptr);
  if (rv != 0) {
    return absl::InternalError(
        absl::StrCat("http2: respond on stream ", stream.id, ": ", nghttp2_strerror(rv)));
  }
  stream.answered = true;
  if (with_body) {
    stream.body_out = response.body;
    stream.body_sent = 0;
  }
  return absl::OkStatus();
}

Http2ServerCodec::Http2ServerCodec(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Http2ServerCodec::~Http2ServerCodec() = default;

absl::StatusOr<std::unique_ptr<Http2ServerCodec>> Http2ServerCodec::create(Http2Limits limits) {
  auto impl = std::make_unique<Impl>(limits);
  AMBIT_RETURN_IF_ERROR(impl->init());
  return std::unique_ptr<Http2ServerCodec>(new Http2ServerCodec(std::move(impl)));
}

absl::Status Http2ServerCodec::feed(std::span<const uint8_t> bytes) {
  Impl& s = *impl_;
  if (!s.failed.ok()) return s.failed;
  const ssize_t rv = nghttp2_session_mem_recv(s.session, bytes.data(), bytes.size());
  if (rv < 0) {
    // nghttp2 returns these without a GOAWAY of its own: send one, so the client learns why.
    absl::Status error = recvError(rv);
    nghttp2_session_terminate_session(
        s.session, rv == NGHTTP2_ERR_FLOODED ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR);
    s.flush();
    s.failed = std::move(error);  // the cause, rather than the GOAWAY it led to
    return s.failed;
  }
  // Serializing now is what reveals a protocol error nghttp2 found in the input: it answers with
  // a GOAWAY rather than an error code (frameSend() notices). When the output is backed up, that
  // GOAWAY waits its turn, and the error shows in status() once it is serialized.
  s.flush();
  return s.failed;
}

std::vector<std::pair<int32_t, HttpRequest>> Http2ServerCodec::takeRequests() {
  Impl& s = *impl_;
  std::vector<std::pair<int32_t, HttpRequest>> requests;
  requests.reserve(s.ready.size());
  for (const int32_t id : s.ready) {
    Impl::Stream* stream = s.find(id);
    if (stream == nullptr) continue;  // reset by the client meanwhile
    requests.emplace_back(id, std::move(stream->request));
    stream->request = {};
  }
  s.ready.clear();
  return requests;
}

absl::Status Http2ServerCodec::respond(int32_t id, const HttpResponse& response,
                                       bool head_request) {
  Impl& s = *impl_;
  AMBIT_RETURN_IF_ERROR(s.failed);
  Impl::Stream* stream = s.find(id);
  if (stream == nullptr || !stream->delivered) {
    return absl::NotFoundError(absl::StrCat("http2: stream ", id, " is not open"));
  }
  if (stream->answered) {
    return absl::FailedPreconditionError(absl::StrCat("http2: stream ", id, " was answered"));
  }
  return s.submit(*stream, response, head_request);
}

std::span<const uint8_t> Http2ServerCodec::pendingOutput() {
  impl_->flush();
  return impl_->out.front();
}

void Http2ServerCodec::consumeOutput(std::size_t n) { impl_->out.consume(n); }

bool Http2ServerCodec::wantsWrite() const {
  const Impl& s = *impl_;
  return s.out.size() > 0 || (s.failed.ok() && nghttp2_session_want_write(s.session) != 0);
}

bool Http2ServerCodec::wantsClose() const {
  const Impl& s = *impl_;
  if (s.out.size() > 0) return false;
  return !s.failed.ok() ||
         (nghttp2_session_want_read(s.session) == 0 && nghttp2_session_want_write(s.session) == 0);
}

void Http2ServerCodec::shutdown() {
  Impl& s = *impl_;
  if (s.shutting_down || !s.failed.ok()) return;
  s.shutting_down = true;
  s.goaway_last_stream = nghttp2_session_get_last_proc_stream_id(s.session);
  nghttp2_submit_goaway(s.session, NGHTTP2_FLAG_NONE, s.goaway_last_stream, NGHTTP2_NO_ERROR,
                        nullptr, 0);
  // Once serialized, the GOAWAY counts as sent and nghttp2 ignores new streams itself; streams
  // arriving before that are refused in onRequestHeaders().
  s.flush();
}

std::size_t Http2ServerCodec::openStreams() const { return impl_->streams.size(); }

const absl::Status& Http2ServerCodec::status() const { return impl_->failed; }

}  // namespace ambit::waypoint
