#include "agent/pod/pod_proxy.h"

#include <sys/socket.h>

#include <absl/strings/str_cat.h>

#include "agent/capture/original_dst.h"
#include "agent/relay/transparent.h"
#include "core/log.h"

namespace ambit::agent {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

std::shared_ptr<spdlog::logger> logger() { return log::get("proxy"); }

std::string str(const tcp::endpoint& endpoint) {
  return absl::StrCat(endpoint.address().to_string(), ":", endpoint.port());
}

// Closes with a reset, so the app sees its connection refused at once rather than a clean EOF.
void resetAndClose(tcp::socket& socket) {
  boost::system::error_code ignored;
  socket.set_option(asio::socket_base::linger(true, 0), ignored);
  socket.close(ignored);
}

HbonePoolOptions poolOptions(const PodProxyOptions& options, AgentMetrics& metrics) {
  HbonePoolOptions out = options.pool;
  out.mark = options.mark;
  out.connect_timeout = options.connect_timeout;
  out.metrics = &metrics;
  return out;
}

}  // namespace

ConnectionResult inboundResult(InboundDecision::Verdict verdict) {
  switch (verdict) {
    case InboundDecision::Verdict::kNoConfig:
      return ConnectionResult::kNoConfig;
    case InboundDecision::Verdict::kDenied:
      return ConnectionResult::kDenied;
    default:
      return ConnectionResult::kNoRoute;
  }
}

void describeInbound(ConnectionReport& report, const Snapshot& snapshot,
                     const InboundConnection& facts, const InboundDecision& decision) {
  if (const Snapshot::WorkloadPtr source = snapshot.workloadByIp(facts.peer_ip)) {
    setSourceWorkload(report.labels, *source);
    report.record.source_workload = source->name();
    report.record.source_namespace = source->namespace_();
  }
  if (decision.destination != nullptr) {
    setDestinationWorkload(report.labels, *decision.destination);
    report.record.destination_workload = decision.destination->name();
    report.record.destination_namespace = decision.destination->namespace_();
    report.record.destination_principal = report.labels.destination_principal;
  }
  if (decision.attributes.source_principal) {
    report.labels.source_principal = *facts.peer_principal;
    report.record.source_principal = *facts.peer_principal;
  }
  setDecision(report.record, decision);
}

PodProxy::PodProxy(std::vector<Worker*> workers, std::shared_ptr<const Netns> netns, PodLabel pod,
                   const SnapshotStore& store, AgentMetrics& metrics,
                   const CredentialSource& credentials, PodProxyOptions options)
    : workers_(std::move(workers)),
      netns_(std::move(netns)),
      pod_(std::move(pod)),
      store_(store),
      metrics_(metrics),
      credentials_(credentials),
      options_(options),
      agent_ports_{options_.outbound_port, options_.inbound_plaintext_port, options_.hbone_port} {
  for (Worker* worker : workers_) {
    per_worker_.push_back(std::make_unique<PerWorker>(
        *worker, netns_,
        [this] {
          return TunnelCredentials{credentials_.credential(pod_.identity),
                                   credentials_.trustBundle()};
        },
        poolOptions(options_, metrics_)));
  }
}

PodProxy::~PodProxy() = default;

