// Http2ServerCodec driven by an nghttp2 client session in memory: requests and responses, stream
// concurrency, the codec's own answers, malformed input and floods, and graceful shutdown.
#include <nghttp2/nghttp2.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "waypoint/http/http2_server.h"

namespace ambit::waypoint {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

std::span<const uint8_t> bytesOf(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

std::string filler(size_t size) {
  std::string out(size, '\0');
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<char>('a' + (i * 7 + i / 13) % 26);
  return out;
}

Fields requestFields(std::string method, std::string path, Fields extra = {}) {
  Fields fields = {{":method", std::move(method)},
                   {":scheme", "http"},
                   {":authority", "reviews:9080"},
                   {":path", std::move(path)}};
  fields.insert(fields.end(), extra.begin(), extra.end());
  return fields;
}

std::string frameHeader(size_t length, uint8_t type, uint8_t flags, uint32_t stream) {
  std::string out;
  out.push_back(static_cast<char>(length >> 16));
  out.push_back(static_cast<char>(length >> 8));
  out.push_back(static_cast<char>(length));
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>(flags));
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(stream >> shift));
  return out;
}

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

struct Frame {
  uint8_t type;
  uint8_t flags;
  uint32_t stream;
  std::string payload;
};

// Splits serialized server output (no preface) into frames.
std::vector<Frame> parseFrames(std::string_view bytes) {
  std::vector<Frame> frames;
  while (bytes.size() >= 9) {
    const auto u = [&](size_t i) { return static_cast<uint8_t>(bytes[i]); };
    const size_t length = (size_t{u(0)} << 16) | (size_t{u(1)} << 8) | u(2);
    const uint32_t stream =
        ((uint32_t{u(5)} & 0x7f) << 24) | (uint32_t{u(6)} << 16) | (uint32_t{u(7)} << 8) | u(8);
    REQUIRE(bytes.size() >= 9 + length);
    frames.push_back({u(3), u(4), stream, std::string(bytes.substr(9, length))});
    bytes.remove_prefix(9 + length);
  }
  CHECK(bytes.empty());
  return frames;
}

uint32_t goawayCode(const Frame& frame) {
  const auto u = [&](size_t i) { return uint32_t{static_cast<uint8_t>(frame.payload[i])}; };
  return (u(4) << 24) | (u(5) << 16) | (u(6) << 8) | u(7);
}

// Everything the codec has to write, drained.
std::string drain(Http2ServerCodec& codec) {
  std::string all;
  for (;;) {
    const std::span<const uint8_t> out = codec.pendingOutput();
    if (out.empty()) break;
    all.append(reinterpret_cast<const char*>(out.data()), out.size());
    codec.consumeOutput(out.size());
  }
  return all;
}

// An nghttp2 client session and the codec, wired together in memory.
struct Wire {
  struct Response {
    int status = 0;
    Fields headers;
    std::string body;
    bool complete = false;  // END_STREAM received
    std::optional<uint32_t> closed;
  };
  struct Upload {
    std::string data;
    size_t sent = 0;
  };

