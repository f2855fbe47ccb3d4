#include "waypoint/config/jwks_cache.h"

#include <absl/strings/numbers.h>
#include <absl/strings/str_cat.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <mutex>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "core/log.h"

namespace ambit::waypoint {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::shared_ptr<spdlog::logger> logger() { return log::get("waypoint"); }

// One GET, answered with the body of a 200 or an error naming what failed.
template <typename Stream>
asio::awaitable<absl::StatusOr<std::string>> get(Stream& stream, const JwksUri& uri,
                                                 const JwksCacheOptions& options) {
  http::request<http::empty_body> request{http::verb::get, uri.target, 11};
  request.set(http::field::host, uri.host);
  request.set(http::field::accept, "application/json");
  request.set(http::field::user_agent, "ambit-waypoint");
  beast::get_lowest_layer(stream).expires_after(options.timeout);
  co_await http::async_write(stream, request, asio::use_awaitable);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(options.max_body_bytes);
  co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
  const auto& response = parser.get();
  if (response.result() != http::status::ok) {
    co_return absl::UnavailableError(absl::StrCat("HTTP status ", response.result_int()));
  }
  co_return response.body();
}

asio::awaitable<absl::StatusOr<std::string>> fetch(const JwksUri& uri,
                                                   const JwksCacheOptions& options,
                                                   asio::ssl::context* tls) {
  auto executor = co_await asio::this_coro::executor;
  try {
    tcp::resolver resolver(executor);
    const auto endpoints =
        co_await resolver.async_resolve(uri.host, std::to_string(uri.port), asio::use_awaitable);
    if (!uri.tls) {
      beast::tcp_stream stream(executor);
      stream.expires_after(options.timeout);
      co_await stream.async_connect(endpoints, asio::use_awaitable);
      co_return co_await get(stream, uri, options);
    }
    beast::ssl_stream<beast::tcp_stream> stream(executor, *tls);
    // SNI (SSL_set_tlsext_host_name, without the macro's C cast) and the name the certificate
    // must carry.
    SSL* ssl = stream.native_handle();
    if (SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(uri.host.c_str())) != 1 ||
        SSL_set1_host(ssl, uri.host.c_str()) != 1) {
      co_return absl::InternalError("cannot set the TLS server name");
    }
    beast::get_lowest_layer(stream).expires_after(options.timeout);
    co_await beast::get_lowest_layer(stream).async_connect(endpoints, asio::use_awaitable);
    co_await stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
    co_return co_await get(stream, uri, options);
  } catch (const boost::system::system_error& e) {
    co_return absl::UnavailableError(e.code().message());
  }
}

}  // namespace

const Jwks* JwksSet::find(std::string_view uri) const {
  auto it = keys_.find(uri);
  return it != keys_.end() ? it->second.get() : nullptr;
}

std::shared_ptr<const Jwks> JwksSet::findShared(std::string_view uri) const {
  auto it = keys_.find(uri);
  return it != keys_.end() ? it->second : nullptr;
}

absl::StatusOr<JwksUri> parseJwksUri(std::string_view uri_view) {
  const std::string uri(uri_view);  // absl here takes std::string, not std::string_view
  JwksUri out;
  for (const char c : uri) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f) {
      return absl::InvalidArgumentError(
          absl::StrCat("jwksUri \"", uri, "\" holds a space or a control or non-ASCII byte"));
    }
  }
  // The fragment is the client's alone: never sent.
  uri_view = uri_view.substr(0, uri_view.find('#'));
  std::string_view rest;
  if (uri_view.starts_with("https://")) {
    out.tls = true;
    out.port = 443;
    rest = uri_view.substr(8);
  } else if (uri_view.starts_with("http://")) {
    out.port = 80;
    rest = uri_view.substr(7);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("jwksUri \"", uri, "\" is neither http:// nor https://"));
  }
  const size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (out.target.front() == '?') out.target.insert(0, "/");
  if (authority.find('@') != std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("jwksUri \"", uri, "\" carries user info"));
  }
  std::string_view host = authority;
  if (authority.starts_with("[")) {  // [v6]:port
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("jwksUri \"", uri, "\": unclosed \"[\""));
    }
    host = authority.substr(1, close - 1);
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority.front() != ':') {
      return absl::InvalidArgumentError(absl::StrCat("jwksUri \"", uri, "\": bad authority"));
    }
  } else {
    const size_t colon = authority.find(':');
    if (colon != std::string_view::npos &&
        authority.find(':', colon + 1) != std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("jwksUri \"", uri, "\": an IPv6 address must be in brackets"));
    }
    host = authority.substr(0, colon);
    authority = colon == std::string_view::npos ? std::string_view() : authority.substr(colon);
  }
  if (!authority.empty()) {  // ":port"
    const std::string_view digits = authority.substr(1);
    uint32_t port = 0;
    if (digits.empty() || digits.size() > 5 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        !absl::SimpleAtoi(std::string(digits), &port) || port == 0 || port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("jwksUri \"", uri, "\": bad port"));
    }
    out.port = static_cast<uint16_t>(port);
  }
  if (host.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("jwksUri \"", uri, "\" names no host"));
  }
  out.host = std::string(host);
  return out;
}

