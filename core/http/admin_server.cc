#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange

#include "core/http/admin_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/log.h"

namespace ambit::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

constexpr auto kReadTimeout = std::chrono::seconds(10);
constexpr size_t kMaxRequestBytes = 64 * 1024;

}  // namespace

struct AdminServer::Impl {
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  struct Route {
    Handler handler;
    bool accept_post = false;
  };
  std::map<std::string, Route> handlers;
  std::thread thread;

  Response dispatch(const Request& request) const {
    auto it = handlers.find(request.path);
    if (it == handlers.end()) return {404, "text/plain; charset=utf-8", "not found\n"};
    const bool post = request.method == "POST" && it->second.accept_post;
    if (request.method != "GET" && request.method != "HEAD" && !post) {
      return {
          405, "text/plain; charset=utf-8",
          it->second.accept_post ? "only GET and POST are supported\n" : "only GET is supported\n"};
    }
    return it->second.handler(request);
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      beast::http::request_parser<beast::http::empty_body> parser;
      parser.body_limit(kMaxRequestBytes);
      parser.header_limit(kMaxRequestBytes);
      stream.expires_after(kReadTimeout);
      boost::system::error_code ec;
      co_await beast::http::async_read(stream, buffer, parser,
                                       asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;  // closed, timed out or malformed: nothing to answer
      const auto& req = parser.get();
      const std::string target(req.target());
      const size_t q = target.find('?');
      const Request request{std::string(req.method_string()), target.substr(0, q),
                            q == std::string::npos ? "" : target.substr(q + 1)};
      const Response response = dispatch(request);
      beast::http::response<beast::http::string_body> res{
          static_cast<beast::http::status>(response.status), req.version()};
      res.set(beast::http::field::content_type, response.content_type);
      res.keep_alive(req.keep_alive());
      if (req.method() != beast::http::verb::head) res.body() = response.body;
      res.prepare_payload();
      co_await beast::http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !req.keep_alive()) co_return;
    }
  }

  asio::awaitable<void> acceptLoop() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket =
          co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (ec == asio::error::operation_aborted) co_return;
        continue;
      }
      asio::co_spawn(io, serve(std::move(socket)), asio::detached);
    }
  }
};

absl::StatusOr<std::unique_ptr<AdminServer>> AdminServer::create(const std::string& address,
                                                                 uint16_t port) {
  auto impl = std::make_unique<Impl>();
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(address, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("admin address \"", address, "\": ", ec.message()));
  }
  const tcp::endpoint endpoint(ip, port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("listen on ", address, ":", port, ": ", ec.message()));
  }
  return std::unique_ptr<AdminServer>(new AdminServer(std::move(impl)));
}

AdminServer::AdminServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AdminServer::~AdminServer() { stop(); }

void AdminServer::handle(const std::string& path, Handler handler, bool accept_post) {
  impl_->handlers[path] = Impl::Route{std::move(handler), accept_post};
}

void AdminServer::start() {
  asio::co_spawn(impl_->io, impl_->acceptLoop(), asio::detached);
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

void AdminServer::stop() {
  if (!impl_->thread.joinable()) return;
  asio::post(impl_->io, [this] {
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->io.stop();
  });
  impl_->thread.join();
}

uint16_t AdminServer::port() const { return impl_->acceptor.local_endpoint().port(); }

}  // namespace ambit::http