  explicit Wire(Http2Limits limits = {}) {
    auto created = Http2ServerCodec::create(limits);
    REQUIRE(created.ok());
    codec = *std::move(created);

    nghttp2_session_callbacks* callbacks = nullptr;
    REQUIRE(nghttp2_session_callbacks_new(&callbacks) == 0);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, &onHeader);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &onFrameRecv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &onData);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &onClose);
    REQUIRE(nghttp2_session_client_new(&client, callbacks, this) == 0);
    nghttp2_session_callbacks_del(callbacks);
    const nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
    REQUIRE(nghttp2_submit_settings(client, NGHTTP2_FLAG_NONE, settings, 1) == 0);
  }
  ~Wire() { nghttp2_session_del(client); }

  static Wire& self(void* user_data) { return *static_cast<Wire*>(user_data); }

  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                      void* user_data) {
    Response& r = self(user_data).responses[frame->hd.stream_id];
    const std::string key(reinterpret_cast<const char*>(name), namelen);
    std::string val(reinterpret_cast<const char*>(value), valuelen);
    if (key == ":status") {
      r.status = std::stoi(val);
    } else {
      r.headers.emplace_back(key, std::move(val));
    }
    return 0;
  }
  static int onFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    Wire& w = self(user_data);
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      w.goaway_last_stream = frame->goaway.last_stream_id;
      w.goaway_code = frame->goaway.error_code;
    }
    if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
      w.responses[frame->hd.stream_id].complete = true;
      w.completed.push_back(frame->hd.stream_id);
    }
    return 0;
  }
  static int onData(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t len,
                    void* user_data) {
    self(user_data).responses[id].body.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }
  static int onClose(nghttp2_session*, int32_t id, uint32_t code, void* user_data) {
    self(user_data).responses[id].closed = code;
    return 0;
  }
  static ssize_t readUpload(nghttp2_session*, int32_t, uint8_t* buf, size_t length,
                            uint32_t* data_flags, nghttp2_data_source* source, void*) {
    Upload& upload = *static_cast<Upload*>(source->ptr);
    const size_t n = std::min(length, upload.data.size() - upload.sent);
    std::copy_n(reinterpret_cast<const uint8_t*>(upload.data.data()) + upload.sent, n, buf);
    upload.sent += n;
    if (upload.sent == upload.data.size()) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }

  // Submits a request (with a body when `body` is set) and returns its stream id.
  int32_t request(const Fields& fields, std::optional<std::string> body = std::nullopt) {
    std::vector<nghttp2_nv> nva;
    for (const auto& [name, value] : fields) {
      // nghttp2 lower-cases the names it copies: keep an upper-case one as it is, uncopied.
      const bool upper =
          std::any_of(name.begin(), name.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
      const std::string& kept = upper ? kept_names.emplace_back(name) : name;
      nva.push_back(
          {reinterpret_cast<uint8_t*>(const_cast<char*>(kept.data())),
           reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), kept.size(), value.size(),
           static_cast<uint8_t>(upper ? NGHTTP2_NV_FLAG_NO_COPY_NAME : NGHTTP2_NV_FLAG_NONE)});
    }
    nghttp2_data_provider provider{};
    Upload* upload = nullptr;
    if (body) {
      uploads.push_back(std::make_unique<Upload>(Upload{*std::move(body), 0}));
      upload = uploads.back().get();
      provider.source.ptr = upload;
      provider.read_callback = &readUpload;
    }
    const int32_t id = nghttp2_submit_request(client, nullptr, nva.data(), nva.size(),
                                              upload != nullptr ? &provider : nullptr, nullptr);
    REQUIRE(id > 0);
    return id;
  }

  // What the client has to send, serialized.
  std::string clientBytes() {
    std::string all;
    for (;;) {
      const uint8_t* data = nullptr;
      const ssize_t n = nghttp2_session_mem_send(client, &data);
      REQUIRE(n >= 0);
      if (n == 0) break;
      all.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    }
    return all;
  }

  size_t clientToServer() {
    const std::string bytes = clientBytes();
    if (bytes.empty()) return 0;
    const absl::Status fed = codec->feed(bytesOf(bytes));
    INFO(fed.ToString());
    REQUIRE(fed.ok());
    return bytes.size();
  }

  size_t serverToClient() {
    const std::span<const uint8_t> out = codec->pendingOutput();
    if (out.empty()) {
      CHECK_FALSE(codec->wantsWrite());
      return 0;
    }
    const ssize_t n = nghttp2_session_mem_recv(client, out.data(), out.size());
    REQUIRE(n == static_cast<ssize_t>(out.size()));
    codec->consumeOutput(out.size());
    return out.size();
  }

  // Exchanges bytes until neither side has anything to send.
  void pump() {
    for (int round = 0; round < 100000; ++round) {
      if (clientToServer() + serverToClient() == 0) return;
    }
    FAIL("the two sides never went quiet");
  }

  // Pumps and returns the requests the codec completed, keyed by stream.
  std::map<int32_t, HttpRequest> pumpRequests() {
    pump();
    std::map<int32_t, HttpRequest> out;
    for (auto& [id, request] : codec->takeRequests()) out.emplace(id, std::move(request));
    return out;
  }

  const std::string* header(int32_t id, std::string_view name) {
    for (const auto& [key, value] : responses[id].headers) {
      if (key == name) return &value;
    }
    return nullptr;
  }

  std::unique_ptr<Http2ServerCodec> codec;
  nghttp2_session* client = nullptr;
  std::vector<std::unique_ptr<Upload>> uploads;
  std::deque<std::string> kept_names;
  std::map<int32_t, Response> responses;
  std::vector<int32_t> completed;  // streams in the order their responses ended
  std::optional<int32_t> goaway_last_stream;
  uint32_t goaway_code = 0;
};

