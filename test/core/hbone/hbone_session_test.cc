#include "core/hbone/hbone_session.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>

#include "core/hbone/authority.h"
#include "core/hbone/buffers.h"
#include "core/hbone/hbone_client.h"
#include "core/hbone/hbone_server.h"

namespace ambit::hbone {
namespace {

std::span<const uint8_t> bytesOf(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// Bytes that differ with their position, so that a lost, repeated or reordered block shows.
std::string pattern(size_t size, uint32_t seed) {
  std::string out(size, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    out[i] = static_cast<char>(x);
  }
  return out;
}

// What one side saw, per stream.
struct Log {
  std::map<int32_t, std::string> received;
  std::set<int32_t> ended;
  std::map<int32_t, uint32_t> closed;
  std::set<int32_t> writable;
  bool consume = true;  // acknowledge on_data at once
};

HboneStreamHandlers recordInto(HboneSession& session, Log& log) {
  HboneStreamHandlers h;
  h.on_data = [&session, &log](int32_t id, std::span<const uint8_t> bytes) {
    log.received[id].append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (log.consume) CHECK(session.consumed(id, bytes.size()).ok());
  };
  h.on_end_of_stream = [&log](int32_t id) { CHECK(log.ended.insert(id).second); };
  h.on_close = [&log](int32_t id, uint32_t code) { CHECK(log.closed.emplace(id, code).second); };
  h.on_writable = [&log](int32_t id) { log.writable.insert(id); };
  return h;
}

// A client and a server session wired together in memory.
struct Wire {
  explicit Wire(const HboneOptions& client_options = {}, const HboneOptions& server_options = {}) {
    auto c = HboneClientSession::create(client_options);
    auto s = HboneServerSession::create(server_options);
    REQUIRE(c.ok());
    REQUIRE(s.ok());
    client = *std::move(c);
    server = *std::move(s);
    client->setStreamHandlers(recordInto(*client, client_log));
    server->setStreamHandlers(recordInto(*server, server_log));
    server->setRequestHandler([this](int32_t id, const HboneRequest& request) {
      requests[id] = request;
      if (answer) CHECK(server->respond(id, answer(request)).ok());
    });
    client->setResponseHandler([this](int32_t id, int status, const HboneHeaders& headers) {
      CHECK(responses.emplace(id, status).second);
      response_headers[id] = headers;
    });
  }

  // Moves one chunk of output from `from` to `to`; returns its size.
  static size_t move(HboneSession& from, HboneSession& to) {
    const std::span<const uint8_t> out = from.pendingOutput();
    if (out.empty()) {
      // A writer loops on wantsWrite(): once nothing came out, it must say so.
      CHECK_FALSE(from.wantsWrite());
      return 0;
    }
    const absl::Status fed = to.feed(out);
    INFO(fed.ToString());
    REQUIRE(fed.ok());
    from.consumeOutput(out.size());
    return out.size();
  }

  // Exchanges bytes until neither side has anything to write.
  void pump() {
    for (int round = 0; round < 1000000; ++round) {
      if (move(*client, *server) + move(*server, *client) == 0) return;
    }
    FAIL("the sessions never went quiet");
  }

  // Opens a tunnel and returns its stream id once the server answered 200.
  int32_t openTunnel(const std::string& authority = "10.0.0.5:8080") {
    auto id = client->openConnect(authority);
    REQUIRE(id.ok());
    pump();
    REQUIRE(responses.count(*id) == 1);
    REQUIRE(responses[*id] == 200);
    return *id;
  }

  // Sends all of `data`, pumping whenever the stream's queue is full.
  void sendAll(HboneSession& from, int32_t id, const std::string& data) {
    size_t offset = 0;
    for (int i = 0; i < 100000 && offset < data.size(); ++i) {
      auto n = from.send(id, bytesOf(data).subspan(offset));
      REQUIRE(n.ok());
      offset += *n;
      if (offset < data.size()) pump();
    }
    REQUIRE(offset == data.size());
  }

  std::unique_ptr<HboneClientSession> client;
  std::unique_ptr<HboneServerSession> server;
  Log client_log;
  Log server_log;
  std::map<int32_t, HboneRequest> requests;
  std::map<int32_t, int> responses;
  std::map<int32_t, HboneHeaders> response_headers;
  std::function<int(const HboneRequest&)> answer = [](const HboneRequest&) { return 200; };
};

TEST_CASE("authorities are IP literals with a port", "[hbone]") {
  auto v4 = parseAuthority("10.0.0.5:8080");
  REQUIRE(v4.ok());
  CHECK(v4->address == "10.0.0.5");
  CHECK(v4->port == 8080);
  CHECK_FALSE(v4->ipv6);
  auto v6 = parseAuthority("[fd00:0:0::5]:443");
  REQUIRE(v6.ok());
  CHECK(v6->address == "fd00::5");
  CHECK(v6->port == 443);
  CHECK(v6->ipv6);
  for (const char* bad :
       {"", "10.0.0.5", "10.0.0.5:", "10.0.0.5:0", "10.0.0.5:65536", "10.0.0.5:80x",
        "example.com:80", "010.0.0.5:80", "10.0.5:80", "fd00::5:80", "[fd00::5]", "[fd00::5]80",
        "[fe80::1%eth0]:80", "[10.0.0.5]:80", ":80"}) {
    INFO(bad);
    CHECK_FALSE(parseAuthority(bad).ok());
  }
  CHECK(formatAuthority("10.0.0.5", 80) == "10.0.0.5:80");
  CHECK(formatAuthority("fd00::5", 80) == "[fd00::5]:80");
}

TEST_CASE("the ring and the output queue keep bytes in order", "[hbone]") {
  ByteRing ring;
  OutputQueue out(1000);
  const std::string data = pattern(100000, 1);
  std::string drained;
  size_t in = 0;
  // Uneven appends and takes make the ring wrap and grow while it holds bytes.
  while (in < data.size() || !ring.empty()) {
    const size_t add = std::min<size_t>(data.size() - in, 7919);
    ring.append(reinterpret_cast<const uint8_t*>(data.data()) + in, add);
    in += add;
    out.appendFromRing(ring, std::min<size_t>(ring.size(), 5003));
    while (out.size() > 0) {
      const auto front = out.front();
      REQUIRE(front.size() <= 1000);
      const size_t n = std::min<size_t>(front.size(), 333);
      drained.append(reinterpret_cast<const char*>(front.data()), n);
      out.consume(n);
    }
  }
  CHECK(drained == data);
}

TEST_CASE("a CONNECT arrives with its authority and headers and 200 opens the tunnel", "[hbone]") {
  Wire wire;
  const HboneHeaders headers = {
      {"forwarded", "for=10.0.0.9"},
      {"baggage", "k8s.namespace.name=default,k8s.pod.name=client"},
      {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}};
  auto id = wire.client->openConnect("10.0.0.5:8080", headers);
  REQUIRE(id.ok());
  wire.pump();

  REQUIRE(wire.requests.count(*id) == 1);
  const HboneRequest& request = wire.requests[*id];
  CHECK(request.method == "CONNECT");
  CHECK(request.authority == "10.0.0.5:8080");
  CHECK(request.scheme.empty());
  CHECK(request.path.empty());
  CHECK(request.protocol.empty());
  CHECK(request.target.address == "10.0.0.5");
  CHECK(request.target.port == 8080);
  REQUIRE(request.header("forwarded") != nullptr);
  CHECK(*request.header("forwarded") == "for=10.0.0.9");
  REQUIRE(request.header("baggage") != nullptr);
  CHECK(*request.header("baggage") == headers[1].second);
  REQUIRE(request.header("traceparent") != nullptr);
  CHECK(*request.header("traceparent") == headers[2].second);
  CHECK(wire.responses[*id] == 200);

  const int32_t v6 = wire.openTunnel("[fd00::5]:443");
  CHECK(wire.requests[v6].target.ipv6);
  CHECK(wire.requests[v6].target.address == "fd00::5");

  // Header fields HTTP/2 forbids are refused before anything is sent.
  CHECK_FALSE(wire.client->openConnect("10.0.0.5:80", {{"Upper", "x"}}).ok());
  CHECK_FALSE(wire.client->openConnect("10.0.0.5:80", {{"connection", "close"}}).ok());
  CHECK_FALSE(wire.client->openConnect("10.0.0.5:80", {{":path", "/"}}).ok());
}

TEST_CASE("tunnel bytes arrive intact both ways", "[hbone]") {
  Wire wire;
  const int32_t id = wire.openTunnel();
  const std::string up = pattern(3 * 1024 * 1024 + 17, 2);
  const std::string down = pattern(2 * 1024 * 1024 + 5, 3);
  // Interleave the directions so both are in flight at once.
  for (size_t offset = 0; offset < up.size(); offset += 100000) {
    wire.sendAll(*wire.client, id, up.substr(offset, 100000));
    if (offset < down.size()) wire.sendAll(*wire.server, id, down.substr(offset, 100000));
  }
  wire.pump();
  CHECK(wire.server_log.received[id].size() == up.size());
  CHECK(wire.server_log.received[id] == up);
  CHECK(wire.client_log.received[id].size() == down.size());
  CHECK(wire.client_log.received[id] == down);
  CHECK(wire.client->queuedBytes(id) == 0);
  CHECK(wire.server->queuedBytes(id) == 0);
}

TEST_CASE("each side half-closes on its own", "[hbone]") {
  Wire wire;
  const int32_t id = wire.openTunnel();
  wire.sendAll(*wire.client, id, "request");
  REQUIRE(wire.client->endStream(id).ok());
  wire.pump();
  CHECK(wire.server_log.ended.count(id) == 1);
  CHECK(wire.client_log.ended.count(id) == 0);
  CHECK(wire.server_log.closed.empty());
  CHECK_FALSE(wire.client->send(id, bytesOf("late")).ok());

  // The other direction keeps going after the client's end.
  wire.sendAll(*wire.server, id, "response after the client's end");
  wire.pump();
  CHECK(wire.client_log.received[id] == "response after the client's end");
  REQUIRE(wire.server->endStream(id).ok());
  wire.pump();
  CHECK(wire.client_log.ended.count(id) == 1);
  CHECK(wire.server_log.received[id] == "request");
  REQUIRE(wire.client_log.closed.count(id) == 1);
  REQUIRE(wire.server_log.closed.count(id) == 1);
  CHECK(wire.client_log.closed[id] == kNoError);
  CHECK(wire.server_log.closed[id] == kNoError);
  CHECK(wire.client->activeStreams() == 0);
  CHECK(wire.server->activeStreams() == 0);
}

TEST_CASE("a refused tunnel ends its stream with the status", "[hbone]") {
  Wire wire;
  wire.answer = [](const HboneRequest& r) { return r.target.port == 81 ? 403 : 200; };
  auto id = wire.client->openConnect("10.0.0.5:81");
  REQUIRE(id.ok());
  wire.pump();
  CHECK(wire.responses[*id] == 403);
  CHECK(wire.client_log.ended.count(*id) == 1);
  REQUIRE(wire.client_log.closed.count(*id) == 1);
  CHECK(wire.client_log.closed[*id] == kNoError);
  CHECK(wire.server_log.closed.count(*id) == 1);
  CHECK(wire.client->activeStreams() == 0);
  CHECK(wire.server->activeStreams() == 0);
}

TEST_CASE("the session answers 405 and 400 itself while other streams flow", "[hbone]") {
  Wire wire;
  const int32_t tunnel = wire.openTunnel();
  wire.sendAll(*wire.client, tunnel, "before");

  HboneRequest get;
  get.method = "GET";
  get.scheme = "https";
  get.authority = "10.0.0.5:8080";
  get.path = "/";
  auto get_id = wire.client->openStream(get);
  auto name_id = wire.client->openConnect("example.com:80");
  auto no_port_id = wire.client->openConnect("10.0.0.5");
  REQUIRE(get_id.ok());
  REQUIRE(name_id.ok());
  REQUIRE(no_port_id.ok());
  // Bytes sent before the answer are discarded by the server, not held against its windows.
  wire.sendAll(*wire.client, *name_id, pattern(100000, 4));
  wire.pump();

  CHECK(wire.responses[*get_id] == 405);
  CHECK(wire.response_headers[*get_id] == HboneHeaders{{"allow", "CONNECT"}});
  CHECK(wire.responses[*name_id] == 400);
  CHECK(wire.responses[*no_port_id] == 400);
  for (const int32_t id : {*get_id, *name_id, *no_port_id}) {
    CHECK(wire.requests.count(id) == 0);
    REQUIRE(wire.client_log.closed.count(id) == 1);
    CHECK(wire.client_log.closed[id] == kNoError);
  }
  CHECK(wire.server_log.closed.empty());  // the server's owner never saw those streams

  wire.sendAll(*wire.client, tunnel, " after");
  wire.sendAll(*wire.server, tunnel, "reply");
  wire.pump();
  CHECK(wire.server_log.received[tunnel] == "before after");
  CHECK(wire.client_log.received[tunnel] == "reply");
  CHECK(wire.client->activeStreams() == 1);
  CHECK(wire.server->activeStreams() == 1);
}

TEST_CASE("10,000 streams on one connection: 100 are taken, the rest refused", "[hbone]") {
  // A client that opens streams before the server's SETTINGS arrive, trusting a large limit.
  HboneOptions eager;
  eager.assumed_peer_max_concurrent_streams = 1000000;
  Wire wire(eager);
  size_t concurrent = 0;
  size_t max_concurrent = 0;
  wire.answer = [&](const HboneRequest&) {
    max_concurrent = std::max(max_concurrent, ++concurrent);
    return 200;
  };
  std::vector<int32_t> ids;
  for (int i = 0; i < 10000; ++i) {
    auto id = wire.client->openConnect("10.0.0.5:8080");
    REQUIRE(id.ok());
    ids.push_back(*id);
  }
  wire.pump();

  CHECK(wire.requests.size() == 100);
  CHECK(max_concurrent == 100);
  CHECK(wire.server->activeStreams() == 100);
  size_t refused = 0;
  for (const auto& [id, code] : wire.client_log.closed) refused += code == kRefusedStream;
  CHECK(refused == 9900);
  CHECK(wire.client_log.closed.size() == 9900);
  CHECK(wire.responses.size() == 100);
  CHECK(wire.client->peerMaxConcurrentStreams() == 100);
  CHECK_FALSE(wire.client->canOpenStream());

  // The streams taken all work, each with its own bytes.
  for (const auto& [id, request] : wire.requests) {
    wire.sendAll(*wire.client, id, pattern(3000, id));
    wire.sendAll(*wire.server, id, pattern(2000, id + 1));
    REQUIRE(wire.client->endStream(id).ok());
    REQUIRE(wire.server->endStream(id).ok());
  }
  wire.pump();
  for (const auto& [id, request] : wire.requests) {
    CHECK(wire.server_log.received[id] == pattern(3000, id));
    CHECK(wire.client_log.received[id] == pattern(2000, id + 1));
    CHECK(wire.client_log.closed[id] == kNoError);
  }
  CHECK(wire.client->activeStreams() == 0);
  CHECK(wire.server->activeStreams() == 0);
  CHECK(wire.client->canOpenStream());
}

TEST_CASE("the client stops at the server's stream limit", "[hbone]") {
  Wire wire;
  std::vector<int32_t> ids;
  while (wire.client->canOpenStream()) {
    auto id = wire.client->openConnect("10.0.0.5:8080");
    REQUIRE(id.ok());
    ids.push_back(*id);
    REQUIRE(ids.size() <= 100);
  }
  CHECK(ids.size() == 100);
  auto over = wire.client->openConnect("10.0.0.5:8080");
  CHECK(over.status().code() == absl::StatusCode::kResourceExhausted);
  wire.pump();
  CHECK(wire.responses.size() == 100);
  CHECK(wire.client_log.closed.empty());

  REQUIRE(wire.client->reset(ids[0], kCancel).ok());
  wire.pump();
  CHECK(wire.client->canOpenStream());
  CHECK(wire.client->openConnect("10.0.0.5:8080").ok());
  CHECK_FALSE(wire.client->canOpenStream());
}

TEST_CASE("a reset reaches the other side with its code", "[hbone]") {
  Wire wire;
  const int32_t a = wire.openTunnel();
  const int32_t b = wire.openTunnel();
  REQUIRE(wire.client->reset(a, kCancel).ok());
  REQUIRE(wire.server->reset(b, kConnectError).ok());
  wire.pump();
  CHECK(wire.server_log.closed[a] == kCancel);
  CHECK(wire.client_log.closed[a] == kCancel);  // the caller's own reset is reported too
  CHECK(wire.client_log.closed[b] == kConnectError);
  CHECK(wire.server_log.closed[b] == kConnectError);
  CHECK(wire.client->send(a, bytesOf("x")).status().code() == absl::StatusCode::kNotFound);
  CHECK(wire.client->activeStreams() == 0);
  CHECK(wire.server->activeStreams() == 0);
}

TEST_CASE("GOAWAY lets open streams finish and refuses new ones", "[hbone]") {
  Wire wire;
  const int32_t a = wire.openTunnel();
  const int32_t b = wire.openTunnel();
  wire.server->shutdown();
  // Opened before the GOAWAY reaches the client: the server ignores it, the client learns it was
  // not processed and may retry elsewhere.
  auto late = wire.client->openConnect("10.0.0.5:8080");
  REQUIRE(late.ok());
  wire.pump();
  CHECK(wire.requests.count(*late) == 0);
  CHECK(wire.client_log.closed[*late] == kRefusedStream);
  CHECK_FALSE(wire.client->canOpenStream());
  CHECK(wire.client->openConnect("10.0.0.5:8080").status().code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK_FALSE(wire.server->wantsClose());
  CHECK_FALSE(wire.client->wantsClose());

  for (const int32_t id : {a, b}) {
    wire.sendAll(*wire.client, id, "up");
    wire.sendAll(*wire.server, id, "down");
    REQUIRE(wire.client->endStream(id).ok());
    REQUIRE(wire.server->endStream(id).ok());
  }
  wire.pump();
  for (const int32_t id : {a, b}) {
    CHECK(wire.server_log.received[id] == "up");
    CHECK(wire.client_log.received[id] == "down");
    CHECK(wire.client_log.closed[id] == kNoError);
  }
  CHECK(wire.server->wantsClose());
  CHECK(wire.client->wantsClose());
  CHECK(wire.server->status().ok());
  CHECK(wire.client->status().ok());
}

TEST_CASE("a reader that does not consume stops the sender at the window", "[hbone]") {
  Wire wire;
  const HboneOptions defaults;
  wire.server_log.consume = false;
  const int32_t id = wire.openTunnel();
  const std::string data = pattern(10 * 1024 * 1024, 5);
  size_t offset = 0;
  for (int i = 0; i < 1000; ++i) {
    auto n = wire.client->send(id, bytesOf(data).subspan(offset));
    REQUIRE(n.ok());
    offset += *n;
    wire.pump();
    if (*n == 0) break;
  }
  // In flight: exactly one stream window; queued at the sender: its bounded buffer; the rest
  // was refused by send().
  CHECK(wire.server_log.received[id].size() == defaults.stream_window);
  CHECK(wire.client->queuedBytes(id) == defaults.stream_send_buffer);
  CHECK(offset == defaults.stream_window + defaults.stream_send_buffer);
  CHECK(wire.client->pendingOutputBytes() == 0);
  wire.client_log.writable.clear();
  wire.pump();
  CHECK(wire.client_log.writable.empty());
  CHECK(wire.server_log.received[id].size() == defaults.stream_window);

  // Acknowledging opens the window again, and the sender hears it may write.
  REQUIRE(wire.server->consumed(id, wire.server_log.received[id].size()).ok());
  wire.server_log.consume = true;
  wire.pump();
  CHECK(wire.client_log.writable.count(id) == 1);
  wire.sendAll(*wire.client, id, data.substr(offset));
  wire.pump();
  CHECK(wire.server_log.received[id] == data);
  CHECK_FALSE(wire.server->consumed(id, 1).ok());  // more than was delivered and not consumed
}

TEST_CASE("stalled readers hold at most the connection window", "[hbone]") {
  Wire wire;
  const HboneOptions defaults;
  wire.server_log.consume = false;
  std::vector<int32_t> ids;
  ids.reserve(5);
  for (int i = 0; i < 5; ++i) ids.push_back(wire.openTunnel());
  const std::string data = pattern(defaults.stream_window + 100000, 6);
  for (const int32_t id : ids) {
    auto n = wire.client->send(id, bytesOf(data).subspan(0, defaults.stream_send_buffer));
    REQUIRE(n.ok());
  }
  for (int round = 0; round < 100; ++round) {
    for (const int32_t id : ids) {
      const size_t queued = wire.client->queuedBytes(id);
      if (queued < defaults.stream_send_buffer) {
        auto n =
            wire.client->send(id, bytesOf(data).subspan(0, defaults.stream_send_buffer - queued));
        REQUIRE(n.ok());
      }
    }
    wire.pump();
  }
  size_t total = 0;
  for (const int32_t id : ids) {
    CHECK(wire.server_log.received[id].size() <= defaults.stream_window);
    total += wire.server_log.received[id].size();
  }
  CHECK(total == defaults.connection_window);

  // Streams closed with bytes never acknowledged give them back to the connection (a
  // WINDOW_UPDATE goes out once half the connection window is back; the streams share it fairly,
  // so three streams hold more than half).
  for (int i = 0; i < 3; ++i) REQUIRE(wire.server->reset(ids[i], kCancel).ok());
  wire.pump();
  size_t after = 0;
  for (const int32_t id : ids) after += wire.server_log.received[id].size();
  CHECK(after > total);
  CHECK(after - total <= 2 * defaults.stream_send_buffer);  // what the two others had queued
}

TEST_CASE("output stays bounded when the writer does not write", "[hbone]") {
  Wire wire;
  const HboneOptions defaults;
  std::vector<int32_t> ids;
  ids.reserve(8);
  for (int i = 0; i < 8; ++i) ids.push_back(wire.openTunnel());
  const std::string data = pattern(defaults.stream_send_buffer * 4, 7);
  for (const int32_t id : ids) {
    auto n = wire.client->send(id, bytesOf(data));
    REQUIRE(n.ok());
    CHECK(*n < data.size());
  }
  const std::span<const uint8_t> first = wire.client->pendingOutput();
  const std::string before(reinterpret_cast<const char*>(first.data()), first.size());
  CHECK(wire.client->pendingOutputBytes() >= defaults.output_high_water);
  CHECK(wire.client->pendingOutputBytes() <=
        defaults.output_high_water + defaults.max_send_frame_size + 9);
  // More sends and received bytes leave the bytes already handed out untouched.
  REQUIRE(wire.server->send(ids[0], bytesOf("ping")).ok());
  Wire::move(*wire.server, *wire.client);
  CHECK(wire.client->send(ids[1], bytesOf(data)).ok());
  CHECK(std::string(reinterpret_cast<const char*>(first.data()), first.size()) == before);
  wire.pump();
  CHECK(wire.server_log.received[ids[0]].size() > 0);
}

TEST_CASE("bytes that are not HTTP/2 are an error", "[hbone]") {
  SECTION("HTTP/1.1 to the server") {
    auto server = HboneServerSession::create();
    REQUIRE(server.ok());
    const absl::Status status =
        (*server)->feed(bytesOf("GET / HTTP/1.1\r\nHost: 10.0.0.5\r\n\r\n"));
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK(status.message().find("preface") != std::string_view::npos);
    CHECK((*server)->wantsClose());
  }
  SECTION("garbage after a valid preface") {
    auto server = HboneServerSession::create();
    REQUIRE(server.ok());
    REQUIRE((*server)->feed(bytesOf("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")).ok());
    const absl::Status status = (*server)->feed(bytesOf(pattern(200, 8)));
    INFO(status.ToString());
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK(status.message().find("hbone: peer sent a malformed frame") == 0);
    // The GOAWAY telling the peer why is still to be written.
    CHECK((*server)->pendingOutputBytes() > 0);
    CHECK_FALSE((*server)->feed(bytesOf("more")).ok());
  }
  SECTION("a malformed frame mid-connection") {
    Wire wire;
    const int32_t id = wire.openTunnel();
    // DATA on stream 0 is a connection error (RFC 9113 section 6.1).
    const uint8_t data_on_stream_0[] = {0, 0, 1, 0, 0, 0, 0, 0, 0, 'x'};
    const absl::Status status = wire.server->feed(data_on_stream_0, sizeof(data_on_stream_0));
    INFO(status.ToString());
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK(status.message().find("hbone: peer sent a malformed frame: PROTOCOL_ERROR") == 0);
    CHECK(wire.server->streamIds() == std::vector<int32_t>{id});
    // The client hears why and fails too.
    const auto out = wire.server->pendingOutput();
    const absl::Status heard = wire.client->feed(out);
    INFO(heard.ToString());
    CHECK(heard.code() == absl::StatusCode::kUnavailable);
    CHECK(heard.message().find("PROTOCOL_ERROR") != std::string_view::npos);
    CHECK_FALSE(wire.client->canOpenStream());
    CHECK_FALSE(wire.client->send(id, bytesOf("x")).ok());
  }
  SECTION("garbage to the client") {
    auto client = HboneClientSession::create();
    REQUIRE(client.ok());
    const absl::Status status = (*client)->feed(bytesOf("HTTP/1.1 400 Bad Request\r\n\r\n"));
    INFO(status.ToString());
    CHECK_FALSE(status.ok());
    CHECK_FALSE((*client)->canOpenStream());
  }
}

}  // namespace
}  // namespace ambit::hbone
