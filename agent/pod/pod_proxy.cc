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

std::string peerOf(const tcp::socket& socket) {
  boost::system::error_code ec;
  const tcp::endpoint peer = socket.remote_endpoint(ec);
  return ec ? std::string("?") : str(peer);
}

}  // namespace

PodProxy::PodProxy(asio::io_context& io, std::shared_ptr<const Netns> netns, PodLabel pod,
                   const SnapshotStore& store, EndpointPicker& picker, AgentMetrics& metrics,
                   PodProxyOptions options)
    : io_(io),
      netns_(std::move(netns)),
      pod_(std::move(pod)),
      store_(store),
      picker_(picker),
      metrics_(metrics),
      options_(std::move(options)) {}

absl::StatusOr<PodProxy::Acceptor> PodProxy::listen(const tcp::endpoint& endpoint) {
  const tcp protocol = endpoint.protocol();
  AMBIT_ASSIGN_OR_RETURN(UniqueFd fd, socketIn(*netns_, protocol.family(), SOCK_STREAM, 0));
  Acceptor acceptor(io_);
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
    asio::co_spawn(io_, acceptLoop(shared_from_this(), *acceptor, role), asio::detached);
    acceptors_.push_back(std::move(acceptor));
  }
  return absl::OkStatus();
}

void PodProxy::stop() {
  // Acceptors belong to the io_context's thread; close them there.
  asio::post(io_, [self = shared_from_this()] {
    for (auto& acceptor : self->acceptors_) {
      boost::system::error_code ignored;
      acceptor->close(ignored);
    }
  });
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
      asio::steady_timer pause(io_, std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    if (role == Direction::kOutbound) {
      asio::co_spawn(io_, handleOutbound(self, std::move(socket)), asio::detached);
    } else if (role == Direction::kInbound) {
      asio::co_spawn(io_, handleInbound(self, std::move(socket)), asio::detached);
    } else {
      refuseHbone(std::move(socket));
    }
  }
}

asio::awaitable<boost::system::error_code> PodProxy::connect(Socket& upstream,
                                                             const tcp::endpoint& destination) {
  asio::steady_timer deadline(io_, options_.connect_timeout);
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
                                      const std::string& description) {
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
  logger()->info("{} {}: {}", directionLabel(direction), description, result.describe());
}

void PodProxy::refuse(Socket& downstream, Direction direction, ConnectionResult result,
                      const std::string& why) {
  logger()->warn("{} {} refused: {}", directionLabel(direction), pod_.name, why);
  metrics_.connection(direction, result);
  resetAndClose(downstream);
}

asio::awaitable<void> PodProxy::connectAndRelay(Socket downstream,
                                                absl::StatusOr<UniqueFd> upstream_fd,
                                                tcp::endpoint destination, Direction direction,
                                                std::string connection) {
  if (!upstream_fd.ok()) {
    refuse(downstream, direction, ConnectionResult::kConnectFailed,
           absl::StrCat(connection,
                        ": cannot create a socket in the pod: ", upstream_fd.status().message()));
    co_return;
  }
  Socket upstream(io_);
  upstream.assign(destination.protocol(), upstream_fd->release());
  if (boost::system::error_code ec = co_await connect(upstream, destination)) {
    refuse(downstream, direction, ConnectionResult::kConnectFailed,
           absl::StrCat(connection, ": connect failed: ", ec.message()));
    co_return;
  }
  co_await relay(downstream, upstream, direction, absl::StrCat(pod_.name, " ", connection));
}

asio::awaitable<void> PodProxy::handleOutbound(std::shared_ptr<PodProxy>, Socket downstream) {
  const std::string source = peerOf(downstream);
  absl::StatusOr<tcp::endpoint> original = originalDestination(downstream.native_handle());
  if (!original.ok()) {
    refuse(downstream, Direction::kOutbound, ConnectionResult::kNoRoute,
           absl::StrCat(source, ": no original destination: ", original.status().message()));
    co_return;
  }
  const std::shared_ptr<const Snapshot> snapshot = store_.current();
  absl::StatusOr<OutboundTarget> target = decideOutbound(*snapshot, *original, picker_);
  if (!target.ok()) {
    refuse(downstream, Direction::kOutbound,
           absl::IsFailedPrecondition(target.status()) ? ConnectionResult::kNoConfig
                                                       : ConnectionResult::kNoRoute,
           absl::StrCat(source, " -> ", str(*original), ": ", target.status().message()));
    co_return;
  }
  const tcp::endpoint destination = target->endpoint;
  co_await connectAndRelay(
      std::move(downstream),
      outboundUpstreamSocket(*netns_, options_.mark, destination.protocol().family()), destination,
      Direction::kOutbound, absl::StrCat(source, " -> ", str(*original), " ", target->describe()));
}

asio::awaitable<void> PodProxy::handleInbound(std::shared_ptr<PodProxy>, Socket downstream) {
  boost::system::error_code ec;
  const tcp::endpoint peer = downstream.remote_endpoint(ec);
  absl::StatusOr<tcp::endpoint> original = originalDestination(downstream.native_handle());
  if (ec || !original.ok()) {
    refuse(downstream, Direction::kInbound, ConnectionResult::kNoRoute,
           "no peer or original destination");
    co_return;
  }
  const std::string connection = absl::StrCat(str(peer), " -> ", str(*original));
  // The agent's own ports are never a destination: relaying there would loop back to the agent.
  const uint16_t port = original->port();
  if (port == options_.outbound_port || port == options_.inbound_plaintext_port ||
      port == options_.hbone_port) {
    refuse(downstream, Direction::kInbound, ConnectionResult::kNoRoute,
           absl::StrCat(connection, ": the destination is an agent port"));
    co_return;
  }
  // Without config the agent cannot know the pod's peer authentication mode: fail closed.
  const std::shared_ptr<const Snapshot> snapshot = store_.current();
  if (snapshot->version() == 0) {
    refuse(downstream, Direction::kInbound, ConnectionResult::kNoConfig,
           absl::StrCat(connection, ": no config from the control plane yet"));
    co_return;
  }
  // Policies need the peer identities the HBONE tunnel brings; until the agent can evaluate
  // them, a pod they apply to takes no plaintext at all rather than traffic they might deny.
  const Snapshot::WorkloadPtr destination = snapshot->workloadByIp(toIpBytes(original->address()));
  if (destination == nullptr) {
    refuse(downstream, Direction::kInbound, ConnectionResult::kNoRoute,
           absl::StrCat(connection, ": the destination is not a known workload"));
    co_return;
  }
  if (const auto policies = snapshot->policiesFor(*destination); !policies.empty()) {
    refuse(downstream, Direction::kInbound, ConnectionResult::kDenied,
           absl::StrCat(connection, ": ", policies.size(), " authorization ",
                        policies.size() == 1 ? "policy applies" : "policies apply", " (",
                        policies.front()->namespace_(), "/", policies.front()->name(),
                        "), and this agent cannot enforce policies on plaintext yet"));
    co_return;
  }
  co_await connectAndRelay(std::move(downstream),
                           inboundUpstreamSocket(*netns_, peer, options_.mark), *original,
                           Direction::kInbound, connection);
}

void PodProxy::refuseHbone(Socket downstream) {
  refuse(downstream, Direction::kHbone, ConnectionResult::kUnsupported,
         absl::StrCat(peerOf(downstream), ": this agent does not serve HBONE yet"));
}

}  // namespace ambit::agent