HttpResponse textResponse(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.headers.add("Content-Type", "text/plain");
  response.body = std::move(body);
  return response;
}

TEST_CASE("Http2ServerCodec reads a GET and a POST on one connection") {
  Wire wire;
  const int32_t get = wire.request(requestFields(
      "GET", "/a/b?c=d",
      {{"user-agent", "test"}, {"cookie", "a=1"}, {"x-b", "1"}, {"cookie", "b=2"}, {"x-a", "2"}}));
  const int32_t post = wire.request(
      requestFields("POST", "/upload", {{"content-type", "text/plain"}, {"content-length", "11"}}),
      "hello world");
  auto requests = wire.pumpRequests();
  REQUIRE(requests.size() == 2);
  CHECK(wire.codec->openStreams() == 2);

  const HttpRequest& g = requests[get];
  CHECK(g.method == "GET");
  CHECK(g.target == "/a/b?c=d");
  CHECK(g.version == kHttp2Version);
  CHECK(g.version == 20);
  CHECK(g.authority() == "reviews:9080");
  REQUIRE(g.headers.size() == 5);
  CHECK(g.headers.fields[0].name == "host");  // the authority comes first
  CHECK(g.headers.fields[0].value == "reviews:9080");
  CHECK(g.headers.fields[1].name == "user-agent");
  CHECK(g.headers.fields[2].name == "cookie");
  CHECK(g.headers.fields[2].value == "a=1; b=2");  // joined, in its first place
  CHECK(g.headers.fields[3].name == "x-b");
  CHECK(g.headers.fields[4].name == "x-a");
  CHECK(g.body.empty());
  for (const HttpHeader& field : g.headers) CHECK_FALSE(field.name.starts_with(':'));

  const HttpRequest& p = requests[post];
  CHECK(p.method == "POST");
  CHECK(p.target == "/upload");
  CHECK(p.body == "hello world");
  CHECK(p.headers.get("content-length") == "11");
  CHECK(p.headers.get("content-type") == "text/plain");

  REQUIRE(wire.codec->respond(get, textResponse(200, "got"), false).ok());
  REQUIRE(wire.codec->respond(post, textResponse(201, "posted"), false).ok());
  wire.pump();
  CHECK(wire.responses[get].status == 200);
  CHECK(wire.responses[get].body == "got");
  CHECK(wire.responses[post].status == 201);
  CHECK(wire.responses[post].body == "posted");
  CHECK(wire.responses[post].complete);
  CHECK(wire.codec->openStreams() == 0);
  CHECK_FALSE(wire.codec->wantsClose());
}

TEST_CASE("Http2ServerCodec answers concurrent streams in any order") {
  Wire wire;
  const int32_t first = wire.request(requestFields("GET", "/1"));
  const int32_t second = wire.request(requestFields("GET", "/2"));
  auto taken = [&] {
    wire.pump();
    return wire.codec->takeRequests();
  }();
  REQUIRE(taken.size() == 2);
  CHECK(taken[0].first == first);  // in the order they completed
  CHECK(taken[1].first == second);
  CHECK(taken[0].second.target == "/1");
  CHECK(taken[1].second.target == "/2");
  CHECK(wire.codec->takeRequests().empty());

  REQUIRE(wire.codec->respond(second, textResponse(200, "second"), false).ok());
  wire.pump();
  CHECK(wire.completed == std::vector<int32_t>{second});
  CHECK_FALSE(wire.responses[first].complete);
  CHECK(wire.codec->openStreams() == 1);

  REQUIRE(wire.codec->respond(first, textResponse(200, "first"), false).ok());
  wire.pump();
  CHECK(wire.completed == std::vector<int32_t>{second, first});
  CHECK(wire.responses[first].body == "first");
  CHECK(wire.responses[second].body == "second");
  CHECK(wire.codec->openStreams() == 0);
}

