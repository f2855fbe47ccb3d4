#include "agent/tunnel/hbone_pool.h"

#include <absl/strings/str_cat.h>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "agent/relay/transparent.h"
#include "core/log.h"
#include "core/tls/hbone_context.h"

namespace ambit::agent {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

std::shared_ptr<spdlog::logger> logger() { return log::get("hbone"); }

std::string str(const tcp::endpoint& endpoint) {
  return absl::StrCat(endpoint.address().to_string(), ":", endpoint.port());
}

// Runs `operation` (an awaitable of an error code) with a deadline that cancels `socket`.
template <typename Operation>
asio::awaitable<boost::system::error_code> withDeadline(tcp::socket::lowest_layer_type& socket,
                                                        std::chrono::milliseconds timeout,
                                                        Operation operation) {
  asio::steady_timer deadline(socket.get_executor(), timeout);
  bool timed_out = false;
  deadline.async_wait([&socket, &timed_out](boost::system::error_code ec) {
    if (ec) return;
    timed_out = true;
    boost::system::error_code ignored;
    socket.cancel(ignored);
  });
  boost::system::error_code ec = co_await operation();
  deadline.cancel();
  if (timed_out) ec = asio::error::timed_out;
  co_return ec;
}

}  // namespace

// A caller of open() waiting for its stream's response.
struct HbonePool::Waiter {
  explicit Waiter(const asio::any_io_executor& executor) : wake(executor) {}
  asio::steady_timer wake;
  bool done = false;
  int status = 0;           // the response's status, 0 if the stream closed first
  uint32_t close_code = 0;  // the stream's close code when it closed without a response
};

struct HbonePool::Pooled {
  Key key;
  std::shared_ptr<asio::ssl::context> context;  // the connection's SSL holds its own reference too
  std::shared_ptr<HboneConnection> connection;
  hbone::HboneClientSession* client = nullptr;  // owned by `connection`
  std::map<int32_t, Waiter*> waiters;
};

HbonePool::HbonePool(asio::io_context& io, std::shared_ptr<const Netns> netns,
                     std::function<TunnelCredentials()> credentials, HbonePoolOptions options)
    : io_(io),
      netns_(std::move(netns)),
      credentials_(std::move(credentials)),
      options_(options),
      idle_timer_(io) {}

HbonePool::~HbonePool() { shutdown(); }

absl::StatusOr<std::shared_ptr<asio::ssl::context>> HbonePool::contextFor(
    const TunnelCredentials& credentials) {
  if (context_ != nullptr && context_credential_ == credentials.credential &&
      context_bundle_ == credentials.bundle) {
    return context_;
  }
  AMBIT_ASSIGN_OR_RETURN(tls::SslCtxPtr ctx,
                         tls::makeHboneClientContext(*credentials.credential, *credentials.bundle));
  context_ = std::make_shared<asio::ssl::context>(ctx.release());
  context_credential_ = credentials.credential;
  context_bundle_ = credentials.bundle;
  return context_;
}

std::shared_ptr<HbonePool::Pooled> HbonePool::usable(const Key& key) {
  auto [begin, end] = pooled_.equal_range(key);
  for (auto it = begin; it != end; ++it) {
    const Pooled& pooled = *it->second;
    if (!pooled.connection->closed() && pooled.client->canOpenStream()) return it->second;
  }
  return nullptr;
}

void HbonePool::forget(const Pooled* pooled) {
  for (auto it = pooled_.begin(); it != pooled_.end();) {
    it = it->second.get() == pooled ? pooled_.erase(it) : std::next(it);
  }
  stats_.connections_open = pooled_.size();
}

