// Request decoding: framing, pipelining, incremental input, and the refusals that keep the
// waypoint and its upstream from disagreeing on where a request ends.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "waypoint/http/http1_codec.h"

namespace ambit::waypoint {
namespace {

using State = Http1DecodeState;

TEST_CASE("Http1RequestDecoder reads a simple GET") {
  Http1RequestDecoder decoder;
  std::string_view bytes = "GET /a/b?c=d HTTP/1.1\r\nHost: reviews:9080\r\nX-Name: v1 \r\n\r\n";
  REQUIRE(decoder.feed(bytes) == bytes.size());
  REQUIRE(decoder.state() == State::kComplete);
  const HttpRequest& request = decoder.request();
  CHECK(request.method == "GET");
  CHECK(request.target == "/a/b?c=d");
  CHECK(request.version == 11);
  CHECK(request.authority() == "reviews:9080");
  CHECK(request.headers.get("x-name") == "v1");
  CHECK(request.headers.fields[1].name == "X-Name");  // spelling kept
  CHECK(request.body.empty());
  CHECK(keepAlive(request));
}

TEST_CASE("Http1RequestDecoder reads a body framed by Content-Length") {
  Http1RequestDecoder decoder;
  std::string_view bytes = "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello";
  REQUIRE(decoder.feed(bytes) == bytes.size());
  REQUIRE(decoder.state() == State::kComplete);
  CHECK(decoder.request().body == "hello");
}

TEST_CASE("Http1RequestDecoder reads a chunked body with extensions and trailers") {
  Http1RequestDecoder decoder;
  std::string_view bytes =
      "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n"
      "7;quoted=\"a b\"\r\n, world\r\n"
      "0\r\nX-Trailer: t\r\n\r\n";
  REQUIRE(decoder.feed(bytes) == bytes.size());
  REQUIRE(decoder.state() == State::kComplete);
  CHECK(decoder.request().body == "hello, world");
  CHECK_FALSE(decoder.request().headers.has("x-trailer"));  // trailers are dropped
}

TEST_CASE("Http1RequestDecoder leaves a pipelined request unconsumed") {
  std::string first = "POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
  std::string second = "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n";
  std::string bytes = first + second;
  Http1RequestDecoder decoder;
  REQUIRE(decoder.feed(bytes) == first.size());
  REQUIRE(decoder.state() == State::kComplete);
  CHECK(decoder.feed("more") == 0);  // nothing more until the request is taken
  HttpRequest one = decoder.takeRequest();
  CHECK(one.target == "/1");
  CHECK(one.body == "abc");
  REQUIRE(decoder.feed(std::string_view(bytes).substr(first.size())) == second.size());
  REQUIRE(decoder.state() == State::kComplete);
  CHECK(decoder.takeRequest().target == "/2");
  CHECK(decoder.state() == State::kNeedMore);
}

TEST_CASE("Http1RequestDecoder reads requests split byte by byte") {
  std::string message =
      GENERATE(std::string("GET / HTTP/1.1\r\nHost: a\r\nX-Long: folded-looking value\r\n\r\n"),
               std::string("PUT /p HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody"),
               std::string("POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n"));
  std::string next = "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
  std::string bytes = message + next;
  Http1RequestDecoder decoder;
  std::size_t offset = 0;
  while (decoder.state() == State::kNeedMore && offset < bytes.size()) {
    REQUIRE(decoder.feed(std::string_view(bytes).substr(offset, 1)) == 1);
    ++offset;
  }
  REQUIRE(decoder.state() == State::kComplete);
  CHECK(offset == message.size());
  HttpRequest request = decoder.takeRequest();
  CHECK((request.body.empty() || request.body == "body" || request.body == "abcde"));
  REQUIRE(decoder.feed(std::string_view(bytes).substr(offset)) == next.size());
  CHECK(decoder.request().target == "/next");
}

TEST_CASE("Http1RequestDecoder reads a pipelined stream however it is split") {
  std::string stream =
      "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
      "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nfives"
      "POST /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "1;a=b\r\nx\r\n10\r\n0123456789abcdef\r\n0\r\nT: v\r\n\r\n"
      "GET /4 HTTP/1.0\r\n\r\n";
  std::mt19937 random(7);
  for (int round = 0; round < 200; ++round) {
    // A reader's buffer: bytes arrive in random slices; what feed() leaves stays at its front.
    Http1RequestDecoder decoder;
    std::string buffer;
    std::vector<std::string> seen;
    std::size_t offset = 0;
    while (seen.size() < 4) {
      if (offset < stream.size()) {
        std::size_t slice = std::uniform_int_distribution<std::size_t>(1, 40)(random);
        buffer += stream.substr(offset, slice);
        offset += std::min(slice, stream.size() - offset);
      }
      buffer.erase(0, decoder.feed(buffer));
      if (decoder.state() == State::kComplete) {
        HttpRequest request = decoder.takeRequest();
        seen.push_back(request.target + ":" + request.body);
      } else {
        REQUIRE(decoder.state() == State::kNeedMore);
        REQUIRE(buffer.empty());  // an incomplete message takes everything it is given
      }
    }
    CHECK(seen == std::vector<std::string>{"/1:", "/2:fives", "/3:x0123456789abcdef", "/4:"});
    CHECK(buffer.empty());
  }
}

TEST_CASE("Http1RequestDecoder skips empty lines before a request") {
  Http1RequestDecoder decoder;
  std::string_view bytes = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
  REQUIRE(decoder.feed(bytes) == bytes.size());
  CHECK(decoder.state() == State::kComplete);
  decoder.takeRequest();
  REQUIRE(decoder.feed("\r") == 1);
  REQUIRE(decoder.feed("\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n") == 29);
  CHECK(decoder.state() == State::kComplete);
  CHECK(decoder.request().target == "/b");
}

struct Refused {
  const char* name;
  std::string bytes;
  int status;
  bool close;
};

std::string head(std::string_view fields) {
  return "POST /x HTTP/1.1\r\nHost: a\r\n" + std::string(fields) + "\r\n";
}

TEST_CASE("Http1RequestDecoder refuses ambiguous or malformed requests") {
  auto refused = GENERATE(values<Refused>({
      {"Content-Length then chunked", head("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n"),
       400, true},
      {"chunked then Content-Length", head("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n"),
       400, true},
      {"another coding and Content-Length",
       head("Transfer-Encoding: gzip\r\nContent-Length: 3\r\n"), 400, true},
      {"differing Content-Lengths", head("Content-Length: 3\r\nContent-Length: 4\r\n"), 400, true},
      {"differing Content-Length list", head("Content-Length: 3, 4\r\n"), 400, true},
      {"signed Content-Length", head("Content-Length: +3\r\n"), 400, true},
      {"hex Content-Length", head("Content-Length: 0x3\r\n"), 400, true},
      {"empty Content-Length", head("Content-Length:\r\n"), 400, true},
      {"overflowing Content-Length", head("Content-Length: 99999999999999999999999\r\n"), 400,
       true},
      {"chunked not final", head("Transfer-Encoding: chunked, gzip\r\n"), 400, true},
      {"no chunked", head("Transfer-Encoding: gzip\r\n"), 400, true},
      {"identity", head("Transfer-Encoding: identity\r\n"), 400, true},
      {"chunked twice in a list", head("Transfer-Encoding: chunked, chunked\r\n"), 400, true},
      {"chunked twice in fields",
       head("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), 400, true},
      {"chunked with a parameter", head("Transfer-Encoding: chunked;q=1\r\n"), 400, true},
      {"empty coding", head("Transfer-Encoding: , chunked\r\n"), 400, true},
      {"near miss", head("Transfer-Encoding: xchunked\r\n"), 400, true},
      {"unknown coding before chunked", head("Transfer-Encoding: gzip, chunked\r\n"), 501, true},
      {"unknown coding in another field",
       head("Transfer-Encoding: br\r\nTransfer-Encoding: chunked\r\n"), 501, true},
      {"control byte in coding",
       head("Transfer-Encoding: \x0b"
            "chunked\r\n"),
       400, true},
      {"HTTP/1.0 chunked", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
       true},
      {"space before colon", head("Transfer-Encoding : chunked\r\n"), 400, true},
      {"obs-fold", head("X-A: a\r\n b\r\n"), 400, true},
      {"obs-fold with a tab", head("X-A: a\r\n\tb\r\n"), 400, true},
      {"folded Transfer-Encoding", head("Transfer-Encoding:\r\n chunked\r\n"), 400, true},
      {"whitespace before the first field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400, true},
      {"space in a name", head("Bad Name: x\r\n"), 400, true},
      {"empty name", head(": x\r\n"), 400, true},
      {"separator in a name", head("X(y): x\r\n"), 400, true},
      {"control byte in a name", head("X\x01y: x\r\n"), 400, true},
      {"NUL in a value", head(std::string("X: a\0b\r\n", 8)), 400, true},
      {"bare CR in a value", head("X: a\rb\r\n"), 400, true},
      {"DEL in a value",
       head("X: a\x7f"
            "b\r\n"),
       400, true},
      {"bare LF line ends", "GET / HTTP/1.1\nHost: a\n\n", 400, true},
      {"bare LF after a field", "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", 400, true},
      {"bare LF after a chunk size", head("Transfer-Encoding: chunked\r\n") + "3\nabc\r\n0\r\n\r\n",
       400, true},
      {"chunk size not hex", head("Transfer-Encoding: chunked\r\n") + "zz\r\nhello\r\n0\r\n\r\n",
       400, true},
      {"chunk data too long", head("Transfer-Encoding: chunked\r\n") + "3\r\nhello\r\n0\r\n\r\n",
       400, true},
      {"chunk size overflow",
       head("Transfer-Encoding: chunked\r\n") + "10000000000000001\r\nx\r\n0\r\n\r\n", 400, true},
      {"bad chunk extension", head("Transfer-Encoding: chunked\r\n") + "3;\x01\r\nabc\r\n0\r\n\r\n",
       400, true},
      {"absolute-form naming another host", "GET http://evil.example/x HTTP/1.1\r\nHost: a\r\n\r\n",
       400, false},
      {"absolute-form with userinfo", "GET http://u@a/x HTTP/1.1\r\nHost: a\r\n\r\n", 400, false},
      {"absolute-form other host with a body",
       "POST http://evil/x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx", 400, true},
      {"HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n", 400, false},
      {"HTTP/1.1 without Host, closing", "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 400, true},
      {"HTTP/1.0 absolute-form naming another host", "GET http://evil/ HTTP/1.0\r\nHost: a\r\n\r\n",
       400, true},
      {"without Host, with a body", "POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\nx", 400, true},
      {"two Host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, false},
      {"invalid Host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, false},
      {"empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", 400, false},
      {"Host with a path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, false},
      {"CONNECT", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 501, false},
      {"asterisk on GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400, false},
      {"relative target", "GET x/y HTTP/1.1\r\nHost: a\r\n\r\n", 400, false},
      {"fragment", "GET /x#y HTTP/1.1\r\nHost: a\r\n\r\n", 400, false},
      {"HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 400, true},
      {"HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 400, true},
      {"bad method", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, true},
  }));
  CAPTURE(refused.name);
  Http1RequestDecoder decoder;
  decoder.feed(refused.bytes);
  REQUIRE(decoder.state() == State::kError);
  CHECK(decoder.error().status == refused.status);
  CHECK(decoder.error().close == refused.close);
  CHECK_FALSE(decoder.error().reason.empty());
}

TEST_CASE("Http1RequestDecoder can read on after a refused request without a body") {
  std::string refused = "GET / HTTP/1.1\r\n\r\n";
  std::string next = "GET /ok HTTP/1.1\r\nHost: a\r\n\r\n";
  Http1RequestDecoder decoder;
  REQUIRE(decoder.feed(refused + next) == refused.size());
  REQUIRE(decoder.state() == State::kError);
  REQUIRE_FALSE(decoder.error().close);
  decoder.reset();
  REQUIRE(decoder.feed(next) == next.size());
  CHECK(decoder.request().target == "/ok");
}

TEST_CASE("Http1RequestDecoder accepts what the strict checks allow") {
  auto bytes = GENERATE(
      as<std::string>{}, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2, 2\r\n\r\nab",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  Chunked \r\n\r\n2\r\nab\r\n0\r\n\r\n",
      "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", "GET / HTTP/1.0\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nX-Bin: caf\xc3\xa9\r\n\r\n");
  CAPTURE(bytes);
  Http1RequestDecoder decoder;
  REQUIRE(decoder.feed(bytes) == bytes.size());
  CHECK(decoder.state() == State::kComplete);
}

TEST_CASE("Http1RequestDecoder normalizes an absolute-form target") {
  struct Case {
    std::string bytes;
    std::string target;
    std::string host;
  };
  auto c = GENERATE(values<Case>({
      {"GET http://a:9080/p?q=1 HTTP/1.1\r\nHost: A:9080\r\n\r\n", "/p?q=1", "A:9080"},
      {"GET http://a:80 HTTP/1.1\r\nHost: a\r\n\r\n", "/", "a"},
      {"GET HTTPS://a?x HTTP/1.1\r\nHost: a:443\r\n\r\n", "/?x", "a:443"},
      {"GET http://b/ HTTP/1.0\r\n\r\n", "/", "b"},
  }));
  Http1RequestDecoder decoder;
  decoder.feed(c.bytes);
  REQUIRE(decoder.state() == State::kComplete);
  CHECK(decoder.request().target == c.target);
  CHECK(decoder.request().authority() == c.host);
  CHECK(decoder.request().headers.count("host") == 1);
}

TEST_CASE("Http1RequestDecoder limits the header") {
  std::string big =
      "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(70 * 1024, 'x') + "\r\n\r\n";
  SECTION("in one piece") {
    Http1RequestDecoder decoder;
    decoder.feed(big);
    REQUIRE(decoder.state() == State::kError);
    CHECK(decoder.error().status == 431);
    CHECK(decoder.error().close);
  }
  SECTION("across many small fields fed in pieces") {
    Http1RequestDecoder decoder(Http1Limits{.max_header_bytes = 200});
    std::string fields = "GET / HTTP/1.1\r\nHost: a\r\n";
    for (int i = 0; i < 20; ++i) fields += "X-F: 0123456789\r\n";
    fields += "\r\n";
    for (std::size_t offset = 0; decoder.state() == State::kNeedMore && offset < fields.size();
         offset += 7) {
      decoder.feed(std::string_view(fields).substr(offset, 7));
    }
    REQUIRE(decoder.state() == State::kError);
    CHECK(decoder.error().status == 431);
  }
  SECTION("exactly at the limit") {
    std::string exact = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    Http1RequestDecoder decoder(Http1Limits{.max_header_bytes = exact.size()});
    REQUIRE(decoder.feed(exact) == exact.size());
    CHECK(decoder.state() == State::kComplete);
  }
}

TEST_CASE("Http1RequestDecoder limits the body") {
  Http1Limits limits{.max_header_bytes = 1024, .max_body_bytes = 10};
  auto bytes =
      GENERATE(as<std::string>{}, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n",
               "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
               "chunked\r\n\r\n6\r\nabcdef\r\n5\r\nabcde\r\n",
               std::string("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048577\r\n\r\n"));
  Http1RequestDecoder decoder(bytes.find("1048577") == std::string::npos ? limits : Http1Limits{});
  decoder.feed(bytes);
  REQUIRE(decoder.state() == State::kError);
  CHECK(decoder.error().status == 413);
  CHECK(decoder.error().close);
}

TEST_CASE("Http1RequestDecoder accepts a body at the limit") {
  Http1RequestDecoder decoder(Http1Limits{.max_header_bytes = 1024, .max_body_bytes = 10});
  std::string bytes = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789";
  REQUIRE(decoder.feed(bytes) == bytes.size());
  CHECK(decoder.state() == State::kComplete);
}

TEST_CASE("keepAlive follows the version and the Connection field") {
  auto request = [](int version, std::string_view connection) {
    HttpRequest r;
    r.version = version;
    if (!connection.empty()) r.headers.add("Connection", connection);
    return r;
  };
  CHECK(keepAlive(request(11, "")));
  CHECK_FALSE(keepAlive(request(11, "Close")));
  CHECK_FALSE(keepAlive(request(11, "x-opt, close")));
  CHECK_FALSE(keepAlive(request(10, "")));
  CHECK(keepAlive(request(10, "Keep-Alive")));
}

}  // namespace
}  // namespace ambit::waypoint