absl::StatusOr<PodProxy::Acceptor> PodProxy::listen(const tcp::endpoint& endpoint) {
  const tcp protocol = endpoint.protocol();
  AMBIT_ASSIGN_OR_RETURN(UniqueFd fd, socketIn(*netns_, protocol.family(), SOCK_STREAM, 0));
  Acceptor acceptor(workers_.front()->io);
  boost::system::error_code ec;
  acceptor.assign(protocol, fd.release(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  // One socket per family: original destinations are read per family.
  if (!ec && protocol == tcp::v6()) acceptor.set_option(asio::ip::v6_only(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("listen on ", str(endpoint), " in ", pod_.name, ": ", ec.message()));
  }
  return acceptor;
}

absl::Status PodProxy::start() {
  struct Listener {
    tcp::endpoint endpoint;
    Direction role;
    bool required;  // IPv6 listeners are skipped in a pod without IPv6
  };
  const Listener listeners[] = {
      {{asio::ip::address_v4::loopback(), options_.outbound_port}, Direction::kOutbound, true},
      {{asio::ip::address_v4::any(), options_.inbound_plaintext_port}, Direction::kInbound, true},
      {{asio::ip::address_v4::any(), options_.hbone_port}, Direction::kHbone, true},
      {{asio::ip::address_v6::loopback(), options_.outbound_port}, Direction::kOutbound, false},
      {{asio::ip::address_v6::any(), options_.inbound_plaintext_port}, Direction::kInbound, false},
      {{asio::ip::address_v6::any(), options_.hbone_port}, Direction::kHbone, false},
  };
  std::vector<std::pair<std::unique_ptr<Acceptor>, Direction>> opened;
  for (const Listener& listener : listeners) {
    absl::StatusOr<Acceptor> acceptor = listen(listener.endpoint);
    if (!acceptor.ok()) {
      if (listener.required) return acceptor.status();
      logger()->debug("{}: no IPv6 {} listener: {}", pod_.name, directionLabel(listener.role),
                      std::string(acceptor.status().message()));
      continue;
    }
    opened.emplace_back(std::make_unique<Acceptor>(std::move(*acceptor)), listener.role);
  }
  for (auto& [acceptor, role] : opened) {
    if (role == Direction::kInbound) {
      (acceptor->local_endpoint().address().is_v4() ? inbound_v4_fd_ : inbound_v6_fd_) =
          acceptor->native_handle();
    }
    asio::co_spawn(workers_.front()->io, acceptLoop(shared_from_this(), *acceptor, role),
                   asio::detached);
    acceptors_.push_back(std::move(acceptor));
  }
  return absl::OkStatus();
}

CaptureTarget PodProxy::captureTarget() const {
  CaptureTarget target;
  target.addresses = pod_.addresses;
  target.inbound_v4_fd = inbound_v4_fd_;
  target.inbound_v6_fd = inbound_v6_fd_;
  return target;
}

void PodProxy::stop() {
  // Acceptors belong to the first worker, tunnels to theirs; close each on its thread.
  auto self = shared_from_this();
  asio::post(workers_.front()->io, [self] {
    for (auto& acceptor : self->acceptors_) {
      boost::system::error_code ignored;
      acceptor->close(ignored);
    }
  });
  for (auto& state : per_worker_) {
    asio::post(state->worker.io, [self, w = state.get()] {
      w->pool.shutdown();
      for (const auto& weak : w->server_connections) {
        if (auto connection = weak.lock()) connection->drain();
      }
    });
  }
}

void PodProxy::revalidate() {
  auto self = shared_from_this();
  for (auto& state : per_worker_) {
    asio::post(state->worker.io, [self, w = state.get()] {
      const std::shared_ptr<const Snapshot> snapshot = self->store_.current();
      const Snapshot::WorkloadPtr pod = self->podWorkload(*snapshot);
      for (auto it = w->open_inbound.begin(); it != w->open_inbound.end();) {
        OpenInbound& open = *it++;  // close() ends the entry's connection, not the entry
        InboundConnection connection = open.connection;
        connection.pod = pod.get();
        const InboundDecision decision = decideInbound(*snapshot, connection, self->agent_ports_);
        if (!decision.allowed()) {
          self->metrics_.connection(connection.transport == InboundConnection::Transport::kHbone
                                        ? Direction::kHbone
                                        : Direction::kInbound,
                                    ConnectionResult::kRevoked);
          open.close(decision.describe());
        }
      }
    });
  }
}

std::shared_ptr<void> PodProxy::trackInbound(PerWorker& w, InboundConnection connection,
                                             std::function<void(const std::string&)> close) {
  auto it = w.open_inbound.insert(w.open_inbound.end(),
                                  OpenInbound{std::move(connection), std::move(close)});
  // The handle removes the entry; it lives in the connection's coroutine, on w's thread.
  return std::shared_ptr<void>(
      nullptr, [self = shared_from_this(), &w, it](void*) { w.open_inbound.erase(it); });
}

Snapshot::WorkloadPtr PodProxy::podWorkload(const Snapshot& snapshot) const {
  for (const IpBytes& ip : pod_.addresses) {
    if (Snapshot::WorkloadPtr workload = snapshot.workloadByIp(ip)) return workload;
  }
  return nullptr;
}

asio::awaitable<void> PodProxy::acceptLoop(std::shared_ptr<PodProxy> self, Acceptor& acceptor,
                                           Direction role) {
  while (acceptor.is_open()) {
    boost::system::error_code ec;
    tcp::socket socket =
        co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) break;
    if (ec) {
      logger()->warn("{}: accept on {} listener failed: {}", pod_.name, directionLabel(role),
                     ec.message());
      // Out of descriptors and similar: pause instead of spinning.
      asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    // Hand-off: the connection moves to the next worker's event loop for its whole life.
    PerWorker& w = *per_worker_[next_worker_++ % per_worker_.size()];
    Socket moved(w.worker.io);
    if (&w.worker.io == &workers_.front()->io) {
      moved = std::move(socket);
    } else {
      const tcp protocol = socket.local_endpoint(ec).protocol();
      moved.assign(protocol, socket.release(ec), ec);
      if (ec) {
        logger()->warn("{}: cannot hand a connection to worker {}: {}", pod_.name, w.worker.index,
                       ec.message());
        continue;
      }
    }
    if (role == Direction::kOutbound) {
      asio::co_spawn(w.worker.io, handleOutbound(self, w, std::move(moved)), asio::detached);
    } else if (role == Direction::kInbound) {
      asio::co_spawn(w.worker.io, handleInbound(self, w, std::move(moved)), asio::detached);
    } else {
      asio::co_spawn(w.worker.io, serveHbone(self, w, std::move(moved)), asio::detached);
    }
  }
}

asio::awaitable<boost::system::error_code> PodProxy::connect(Socket& upstream,
                                                             const tcp::endpoint& destination) {
  asio::steady_timer deadline(upstream.get_executor(), options_.connect_timeout);
  bool timed_out = false;
  deadline.async_wait([&upstream, &timed_out](boost::system::error_code ec) {
    if (ec) return;  // cancelled: the connect finished first
    timed_out = true;
    boost::system::error_code ignored;
    upstream.cancel(ignored);
  });
  boost::system::error_code ec;
  co_await upstream.async_connect(destination, asio::redirect_error(asio::use_awaitable, ec));
  deadline.cancel();
  if (timed_out) ec = asio::error::timed_out;
  co_return ec;
}

asio::awaitable<void> PodProxy::relay(Socket& downstream, Socket& upstream, Direction direction,
                                      const std::string& description, ConnectionReport& report) {
  // Bytes are forwarded as they arrive: Nagle's delay on either leg would stack on the app's own.
  boost::system::error_code ignored;
  downstream.set_option(tcp::no_delay(true), ignored);
  upstream.set_option(tcp::no_delay(true), ignored);
  metrics_.active_connections.add(1);
  const RelayResult result = co_await relayBothWays(downstream, upstream, options_.relay);
  metrics_.active_connections.add(-1);
  metrics_.bytes(direction, result.a_to_b, result.b_to_a);
  const bool clean = result.end == RelayResult::End::kClosed;
  metrics_.connection(direction, clean ? ConnectionResult::kRelayed : ConnectionResult::kError);
  logger()->debug("{} {}: {}", directionLabel(direction), description, result.describe());
  // The downstream is the client for outbound connections and the server's side for inbound.
  const bool outbound = direction == Direction::kOutbound;
  report.closed(clean ? ResponseFlags::kNone : ResponseFlags::kConnectFailure,
                outbound ? result.a_to_b : result.b_to_a, outbound ? result.b_to_a : result.a_to_b,
                clean ? "" : result.describe());
}

void PodProxy::refuse(Socket& downstream, Direction direction, ConnectionResult result,
                      const std::string& why) {
  logger()->warn("{} {} refused: {}", directionLabel(direction), pod_.name, why);
  metrics_.connection(direction, result);
  resetAndClose(downstream);
}

asio::awaitable<void> PodProxy::connectAndRelay(Socket& downstream,
                                                absl::StatusOr<UniqueFd> upstream_fd,
                                                tcp::endpoint destination, Direction direction,
                                                std::string connection, ConnectionReport& report) {
  std::string failure;
  Socket upstream(downstream.get_executor());
  if (!upstream_fd.ok()) {
    failure = absl::StrCat("cannot create a socket in the pod: ", upstream_fd.status().message());
  } else {
    upstream.assign(destination.protocol(), upstream_fd->release());
    if (boost::system::error_code ec = co_await connect(upstream, destination)) {
      failure = absl::StrCat("connect failed: ", ec.message());
    }
  }
  if (!failure.empty()) {
    refuse(downstream, direction, ConnectionResult::kConnectFailed,
           absl::StrCat(connection, ": ", failure));
    report.closed(ResponseFlags::kConnectFailure, 0, 0, failure);
    co_return;
  }
  report.opened();
  co_await relay(downstream, upstream, direction, absl::StrCat(pod_.name, " ", connection), report);
}

}  // namespace ambit::agent