TEST_CASE("Http2ServerCodec sends a whole response with its status and headers") {
  Wire wire;
  const int32_t id = wire.request(requestFields("GET", "/big"));
  REQUIRE(wire.pumpRequests().size() == 1);

  // Larger than the client's window and the codec's output high-water mark.
  HttpResponse response;
  response.status = 203;
  response.reason = "Whatever";
  response.headers.add("Content-Type", "application/octet-stream");
  response.headers.add("X-Upstream", "A");
  response.headers.add("Connection", "keep-alive, X-Hop");
  response.headers.add("X-Hop", "1");
  response.headers.add("Keep-Alive", "timeout=5");
  response.headers.add("Transfer-Encoding", "chunked");
  response.headers.add("Upgrade", "h2c");
  response.headers.add("Proxy-Connection", "close");
  response.headers.add("Content-Length", "5");  // wrong: replaced by the body's size
  response.headers.add("Set-Cookie", "a=1");
  response.headers.add("Set-Cookie", "b=2");
  response.body = filler(700 * 1024 + 3);
  REQUIRE(wire.codec->respond(id, response, false).ok());
  wire.pump();

  const Wire::Response& got = wire.responses[id];
  CHECK(got.status == 203);
  CHECK(got.complete);
  REQUIRE(got.closed.has_value());
  CHECK(*got.closed == NGHTTP2_NO_ERROR);
  CHECK(got.body.size() == response.body.size());
  CHECK(got.body == response.body);
  const Fields expected = {{"content-type", "application/octet-stream"},
                           {"x-upstream", "A"},
                           {"set-cookie", "a=1"},
                           {"set-cookie", "b=2"},
                           {"content-length", std::to_string(response.body.size())}};
  CHECK(got.headers == expected);
}

TEST_CASE("Http2ServerCodec frames HEAD, 204 and 304 responses without a body") {
  Wire wire;
  const int32_t head = wire.request(requestFields("HEAD", "/h"));
  const int32_t head_local = wire.request(requestFields("HEAD", "/l"));
  const int32_t no_content = wire.request(requestFields("GET", "/n"));
  const int32_t not_modified = wire.request(requestFields("GET", "/m"));
  auto requests = wire.pumpRequests();
  REQUIRE(requests.size() == 4);
  CHECK(requests[head].method == "HEAD");

  HttpResponse upstream;  // as an upstream answers HEAD: the representation's length, no body
  upstream.headers.add("Content-Length", "1234");
  REQUIRE(wire.codec->respond(head, upstream, true).ok());
  REQUIRE(wire.codec->respond(head_local, textResponse(200, "abc"), true).ok());
  HttpResponse empty;
  empty.status = 204;
  empty.headers.add("Content-Length", "0");
  REQUIRE(wire.codec->respond(no_content, empty, false).ok());
  HttpResponse cached;
  cached.status = 304;
  cached.headers.add("Content-Length", "77");
  cached.headers.add("ETag", "\"x\"");
  REQUIRE(wire.codec->respond(not_modified, cached, false).ok());
  wire.pump();

  for (const int32_t id : {head, head_local, no_content, not_modified}) {
    INFO(id);
    CHECK(wire.responses[id].complete);
    CHECK(wire.responses[id].body.empty());
  }
  REQUIRE(wire.header(head, "content-length") != nullptr);
  CHECK(*wire.header(head, "content-length") == "1234");
  REQUIRE(wire.header(head_local, "content-length") != nullptr);
  CHECK(*wire.header(head_local, "content-length") == "3");
  CHECK(wire.responses[no_content].status == 204);
  CHECK(wire.header(no_content, "content-length") == nullptr);
  CHECK(wire.responses[not_modified].status == 304);
  REQUIRE(wire.header(not_modified, "content-length") != nullptr);
  CHECK(*wire.header(not_modified, "content-length") == "77");
  CHECK(wire.codec->openStreams() == 0);
}

