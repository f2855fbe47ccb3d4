// The span reporter: a bounded queue filled by the proxy's threads and drained by one thread
// that POSTs Zipkin JSON with Boost.Beast.
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange

#include "waypoint/tracing/span_reporter.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/log.h"
#include "core/port_number.h"

namespace ambit::waypoint::tracing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr auto kErrorLogInterval = std::chrono::minutes(1);
// Collectors answer with a few bytes; a larger answer is not read whole.
constexpr size_t kMaxResponseBytes = 64 * 1024;

struct HostPort {
  std::string host;
  std::string port;
};

// "host:port" or "[ipv6]:port".
absl::StatusOr<HostPort> splitAddress(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("collector address \"", address, "\" is not host:port"));
  }
  std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') {
      return absl::InvalidArgumentError(
          absl::StrCat("collector address \"", address, "\" has an unclosed IPv6 bracket"));
    }
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "collector address \"", address, "\": write an IPv6 address in brackets, [addr]:port"));
  }
  if (!parsePortNumber(port)) {
    return absl::InvalidArgumentError(
        absl::StrCat("collector address \"", address, "\" has no valid port"));
  }
  return HostPort{std::move(host), port};
}

}  // namespace

struct SpanReporter::Impl {
  SpanReporterOptions options;
  HostPort target;

  mutable std::mutex mutex;
  std::condition_variable wake;
  std::deque<Span> queue;  // guarded by mutex
  bool stopping = false;   // guarded by mutex
  // After a failed flush, batch_size spans do not start a flush before this time.
  Clock::time_point quiet_until;  // guarded by mutex

  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> dropped{0};
  std::atomic<uint64_t> failed{0};
  std::atomic<uint64_t> errors{0};

  // Used by the reporter thread only.
  asio::io_context io{1};
  Clock::time_point last_error_log = Clock::time_point::min();
  uint64_t errors_not_logged = 0;
  std::thread thread;

  void run() {
    std::unique_lock lock(mutex);
    Clock::time_point next_flush = Clock::now() + options.flush_interval;
    for (;;) {
      wake.wait_until(lock, next_flush, [this] {
        return stopping || (queue.size() >= options.batch_size && Clock::now() >= quiet_until);
      });
      const bool last = stopping;
      std::vector<Span> spans(std::make_move_iterator(queue.begin()),
                              std::make_move_iterator(queue.end()));
      queue.clear();
      lock.unlock();
      // The last flush, when stopping, gets `timeout` in all, so stopping stays prompt.
      const Clock::time_point deadline =
          last ? Clock::now() + options.timeout : Clock::time_point::max();
      const bool ok = spans.empty() || flush(std::move(spans), deadline);
      lock.lock();
      const Clock::time_point now = Clock::now();
      next_flush = now + options.flush_interval;
      if (!ok) quiet_until = next_flush;
      if (last) return;
    }
  }

  // Sends `spans`, each step within `timeout` and all before `deadline`; false when the flush
  // failed (the spans it had not sent are then counted as failed).
  bool flush(std::vector<Span> spans, Clock::time_point deadline) {
    const size_t total = spans.size();
    size_t done = 0;
    std::string error;
    boost::system::error_code ec;
    tcp::resolver resolver(io);
    // Resolved on this thread, once per flush: the collector's Service may move, and a slow
    // resolution delays only this thread.
    const auto endpoints = resolver.resolve(target.host, target.port, ec);
    if (ec) {
      error = absl::StrCat("resolve ", target.host, ": ", ec.message());
    } else {
      io.restart();
      asio::co_spawn(io, send(spans, endpoints, deadline, done, error), asio::detached);
      io.run();
    }
    sent += done;
    if (error.empty()) return true;
    failed += total - done;
    ++errors;
    logError(error, total - done);
    return false;
  }

