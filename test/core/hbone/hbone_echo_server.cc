// A plaintext HBONE echo server for interoperability tests with other HTTP/2 stacks: serves
// HboneServerSession over TCP on 127.0.0.1 (an ephemeral port, printed on stdout), one connection
// at a time, until killed. Each tunnel echoes its bytes and the peer's half-close; a CONNECT to
// port 81 is refused with 403. The response to a tunnel carries the request's forwarded, baggage
// and traceparent values as x-echo-<name> so the client can check they arrived.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <map>
#include <string>

#include "core/hbone/hbone_server.h"

namespace {

using ambit::hbone::HboneHeaders;
using ambit::hbone::HboneRequest;
using ambit::hbone::HboneServerSession;

struct Echo {
  std::string pending;  // received, not yet taken by send()
  bool ended = false;
  bool end_sent = false;
};

void serve(int fd) {
  auto created = HboneServerSession::create();
  if (!created.ok()) {
    std::fprintf(stderr, "%s\n", created.status().ToString().c_str());
    return;
  }
  HboneServerSession& session = **created;
  std::map<int32_t, Echo> echoes;

  // Bytes are acknowledged only once send() took them, so a client that does not read its echo
  // is stopped by its own send window.
  const auto push = [&](int32_t id) {
    Echo& echo = echoes[id];
    while (!echo.pending.empty()) {
      auto n = session.send(
          id, {reinterpret_cast<const uint8_t*>(echo.pending.data()), echo.pending.size()});
      if (!n.ok() || *n == 0) break;
      (void)session.consumed(id, *n);
      echo.pending.erase(0, *n);
    }
    if (echo.pending.empty() && echo.ended && !echo.end_sent) {
      echo.end_sent = true;
      (void)session.endStream(id);
    }
  };
  session.setRequestHandler([&](int32_t id, const HboneRequest& request) {
    if (request.target.port == 81) {
      (void)session.respond(id, 403);
      return;
    }
    HboneHeaders headers;
    for (const char* name : {"forwarded", "baggage", "traceparent"}) {
      if (const std::string* value = request.header(name)) {
        headers.emplace_back(std::string("x-echo-") + name, *value);
      }
    }
    echoes[id] = Echo{};
    (void)session.respond(id, 200, headers);
  });
  ambit::hbone::HboneStreamHandlers handlers;
  handlers.on_data = [&](int32_t id, std::span<const uint8_t> bytes) {
    echoes[id].pending.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    push(id);
  };
  handlers.on_end_of_stream = [&](int32_t id) {
    echoes[id].ended = true;
    push(id);
  };
  handlers.on_writable = push;
  handlers.on_close = [&](int32_t id, uint32_t) { echoes.erase(id); };
  session.setStreamHandlers(handlers);

  uint8_t buffer[64 * 1024];
  bool reading = true;
  while (!session.wantsClose()) {
    pollfd p{fd, static_cast<short>((reading ? POLLIN : 0) | (session.wantsWrite() ? POLLOUT : 0)),
             0};
    if (p.events == 0 || poll(&p, 1, 10000) <= 0) break;
    if ((p.revents & (POLLIN | POLLHUP | POLLERR)) != 0 && reading) {
      const ssize_t n = read(fd, buffer, sizeof(buffer));
      if (n <= 0) break;
      if (const absl::Status fed = session.feed(buffer, static_cast<size_t>(n)); !fed.ok()) {
        std::fprintf(stderr, "connection closed: %s\n", fed.ToString().c_str());
        reading = false;  // write what is left (a GOAWAY saying why), then close
      }
    }
    if ((p.revents & POLLOUT) != 0) {
      const auto out = session.pendingOutput();
      if (!out.empty()) {
        const ssize_t n = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
        if (n < 0) break;
        session.consumeOutput(static_cast<size_t>(n));
      }
    }
  }
}

}  // namespace

int main() {
  std::signal(SIGPIPE, SIG_IGN);
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (listener < 0 || bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listener, 16) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("listen");
    return 1;
  }
  std::printf("%u\n", ntohs(addr.sin_port));
  std::fflush(stdout);
  for (;;) {
    const int fd = accept(listener, nullptr, nullptr);
    if (fd < 0) continue;
    serve(fd);
    close(fd);
  }
}
