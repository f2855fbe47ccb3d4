#include "waypoint/proxy/proxy_worker.h"

#include <absl/strings/str_cat.h>
#include <boost/asio/ssl/stream.hpp>

#include "agent/netns/netns.h"
#include "core/hbone/hbone_server.h"
#include "core/log.h"
#include "core/tls/hbone_context.h"
#include "waypoint/proxy/http_session.h"

namespace ambit::waypoint {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

std::shared_ptr<spdlog::logger> logger() { return log::get("waypoint"); }

std::string str(const tcp::endpoint& endpoint) {
  return absl::StrCat(endpoint.address().to_string(), ":", endpoint.port());
}

// The address a tunnel speaks for, from its forwarded header ("for=10.0.0.5" or
// "for=\"[fd00::5]\""), as node agents send it; empty when absent.
std::string forwardedFor(const hbone::HboneRequest& request) {
  const std::string* forwarded = request.header("forwarded");
  if (forwarded == nullptr) return "";
  std::string_view value = *forwarded;
  const size_t at = value.find("for=");
  if (at == std::string_view::npos) return "";
  value = value.substr(at + 4);
  value = value.substr(0, value.find_first_of(";,"));
  if (!value.empty() && value.front() == '"') value = value.substr(1, value.size() - 2);
  if (!value.empty() && value.front() == '[') value = value.substr(1, value.find(']') - 1);
  return std::string(value);
}

}  // namespace

ProxyWorker::ProxyWorker(size_t index, const ConfigStore& config,
                         const agent::CredentialSource& credentials, RequestMetrics& metrics,
                         ProxyOptions options)
    : index_(index),
      config_(config),
      credentials_(credentials),
      metrics_(metrics),
      options_(std::move(options)),
      random_(std::random_device{}()) {}

ProxyWorker::~ProxyWorker() { stop(); }

absl::Status ProxyWorker::listen() {
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(options_.listen_address, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen address \"", options_.listen_address, "\": ", ec.message()));
  }
  const tcp::endpoint endpoint(address, options_.hbone_port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) {
    // Every worker listens on the same port; the kernel spreads connections over them.
    const int one = 1;
    if (setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
      ec.assign(errno, boost::system::system_category());
    }
  }
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    return absl::UnavailableError(absl::StrCat("listen on ", str(endpoint), ": ", ec.message()));
  }
  absl::StatusOr<agent::Netns> netns = agent::Netns::current();
  if (!netns.ok()) return netns.status();
  pool_ = std::make_unique<agent::HbonePool>(
      io_, std::make_shared<const agent::Netns>(std::move(*netns)),
      [this] {
        return agent::TunnelCredentials{credentials_.credential(options_.identity),
                                        credentials_.trustBundle()};
      },
      options_.pool);
  return absl::OkStatus();
}

void ProxyWorker::start() {
  asio::co_spawn(io_, acceptLoop(), asio::detached);
  thread_ = std::thread([this] {
    auto guard = asio::make_work_guard(io_);
    io_.run();
  });
}

void ProxyWorker::stop() {
  if (!thread_.joinable()) return;
  asio::post(io_, [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    if (pool_) pool_->shutdown();
    for (auto& weak : connections_) {
      if (auto connection = weak.lock()) connection->close();
    }
    io_.stop();
  });
  thread_.join();
}

asio::awaitable<void> ProxyWorker::acceptLoop() {
  while (acceptor_.is_open()) {
    boost::system::error_code ec;
    tcp::socket socket =
        co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted) break;
      logger()->warn("worker {}: accept: {}", index_, ec.message());
      continue;
    }
    asio::co_spawn(io_, serveConnection(std::move(socket)), asio::detached);
  }
}

absl::StatusOr<std::shared_ptr<asio::ssl::context>> ProxyWorker::serverContext() {
  std::shared_ptr<const tls::WorkloadCredential> credential =
      credentials_.credential(options_.identity);
  std::shared_ptr<const tls::TrustBundle> bundle = credentials_.trustBundle();
  if (credential == nullptr || bundle == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("no certificate for ", options_.identity, " yet"));
  }
  if (server_context_ != nullptr && credential == server_credential_ && bundle == server_bundle_) {
    return server_context_;
  }
  AMBIT_ASSIGN_OR_RETURN(tls::SslCtxPtr ctx, tls::makeHboneServerContext(*credential, *bundle));
  server_context_ = std::make_shared<asio::ssl::context>(ctx.release());
  server_credential_ = std::move(credential);
  server_bundle_ = std::move(bundle);
  return server_context_;
}