asio::awaitable<absl::StatusOr<std::shared_ptr<HbonePool::Pooled>>> HbonePool::connect(
    const TunnelTarget& target, const TunnelCredentials& credentials) {
  const std::string label =
      absl::StrCat(credentials.credential->identity.toString(), " -> ", target.identity.toString(),
                   " at ", str(target.hbone_endpoint));
  absl::StatusOr<std::shared_ptr<asio::ssl::context>> context = contextFor(credentials);
  if (!context.ok()) co_return context.status();

  const tcp protocol = target.hbone_endpoint.protocol();
  absl::StatusOr<UniqueFd> fd = outboundUpstreamSocket(*netns_, options_.mark, protocol.family());
  if (!fd.ok()) co_return fd.status();
  auto stream = std::make_unique<HboneConnection::TlsStream>(tcp::socket(io_), **context);
  auto& socket = stream->lowest_layer();
  boost::system::error_code ec;
  socket.assign(protocol, fd->release(), ec);
  if (ec) co_return absl::InternalError(absl::StrCat("hbone ", label, ": ", ec.message()));

  ec = co_await withDeadline(
      socket, options_.connect_timeout, [&]() -> asio::awaitable<boost::system::error_code> {
        boost::system::error_code e;
        co_await socket.async_connect(target.hbone_endpoint,
                                      asio::redirect_error(asio::use_awaitable, e));
        co_return e;
      });
  if (ec) {
    co_return absl::UnavailableError(
        absl::StrCat("hbone ", label, ": connect failed: ", ec.message()));
  }
  socket.set_option(tcp::no_delay(true), ec);

  SSL* ssl = stream->native_handle();
  if (absl::Status prepared = tls::prepareHboneConnection(ssl, target.identity); !prepared.ok()) {
    co_return prepared;
  }
  ec = co_await withDeadline(
      socket, options_.connect_timeout, [&]() -> asio::awaitable<boost::system::error_code> {
        boost::system::error_code e;
        co_await stream->async_handshake(asio::ssl::stream_base::client,
                                         asio::redirect_error(asio::use_awaitable, e));
        co_return e;
      });
  if (ec) {
    ++stats_.handshakes_failed;
    const absl::Status refusal = tls::handshakeRefusal(ssl, static_cast<unsigned long>(ec.value()));
    if (options_.metrics != nullptr) {
      options_.metrics->tlsHandshake(Side::kClient,
                                     refusal.ok() ? absl::UnavailableError(ec.message()) : refusal);
    }
    const std::string why = refusal.ok() ? ec.message() : std::string(refusal.message());
    // UNAVAILABLE whoever refused: PERMISSION_DENIED is kept for the destination's answer.
    co_return absl::UnavailableError(
        absl::StrCat("hbone ", label, ": TLS handshake failed: ", why));
  }
  absl::StatusOr<tls::SpiffeId> peer = tls::verifyHandshakePeer(ssl);
  if (options_.metrics != nullptr) options_.metrics->tlsHandshake(Side::kClient, peer.status());
  if (!peer.ok()) {
    ++stats_.handshakes_failed;
    // A peer that negotiated something else than TLS 1.3 and h2, or named another identity, is
    // an unusable tunnel (FAILED_PRECONDITION means "no certificate of ours" to callers).
    co_return absl::UnavailableError(absl::StrCat("hbone ", label, ": ", peer.status().message()));
  }

  absl::StatusOr<std::unique_ptr<hbone::HboneClientSession>> session =
      hbone::HboneClientSession::create(options_.session);
  if (!session.ok()) co_return session.status();

  auto pooled = std::make_shared<Pooled>();
  pooled->key = Key{target.identity.toString(), str(target.hbone_endpoint)};
  pooled->context = *context;
  pooled->client = session->get();
  std::weak_ptr<Pooled> weak = pooled;
  pooled->client->setResponseHandler([weak](int32_t id, int status, const hbone::HboneHeaders&) {
    auto p = weak.lock();
    if (p == nullptr) return;
    auto it = p->waiters.find(id);
    if (it == p->waiters.end()) return;
    it->second->done = true;
    it->second->status = status;
    it->second->wake.cancel();
  });
  pooled->connection =
      std::make_shared<HboneConnection>(std::move(stream), std::move(*session), label);
  pooled->connection->setStreamObserver([weak](int32_t id, uint32_t code) {
    auto p = weak.lock();
    if (p == nullptr) return;
    auto it = p->waiters.find(id);
    if (it == p->waiters.end() || it->second->done) return;
    it->second->done = true;
    it->second->close_code = code;
    it->second->wake.cancel();
  });
  std::weak_ptr<bool> alive = alive_;
  AgentMetrics* metrics = options_.metrics;
  if (metrics != nullptr) metrics->hboneConnections(Side::kClient).add(1);
  pooled->connection->start([this, alive, raw = pooled.get(), weak, metrics] {
    if (metrics != nullptr) metrics->hboneConnections(Side::kClient).add(-1);
    if (alive.expired()) return;
    // Waiters of a connection that died learn it here.
    if (auto p = weak.lock()) {
      for (auto& [id, waiter] : p->waiters) {
        waiter->done = true;
        waiter->wake.cancel();
      }
    }
    forget(raw);
  });
  pooled_.emplace(pooled->key, pooled);
  ++stats_.connections_opened;
  stats_.connections_open = pooled_.size();
  logger()->debug("hbone {}: connected (TLS 1.3, peer {})", label, peer->toString());
  armIdleTimer();
  co_return pooled;
}

