#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange

#include "ctl/proxy/admin_client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace ambit::ctl::proxy {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

// Room for the config dump of a large mesh, but a bound all the same.
constexpr uint64_t kMaxBodyBytes = 256ULL * 1024 * 1024;

// What one exchange came to; `done` stays false when the deadline cut it short.
struct Outcome {
  bool done = false;
  absl::Status error;  // resolving, connecting, writing or reading failed
  unsigned status = 0;
  std::string reason;
  std::string body;
};

asio::awaitable<void> exchange(const HostPort& target, const std::string& address,
                               const std::string& path, Outcome& outcome) {
  const auto executor = co_await asio::this_coro::executor;
  const std::string url = "http://" + address + path;
  boost::system::error_code ec;
  tcp::resolver resolver(executor);
  const auto endpoints = co_await resolver.async_resolve(
      target.host, target.port, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    outcome.error = absl::UnavailableError(
        absl::StrCat("cannot resolve \"", target.host, "\": ", ec.message()));
    outcome.done = true;
    co_return;
  }
  beast::tcp_stream stream(executor);
  co_await stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    outcome.error =
        absl::UnavailableError(absl::StrCat("cannot connect to ", address, ": ", ec.message()));
    outcome.done = true;
    co_return;
  }
  bhttp::request<bhttp::empty_body> request{bhttp::verb::get, path, 11};
  request.set(bhttp::field::host, address);
  request.set(bhttp::field::user_agent, "ambitctl");
  request.keep_alive(false);
  co_await bhttp::async_write(stream, request, asio::redirect_error(asio::use_awaitable, ec));
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(kMaxBodyBytes);
  if (!ec) {
    co_await bhttp::async_read(stream, buffer, parser,
                               asio::redirect_error(asio::use_awaitable, ec));
  }
  if (ec) {
    outcome.error = absl::UnavailableError(absl::StrCat(url, ": ", ec.message()));
    outcome.done = true;
    co_return;
  }
  const auto& response = parser.get();
  outcome.status = response.result_int();
  outcome.reason = std::string(response.reason());
  outcome.body = response.body();
  outcome.done = true;
}

std::string firstLine(const std::string& text) {
  const std::string line = text.substr(0, text.find('\n'));
  return line.size() > 200 ? line.substr(0, 200) + "..." : line;
}

}  // namespace

absl::StatusOr<HostPort> parseHostPort(const std::string& address) {
  auto malformed = [&](const std::string& why) {
    return absl::InvalidArgumentError(
        absl::StrCat("address \"", address, "\": ", why, " (expected HOST:PORT)"));
  };
  HostPort out;
  size_t colon = 0;
  if (!address.empty() && address[0] == '[') {
    const size_t close = address.find(']');
    if (close == std::string::npos) return malformed("no ']' after the IPv6 address");
    if (close + 1 >= address.size() || address[close + 1] != ':') return malformed("no port");
    out.host = address.substr(1, close - 1);
    colon = close + 1;
  } else {
    colon = address.rfind(':');
    if (colon == std::string::npos) return malformed("no port");
    out.host = address.substr(0, colon);
    if (out.host.find(':') != std::string::npos) return malformed("write an IPv6 host in [ ]");
  }
  out.port = address.substr(colon + 1);
  if (out.host.empty()) return malformed("no host");
  int port = 0;
  if (out.port.empty() || out.port.size() > 5 ||
      out.port.find_first_not_of("0123456789") != std::string::npos ||
      (port = std::stoi(out.port)) < 1 || port > 65535) {
    return malformed("the port must be a number from 1 to 65535");
  }
  return out;
}

absl::StatusOr<std::string> httpGet(const std::string& address, const std::string& path,
                                    std::chrono::milliseconds timeout) {
  AMBIT_ASSIGN_OR_RETURN(const HostPort target, parseHostPort(address));
  Outcome outcome;
  {
    // Declared after `outcome`, so it goes first: an exchange cut short by the deadline is
    // destroyed with it and never writes to `outcome` afterwards.
    asio::io_context io(1);
    asio::co_spawn(io, exchange(target, address, path, outcome), asio::detached);
    io.run_for(timeout);
  }
  const std::string url = "http://" + address + path;
  if (!outcome.done) {
    return absl::UnavailableError(
        absl::StrCat(url, ": no complete answer within ", timeout.count(), " ms"));
  }
  if (!outcome.error.ok()) return outcome.error;
  if (outcome.status == 200) return std::move(outcome.body);
  const std::string answer = absl::StrCat(url, ": ", outcome.status, " ", outcome.reason);
  if (outcome.status == 404) return absl::NotFoundError(answer);
  const std::string detail = firstLine(outcome.body);
  return absl::FailedPreconditionError(detail.empty() ? answer
                                                      : absl::StrCat(answer, ": ", detail));
}

}  // namespace ambit::ctl::proxy
