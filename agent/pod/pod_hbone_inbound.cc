// The HBONE listener (15008): mutual-TLS tunnels from other mesh workloads. The handshake proves
// the peer's SPIFFE identity (the pod's own certificate is presented, and no traffic is taken
// while it has none); each CONNECT stream is then decided by decideInbound with that identity and
// delivered to the app from the peer's address, as if the peer had connected directly.
#include <absl/strings/str_cat.h>
#include <boost/asio/ssl/stream.hpp>

#include "agent/pod/pod_proxy.h"
#include "agent/relay/transparent.h"
#include "core/hbone/hbone_server.h"
#include "core/log.h"
#include "core/tls/hbone_context.h"

namespace ambit::agent {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

std::shared_ptr<spdlog::logger> logger() { return log::get("proxy"); }

std::string str(const tcp::endpoint& endpoint) {
  return absl::StrCat(endpoint.address().to_string(), ":", endpoint.port());
}

// The status a refused CONNECT gets: 401 for a policy (as ztunnel answers), 400 for a request
// this pod cannot serve, 503 when the pod has no config yet.
int statusFor(InboundDecision::Verdict verdict) {
  switch (verdict) {
    case InboundDecision::Verdict::kDenied:
      return 401;
    case InboundDecision::Verdict::kNoConfig:
      return 503;
    default:
      return 400;
  }
}

}  // namespace

absl::StatusOr<std::shared_ptr<asio::ssl::context>> PodProxy::serverContext(PerWorker& w) {
  std::shared_ptr<const tls::WorkloadCredential> credential =
      credentials_.credential(pod_.identity);
  std::shared_ptr<const tls::TrustBundle> bundle = credentials_.trustBundle();
  if (credential == nullptr || bundle == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("no workload certificate for ", pod_.identity, " yet"));
  }
  if (w.server_context != nullptr && credential == w.server_credential &&
      bundle == w.server_bundle) {
    return w.server_context;
  }
  AMBIT_ASSIGN_OR_RETURN(tls::SslCtxPtr ctx, tls::makeHboneServerContext(*credential, *bundle));
  w.server_context = std::make_shared<asio::ssl::context>(ctx.release());
  w.server_credential = std::move(credential);
  w.server_bundle = std::move(bundle);
  return w.server_context;
}

asio::awaitable<void> PodProxy::serveHbone(std::shared_ptr<PodProxy> self, PerWorker& w,
                                           Socket downstream) {
  boost::system::error_code ec;
  const tcp::endpoint peer = downstream.remote_endpoint(ec);
  const tcp::endpoint local = downstream.local_endpoint(ec);
  const std::string label = absl::StrCat(str(peer), " -> ", str(local));
  absl::StatusOr<std::shared_ptr<asio::ssl::context>> context = serverContext(w);
  if (!context.ok()) {
    refuse(downstream, Direction::kHbone, ConnectionResult::kNoCertificate,
           absl::StrCat(label, ": ", context.status().message()));
    co_return;
  }
  // Frames of many streams share this socket: Nagle's delay would hold one stream's small write
  // behind another's unacknowledged one.
  downstream.set_option(tcp::no_delay(true), ec);
  auto stream = std::make_unique<HboneConnection::TlsStream>(std::move(downstream), **context);
  SSL* ssl = stream->native_handle();
  if (absl::Status prepared = tls::prepareHboneConnection(ssl, std::nullopt); !prepared.ok()) {
    refuse(stream->next_layer(), Direction::kHbone, ConnectionResult::kTunnelFailed,
           absl::StrCat(label, ": ", prepared.message()));
    co_return;
  }
  // A peer that never finishes its handshake is cut off like one that never connects.
  asio::steady_timer deadline(w.worker.io, options_.connect_timeout);
  deadline.async_wait([&stream](boost::system::error_code e) {
    if (e) return;
    boost::system::error_code ignored;
    stream->lowest_layer().cancel(ignored);
  });
  co_await stream->async_handshake(asio::ssl::stream_base::server,
                                   asio::redirect_error(asio::use_awaitable, ec));
  deadline.cancel();
  absl::StatusOr<tls::SpiffeId> peer_identity = absl::UnknownError("no handshake");
  if (ec) {
    // OK when this side refused nothing: the peer went away, or offered no TLS 1.3 or no h2.
    absl::Status refusal = tls::handshakeRefusal(ssl, static_cast<unsigned long>(ec.value()));
    peer_identity = refusal.ok()
                        ? absl::UnavailableError(absl::StrCat("TLS handshake: ", ec.message()))
                        : std::move(refusal);
  } else {
    peer_identity = tls::verifyHandshakePeer(ssl);
  }
  metrics_.tlsHandshake(Side::kServer, peer_identity.status());
  if (!peer_identity.ok()) {
    refuse(stream->next_layer(), Direction::kHbone, ConnectionResult::kTunnelFailed,
           absl::StrCat(label, ": ", peer_identity.status().message()));
    co_return;
  }

  absl::StatusOr<std::unique_ptr<hbone::HboneServerSession>> session =
      hbone::HboneServerSession::create(options_.pool.session);
  if (!session.ok()) {
    refuse(stream->next_layer(), Direction::kHbone, ConnectionResult::kTunnelFailed,
           absl::StrCat(label, ": ", session.status().message()));
    co_return;
  }
  hbone::HboneServerSession* server = session->get();
  auto connection =
      std::make_shared<HboneConnection>(std::move(stream), std::move(*session),
                                        absl::StrCat(label, " from ", peer_identity->toString()));
  std::weak_ptr<HboneConnection> weak = connection;
  const std::string identity = peer_identity->toString();
  server->setRequestHandler(
      [this, self, &w, weak, peer, identity](int32_t id, const hbone::HboneRequest& request) {
        if (auto c = weak.lock()) {
          asio::co_spawn(w.worker.io, handleTunnelRequest(self, w, c, id, request, peer, identity),
                         asio::detached);
        }
      });
  w.server_connections.remove_if([](const auto& entry) { return entry.expired(); });
  w.server_connections.push_back(connection);
  logger()->debug("hbone {}: accepted {}", pod_.name, connection->label());
  metrics_.hboneConnections(Side::kServer).add(1);
  connection->start([this, self] { metrics_.hboneConnections(Side::kServer).add(-1); });
}