TEST_CASE("Http2ServerCodec answers 413 to a body over the limit, and the connection goes on") {
  Http2Limits limits;
  limits.max_body_bytes = 100 * 1024;
  Wire wire(limits);

  const int32_t at_limit = wire.request(requestFields("POST", "/ok"), filler(100 * 1024));
  // Larger than the windows, so that the client is still sending when the answer comes.
  const int32_t over = wire.request(requestFields("POST", "/over"), filler(3 << 20));
  const int32_t announced = wire.request(
      requestFields("PUT", "/announced", {{"content-length", "200000"}}), filler(200000));
  auto requests = wire.pumpRequests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[at_limit].body == filler(100 * 1024));

  for (const int32_t id : {over, announced}) {
    INFO(id);
    const Wire::Response& got = wire.responses[id];
    CHECK(got.status == 413);
    CHECK(got.body == "request body too large");
    CHECK(got.complete);
    REQUIRE(got.closed.has_value());  // the rest of the upload was stopped
    CHECK(*got.closed == NGHTTP2_NO_ERROR);
  }
  // The upload that was stopped did not get through whole.
  CHECK(wire.uploads[1]->sent < wire.uploads[1]->data.size());

  // The windows were given back: another upload at the limit still fits.
  const int32_t again = wire.request(requestFields("POST", "/again"), filler(100 * 1024));
  requests = wire.pumpRequests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[again].body.size() == 100 * 1024);
  REQUIRE(wire.codec->respond(at_limit, textResponse(200, "a"), false).ok());
  REQUIRE(wire.codec->respond(again, textResponse(200, "b"), false).ok());
  wire.pump();
  CHECK(wire.responses[again].body == "b");
  CHECK(wire.codec->openStreams() == 0);
}

TEST_CASE("Http2ServerCodec never hands out a malformed request") {
  Http2Limits limits;
  limits.max_header_list_size = 1024;
  Wire wire(limits);
  const int32_t good = wire.request(requestFields("GET", "/good"));
  // Refused by nghttp2 with a stream reset.
  const int32_t no_path =
      wire.request({{":method", "GET"}, {":scheme", "http"}, {":authority", "reviews:9080"}});
  const int32_t upper = wire.request(requestFields("GET", "/", {{"X-Upper", "1"}}));
  const int32_t hop = wire.request(requestFields("GET", "/", {{"connection", "close"}}));
  const int32_t bad_value = wire.request(requestFields("GET", "/", {{"x-a", "v "}}));
  const int32_t no_authority =
      wire.request({{":method", "GET"}, {":scheme", "http"}, {":path", "/"}});
  // Answered by the codec.
  const int32_t connect = wire.request({{":method", "CONNECT"}, {":authority", "10.0.0.5:80"}});
  const int32_t other_host = wire.request(requestFields("GET", "/", {{"host", "ratings:9080"}}));
  const int32_t bad_scheme =
      wire.request({{":method", "GET"}, {":scheme", "ftp"}, {":authority", "a"}, {":path", "x"}});
  const int32_t too_large = wire.request(requestFields("GET", "/", {{"x-big", filler(2000)}}));
  // The Host alone names the authority.
  const int32_t host_only =
      wire.request({{":method", "GET"}, {":scheme", "http"}, {":path", "/h"}, {"host", "a:1"}});

  auto requests = wire.pumpRequests();
  REQUIRE(requests.size() == 2);
  CHECK(requests.count(good) == 1);
  REQUIRE(requests.count(host_only) == 1);
  CHECK(requests[host_only].authority() == "a:1");
  CHECK(requests[host_only].headers.size() == 1);

  for (const int32_t id : {no_path, upper, hop, bad_value, no_authority}) {
    INFO(id);
    CHECK(wire.responses[id].status == 0);
    REQUIRE(wire.responses[id].closed.has_value());
    CHECK(*wire.responses[id].closed == NGHTTP2_PROTOCOL_ERROR);
  }
  CHECK(wire.responses[connect].status == 501);
  CHECK(wire.responses[other_host].status == 400);
  CHECK(wire.responses[other_host].body == "Host differs from :authority");
  CHECK(wire.responses[bad_scheme].status == 400);
  CHECK(wire.responses[too_large].status == 431);
  for (const int32_t id : {connect, other_host, bad_scheme, too_large}) {
    INFO(id);
    CHECK(wire.responses[id].complete);
  }
  CHECK(wire.codec->status().ok());
  CHECK(wire.codec->openStreams() == 2);
}

