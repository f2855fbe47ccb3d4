#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange

#include "agent/relay/relay.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <future>
#include <thread>

#include <boost/asio.hpp>
#include <catch2/catch.hpp>

#include "agent/netns/netns.h"

namespace ambit::agent {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr int kSmallBuffer = 64 * 1024;

void setBuffers(int fd, int bytes) {
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
}

// Reads up to `max` bytes, waiting at most 5 s; "" on EOF. Fails the test on timeout.
std::string readSome(int fd, size_t max = 65536) {
  pollfd p{fd, POLLIN, 0};
  REQUIRE(::poll(&p, 1, 5000) == 1);
  std::string out(max, '\0');
  const ssize_t n = ::read(fd, out.data(), max);
  if (n < 0 && errno == ECONNRESET) return "";
  REQUIRE(n >= 0);
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string readExactly(int fd, size_t n) {
  std::string out;
  while (out.size() < n) {
    std::string chunk = readSome(fd, n - out.size());
    REQUIRE_FALSE(chunk.empty());
    out += chunk;
  }
  return out;
}

void writeAll(int fd, const std::string& data) {
  REQUIRE(::send(fd, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size()));
}

// client_a <-> [a  relay  b] <-> client_b, the relay running on its own one-thread io_context.
class RelayFixture {
 public:
  explicit RelayFixture(RelayOptions options, int buffers = 0) {
    acceptor_.open(tcp::v4());
    if (buffers > 0) setBuffers(acceptor_.native_handle(), buffers);
    acceptor_.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    acceptor_.listen();
    client_a = connectClient(buffers);
    a_ = acceptor_.accept();
    client_b = connectClient(buffers);
    b_ = acceptor_.accept();
    asio::co_spawn(io_, relayBothWays(a_, b_, options),
                   [this](const std::exception_ptr& error, RelayResult result) {
                     if (error) std::rethrow_exception(error);
                     done_.set_value(result);
                   });
    result_ = done_.get_future();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~RelayFixture() {
    io_.stop();
    thread_.join();
  }

  // Waits (at most 5 s) for the relay to finish.
  RelayResult result() {
    REQUIRE(result_.wait_for(5s) == std::future_status::ready);
    return result_.get();
  }
  bool finished() { return result_.wait_for(0s) == std::future_status::ready; }

  UniqueFd client_a, client_b;

 private:
  UniqueFd connectClient(int buffers) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(fd);
    if (buffers > 0) setBuffers(fd.get(), buffers);
    const tcp::endpoint to = acceptor_.local_endpoint();
    REQUIRE(::connect(fd.get(), to.data(), static_cast<socklen_t>(to.size())) == 0);
    return fd;
  }

  asio::io_context io_{1};
  tcp::acceptor acceptor_{io_};
  tcp::socket a_{io_}, b_{io_};
  std::promise<RelayResult> done_;
  std::future<RelayResult> result_;
  std::thread thread_;
};

TEST_CASE("relay: bytes go through both ways and half-close travels from a") {
  RelayFixture relay({});
  writeAll(relay.client_a.get(), "hello");
  CHECK(readExactly(relay.client_b.get(), 5) == "hello");
  writeAll(relay.client_b.get(), "world!");
  CHECK(readExactly(relay.client_a.get(), 6) == "world!");

  // a stops sending: b sees EOF, yet can still send to a.
  REQUIRE(::shutdown(relay.client_a.get(), SHUT_WR) == 0);
  CHECK(readSome(relay.client_b.get()).empty());
  CHECK_FALSE(relay.finished());
  writeAll(relay.client_b.get(), "after half-close");
  CHECK(readExactly(relay.client_a.get(), 16) == "after half-close");
  REQUIRE(::shutdown(relay.client_b.get(), SHUT_WR) == 0);
  CHECK(readSome(relay.client_a.get()).empty());

  const RelayResult result = relay.result();
  CHECK(result.end == RelayResult::End::kClosed);
  CHECK(result.a_to_b == 5);
  CHECK(result.b_to_a == 6 + 16);
  CHECK(result.describe() == "closed, 5 bytes a->b, 22 bytes b->a");
}

TEST_CASE("relay: half-close travels from b") {
  RelayFixture relay({});
  REQUIRE(::shutdown(relay.client_b.get(), SHUT_WR) == 0);
  CHECK(readSome(relay.client_a.get()).empty());
  writeAll(relay.client_a.get(), "still open");
  CHECK(readExactly(relay.client_b.get(), 10) == "still open");
  CHECK_FALSE(relay.finished());
  REQUIRE(::shutdown(relay.client_a.get(), SHUT_WR) == 0);
  CHECK(readSome(relay.client_b.get()).empty());
  const RelayResult result = relay.result();
  CHECK(result.end == RelayResult::End::kClosed);
  CHECK(result.a_to_b == 10);
  CHECK(result.b_to_a == 0);
}

TEST_CASE("relay: 8 MiB to a slow reader stays bounded and arrives intact") {
  RelayOptions options;
  options.buffer_size = size_t{16} * 1024;
  RelayFixture relay(options, kSmallBuffer);
  constexpr size_t kTotal = size_t{8} * 1024 * 1024;
  // What the socket buffers of both legs and the relay's one buffer can hold is far below this.
  constexpr size_t kBound = size_t{2} * 1024 * 1024;
  std::string data(kTotal, '\0');
  for (size_t i = 0; i < kTotal; ++i) data[i] = static_cast<char>((i * 7919 + i / 4096) & 0xff);

  // The reader does not read yet. Writing without blocking, for as long as the connection takes
  // bytes, must stop short of the bound. The writer gives up once the socket has stayed
  // unwritable for 250 ms; that wait only decides how hard the relay is pushed: a relay that
  // keeps its bound can never take kBound whatever the timing, so the check cannot fail by luck.
  const int fd = relay.client_a.get();
  const int flags = ::fcntl(fd, F_GETFL);
  REQUIRE(::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0);
  size_t sent = 0;
  while (sent < kBound) {
    const ssize_t n =
        ::send(fd, data.data() + sent, std::min<size_t>(kTotal - sent, 65536), MSG_NOSIGNAL);
    const int error = errno;
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    REQUIRE(n < 0);
    REQUIRE((error == EAGAIN || error == EWOULDBLOCK));
    pollfd p{fd, POLLOUT, 0};
    const int ready = ::poll(&p, 1, 250);
    REQUIRE(ready >= 0);
    if (ready == 0) break;
  }
  CHECK(sent > 0);
  CHECK(sent < kBound);
  REQUIRE(::fcntl(fd, F_SETFL, flags) == 0);

  // Now the rest goes through while the reader reads.
  std::thread writer([&] {
    while (sent < kTotal) {
      const ssize_t n =
          ::send(fd, data.data() + sent, std::min<size_t>(kTotal - sent, 65536), MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
  });
  std::string received;
  received.reserve(kTotal);
  for (;;) {
    std::string chunk = readSome(relay.client_b.get(), size_t{32} * 1024);
    if (chunk.empty()) break;
    received += chunk;
    // A pause now and then keeps the reader the slow side, so that the relay fills and drains
    // again and again; no check depends on its length.
    if (received.size() % (size_t{1024} * 1024) < size_t{32} * 1024)
      std::this_thread::sleep_for(5ms);
  }
  writer.join();
  CHECK(sent == kTotal);
  REQUIRE(received.size() == kTotal);
  CHECK(received == data);
  ::shutdown(relay.client_b.get(), SHUT_WR);
  const RelayResult result = relay.result();
  CHECK(result.end == RelayResult::End::kClosed);
  CHECK(result.a_to_b == kTotal);
}

TEST_CASE("relay: traffic keeps it open, idleness closes both sides") {
  // The timers are real: the idle timeout is what is tested. Traffic every 10 ms against a 500 ms
  // timeout leaves almost half a second for scheduling delays between two exchanges; the lower
  // bound on when the relay closes follows from its clock alone.
  constexpr auto kIdle = 500ms;
  RelayOptions options;
  options.idle_timeout = kIdle;
  RelayFixture relay(options);
  const auto start = std::chrono::steady_clock::now();
  auto last_write = start;
  uint64_t a_to_b = 0, b_to_a = 0;
  // Alternating directions, for twice the idle timeout.
  for (int i = 0; std::chrono::steady_clock::now() - start < 2 * kIdle; ++i) {
    std::this_thread::sleep_for(10ms);
    const bool forward = i % 2 == 0;
    const int from = forward ? relay.client_a.get() : relay.client_b.get();
    const int to = forward ? relay.client_b.get() : relay.client_a.get();
    last_write = std::chrono::steady_clock::now();
    writeAll(from, "x");
    REQUIRE(readExactly(to, 1) == "x");
    ++(forward ? a_to_b : b_to_a);
  }
  CHECK_FALSE(relay.finished());
  const RelayResult result = relay.result();
  // The relay read the last byte after it was written, and closes a full timeout after that.
  CHECK(std::chrono::steady_clock::now() - last_write >= kIdle);
  CHECK(result.end == RelayResult::End::kIdleTimeout);
  CHECK(result.a_to_b == a_to_b);
  CHECK(result.b_to_a == b_to_a);
  // Both clients see their connection end.
  CHECK(readSome(relay.client_a.get()).empty());
  CHECK(readSome(relay.client_b.get()).empty());
}

TEST_CASE("relay: a reset on one side closes the other") {
  RelayFixture relay({});
  linger hard{1, 0};  // close with RST
  ::setsockopt(relay.client_a.get(), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  relay.client_a.reset();
  const RelayResult result = relay.result();
  CHECK(result.end == RelayResult::End::kError);
  CHECK(result.error == asio::error::connection_reset);
  CHECK(readSome(relay.client_b.get()).empty());
}

}  // namespace
}  // namespace ambit::agent