asio::awaitable<void> PodProxy::handleTunnelRequest(std::shared_ptr<PodProxy>, PerWorker& w,
                                                    std::shared_ptr<HboneConnection> connection,
                                                    int32_t stream, hbone::HboneRequest request,
                                                    tcp::endpoint peer, std::string peer_identity) {
  metrics_.hboneStreamOpened(Side::kServer);
  auto* server = static_cast<hbone::HboneServerSession*>(&connection->session());
  ConnectionReport report(metrics_.tcp(), Reporter::kDestination);
  report.labels.security_policy = SecurityPolicy::kMutualTls;
  boost::system::error_code ec;
  const asio::ip::address target_address = asio::ip::make_address(request.target.address, ec);
  const std::string what = absl::StrCat(connection->label(), " CONNECT ", request.authority);
  report.record.source_address = str(peer);
  report.record.destination_address = connection->label();
  report.record.destination_hbone_address = request.authority;
  InboundConnection facts;
  facts.transport = InboundConnection::Transport::kHbone;
  facts.peer_ip = toIpBytes(peer.address());
  facts.destination_ip = ec ? IpBytes() : toIpBytes(target_address);
  facts.destination_port = request.target.port;
  facts.peer_principal = peer_identity;
  const std::shared_ptr<const Snapshot> snapshot = store_.current();
  const Snapshot::WorkloadPtr pod = podWorkload(*snapshot);
  facts.pod = pod.get();
  const InboundDecision decision = decideInbound(*snapshot, facts, agent_ports_);
  describeInbound(report, *snapshot, facts, decision);
  if (ec || !decision.allowed()) {
    const int status = ec ? 400 : statusFor(decision.verdict);
    (void)server->respond(stream, status);
    connection->flush();
    metrics_.connection(Direction::kHbone,
                        ec ? ConnectionResult::kNoRoute : inboundResult(decision.verdict));
    const std::string why = ec ? ec.message() : decision.describe();
    logger()->warn("hbone {} {} refused ({}): {}", pod_.name, what, status, why);
    if (!ec) metrics_.denied(Direction::kHbone, decision);
    if (!ec && decision.verdict == InboundDecision::Verdict::kDenied) {
      report.closed(ResponseFlags::kDeny, 0, 0, why);
    } else {
      report.refused(ec ? "bad_authority" : inboundVerdictLabel(decision.verdict), why);
    }
    co_return;
  }

  // Delivered from the peer's address, so the app sees who called it.
  const tcp::endpoint destination(target_address, request.target.port);
  absl::StatusOr<UniqueFd> fd =
      inboundUpstreamSocket(*netns_, tcp::endpoint(peer.address(), 0), options_.delivery_mark);
  Socket upstream(w.worker.io);
  if (fd.ok()) upstream.assign(destination.protocol(), fd->release(), ec);
  if (!fd.ok() || ec || (ec = co_await connect(upstream, destination))) {
    (void)server->respond(stream, 503);
    connection->flush();
    metrics_.connection(Direction::kHbone, ConnectionResult::kConnectFailed);
    const std::string why = fd.ok() ? ec.message() : std::string(fd.status().message());
    logger()->warn("hbone {} {}: connect to the app failed: {}", pod_.name, what, why);
    report.closed(ResponseFlags::kConnectFailure, 0, 0, absl::StrCat("connect failed: ", why));
    co_return;
  }
  (void)server->respond(stream, 200);
  connection->flush();
  logger()->debug("hbone {} {}: accepted from {}", pod_.name, what, peer_identity);

  facts.pod = nullptr;
  auto tracked = trackInbound(w, facts, [server, stream, connection](const std::string& why) {
    log::get("proxy")->warn("hbone {}: tunnel closed: {}", connection->label(), why);
    (void)server->reset(stream, hbone::kConnectError);
    connection->flush();
  });
  report.opened();
  metrics_.active_connections.add(1);
  const TunnelResult result = co_await connection->bridge(stream, upstream);
  metrics_.active_connections.add(-1);
  metrics_.bytes(Direction::kHbone, result.to_socket, result.from_socket);
  const bool clean = result.end == TunnelResult::End::kClosed;
  metrics_.connection(Direction::kHbone,
                      clean ? ConnectionResult::kRelayed : ConnectionResult::kError);
  logger()->debug("hbone {} {}: {}", pod_.name, what, result.describe());
  report.closed(clean ? ResponseFlags::kNone : ResponseFlags::kConnectFailure, result.to_socket,
                result.from_socket, clean ? "" : result.describe());
}

}  // namespace ambit::agent
