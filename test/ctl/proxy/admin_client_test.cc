// The proxy commands' HTTP client and the JSON they read and write.
#include "ctl/proxy/admin_client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "ctl/proxy/json_value.h"
#include "test/ctl/proxy/proxy_test_support.h"

namespace ambit::ctl::testing {
namespace {

using namespace std::chrono_literals;

TEST_CASE("addresses are HOST:PORT", "[proxy]") {
  struct Case {
    std::string address;
    std::string host;  // empty: refused
    std::string port;
    std::string why;
  };
  const Case cases[] = {
      {"127.0.0.1:15000", "127.0.0.1", "15000", ""},
      {"localhost:1", "localhost", "1", ""},
      {"[::1]:65535", "::1", "65535", ""},
      {"10.200.0.1", "", "", "no port"},
      {":15014", "", "", "no host"},
      {"host:", "", "", "the port must be a number from 1 to 65535"},
      {"host:0", "", "", "the port must be a number from 1 to 65535"},
      {"host:65536", "", "", "the port must be a number from 1 to 65535"},
      {"host:80x", "", "", "the port must be a number from 1 to 65535"},
      {"host:123456", "", "", "the port must be a number from 1 to 65535"},
      {"::1:80", "", "", "write an IPv6 host in [ ]"},
      {"[::1]80", "", "", "no port"},
      {"[::1", "", "", "no ']' after the IPv6 address"},
  };
  for (const Case& c : cases) {
    INFO(c.address);
    const auto parsed = proxy::parseHostPort(c.address);
    if (c.host.empty()) {
      REQUIRE_FALSE(parsed.ok());
      CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
      CHECK(std::string(parsed.status().message()) ==
            "address \"" + c.address + "\": " + c.why + " (expected HOST:PORT)");
    } else {
      REQUIRE(parsed.ok());
      CHECK(parsed->host == c.host);
      CHECK(parsed->port == c.port);
    }
  }
}

TEST_CASE("a GET returns the body of a 200 and names the URL in errors", "[proxy]") {
  auto server = http::AdminServer::create("127.0.0.1", 0);
  REQUIRE(server.ok());
  (*server)->handle("/ok", [](const http::Request&) {
    return http::Response{200, "application/json", "{\"a\": 1}\n"};
  });
  (*server)->handle("/broken", [](const http::Request&) {
    return http::Response{503, "text/plain", "not ready: no configuration served yet\nmore\n"};
  });
  (*server)->start();
  const std::string address = "127.0.0.1:" + std::to_string((*server)->port());

  const auto ok = proxy::httpGet(address, "/ok");
  REQUIRE(ok.ok());
  CHECK(*ok == "{\"a\": 1}\n");

  const auto missing = proxy::httpGet(address, "/nope");
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(std::string(missing.status().message()) == "http://" + address + "/nope: 404 Not Found");

  const auto broken = proxy::httpGet(address, "/broken");
  CHECK(broken.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(broken.status().message()) ==
        "http://" + address +
            "/broken: 503 Service Unavailable: not ready: no configuration served yet");
  (*server)->stop();

  const std::string closed = closedAddress();
  const auto refused = proxy::httpGet(closed, "/ok");
  CHECK(refused.status().code() == absl::StatusCode::kUnavailable);
  CHECK(std::string(refused.status().message()) ==
        "cannot connect to " + closed + ": Connection refused");

  CHECK(proxy::httpGet("no-port", "/").status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("a peer that never answers is given up at the deadline", "[proxy]") {
  // A listening socket nobody accepts from: the kernel completes the connection, nothing answers.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(listen(fd, 4) == 0);
  socklen_t length = sizeof(addr);
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0);
  const std::string address = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));

  const auto start = std::chrono::steady_clock::now();
  const auto silent = proxy::httpGet(address, "/config_dump", 200ms);
  const auto took = std::chrono::steady_clock::now() - start;
  close(fd);
  CHECK(silent.status().code() == absl::StatusCode::kUnavailable);
  CHECK(std::string(silent.status().message()) ==
        "http://" + address + "/config_dump: no complete answer within 200 ms");
  CHECK(took >= 200ms);
  CHECK(took < 5s);
}

TEST_CASE("JSON is read into Values and written back sorted, as JSON or YAML", "[proxy]") {
  const auto value = proxy::parseJson(
      R"({"b": [1, 2.5, "x", true, null], "a": {"n": 12345678901, "s": "3", "e": "", "t": "true"},
          "c": null})");
  REQUIRE(value.ok());
  CHECK(proxy::toJson(*value) ==
        R"({"a": {"e": "", "n": 12345678901, "s": "3", "t": "true"}, "b": [1, 2.5, "x", true]})");
  CHECK(proxy::toYaml(*value) ==
        "a:\n"
        "  e: \"\"\n"
        "  \"n\": 12345678901\n"  // YAML 1.1 reads a plain n as false
        "  s: \"3\"\n"
        "  t: \"true\"\n"
        "b:\n"
        "  - 1\n"
        "  - 2.5\n"
        "  - x\n"
        "  - true\n"
        "  - ~\n"
        "c: ~\n");
  CHECK(proxy::text(*value, "b") == "1,2.5,x,true,");
  CHECK(proxy::text(*proxy::member(*value, "a"), "n") == "12345678901");
  CHECK(proxy::text(*value, "missing").empty());
  CHECK(proxy::elements(proxy::member(*value, "a")).empty());

  const auto malformed = proxy::parseJson("{\"a\": ");
  CHECK(malformed.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_FALSE(malformed.status().message().empty());
}

}  // namespace
}  // namespace ambit::ctl::testing
