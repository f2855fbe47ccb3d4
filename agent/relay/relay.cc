#include "agent/relay/relay.h"

#include <memory>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "core/status.h"

namespace ambit::agent {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// Shared by the two directions and the supervising coroutine; all run on one serial executor.
struct RelayState {
  RelayState(tcp::socket& a_in, tcp::socket& b_in, const asio::any_io_executor& executor)
      : a(a_in), b(b_in), wake(executor) {}

  tcp::socket& a;
  tcp::socket& b;
  asio::steady_timer wake;  // the supervisor waits on it; cancelled when it should look again
  int running = 2;
  bool closed = false;
  Clock::time_point last_activity = Clock::now();
  RelayResult result;

  void closeBoth() {
    closed = true;
    boost::system::error_code ignored;
    a.close(ignored);
    b.close(ignored);
  }
  void fail(const boost::system::error_code& ec) {
    if (!closed) {
      result.end = RelayResult::End::kError;
      result.error = ec;
      closeBoth();
    }
    wake.cancel();
  }
};

asio::awaitable<void> pump(std::shared_ptr<RelayState> state, tcp::socket& from, tcp::socket& to,
                           uint64_t& counter, size_t buffer_size) {
  std::vector<char> buffer(buffer_size);
  for (;;) {
    boost::system::error_code ec;
    const size_t n = co_await from.async_read_some(asio::buffer(buffer),
                                                   asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::eof) {
      boost::system::error_code ignored;
      to.shutdown(tcp::socket::shutdown_send, ignored);
      break;
    }
    if (ec) {
      state->fail(ec);
      break;
    }
    state->last_activity = Clock::now();
    co_await asio::async_write(to, asio::buffer(buffer.data(), n),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      state->fail(ec);
      break;
    }
    counter += n;
    state->last_activity = Clock::now();
  }
  if (--state->running == 0) state->wake.cancel();
}

}  // namespace

std::string RelayResult::describe() const {
  const char* how = end == End::kClosed        ? "closed"
                    : end == End::kIdleTimeout ? "idle timeout"
                                               : "error";
  return absl::StrCat(how, end == End::kError ? absl::StrCat(" (", error.message(), ")") : "", ", ",
                      a_to_b, " bytes a->b, ", b_to_a, " bytes b->a");
}

asio::awaitable<RelayResult> relayBothWays(tcp::socket& a, tcp::socket& b, RelayOptions options) {
  const auto executor = co_await asio::this_coro::executor;
  auto state = std::make_shared<RelayState>(a, b, executor);
  const size_t buffer_size = options.buffer_size > 0 ? options.buffer_size : 1;
  asio::co_spawn(executor, pump(state, a, b, state->result.a_to_b, buffer_size), asio::detached);
  asio::co_spawn(executor, pump(state, b, a, state->result.b_to_a, buffer_size), asio::detached);
  while (state->running > 0) {
    if (!state->closed) {
      const Clock::time_point deadline = state->last_activity + options.idle_timeout;
      if (Clock::now() >= deadline) {
        state->result.end = RelayResult::End::kIdleTimeout;
        state->closeBoth();  // the pumps finish with operation_aborted
        continue;
      }
      state->wake.expires_at(deadline);
    } else {
      state->wake.expires_at(Clock::time_point::max());
    }
    boost::system::error_code ec;
    co_await state->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (!state->closed) state->closeBoth();
  co_return state->result;
}

}  // namespace ambit::agent