struct JwksCache::Impl {
  JwksCacheOptions options;
  std::function<void()> on_change;
  JwksCache* owner = nullptr;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  asio::ssl::context tls{asio::ssl::context::tls_client};
  std::thread thread;
  metrics::Counter* fetched = nullptr;
  metrics::Counter* failed = nullptr;

  // Touched on the io thread only: the URIs wanted, each with the generation of its fetch loop
  // (a loop whose generation is gone ends), and the keys held.
  std::map<std::string, uint64_t, std::less<>> loops;
  uint64_t next_generation = 1;
  std::map<std::string, std::shared_ptr<const Jwks>, std::less<>> keys;

  void publish() {
    owner->current_.publish(std::make_shared<const JwksSet>(keys));
    if (on_change) on_change();
  }

  bool wanted(const std::string& uri, uint64_t generation) const {
    auto it = loops.find(uri);
    return it != loops.end() && it->second == generation;
  }

  asio::awaitable<void> loop(std::string uri, uint64_t generation) {
    absl::StatusOr<JwksUri> parsed = parseJwksUri(uri);
    if (!parsed.ok()) {
      logger()->warn("JWKS {}: {}; tokens of its issuer are refused", uri,
                     std::string(parsed.status().message()));
      co_return;
    }
    std::chrono::milliseconds backoff = options.first_retry;
    asio::steady_timer timer(io);
    while (wanted(uri, generation)) {
      absl::StatusOr<std::string> body = co_await fetch(*parsed, options, &tls);
      absl::StatusOr<std::shared_ptr<const Jwks>> jwks =
          body.ok() ? parseJwks(*body) : absl::StatusOr<std::shared_ptr<const Jwks>>(body.status());
      if (!wanted(uri, generation)) break;
      std::chrono::milliseconds wait = options.refresh;
      if (jwks.ok()) {
        if (fetched != nullptr) fetched->inc();
        const bool first = keys.count(uri) == 0;
        keys[uri] = *jwks;
        if (first) logger()->info("JWKS {}: keys fetched", uri);
        publish();
        backoff = options.first_retry;
      } else {
        if (failed != nullptr) failed->inc();
        logger()->warn("JWKS {}: fetch failed: {}{}", uri, std::string(jwks.status().message()),
                       keys.count(uri) > 0 ? " (keeping the last keys)"
                                           : " (tokens of its issuer are refused until it works)");
        wait = backoff;
        backoff = std::min(backoff * 2, options.max_retry);
      }
      timer.expires_after(wait);
      boost::system::error_code ignored;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
  }
};

JwksCache::JwksCache(JwksCacheOptions options, std::function<void()> on_change,
                     metrics::Registry* registry)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  impl_->on_change = std::move(on_change);
  impl_->owner = this;
  impl_->tls.set_default_verify_paths();
  impl_->tls.set_verify_mode(asio::ssl::verify_peer);
  if (registry != nullptr) {
    const std::string help = "JWKS fetches by the waypoint, by result";
    impl_->fetched =
        &registry->counter("ambit_waypoint_jwks_fetches_total", help, {{"result", "ok"}});
    impl_->failed =
        &registry->counter("ambit_waypoint_jwks_fetches_total", help, {{"result", "failed"}});
  }
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

JwksCache::~JwksCache() {
  impl_->work.reset();
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void JwksCache::setUris(const std::set<std::string>& uris) {
  asio::post(impl_->io, [impl = impl_.get(), uris] {
    bool dropped = false;
    for (auto it = impl->loops.begin(); it != impl->loops.end();) {
      if (uris.count(it->first) == 0) {
        dropped |= impl->keys.erase(it->first) > 0;
        it = impl->loops.erase(it);
      } else {
        ++it;
      }
    }
    for (const std::string& uri : uris) {
      if (impl->loops.count(uri) > 0) continue;
      const uint64_t generation = impl->next_generation++;
      impl->loops[uri] = generation;
      asio::co_spawn(impl->io, impl->loop(uri, generation), asio::detached);
    }
    if (dropped) impl->publish();
  });
}

}  // namespace ambit::waypoint
