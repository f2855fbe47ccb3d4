// The span reporter against a collector in the test (Boost.Beast on 127.0.0.1:0) that records
// what it is sent: batches, the queue bound, a collector that is down, refuses or never answers.
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange

#include "waypoint/tracing/span_reporter.h"

#include <catch2/catch.hpp>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <mutex>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace ambit::waypoint::tracing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

struct Received {
  std::string method;
  std::string target;
  std::string content_type;
  std::string host;
  std::string body;
};

// A collector on 127.0.0.1 that answers every request with `status` (or never answers), the
// first one after `first_delay`.
class Collector {
 public:
  explicit Collector(int status = 202, bool answer = true,
                     std::chrono::milliseconds first_delay = 0ms)
      : status_(status), answer_(answer), first_delay_(first_delay) {
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.bind(endpoint);
    acceptor_.listen();
    asio::co_spawn(io_, accept(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Collector() {
    io_.stop();
    thread_.join();
  }

  std::string address() const {
    return "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  std::vector<Received> received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }
  int connections() const {
    std::lock_guard lock(mutex_);
    return connections_;
  }

 private:
  asio::awaitable<void> accept() {
    for (;;) {
      tcp::socket socket = co_await acceptor_.async_accept(asio::use_awaitable);
      {
        std::lock_guard lock(mutex_);
        ++connections_;
      }
      asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> request;
      boost::system::error_code ec;
      co_await http::async_read(stream, buffer, request,
                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      bool first = false;
      {
        std::lock_guard lock(mutex_);
        received_.push_back({std::string(request.method_string()), std::string(request.target()),
                             std::string(request[http::field::content_type]),
                             std::string(request[http::field::host]), request.body()});
        first = received_.size() == 1;
      }
      if (first && first_delay_ > 0ms) {
        asio::steady_timer timer(io_, first_delay_);
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      if (!answer_) {
        // Hold the connection open without a word until the client gives up.
        co_await http::async_read(stream, buffer, request,
                                  asio::redirect_error(asio::use_awaitable, ec));
        co_return;
      }
      http::response<http::string_body> response{static_cast<http::status>(status_), 11};
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !request.keep_alive()) co_return;
    }
  }

  const int status_;
  const bool answer_;
  const std::chrono::milliseconds first_delay_;
  asio::io_context io_{1};
  tcp::acceptor acceptor_{io_};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<Received> received_;
  int connections_ = 0;
};

// A port on 127.0.0.1 nothing listens on (bound, then closed).
std::string closedAddress() {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const uint16_t port = acceptor.local_endpoint().port();
  acceptor.close();
  return "127.0.0.1:" + std::to_string(port);
}

Span span(uint64_t id) {
  Span s;
  s.trace_id = {0xabc, 0xdef};
  s.id = id;
  s.name = "my-service.demo.svc.cluster.local:80/*";
  s.timestamp_us = 1'700'000'000'000'000;
  s.duration_us = 10;
  s.local_endpoint.service_name = "waypoint.demo";
  return s;
}

// Waits up to 10 s for `done`.
template <class Predicate>
bool eventually(Predicate done) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return done();
}

// The span ids in a POSTed body, which must be a JSON array of spans.
std::vector<std::string> spanIds(const std::string& body) {
  google::protobuf::ListValue list;
  INFO(body);
  REQUIRE(google::protobuf::util::JsonStringToMessage(body, &list).ok());
  std::vector<std::string> ids;
  for (const auto& value : list.values()) {
    const auto& fields = value.struct_value().fields();
    CHECK(fields.at("traceId").string_value() == "0000000000000abc0000000000000def");
    CHECK(fields.at("localEndpoint").struct_value().fields().at("serviceName").string_value() ==
          "waypoint.demo");
    ids.push_back(fields.at("id").string_value());
  }
  return ids;
}

std::vector<std::string> allSpanIds(const std::vector<Received>& received) {
  std::vector<std::string> ids;
  for (const Received& r : received) {
    for (const std::string& id : spanIds(r.body)) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<std::string> expectedIds(uint64_t first, uint64_t count) {
  std::vector<std::string> ids;
  for (uint64_t i = first; i < first + count; ++i) ids.push_back(hex64(i));
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::unique_ptr<SpanReporter> reporter(SpanReporterOptions options) {
  auto created = SpanReporter::create(std::move(options));
  REQUIRE(created.ok());
  return std::move(*created);
}

TEST_CASE("span reporter: POSTs batches of Zipkin JSON") {
  Collector collector;
  auto r = reporter({.address = collector.address(),
                     .flush_interval = 50ms,
                     .batch_size = 3,
                     .max_queued = 100,
                     .timeout = 2s});
  for (uint64_t id = 1; id <= 7; ++id) r->report(span(id));
  REQUIRE(eventually([&] { return r->stats().sent == 7; }));
  const auto received = collector.received();
  for (const Received& post : received) {
    CHECK(post.method == "POST");
    CHECK(post.target == "/api/v2/spans");
    CHECK(post.content_type == "application/json");
    CHECK(post.host == collector.address());
    CHECK(spanIds(post.body).size() <= 3);
  }
  CHECK(allSpanIds(received) == expectedIds(1, 7));
  const SpanReporterStats stats = r->stats();
  CHECK(stats.dropped == 0);
  CHECK(stats.failed == 0);
  CHECK(stats.errors == 0);
  CHECK(r->queued() == 0);
}

TEST_CASE("span reporter: a full batch is sent before the interval, the rest when it stops") {
  Collector collector;
  auto r = reporter({.address = collector.address(),
                     .path = "/collector/spans",
                     .flush_interval = 1h,
                     .batch_size = 4});
  for (uint64_t id = 1; id <= 4; ++id) r->report(span(id));
  REQUIRE(eventually([&] { return r->stats().sent == 4; }));
  CHECK(collector.received().size() == 1);
  CHECK(collector.received()[0].target == "/collector/spans");
  r->report(span(5));
  r->report(span(6));
  std::this_thread::sleep_for(50ms);
  CHECK(r->queued() == 2);  // fewer than a batch wait for the interval
  r.reset();                // the last flush sends them
  CHECK(allSpanIds(collector.received()) == expectedIds(1, 6));
}

TEST_CASE("span reporter: a full queue drops and counts") {
  Collector collector;
  auto r = reporter(
      {.address = collector.address(), .flush_interval = 1h, .batch_size = 1000, .max_queued = 5});
  for (uint64_t id = 1; id <= 8; ++id) r->report(span(id));
  CHECK(r->stats().dropped == 3);
  CHECK(r->queued() == 5);
  CHECK(r->stats().sent == 0);
  r.reset();
  CHECK(allSpanIds(collector.received()) == expectedIds(1, 5));
}

TEST_CASE("span reporter: a collector that is down counts failures and never blocks report()") {
  auto r = reporter({.address = closedAddress(),
                     .flush_interval = 20ms,
                     .batch_size = 2,
                     .max_queued = 50,
                     .timeout = 1s});
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t id = 1; id <= 200; ++id) r->report(span(id));
  CHECK(std::chrono::steady_clock::now() - start < 500ms);
  REQUIRE(eventually([&] { return r->stats().failed + r->stats().dropped == 200; }));
  const SpanReporterStats stats = r->stats();
  CHECK(stats.sent == 0);
  CHECK(stats.failed > 0);
  CHECK(stats.errors > 0);
  // Each failed flush loses what it took, whole, without retrying span by span.
  CHECK(stats.errors <= stats.failed);
  CHECK(r->queued() == 0);
}

TEST_CASE("span reporter: an error status fails the flush") {
  Collector collector(503);
  auto r = reporter(
      {.address = collector.address(), .flush_interval = 20ms, .batch_size = 2, .timeout = 1s});
  for (uint64_t id = 1; id <= 5; ++id) r->report(span(id));
  REQUIRE(eventually([&] { return r->stats().failed == 5; }));
  CHECK(r->stats().sent == 0);
  // The first refused batch ends each flush: no POST per remaining batch.
  CHECK(collector.received().size() == r->stats().errors);
}

TEST_CASE("span reporter: a collector that never answers times out") {
  Collector collector(202, /*answer=*/false);
  auto r = reporter(
      {.address = collector.address(), .flush_interval = 20ms, .batch_size = 10, .timeout = 200ms});
  r->report(span(1));
  REQUIRE(eventually([&] { return r->stats().failed == 1; }));
  CHECK(r->stats().errors == 1);
  CHECK(collector.received().size() == 1);
  // Stopping with a span queued waits for one more attempt at most, bounded by the timeout.
  r->report(span(2));
  const auto start = std::chrono::steady_clock::now();
  r.reset();
  CHECK(std::chrono::steady_clock::now() - start < 2s);
}

TEST_CASE("span reporter: report() is safe from many threads") {
  Collector collector;
  auto r = reporter({.address = collector.address(),
                     .flush_interval = 10ms,
                     .batch_size = 16,
                     .max_queued = 10000});
  std::vector<std::thread> threads;
  for (uint64_t t = 0; t < 4; ++t) {
    threads.emplace_back([&r, t] {
      for (uint64_t i = 0; i < 100; ++i) r->report(span(t * 100 + i + 1));
    });
  }
  for (auto& thread : threads) thread.join();
  REQUIRE(eventually([&] { return r->stats().sent == 400; }));
  CHECK(allSpanIds(collector.received()) == expectedIds(1, 400));
}

TEST_CASE("span reporter: one flush sends its batches over one connection") {
  // The first answer is late, so the spans reported meanwhile wait for the next flush together.
  Collector collector(202, true, 300ms);
  auto r = reporter({.address = collector.address(), .flush_interval = 1h, .batch_size = 3});
  for (uint64_t id = 1; id <= 3; ++id) r->report(span(id));
  REQUIRE(eventually([&] { return collector.received().size() == 1; }));
  for (uint64_t id = 4; id <= 13; ++id) r->report(span(id));
  REQUIRE(eventually([&] { return r->stats().sent == 13; }));
  const auto received = collector.received();
  REQUIRE(received.size() == 5);  // 3, then 3 + 3 + 3 + 1
  CHECK(spanIds(received[4].body).size() == 1);
  CHECK(collector.connections() == 2);
  CHECK(allSpanIds(received) == expectedIds(1, 13));
}

TEST_CASE("span reporter: options are checked") {
  const std::vector<std::string> bad_addresses = {"",           "collector",   ":9411",
                                                  "collector:", "collector:0", "collector:99999",
                                                  "[::1",       "::1:9411",    "collector:94x1"};
  for (const std::string& address : bad_addresses) {
    INFO(address);
    CHECK(SpanReporter::create({.address = address}).status().code() ==
          absl::StatusCode::kInvalidArgument);
  }
  CHECK_FALSE(SpanReporter::create({.address = "collector:9411", .batch_size = 0}).ok());
  CHECK_FALSE(SpanReporter::create({.address = "collector:9411", .max_queued = 0}).ok());
  CHECK_FALSE(SpanReporter::create({.address = "collector:9411", .path = "spans"}).ok());
  CHECK(SpanReporter::create({.address = "[::1]:9411"}).ok());
  CHECK(SpanReporter::create({.address = "zipkin.istio-system:9411"}).ok());
}

}  // namespace
}  // namespace ambit::waypoint::tracing