asio::awaitable<absl::StatusOr<Tunnel>> HbonePool::open(const TunnelTarget& target) {
  const TunnelCredentials credentials = credentials_();
  if (credentials.credential == nullptr || credentials.bundle == nullptr) {
    co_return absl::FailedPreconditionError("no workload certificate for this pod yet");
  }
  const Key key{target.identity.toString(), str(target.hbone_endpoint)};
  std::shared_ptr<Pooled> pooled = usable(key);
  if (pooled == nullptr) {
    absl::StatusOr<std::shared_ptr<Pooled>> connected = co_await connect(target, credentials);
    if (!connected.ok()) co_return connected.status();
    pooled = *std::move(connected);
  }
  absl::StatusOr<int32_t> stream = pooled->client->openConnect(target.authority, target.headers);
  if (!stream.ok()) {
    co_return absl::UnavailableError(
        absl::StrCat("hbone ", pooled->connection->label(),
                     ": cannot open a stream: ", stream.status().message()));
  }
  pooled->connection->flush();

  Waiter waiter(io_.get_executor());
  pooled->waiters[*stream] = &waiter;
  waiter.wake.expires_after(options_.connect_timeout);
  while (!waiter.done) {
    boost::system::error_code ec;
    co_await waiter.wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) break;  // the deadline
  }
  pooled->waiters.erase(*stream);
  const std::string what =
      absl::StrCat("hbone ", pooled->connection->label(), " CONNECT ", target.authority);
  if (!waiter.done) {
    (void)pooled->client->reset(*stream, hbone::kCancel);
    pooled->connection->flush();
    co_return absl::DeadlineExceededError(absl::StrCat(what, ": no response"));
  }
  if (waiter.status == 0) {
    co_return absl::UnavailableError(absl::StrCat(
        what, pooled->connection->closed()
                  ? ": the connection closed"
                  : absl::StrCat(": stream closed with HTTP/2 error ", waiter.close_code)));
  }
  if (waiter.status < 200 || waiter.status > 299) {
    const bool refused = waiter.status == 401 || waiter.status == 403;
    const std::string message = absl::StrCat(what, ": answered ", waiter.status);
    co_return refused ? absl::PermissionDeniedError(message) : absl::UnavailableError(message);
  }
  if (options_.metrics != nullptr) options_.metrics->hboneStreamOpened(Side::kClient);
  co_return Tunnel{pooled->connection, *stream};
}

void HbonePool::armIdleTimer() {
  if (idle_timer_armed_ || pooled_.empty()) return;
  idle_timer_armed_ = true;
  idle_timer_.expires_after(options_.idle_timeout / 2);
  std::weak_ptr<bool> alive = alive_;
  idle_timer_.async_wait([this, alive](boost::system::error_code ec) {
    if (ec || alive.expired()) return;
    idle_timer_armed_ = false;
    const Clock::time_point cutoff = Clock::now() - options_.idle_timeout;
    for (auto& [key, pooled] : pooled_) {
      if (pooled->connection->session().activeStreams() == 0 &&
          pooled->connection->lastActive() < cutoff) {
        pooled->connection->drain();  // closes once the GOAWAY is written
      }
    }
    armIdleTimer();
  });
}

void HbonePool::shutdown() {
  alive_.reset();
  alive_ = std::make_shared<bool>(true);
  boost::system::error_code ignored;
  idle_timer_.cancel();
  idle_timer_armed_ = false;
  for (auto& [key, pooled] : pooled_) pooled->connection->drain();
  pooled_.clear();
  stats_.connections_open = 0;
}

}  // namespace ambit::agent
