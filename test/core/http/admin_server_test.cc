#include "core/http/admin_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

namespace ambit::http {
namespace {

// Sends one raw HTTP request to 127.0.0.1:port and returns everything the server answered.
std::string exchange(uint16_t port, const std::string& request) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size()));
  std::string out;
  char buffer[4096];
  for (int i = 0; i < 100; ++i) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

TEST_CASE("the admin server routes paths to handlers", "[http]") {
  auto server = AdminServer::create("127.0.0.1", 0);
  REQUIRE(server.ok());
  (*server)->handle("/ready", [](const Request&) {
    return Response{200, "text/plain", "ready\n"};
  });
  (*server)->handle("/echo", [](const Request& r) {
    return Response{200, "text/plain", r.path + "?" + r.query};
  });
  (*server)->handle(
      "/set",
      [](const Request& r) {
        return Response{200, "text/plain", r.method + " " + r.query};
      },
      true);
  (*server)->start();
  const uint16_t port = (*server)->port();

  const std::string ready =
      exchange(port, "GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(ready.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(ready.size() >= 6);
  CHECK(ready.substr(ready.size() - 6) == "ready\n");

  const std::string echo = exchange(port, "GET /echo?a=1 HTTP/1.1\r\nConnection: close\r\n\r\n");
  CHECK(echo.find("\r\n\r\n/echo?a=1") != std::string::npos);

  CHECK(
      exchange(port, "GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n").rfind("HTTP/1.1 404", 0) ==
      0);
  CHECK(exchange(port, "POST /ready HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .rfind("HTTP/1.1 405", 0) == 0);
  // A handler that changes state may take POST, and sees the method and query.
  const std::string set = exchange(
      port, "POST /set?level=debug HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  CHECK(set.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(set.find("\r\n\r\nPOST level=debug") != std::string::npos);
  CHECK(exchange(port, "PUT /set HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .rfind("HTTP/1.1 405", 0) == 0);
  // Garbage gets no answer and does not stop the server.
  CHECK(exchange(port, "\x01\x02 garbage\r\n\r\n").empty());
  CHECK(
      exchange(port, "GET /ready HTTP/1.1\r\nConnection: close\r\n\r\n").rfind("HTTP/1.1 200", 0) ==
      0);
  (*server)->stop();
}

TEST_CASE("the admin server reports a port it cannot bind", "[http]") {
  auto first = AdminServer::create("127.0.0.1", 0);
  REQUIRE(first.ok());
  auto second = AdminServer::create("127.0.0.1", (*first)->port());
  REQUIRE_FALSE(second.ok());
  CHECK(std::string(second.status().message()).find("listen on 127.0.0.1:") == 0);
  CHECK_FALSE(AdminServer::create("not-an-ip", 0).ok());
}

}  // namespace
}  // namespace ambit::http
