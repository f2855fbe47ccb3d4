// The outbound listener (15001): connections the pod's apps make, captured. A destination in the
// mesh is reached through an HBONE tunnel presenting the pod's certificate; anything else passes
// through in plaintext as the app asked.
#include <absl/strings/str_cat.h>

#include "agent/capture/original_dst.h"
#include "agent/identity/identities_on_node.h"
#include "agent/pod/pod_proxy.h"
#include "agent/relay/transparent.h"
#include "core/hbone/authority.h"
#include "core/log.h"

namespace ambit::agent {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

std::shared_ptr<spdlog::logger> logger() { return log::get("proxy"); }

std::string str(const tcp::endpoint& endpoint) {
  return absl::StrCat(endpoint.address().to_string(), ":", endpoint.port());
}

}  // namespace

asio::awaitable<void> PodProxy::handleOutbound(std::shared_ptr<PodProxy>, PerWorker& w,
                                               Socket downstream) {
  boost::system::error_code ec;
  const tcp::endpoint source = downstream.remote_endpoint(ec);
  absl::StatusOr<tcp::endpoint> original = originalDestination(downstream.native_handle());
  if (ec || !original.ok()) {
    refuse(downstream, Direction::kOutbound, ConnectionResult::kNoRoute,
           absl::StrCat("no peer or original destination: ",
                        original.ok() ? ec.message() : original.status().message()));
    co_return;
  }
  const std::shared_ptr<const Snapshot> snapshot = store_.current();
  absl::StatusOr<OutboundTarget> target = decideOutbound(*snapshot, *original, w.worker.picker);
  const std::string connection = absl::StrCat(str(source), " -> ", str(*original));
  if (!target.ok()) {
    refuse(downstream, Direction::kOutbound,
           absl::IsFailedPrecondition(target.status()) ? ConnectionResult::kNoConfig
                                                       : ConnectionResult::kNoRoute,
           absl::StrCat(connection, ": ", target.status().message()));
    co_return;
  }
  if (target->workload != nullptr &&
      target->workload->tunnel_protocol() == istio::workload::HBONE) {
    co_await tunnelOutbound(w, downstream, *target,
                            absl::StrCat(connection, " ", target->describe()));
    co_return;
  }
  const tcp::endpoint destination = target->endpoint;
  co_await connectAndRelay(
      downstream, outboundUpstreamSocket(*netns_, options_.mark, destination.protocol().family()),
      destination, Direction::kOutbound, absl::StrCat(connection, " ", target->describe()));
}

asio::awaitable<void> PodProxy::tunnelOutbound(PerWorker& w, Socket& downstream,
                                               const OutboundTarget& target,
                                               std::string connection) {
  absl::StatusOr<tls::SpiffeId> identity = workloadIdentity(*target.workload, kDefaultTrustDomain);
  if (!identity.ok()) {
    refuse(downstream, Direction::kOutbound, ConnectionResult::kNoRoute,
           absl::StrCat(connection,
                        ": the destination has no valid identity: ", identity.status().message()));
    co_return;
  }
  TunnelTarget tunnel_target;
  tunnel_target.hbone_endpoint = tcp::endpoint(target.endpoint.address(), options_.hbone_port);
  tunnel_target.identity = *identity;
  tunnel_target.authority =
      hbone::formatAuthority(target.endpoint.address().to_string(), target.endpoint.port());
  boost::system::error_code ec;
  const tcp::endpoint source = downstream.remote_endpoint(ec);
  if (!ec) {
    // RFC 7239, as ztunnel sends it: who the tunnel speaks for.
    tunnel_target.headers.emplace_back(
        "forwarded",
        absl::StrCat("for=", source.address().is_v6() ? "\"[" : "", source.address().to_string(),
                     source.address().is_v6() ? "]\"" : ""));
  }
  absl::StatusOr<Tunnel> tunnel = co_await w.pool.open(tunnel_target);
  if (!tunnel.ok()) {
    refuse(downstream, Direction::kOutbound,
           absl::IsFailedPrecondition(tunnel.status()) ? ConnectionResult::kNoCertificate
           : absl::IsPermissionDenied(tunnel.status()) ? ConnectionResult::kDenied
                                                       : ConnectionResult::kTunnelFailed,
           absl::StrCat(connection, ": ", tunnel.status().message()));
    co_return;
  }
  metrics_.active_connections.add(1);
  const TunnelResult result = co_await tunnel->connection->bridge(tunnel->stream, downstream);
  metrics_.active_connections.add(-1);
  metrics_.bytes(Direction::kOutbound, result.from_socket, result.to_socket);
  metrics_.connection(Direction::kOutbound, result.end == TunnelResult::End::kClosed
                                                ? ConnectionResult::kRelayed
                                                : ConnectionResult::kError);
  logger()->info("outbound {} {} via hbone as {}: {}", pod_.name, connection, pod_.identity,
                 result.describe());
}

}  // namespace ambit::agent
