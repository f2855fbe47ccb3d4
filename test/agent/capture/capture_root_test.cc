// Needs root (CTest label "root"): capture end to end, in both modes (nftables and eBPF), between
// two network namespaces joined by a veth pair, "pod" (10.250.0.1, default route via the peer)
// and "peer" (10.250.0.2).
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <regex>

#include <boost/asio/ip/tcp.hpp>
#include <catch2/catch.hpp>

#include "agent/capture/original_dst.h"
#include "agent/relay/transparent.h"
#include "core/errno_text.h"
#include "test/agent/capture/temp_capture.h"
#include "test/agent/netns/temp_netns.h"

namespace ambit::agent {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using testing::TempNetns;

tcp::endpoint ep(const std::string& ip, uint16_t port) {
  return tcp::endpoint(asio::ip::make_address(ip), port);
}

// A listener at `at` (IPv6 ones take IPv6 only, as the agent's).
UniqueFd listenIn(const Netns& netns, const tcp::endpoint& at) {
  auto fd = socketIn(netns, at.protocol().family(), SOCK_STREAM, 0);
  REQUIRE(fd.ok());
  const int one = 1;
  ::setsockopt(fd->get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (at.address().is_v6()) ::setsockopt(fd->get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  REQUIRE(::bind(fd->get(), at.data(), static_cast<socklen_t>(at.size())) == 0);
  REQUIRE(::listen(fd->get(), 16) == 0);
  return *std::move(fd);
}

// Connects a non-blocking socket, waiting at most `ms`; the errno text on failure.
std::string connectWithin(int fd, const tcp::endpoint& to, int ms = 3000) {
  if (::connect(fd, to.data(), static_cast<socklen_t>(to.size())) == 0) return "";
  if (errno != EINPROGRESS) return errnoText(errno);
  pollfd p{fd, POLLOUT, 0};
  if (::poll(&p, 1, ms) != 1) return "timed out";
  int error = 0;
  socklen_t len = sizeof error;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
  return error == 0 ? "" : errnoText(error);
}

// The next connection on `listener`, or an invalid fd after `ms`.
UniqueFd acceptWithin(int listener, int ms = 3000) {
  pollfd p{listener, POLLIN, 0};
  if (::poll(&p, 1, ms) != 1) return UniqueFd();
  return UniqueFd(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
}

tcp::endpoint addressOf(int fd, bool peer) {
  tcp::endpoint out;
  socklen_t len = static_cast<socklen_t>(out.capacity());
  REQUIRE((peer ? ::getpeername(fd, out.data(), &len) : ::getsockname(fd, out.data(), &len)) == 0);
  out.resize(len);
  return out;
}

void sendText(int fd, const std::string& text) {
  REQUIRE(::send(fd, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size()));
}

std::string receiveText(int fd, size_t n) {
  std::string out;
  while (out.size() < n) {
    pollfd p{fd, POLLIN, 0};
    REQUIRE(::poll(&p, 1, 3000) == 1);
    char buf[256];
    const ssize_t r = ::recv(fd, buf, std::min(sizeof buf, n - out.size()), 0);
    REQUIRE(r > 0);
    out.append(buf, static_cast<size_t>(r));
  }
  return out;
}

// A plain (unmarked) TCP socket of the pod's app.
UniqueFd appSocket(const TempNetns& pod) {
  auto fd = socketIn(pod.netns(), AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd.ok());
  return *std::move(fd);
}

struct Lab {
  explicit Lab(const std::string& mode) : redirector(mode) {
    REQUIRE(testing::runningAsRoot());
    pod.run({"ip", "link", "add", "veth0", "type", "veth", "peer", "name", "veth1", "netns",
             peer.name()});
    pod.run({"ip", "addr", "add", "10.250.0.1/24", "dev", "veth0"});
    pod.run({"ip", "link", "set", "veth0", "up"});
    pod.run({"ip", "route", "add", "default", "via", "10.250.0.2"});
    peer.run({"ip", "addr", "add", "10.250.0.2/24", "dev", "veth1"});
    peer.run({"ip", "link", "set", "veth1", "up"});
  }
  // What the agent's inbound listener and the pod's address are, for eBPF's steering.
  CaptureTarget target(const UniqueFd& inbound) const {
    CaptureTarget t;
    t.addresses = {std::string("\x0a\xfa\x00\x01", 4)};
    t.inbound_v4_fd = inbound.get();
    return t;
  }
  testing::TestRedirector redirector;  // first: with eBPF, the test runs in its cgroup
  TempNetns pod;
  TempNetns peer;
  CaptureConfig config;
};

// Without netfilter in eBPF mode: no table, no rule, no chain.
void checkNoNetfilter(const TempNetns& pod) { CHECK(pod.run({"nft", "list", "ruleset"}).empty()); }

TEST_CASE("root: capture redirects outbound and inbound, and keeps client addresses") {
  const std::string mode = GENERATE("nftables", "ebpf", "ebpf+fast-path");
  INFO("capture mode " << mode);
  Lab lab(mode == "nftables" ? "nftables" : "ebpf");
  lab.config.ebpf_fast_path = mode == "ebpf+fast-path";
  const auto& pod = lab.pod;

  // The agent's listeners in the pod, an app in the pod, and a server in the peer.
  UniqueFd outbound = listenIn(pod.netns(), ep("127.0.0.1", 15001));
  UniqueFd inbound = listenIn(pod.netns(), ep("0.0.0.0", 15006));
  UniqueFd hbone = listenIn(pod.netns(), ep("0.0.0.0", 15008));
  UniqueFd app = listenIn(pod.netns(), ep("0.0.0.0", 8080));
  UniqueFd peer_http = listenIn(lab.peer.netns(), ep("10.250.0.2", 80));
  UniqueFd peer_dns = listenIn(lab.peer.netns(), ep("10.250.0.2", 53));
  const uint32_t delivery_mark = lab.redirector->deliveryMark(lab.config);

  REQUIRE(lab.redirector->install(pod.netns(), lab.config, lab.target(inbound)).ok());
  CHECK(*lab.redirector->installed(pod.netns()));
  if (mode == "ebpf") checkNoNetfilter(pod);

  SECTION("the app's outbound TCP reaches the agent with its original destination") {
    UniqueFd client = appSocket(pod);
    CHECK(connectWithin(client.get(), ep("10.123.45.67", 80)) == "");
    UniqueFd captured = acceptWithin(outbound.get());
    REQUIRE(captured);
    auto original = originalDestination(captured.get());
    REQUIRE(original.ok());
    CHECK(*original == ep("10.123.45.67", 80));
    // The app sees the connection it asked for: from its own address, to where it connected.
    CHECK(addressOf(client.get(), false).address() == asio::ip::make_address("10.250.0.1"));
    CHECK(addressOf(client.get(), true) == ep("10.123.45.67", 80));
    CHECK(addressOf(captured.get(), true) == addressOf(client.get(), false));
    // Bytes both ways between the app and the agent (in the kernel, with the fast path).
    sendText(client.get(), "to the agent");
    CHECK(receiveText(captured.get(), 12) == "to the agent");
    sendText(captured.get(), "to the app");
    CHECK(receiveText(client.get(), 10) == "to the app");
    ::shutdown(client.get(), SHUT_WR);
    pollfd readable{captured.get(), POLLIN, 0};
    REQUIRE(::poll(&readable, 1, 3000) == 1);
    char end = 0;
    CHECK(::recv(captured.get(), &end, 1, 0) == 0);  // the app's FIN arrives after its bytes

    // Even an address that exists is captured.
    UniqueFd to_peer = appSocket(pod);
    CHECK(connectWithin(to_peer.get(), ep("10.250.0.2", 80)) == "");
    UniqueFd captured_too = acceptWithin(outbound.get());
    REQUIRE(captured_too);
    CHECK(*originalDestination(captured_too.get()) == ep("10.250.0.2", 80));
    CHECK_FALSE(acceptWithin(peer_http.get(), 200));
  }

  SECTION("DNS over TCP is not captured") {
    UniqueFd client = appSocket(pod);
    CHECK(connectWithin(client.get(), ep("10.250.0.2", 53)) == "");
    CHECK(acceptWithin(peer_dns.get()));
    CHECK_FALSE(acceptWithin(outbound.get(), 200));
  }

  SECTION("the agent's marked upstream socket reaches the real peer") {
    auto upstream = outboundUpstreamSocket(pod.netns(), lab.config.mark);
    REQUIRE(upstream.ok());
    CHECK(connectWithin(upstream->get(), ep("10.250.0.2", 80)) == "");
    UniqueFd served = acceptWithin(peer_http.get());
    REQUIRE(served);
    sendText(upstream->get(), "ping");
    CHECK(receiveText(served.get(), 4) == "ping");
    sendText(served.get(), "pong");
    CHECK(receiveText(upstream->get(), 4) == "pong");
    CHECK_FALSE(acceptWithin(outbound.get(), 200));
  }

  SECTION("inbound TCP goes to the agent; its transparent socket reaches the app as the client") {
    auto client = socketIn(lab.peer.netns(), AF_INET, SOCK_STREAM, 0);
    REQUIRE(client.ok());
    CHECK(connectWithin(client->get(), ep("10.250.0.1", 8080)) == "");
    UniqueFd captured = acceptWithin(inbound.get());
    REQUIRE(captured);
    CHECK_FALSE(acceptWithin(app.get(), 200));
    auto original = originalDestination(captured.get());
    REQUIRE(original.ok());
    CHECK(*original == ep("10.250.0.1", 8080));
    const tcp::endpoint client_source = addressOf(captured.get(), true);
    CHECK(client_source.address() == asio::ip::make_address("10.250.0.2"));

    // The agent connects to the app from the client's address; the app's replies (SYN-ACK and
    // data) to that non-local address are routed back to the agent's socket.
    auto upstream = inboundUpstreamSocket(pod.netns(), client_source, delivery_mark);
    REQUIRE(upstream.ok());
    CHECK(connectWithin(upstream->get(), ep("10.250.0.1", 8080)) == "");
    UniqueFd accepted = acceptWithin(app.get());
    INFO(lab.redirector->debugJson());
    REQUIRE(accepted);
    CHECK(addressOf(accepted.get(), true).address() == asio::ip::make_address("10.250.0.2"));
    CHECK(addressOf(upstream->get(), false).address() == asio::ip::make_address("10.250.0.2"));
    sendText(accepted.get(), "hello from the app");
    CHECK(receiveText(upstream->get(), 18) == "hello from the app");
    sendText(upstream->get(), "hi app");
    CHECK(receiveText(accepted.get(), 6) == "hi app");
    if (mode == "ebpf+fast-path") {  // the bytes above went through sk_msg, not loopback TCP
      const std::string capture = lab.redirector->debugJson();
      std::smatch redirected;
      REQUIRE(std::regex_search(capture, redirected,
                                std::regex(R"re("sk_msg\.redirected":\s*([0-9]+))re")));
      CHECK(std::stoull(redirected[1].str()) >= 2);
    }
  }

  SECTION("inbound HBONE is not redirected") {
    auto client = socketIn(lab.peer.netns(), AF_INET, SOCK_STREAM, 0);
    REQUIRE(client.ok());
    CHECK(connectWithin(client->get(), ep("10.250.0.1", 15008)) == "");
    CHECK(acceptWithin(hbone.get()));
    CHECK_FALSE(acceptWithin(inbound.get(), 200));
  }

  SECTION("the app's connections to its own address and to loopback are not captured") {
    UniqueFd to_self = appSocket(pod);
    CHECK(connectWithin(to_self.get(), ep("10.250.0.1", 8080)) == "");
    CHECK(acceptWithin(app.get()));
    UniqueFd to_loopback = appSocket(pod);
    CHECK(connectWithin(to_loopback.get(), ep("127.0.0.1", 8080)) == "");
    CHECK(acceptWithin(app.get()));
    CHECK_FALSE(acceptWithin(outbound.get(), 200));
    CHECK_FALSE(acceptWithin(inbound.get(), 200));
  }

  SECTION("with the agent's listeners closed, captured connections fail instead of bypassing") {
    outbound.reset();
    inbound.reset();
    UniqueFd client = appSocket(pod);
    CHECK(connectWithin(client.get(), ep("10.250.0.2", 80)) != "");
    CHECK_FALSE(acceptWithin(peer_http.get(), 200));
    auto from_peer = socketIn(lab.peer.netns(), AF_INET, SOCK_STREAM, 0);
    REQUIRE(from_peer.ok());
    CHECK(connectWithin(from_peer->get(), ep("10.250.0.1", 8080), 500) != "");
    CHECK_FALSE(acceptWithin(app.get(), 200));
  }

  CHECK(lab.redirector->remove(pod.netns()).ok());
}

TEST_CASE("root: install is idempotent, remove restores plain traffic") {
  const std::string mode = GENERATE("nftables", "ebpf");
  INFO("capture mode " << mode);
  Lab lab(mode);
  const auto& pod = lab.pod;
  auto before = lab.redirector->installed(pod.netns());
  REQUIRE(before.ok());
  CHECK_FALSE(*before);
  CHECK(lab.redirector->remove(pod.netns()).ok());  // nothing installed: fine

  UniqueFd inbound = listenIn(pod.netns(), ep("0.0.0.0", 15006));
  REQUIRE(lab.redirector->install(pod.netns(), lab.config, lab.target(inbound)).ok());
  REQUIRE(lab.redirector->install(pod.netns(), lab.config, lab.target(inbound)).ok());
  CHECK(*lab.redirector->installed(pod.netns()));
  const std::string rules = pod.run({"ip", "-4", "rule", "show", "priority", "32764"});
  CHECK(rules == "32764:\tfrom all fwmark 0x111 lookup 133\n");
  CHECK_THAT(pod.run({"ip", "-4", "route", "show", "table", "133"}),
             Catch::Contains("local default dev lo"));
  CHECK(std::count(rules.begin(), rules.end(), '\n') == 1);
  const std::string tables = pod.run({"nft", "list", "tables"});
  CHECK(tables == (mode == "nftables" ? "table inet ambit\n" : ""));

  UniqueFd outbound = listenIn(pod.netns(), ep("127.0.0.1", 15001));
  UniqueFd peer_http = listenIn(lab.peer.netns(), ep("10.250.0.2", 80));
  {
    UniqueFd client = appSocket(pod);
    CHECK(connectWithin(client.get(), ep("10.250.0.2", 80)) == "");
    CHECK(acceptWithin(outbound.get()));
  }

  REQUIRE(lab.redirector->remove(pod.netns()).ok());
  CHECK_FALSE(*lab.redirector->installed(pod.netns()));
  CHECK(pod.run({"ip", "-4", "rule", "show", "priority", "32764"}).empty());
  CHECK(pod.run({"ip", "-4", "route", "show", "table", "133"}).empty());
  CHECK(pod.run({"nft", "list", "tables"}).empty());
  {
    UniqueFd client = appSocket(pod);
    CHECK(connectWithin(client.get(), ep("10.250.0.2", 80)) == "");
    CHECK(acceptWithin(peer_http.get()));
    CHECK_FALSE(acceptWithin(outbound.get(), 200));
  }
  CHECK(lab.redirector->remove(pod.netns()).ok());
}

// IPv6 on the same pair: the pod fd00:250::1, the peer fd00:250::2 (addresses without duplicate
// address detection, so they are usable at once).
TEST_CASE("root: IPv6 capture redirects outbound and inbound, and keeps client addresses") {
  const std::string mode = GENERATE("nftables", "ebpf");
  INFO("capture mode " << mode);
  Lab lab(mode);
  const auto& pod = lab.pod;
  pod.run({"ip", "-6", "addr", "add", "fd00:250::1/64", "dev", "veth0", "nodad"});
  pod.run({"ip", "-6", "route", "add", "default", "via", "fd00:250::2"});
  lab.peer.run({"ip", "-6", "addr", "add", "fd00:250::2/64", "dev", "veth1", "nodad"});

  UniqueFd outbound = listenIn(pod.netns(), ep("::1", 15001));
  UniqueFd inbound4 = listenIn(pod.netns(), ep("0.0.0.0", 15006));
  UniqueFd inbound = listenIn(pod.netns(), ep("::", 15006));
  UniqueFd app = listenIn(pod.netns(), ep("::", 8080));
  CaptureTarget target = lab.target(inbound4);
  const auto v6 = asio::ip::make_address_v6("fd00:250::1").to_bytes();
  target.addresses.emplace_back(reinterpret_cast<const char*>(v6.data()), v6.size());
  target.inbound_v6_fd = inbound.get();
  REQUIRE(lab.redirector->install(pod.netns(), lab.config, target).ok());

  SECTION("outbound") {
    auto client = socketIn(pod.netns(), AF_INET6, SOCK_STREAM, 0);
    REQUIRE(client.ok());
    CHECK(connectWithin(client->get(), ep("fd00:123::45", 80)) == "");
    UniqueFd captured = acceptWithin(outbound.get());
    REQUIRE(captured);
    auto original = originalDestination(captured.get());
    INFO(original.status().ToString());
    REQUIRE(original.ok());
    CHECK(*original == ep("fd00:123::45", 80));
    CHECK(addressOf(client->get(), true) == ep("fd00:123::45", 80));
    CHECK(addressOf(client->get(), false).address() == asio::ip::make_address("fd00:250::1"));
  }

  SECTION("inbound, delivered from the client's address") {
    auto client = socketIn(lab.peer.netns(), AF_INET6, SOCK_STREAM, 0);
    REQUIRE(client.ok());
    CHECK(connectWithin(client->get(), ep("fd00:250::1", 8080)) == "");
    UniqueFd captured = acceptWithin(inbound.get());
    REQUIRE(captured);
    auto original = originalDestination(captured.get());
    INFO(original.status().ToString());
    REQUIRE(original.ok());
    CHECK(*original == ep("fd00:250::1", 8080));
    const tcp::endpoint client_source = addressOf(captured.get(), true);
    CHECK(client_source.address() == asio::ip::make_address("fd00:250::2"));
    auto upstream =
        inboundUpstreamSocket(pod.netns(), client_source, lab.redirector->deliveryMark(lab.config));
    REQUIRE(upstream.ok());
    CHECK(connectWithin(upstream->get(), ep("fd00:250::1", 8080)) == "");
    UniqueFd accepted = acceptWithin(app.get());
    REQUIRE(accepted);
    CHECK(addressOf(accepted.get(), true).address() == asio::ip::make_address("fd00:250::2"));
    sendText(accepted.get(), "six");
    CHECK(receiveText(upstream->get(), 3) == "six");
  }

  CHECK(lab.redirector->remove(pod.netns()).ok());
}

}  // namespace
}  // namespace ambit::agent