  // POSTs `spans` in batches over one connection, reconnecting when the collector closes it.
  // `done` counts the spans accepted; `error` says what ended the flush early.
  asio::awaitable<void> send(std::vector<Span>& spans, const tcp::resolver::results_type& endpoints,
                             Clock::time_point deadline, size_t& done, std::string& error) {
    beast::tcp_stream stream(io);
    bool connected = false;
    beast::flat_buffer buffer;
    const auto expiry = [&] { return std::min(Clock::now() + options.timeout, deadline); };
    while (done < spans.size()) {
      if (Clock::now() >= deadline) {
        error = "stopping: no time left to send the rest";
        co_return;
      }
      const size_t count = std::min(options.batch_size, spans.size() - done);
      // Spans are sent once, so the batch takes them rather than copies.
      const auto first = std::make_move_iterator(spans.begin() + static_cast<std::ptrdiff_t>(done));
      const std::vector<Span> batch(first, first + static_cast<std::ptrdiff_t>(count));
      boost::system::error_code ec;
      if (!connected) {
        stream.expires_at(expiry());
        co_await stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
          error = absl::StrCat("connect to ", options.address, ": ", ec.message());
          co_return;
        }
        connected = true;
      }
      http::request<http::string_body> request{http::verb::post, options.path, 11};
      request.set(http::field::host, options.address);
      request.set(http::field::content_type, "application/json");
      request.keep_alive(true);
      request.body() = encodeZipkinSpans(batch);
      request.prepare_payload();
      stream.expires_at(expiry());
      co_await http::async_write(stream, request, asio::redirect_error(asio::use_awaitable, ec));
      http::response_parser<http::string_body> parser;
      parser.body_limit(kMaxResponseBytes);
      if (!ec) {
        co_await http::async_read(stream, buffer, parser,
                                  asio::redirect_error(asio::use_awaitable, ec));
      }
      if (ec) {
        error = absl::StrCat("POST http://", options.address, options.path, ": ", ec.message());
        co_return;
      }
      const auto& response = parser.get();
      if (response.result_int() < 200 || response.result_int() >= 300) {
        error = absl::StrCat("POST http://", options.address, options.path, ": status ",
                             response.result_int());
        co_return;
      }
      done += count;
      if (!response.keep_alive()) {
        stream.close();
        buffer.clear();
        connected = false;
      }
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  void logError(const std::string& error, size_t lost) {
    const Clock::time_point now = Clock::now();
    if (last_error_log != Clock::time_point::min() && now - last_error_log < kErrorLogInterval) {
      ++errors_not_logged;
      return;
    }
    const std::string unlogged =
        errors_not_logged == 0
            ? ""
            : absl::StrCat(" (and ", errors_not_logged, " failures not logged in the last minute)");
    ambit::log::get("tracing")->warn("span report failed, {} spans lost: {}{}", lost, error,
                                     unlogged);
    last_error_log = now;
    errors_not_logged = 0;
  }
};

absl::StatusOr<std::unique_ptr<SpanReporter>> SpanReporter::create(SpanReporterOptions options) {
  AMBIT_ASSIGN_OR_RETURN(HostPort target, splitAddress(options.address));
  if (options.batch_size == 0 || options.max_queued == 0 || options.flush_interval.count() <= 0 ||
      options.timeout.count() <= 0) {
    return absl::InvalidArgumentError(
        "span reporter: batch size, queue length, flush interval and timeout must be positive");
  }
  if (options.path.empty() || options.path.front() != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("span reporter: path \"", options.path, "\" must start with /"));
  }
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->target = std::move(target);
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->run(); });
  return std::unique_ptr<SpanReporter>(new SpanReporter(std::move(impl)));
}

SpanReporter::SpanReporter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SpanReporter::~SpanReporter() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_one();
  impl_->thread.join();
}

void SpanReporter::report(Span span) {
  bool start_flush = false;
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->queue.size() >= impl_->options.max_queued) {
      ++impl_->dropped;
      return;
    }
    impl_->queue.push_back(std::move(span));
    start_flush = impl_->queue.size() == impl_->options.batch_size;
  }
  if (start_flush) impl_->wake.notify_one();
}

SpanReporterStats SpanReporter::stats() const {
  return {impl_->sent.load(), impl_->dropped.load(), impl_->failed.load(), impl_->errors.load()};
}

size_t SpanReporter::queued() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->queue.size();
}

}  // namespace ambit::waypoint::tracing
