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
  ConnectionReport report(metrics_.tcp(), Reporter::kSource);
  boost::system::error_code ec;
  const tcp::endpoint source = downstream.remote_endpoint(ec);
  absl::StatusOr<tcp::endpoint> original = originalDestination(downstream.native_handle());
  if (ec || !original.ok()) {
    const std::string why =
        absl::StrCat("no peer or original destination: ",
                     original.ok() ? ec.message() : original.status().message());
    refuse(downstream, Direction::kOutbound, ConnectionResult::kNoRoute, why);
    report.refused("no_route", why);
    co_return;
  }
  const std::shared_ptr<const Snapshot> snapshot = store_.current();
  report.record.source_address = str(source);
  report.record.destination_address = str(*original);
  if (const Snapshot::WorkloadPtr self = podWorkload(*snapshot)) {
    setSourceWorkload(report.labels, *self);
    report.record.source_workload = self->name();
    report.record.source_namespace = self->namespace_();
  }
  absl::StatusOr<OutboundTarget> target = decideOutbound(*snapshot, *original, w.worker.picker);
  const std::string connection = absl::StrCat(str(source), " -> ", str(*original));
  if (!target.ok()) {
    const bool no_config = absl::IsFailedPrecondition(target.status());
    refuse(downstream, Direction::kOutbound,
           no_config ? ConnectionResult::kNoConfig : ConnectionResult::kNoRoute,
           absl::StrCat(connection, ": ", target.status().message()));
    report.refused(no_config ? "no_config" : "no_route", std::string(target.status().message()));
    co_return;
  }
  if (target->service != nullptr) {
    setDestinationService(report.labels, *target->service);
    report.record.destination_service = target->service->hostname();
  }
  if (target->workload != nullptr) {
    setDestinationWorkload(report.labels, *target->workload);
    report.record.destination_workload = target->workload->name();
    report.record.destination_namespace = target->workload->namespace_();
  }
  // A waypoint always terminates HBONE; a workload does when the snapshot says so.
  if (target->kind == OutboundTarget::Kind::kWaypoint ||
      (target->workload != nullptr &&
       target->workload->tunnel_protocol() == istio::workload::HBONE)) {
    co_await tunnelOutbound(w, downstream, *target,
                            absl::StrCat(connection, " ", target->describe()), report);
    co_return;
  }
  const tcp::endpoint destination = target->endpoint;
  report.record.destination_address = str(destination);
  co_await connectAndRelay(
      downstream, outboundUpstreamSocket(*netns_, options_.mark, destination.protocol().family()),
      destination, Direction::kOutbound, absl::StrCat(connection, " ", target->describe()), report);
}

asio::awaitable<void> PodProxy::tunnelOutbound(PerWorker& w, Socket& downstream,
                                               const OutboundTarget& target, std::string connection,
                                               ConnectionReport& report) {
  absl::StatusOr<tls::SpiffeId> identity = workloadIdentity(*target.workload, kDefaultTrustDomain);
  if (!identity.ok()) {
    const std::string why =
        absl::StrCat("the destination has no valid identity: ", identity.status().message());
    refuse(downstream, Direction::kOutbound, ConnectionResult::kNoRoute,
           absl::StrCat(connection, ": ", why));
    report.refused("no_route", why);
    co_return;
  }
  TunnelTarget tunnel_target;
  tunnel_target.identity = *identity;
  if (target.kind == OutboundTarget::Kind::kWaypoint) {
    // The waypoint learns the original destination from :authority and routes it itself.
    tunnel_target.hbone_endpoint = target.endpoint;
    tunnel_target.authority = target.authority;
  } else {
    tunnel_target.hbone_endpoint = tcp::endpoint(target.endpoint.address(), options_.hbone_port);
    tunnel_target.authority =
        hbone::formatAuthority(target.endpoint.address().to_string(), target.endpoint.port());
  }
  boost::system::error_code ec;
  const tcp::endpoint source = downstream.remote_endpoint(ec);
  if (!ec) {
    // RFC 7239, as ztunnel sends it: who the tunnel speaks for.
    tunnel_target.headers.emplace_back(
        "forwarded",
        absl::StrCat("for=", source.address().is_v6() ? "\"[" : "", source.address().to_string(),
                     source.address().is_v6() ? "]\"" : ""));
  }
  report.labels.security_policy = SecurityPolicy::kMutualTls;
  report.labels.source_principal = pod_.identity;
  report.record.source_principal = pod_.identity;
  report.record.destination_principal = identity->toString();
  report.record.destination_address = str(tunnel_target.hbone_endpoint);
  report.record.destination_hbone_address =
      target.kind == OutboundTarget::Kind::kWaypoint ? target.authority : str(target.endpoint);

  absl::StatusOr<Tunnel> tunnel = co_await w.pool.open(tunnel_target);
  if (!tunnel.ok()) {
    const absl::Status& status = tunnel.status();
    ConnectionResult result = ConnectionResult::kTunnelFailed;
    ResponseFlags flags = ResponseFlags::kTlsFailure;
    report.record.decision = "tunnel_failed";
    if (absl::IsFailedPrecondition(status)) {
      result = ConnectionResult::kNoCertificate;
      flags = ResponseFlags::kIdentityError;
      report.record.decision = "no_certificate";
    } else if (absl::IsPermissionDenied(status)) {
      result = ConnectionResult::kDenied;
      flags = ResponseFlags::kDeny;
      report.record.decision = "destination_denied";
      metrics_.deniedByDestination(Direction::kOutbound);
    }
    refuse(downstream, Direction::kOutbound, result,
           absl::StrCat(connection, ": ", status.message()));
    report.closed(flags, 0, 0, std::string(status.message()));
    co_return;
  }
  report.opened();
  metrics_.active_connections.add(1);
  const TunnelResult result = co_await tunnel->connection->bridge(tunnel->stream, downstream);
  metrics_.active_connections.add(-1);
  metrics_.bytes(Direction::kOutbound, result.from_socket, result.to_socket);
  const bool clean = result.end == TunnelResult::End::kClosed;
  metrics_.connection(Direction::kOutbound,
                      clean ? ConnectionResult::kRelayed : ConnectionResult::kError);
  logger()->debug("outbound {} {} via hbone as {}: {}", pod_.name, connection, pod_.identity,
                  result.describe());
  report.closed(clean ? ResponseFlags::kNone : ResponseFlags::kConnectFailure, result.from_socket,
                result.to_socket, clean ? "" : result.describe());
}

}  // namespace ambit::agent