asio::awaitable<void> ProxyWorker::serveConnection(tcp::socket socket) {
  boost::system::error_code ec;
  const std::string label =
      absl::StrCat(str(socket.remote_endpoint(ec)), " -> ", str(socket.local_endpoint(ec)));
  absl::StatusOr<std::shared_ptr<asio::ssl::context>> context = serverContext();
  if (!context.ok()) {
    // Fail closed: no certificate, no tunnel.
    logger()->warn("{}: refused: {}", label, std::string(context.status().message()));
    co_return;
  }
  socket.set_option(tcp::no_delay(true), ec);
  auto stream = std::make_unique<agent::HboneConnection::TlsStream>(std::move(socket), **context);
  SSL* ssl = stream->native_handle();
  if (absl::Status prepared = tls::prepareHboneConnection(ssl, std::nullopt); !prepared.ok()) {
    logger()->warn("{}: refused: {}", label, std::string(prepared.message()));
    co_return;
  }
  asio::steady_timer deadline(io_, options_.connect_timeout);
  deadline.async_wait([&stream](boost::system::error_code e) {
    if (e) return;
    boost::system::error_code ignored;
    stream->lowest_layer().cancel(ignored);
  });
  co_await stream->async_handshake(asio::ssl::stream_base::server,
                                   asio::redirect_error(asio::use_awaitable, ec));
  deadline.cancel();
  absl::StatusOr<tls::SpiffeId> peer = absl::UnknownError("no handshake");
  if (ec) {
    absl::Status refusal = tls::handshakeRefusal(ssl, static_cast<unsigned long>(ec.value()));
    peer = refusal.ok() ? absl::UnavailableError(absl::StrCat("TLS handshake: ", ec.message()))
                        : std::move(refusal);
  } else {
    peer = tls::verifyHandshakePeer(ssl);
  }
  if (!peer.ok()) {
    logger()->warn("{}: refused: {}", label, std::string(peer.status().message()));
    co_return;
  }
  absl::StatusOr<std::unique_ptr<hbone::HboneServerSession>> session =
      hbone::HboneServerSession::create(options_.pool.session);
  if (!session.ok()) {
    logger()->warn("{}: {}", label, std::string(session.status().message()));
    co_return;
  }
  hbone::HboneServerSession* server = session->get();
  const std::string identity = peer->toString();
  auto connection = std::make_shared<agent::HboneConnection>(
      std::move(stream), std::move(*session), absl::StrCat(label, " from ", identity));
  std::weak_ptr<agent::HboneConnection> weak = connection;
  server->setRequestHandler([this, weak, identity](int32_t id, const hbone::HboneRequest& request) {
    if (auto c = weak.lock()) {
      asio::co_spawn(io_, serveStream(c, id, request, identity), asio::detached);
    }
  });
  connections_.remove_if([](const auto& entry) { return entry.expired(); });
  connections_.push_back(connection);
  logger()->debug("accepted {}", connection->label());
  connection->start([] {});
}

asio::awaitable<void> ProxyWorker::serveStream(std::shared_ptr<agent::HboneConnection> connection,
                                               int32_t stream, hbone::HboneRequest request,
                                               std::string peer_identity) {
  auto* server = static_cast<hbone::HboneServerSession*>(&connection->session());
  const std::shared_ptr<const WaypointSnapshot> snapshot = config_.current();
  absl::StatusOr<ServedDestination> destination =
      servedDestination(*snapshot, request.target.address, request.target.port);
  if (!destination.ok()) {
    // Not ours to route: refused, never passed through.
    const int status = absl::IsFailedPrecondition(destination.status()) ? 503 : 400;
    (void)server->respond(stream, status);
    connection->flush();
    logger()->warn("{} CONNECT {} refused ({}): {}", connection->label(), request.authority, status,
                   std::string(destination.status().message()));
    co_return;
  }
  (void)server->respond(stream, 200);
  connection->attachChannel(stream);
  connection->flush();
  Caller caller;
  caller.identity = std::move(peer_identity);
  caller.address = forwardedFor(request);
  HttpSessionContext context{*pool_, picker_, random_, metrics_, options_, outliers_, active_};
  co_await serveHttp(context, connection, stream, *destination, std::move(caller), config_);
}

}  // namespace ambit::waypoint