TEST_CASE("Http2ServerCodec refuses to answer a stream that is gone or answered") {
  Wire wire;
  const int32_t id = wire.request(requestFields("GET", "/"));
  REQUIRE(wire.pumpRequests().size() == 1);
  CHECK(absl::IsNotFound(wire.codec->respond(99, textResponse(200, ""), false)));

  HttpResponse bad = textResponse(200, "x");
  bad.headers.add("Bad Name", "1");
  CHECK(absl::IsInvalidArgument(wire.codec->respond(id, bad, false)));
  CHECK(absl::IsInvalidArgument(wire.codec->respond(id, textResponse(100, ""), false)));
  REQUIRE(wire.codec->respond(id, textResponse(200, "x"), false).ok());  // still answerable
  CHECK(absl::IsFailedPrecondition(wire.codec->respond(id, textResponse(200, "y"), false)));
  wire.pump();
  CHECK(wire.responses[id].body == "x");
  CHECK(absl::IsNotFound(wire.codec->respond(id, textResponse(200, "z"), false)));

  // Reset by the client after it arrived, before it was taken: left out.
  const int32_t cancelled = wire.request(requestFields("GET", "/c"));
  wire.pump();
  REQUIRE(nghttp2_submit_rst_stream(wire.client, NGHTTP2_FLAG_NONE, cancelled, NGHTTP2_CANCEL) ==
          0);
  wire.pump();
  CHECK(wire.codec->takeRequests().empty());
  CHECK(wire.codec->openStreams() == 0);
}

