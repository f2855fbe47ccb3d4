// Encoding: re-framing with Content-Length, hop-by-hop fields, round trips through the decoders,
// local replies and the header helpers.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "waypoint/http/http1_codec.h"

namespace ambit::waypoint {
namespace {

using State = Http1DecodeState;

HttpRequest decodeRequest(std::string_view bytes) {
  Http1RequestDecoder decoder;
  REQUIRE(decoder.feed(bytes) == bytes.size());
  REQUIRE(decoder.state() == State::kComplete);
  return decoder.takeRequest();
}

HttpResponse decodeResponse(std::string_view bytes, std::string_view method = "GET") {
  Http1ResponseDecoder decoder(method);
  REQUIRE(decoder.feed(bytes) == bytes.size());
  REQUIRE(decoder.state() == State::kComplete);
  return decoder.takeResponse("GET");
}

TEST_CASE("HttpHeaders matches names in any case and keeps order") {
  HttpHeaders headers;
  headers.add("X-A", "1");
  headers.add("x-b", "2");
  headers.add("X-a", "3");
  CHECK(headers.get("x-A") == "1");
  CHECK(headers.getAll("X-A") == std::vector<std::string_view>{"1", "3"});
  CHECK(headers.count("x-a") == 2);
  CHECK_FALSE(headers.get("x-c").has_value());
  headers.set("x-a", "4");
  REQUIRE(headers.size() == 2);
  CHECK(headers.fields[0].name == "X-A");
  CHECK(headers.fields[0].value == "4");
  headers.set("X-C", "5");
  CHECK(headers.fields.back().name == "X-C");
  CHECK(headers.remove("X-B") == 1);
  CHECK(headers.remove("X-B") == 0);
  CHECK(headers.size() == 2);
}

TEST_CASE("encodeRequest re-frames a chunked request with Content-Length") {
  HttpRequest request = decodeRequest(
      "POST /up?x=1 HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\nX-Id: 7\r\n\r\n"
      "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n");
  std::string encoded = encodeRequest(request);
  CHECK(encoded ==
        "POST /up?x=1 HTTP/1.1\r\nHost: svc\r\nX-Id: 7\r\nContent-Length: 6\r\n\r\nabcdef");
  HttpRequest again = decodeRequest(encoded);
  CHECK(again.method == request.method);
  CHECK(again.target == request.target);
  CHECK(again.body == "abcdef");
  CHECK(again.headers.get("x-id") == "7");
  CHECK_FALSE(again.headers.has("transfer-encoding"));
}

TEST_CASE("encodeRequest writes Content-Length only where it means something") {
  HttpRequest get = decodeRequest("GET / HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n");
  CHECK(encodeRequest(get) == "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  HttpRequest post = decodeRequest("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
  CHECK(encodeRequest(post, /*close=*/true) ==
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
}

TEST_CASE("encodeRequest keeps a rewritten target and fields on one line") {
  HttpRequest request;
  request.method = "GET";
  request.target = "/a b\r\nX: y";
  request.headers.add("Host", "a");
  request.headers.add("X-Injected", "v\r\nEvil: 1");
  request.headers.add("Bad Name", "v");
  CHECK(encodeRequest(request) == "GET /a%20b%0D%0AX:%20y HTTP/1.1\r\nHost: a\r\n\r\n");
}

TEST_CASE("removeHopByHopHeaders strips connection-specific fields") {
  HttpHeaders headers;
  for (const char* name : {"Host", "Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer",
                           "Transfer-Encoding", "Upgrade", "X-Session", "X-Keep", "x-other"}) {
    headers.add(name, "v");
  }
  headers.add("connection", "X-Session, , x-OTHER");
  removeHopByHopHeaders(headers);
  REQUIRE(headers.size() == 2);
  CHECK(headers.fields[0].name == "Host");
  CHECK(headers.fields[1].name == "X-Keep");
}

TEST_CASE("encodeRequest strips hop-by-hop fields, including those Connection names") {
  HttpRequest request = decodeRequest(
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, X-Hop\r\nUpgrade: websocket\r\n"
      "X-Hop: 1\r\nTE: trailers\r\nKeep-Alive: timeout=5\r\nX-End: 2\r\n\r\n");
  CHECK(encodeRequest(request) == "GET / HTTP/1.1\r\nHost: a\r\nX-End: 2\r\n\r\n");
}

TEST_CASE("encodeResponse frames bodies by status and request method") {
  HttpResponse ok = decodeResponse(
      "HTTP/1.1 200 Fine\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\nhi\r\n"
      "0\r\n\r\n");
  CHECK(encodeResponse(ok, false) == "HTTP/1.1 200 Fine\r\nContent-Length: 2\r\n\r\nhi");

  HttpResponse head = decodeResponse("HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n", "HEAD");
  CHECK(encodeResponse(head, true) == "HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n");

  HttpResponse not_modified = decodeResponse("HTTP/1.1 304 Not Modified\r\nETag: \"e\"\r\n\r\n");
  CHECK(encodeResponse(not_modified, false) == "HTTP/1.1 304 Not Modified\r\nETag: \"e\"\r\n\r\n");

  HttpResponse no_content;
  no_content.status = 204;
  no_content.headers.add("Content-Length", "0");
  CHECK(encodeResponse(no_content, false, /*close=*/true) ==
        "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
}

TEST_CASE("encodeResponse output decodes to the same response") {
  HttpResponse response;
  response.status = 503;
  response.headers.add("Retry-After", "1");
  response.headers.add("Content-Length", "999");  // replaced by the body's size
  response.body = std::string("bytes\0and\r\nlines", 16);
  HttpResponse again = decodeResponse(encodeResponse(response, false));
  CHECK(again.status == 503);
  CHECK(again.reason == "Service Unavailable");
  CHECK(again.body == response.body);
  CHECK(again.headers.get("retry-after") == "1");
  CHECK(again.headers.get("content-length") == "16");
}

TEST_CASE("simpleResponse makes a plain-text reply") {
  HttpResponse reply = simpleResponse(404, "no route\n");
  CHECK(
      encodeResponse(reply, false) ==
      "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nno route\n");
  CHECK(encodeResponse(reply, true) ==
        "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\n");
  CHECK(reasonPhrase(431) == "Request Header Fields Too Large");
  CHECK(reasonPhrase(299) == "Unknown");
}

TEST_CASE("encoder output round-trips through the request decoder") {
  HttpRequest request;
  request.method = "PATCH";
  request.target = "/items/1?fields=a,b";
  request.headers.add("Host", "items.default.svc.cluster.local:8080");
  request.headers.add("Content-Type", "application/json");
  request.headers.add("X-Multi", "1");
  request.headers.add("X-Multi", "2");
  request.body = std::string(100000, 'j');
  HttpRequest again = decodeRequest(encodeRequest(request));
  CHECK(again.method == "PATCH");
  CHECK(again.target == request.target);
  CHECK(again.authority() == "items.default.svc.cluster.local:8080");
  CHECK(again.headers.getAll("x-multi") == std::vector<std::string_view>{"1", "2"});
  CHECK(again.body == request.body);
}

}  // namespace
}  // namespace ambit::waypoint
