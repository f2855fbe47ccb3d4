// Response decoding: bodies that depend on the request (HEAD) and the status (1xx, 204, 304),
// chunked bodies, bodies that run to the close of the connection.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "waypoint/http/http1_codec.h"

namespace ambit::waypoint {
namespace {

using State = Http1DecodeState;

TEST_CASE("Http1ResponseDecoder reads a response framed by Content-Length") {
  Http1ResponseDecoder decoder("GET");
  std::string_view bytes = "HTTP/1.1 201 Made\r\nContent-Length: 2\r\nX-A: b\r\n\r\nok";
  REQUIRE(decoder.feed(bytes) == bytes.size());
  REQUIRE(decoder.state() == State::kComplete);
  CHECK(decoder.response().status == 201);
  CHECK(decoder.response().reason == "Made");
  CHECK(decoder.response().body == "ok");
  CHECK(decoder.response().headers.get("x-a") == "b");
  CHECK_FALSE(decoder.needsEof());
}

TEST_CASE("Http1ResponseDecoder reads no body where there is none") {
  struct Case {
    const char* method;
    std::string head;
  };
  auto c = GENERATE(values<Case>({
      {"HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"},
      {"HEAD", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"},
      {"HEAD", "HTTP/1.1 200 OK\r\n\r\n"},
      {"GET", "HTTP/1.1 204 No Content\r\n\r\n"},
      {"GET", "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\nETag: \"x\"\r\n\r\n"},
      {"GET", "HTTP/1.1 100 Continue\r\n\r\n"},
  }));
  CAPTURE(c.method, c.head);
  // The next response on the connection must stay unconsumed.
  std::string next = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
  Http1ResponseDecoder decoder(c.method);
  REQUIRE(decoder.feed(c.head + next) == c.head.size());
  REQUIRE(decoder.state() == State::kComplete);
  CHECK(decoder.response().body.empty());
  HttpResponse first = decoder.takeResponse("GET");
  REQUIRE(decoder.feed(next) == next.size());
  REQUIRE(decoder.state() == State::kComplete);
  CHECK(decoder.response().body == "abc");
}

TEST_CASE("Http1ResponseDecoder reads an interim response, then the final one") {
  std::string bytes = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz";
  Http1ResponseDecoder decoder("POST");
  std::size_t used = decoder.feed(bytes);
  REQUIRE(decoder.state() == State::kComplete);
  CHECK(decoder.takeResponse("POST").status == 100);
  REQUIRE(decoder.feed(std::string_view(bytes).substr(used)) == bytes.size() - used);
  CHECK(decoder.response().status == 200);
  CHECK(decoder.response().body == "z");
}

TEST_CASE("Http1ResponseDecoder reads a chunked response") {
  std::string bytes =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n5;e=1\r\npedia\r\n"
      "0\r\nExpires: never\r\n\r\n";
  Http1ResponseDecoder decoder("GET");
  SECTION("at once") { REQUIRE(decoder.feed(bytes) == bytes.size()); }
  SECTION("in pieces of three bytes") {
    for (std::size_t offset = 0; offset < bytes.size(); offset += 3) {
      REQUIRE(decoder.feed(std::string_view(bytes).substr(offset, 3)) ==
              std::min<std::size_t>(3, bytes.size() - offset));
    }
  }
  REQUIRE(decoder.state() == State::kComplete);
  CHECK(decoder.response().body == "wikipedia");
  CHECK_FALSE(decoder.response().headers.has("expires"));
}

TEST_CASE("Http1ResponseDecoder reads a body that runs to the close") {
  Http1ResponseDecoder decoder("GET");
  REQUIRE(decoder.feed("HTTP/1.1 200 OK\r\nX: y\r\n\r\nhello") == 30);
  CHECK(decoder.state() == State::kNeedMore);
  CHECK(decoder.needsEof());
  REQUIRE(decoder.feed(", world") == 7);
  CHECK(decoder.finishOnEof() == State::kComplete);
  CHECK(decoder.response().body == "hello, world");
  CHECK(decoder.needsEof());  // the connection cannot be reused
}

TEST_CASE("Http1ResponseDecoder limits a body that runs to the close") {
  Http1ResponseDecoder decoder("GET", Http1Limits{.max_header_bytes = 1024, .max_body_bytes = 4});
  decoder.feed("HTTP/1.1 200 OK\r\n\r\nhello");
  REQUIRE(decoder.state() == State::kError);
  CHECK(decoder.error().status == 413);
}

TEST_CASE("Http1ResponseDecoder turns an early close into an error") {
  auto bytes = GENERATE(as<std::string>{}, "", "HTTP/1.1 200 OK\r\nContent-Le",
                        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc",
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab");
  CAPTURE(bytes);
  Http1ResponseDecoder decoder("GET");
  decoder.feed(bytes);
  REQUIRE(decoder.state() == State::kNeedMore);
  CHECK(decoder.finishOnEof() == State::kError);
  CHECK(decoder.error().close);
}

TEST_CASE("Http1ResponseDecoder refuses ambiguous or malformed responses") {
  struct Case {
    std::string bytes;
    int status;
  };
  auto c = GENERATE(values<Case>({
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 1\r\n\r\n", 400},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 400},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
      {"HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", 400},
      {"HTTP/1.1 2000 OK\r\n\r\n", 400},
      {"HTTP/1.1 200 OK\r\nX Y: z\r\n\r\n", 400},
      {"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"HTTP/1.1 200 OK\r\nX: " + std::string(61 * 1024, 'x') + "\r\n\r\n", 431},
  }));
  CAPTURE(c.bytes.substr(0, 80));
  Http1ResponseDecoder decoder("GET");
  decoder.feed(c.bytes);
  REQUIRE(decoder.state() == State::kError);
  CHECK(decoder.error().status == c.status);
  CHECK(decoder.error().close);
}

}  // namespace
}  // namespace ambit::waypoint