TEST_CASE("Http2ServerCodec fails on bytes that are not HTTP/2 and says so with a GOAWAY") {
  auto created = Http2ServerCodec::create();
  REQUIRE(created.ok());
  Http2ServerCodec& codec = **created;
  const absl::Status fed = codec.feed(bytesOf("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  CHECK_FALSE(fed.ok());
  CHECK(fed.message().find("preface") != std::string::npos);
  CHECK(codec.wantsWrite());
  CHECK_FALSE(codec.wantsClose());  // the GOAWAY is not written yet

  const std::vector<Frame> frames = parseFrames(drain(codec));
  REQUIRE(frames.size() == 2);
  CHECK(frames[0].type == NGHTTP2_SETTINGS);
  CHECK(frames[1].type == NGHTTP2_GOAWAY);
  CHECK(goawayCode(frames[1]) == NGHTTP2_PROTOCOL_ERROR);
  CHECK(codec.wantsClose());
  CHECK_FALSE(codec.feed(bytesOf(kPreface)).ok());
}

TEST_CASE("Http2ServerCodec ends the connection on a protocol error") {
  Wire wire;
  wire.pump();
  // DATA on stream 0 is a connection error.
  const std::string data = frameHeader(1, NGHTTP2_DATA, 0, 0) + "x";
  const absl::Status fed = wire.codec->feed(bytesOf(data));
  CHECK_FALSE(fed.ok());
  const std::vector<Frame> frames = parseFrames(drain(*wire.codec));
  REQUIRE_FALSE(frames.empty());
  CHECK(frames.back().type == NGHTTP2_GOAWAY);
  CHECK(goawayCode(frames.back()) == NGHTTP2_PROTOCOL_ERROR);
  CHECK(wire.codec->wantsClose());
}

TEST_CASE("Http2ServerCodec stops a client that floods it with PINGs") {
  auto created = Http2ServerCodec::create();
  REQUIRE(created.ok());
  Http2ServerCodec& codec = **created;
  REQUIRE(codec.feed(bytesOf(std::string(kPreface) + frameHeader(0, NGHTTP2_SETTINGS, 0, 0))).ok());
  const std::string ping = frameHeader(8, NGHTTP2_PING, 0, 0) + std::string(8, 'p');

  SECTION("in one burst") {
    std::string burst;
    for (int i = 0; i < 1500; ++i) burst += ping;
    const absl::Status fed = codec.feed(bytesOf(burst));
    CHECK(absl::IsResourceExhausted(fed));
    const std::vector<Frame> frames = parseFrames(drain(codec));
    REQUIRE_FALSE(frames.empty());
    CHECK(frames.back().type == NGHTTP2_GOAWAY);
    CHECK(goawayCode(frames.back()) == NGHTTP2_ENHANCE_YOUR_CALM);
  }
  SECTION("a few at a time, never reading the answers") {
    std::string few;
    for (int i = 0; i < 50; ++i) few += ping;
    absl::Status fed;
    int rounds = 0;
    for (; rounds < 10000 && fed.ok(); ++rounds) fed = codec.feed(bytesOf(few));
    CHECK(absl::IsResourceExhausted(fed));
    // The output stopped at its high-water mark instead of growing with the input, and the
    // answers held back inside nghttp2 tripped its limit.
    const size_t output = drain(codec).size();
    CHECK(output < 257 * 1024);
    CHECK(rounds * few.size() > output + 1000 * ping.size());
  }
  CHECK(codec.wantsClose());
}

TEST_CASE("Http2ServerCodec stops a client that resets streams faster than the limit") {
  Wire wire;
  wire.pump();
  std::string bytes;
  for (int i = 0; i < 1100; ++i) {
    const int32_t id = wire.request(requestFields("GET", "/"));
    bytes += wire.clientBytes();
    REQUIRE(nghttp2_submit_rst_stream(wire.client, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL) == 0);
    bytes += wire.clientBytes();
  }
  CHECK_FALSE(wire.codec->feed(bytesOf(bytes)).ok());
  const std::vector<Frame> frames = parseFrames(drain(*wire.codec));
  REQUIRE_FALSE(frames.empty());
  CHECK(frames.back().type == NGHTTP2_GOAWAY);
  CHECK(goawayCode(frames.back()) != NGHTTP2_NO_ERROR);
}

TEST_CASE("Http2ServerCodec shuts down gracefully once its streams end") {
  Wire wire;
  const int32_t id = wire.request(requestFields("POST", "/slow"), "body");
  REQUIRE(wire.pumpRequests().size() == 1);

  wire.codec->shutdown();
  wire.pump();
  REQUIRE(wire.goaway_last_stream.has_value());
  CHECK(*wire.goaway_last_stream == id);
  CHECK(wire.goaway_code == NGHTTP2_NO_ERROR);
  CHECK_FALSE(wire.codec->wantsClose());  // the stream is still open
  CHECK(wire.codec->openStreams() == 1);

  REQUIRE(wire.codec->respond(id, textResponse(200, "done"), false).ok());
  CHECK_FALSE(wire.codec->wantsClose());  // the response is not written yet
  wire.pump();
  CHECK(wire.responses[id].body == "done");
  CHECK(wire.codec->openStreams() == 0);
  CHECK(wire.codec->wantsClose());
  CHECK(wire.codec->status().ok());
}

TEST_CASE("Http2ServerCodec refuses streams that arrive after its GOAWAY") {
  Wire wire;
  wire.pump();
  const int32_t late = wire.request(requestFields("GET", "/late"));
  const std::string bytes = wire.clientBytes();  // sent before the client saw the GOAWAY
  wire.codec->shutdown();
  REQUIRE(wire.codec->feed(bytesOf(bytes)).ok());
  CHECK(wire.codec->takeRequests().empty());
  wire.pump();
  CHECK(wire.responses[late].status == 0);
  REQUIRE(wire.responses[late].closed.has_value());  // the client may retry it elsewhere
  CHECK(*wire.responses[late].closed == NGHTTP2_REFUSED_STREAM);
  CHECK(wire.codec->openStreams() == 0);
  CHECK(wire.codec->wantsClose());
}

TEST_CASE("Http2ServerCodec checks its limits") {
  Http2Limits limits;
  limits.initial_window = 1u << 31;
  CHECK_FALSE(Http2ServerCodec::create(limits).ok());
  limits = {};
  limits.max_concurrent_streams = 0;
  CHECK_FALSE(Http2ServerCodec::create(limits).ok());
}

}  // namespace
}  // namespace ambit::waypoint
