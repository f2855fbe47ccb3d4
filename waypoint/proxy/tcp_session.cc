// The streams the waypoint carries as TCP: the service's tcp routes (or the service itself) choose
// one endpoint, an HBONE tunnel is opened to its agent, and bytes flow both ways until both sides
// end; a stream that cannot be routed is reset.
#include <absl/strings/str_cat.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "waypoint/proxy/endpoints.h"
#include "waypoint/proxy/http_session.h"
#include "waypoint/proxy/request_security.h"
#include "waypoint/proxy/session_support.h"
#include "waypoint/proxy/stream_pump.h"
#include "waypoint/proxy/upstream_call.h"
#include "waypoint/route/tcp_route.h"

namespace ambit::waypoint {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// An opaque TCP stream: the service's tcp routes (or the service itself) choose one endpoint,
// and bytes flow both ways until both sides end.
asio::awaitable<void> relayTcp(HttpSessionContext& context_,
                               std::shared_ptr<agent::HboneConnection> downstream_, int32_t stream_,
                               const ServedDestination& destination_, const Caller& caller_,
                               const ConfigStore& config_, std::string pending_) {
  const Clock::time_point start = Clock::now();
  const std::shared_ptr<const WaypointSnapshot> snapshot = config_.current();
  const agent::Snapshot::WorkloadPtr source = sourceWorkload(*snapshot, caller_);
  ConnectionView view;
  view.port = destination_.port;
  view.destination_address = destination_.address;
  view.source_address = caller_.address;
  view.source_namespace = source != nullptr ? std::string_view(source->namespace_())
                                            : std::string_view(callerNamespace(caller_));
  view.source_labels = source != nullptr ? &snapshot->labelsOf(source->uid()) : nullptr;
  std::string refused;
  std::optional<UpstreamEndpoint> endpoint;
  std::optional<agent::Tunnel> tunnel;
  // AuthorizationPolicy first: a TCP stream meets the same policies as the service's HTTP
  // requests, with what needs HTTP failing closed.
  const std::vector<std::shared_ptr<const CompiledL7Policy>>* policies =
      snapshot->security != nullptr ? &snapshot->security->forHost(destination_.host).policies
                                    : nullptr;
  if (policies != nullptr && !policies->empty()) {
    L7RequestAttributes attributes;
    attributes.http = false;
    attributes.destination_port = destination_.port;
    std::string_view identity = caller_.identity;
    if (identity.starts_with("spiffe://")) attributes.source_principal = identity.substr(9);
    attributes.source_namespace = callerNamespace(caller_);
    if (source != nullptr) attributes.source_ip = caller_.address;  // verified, else unknown
    attributes.destination_ip = destination_.address;
    const L7AuthorizationDecision decision = authorizeRequest(*policies, attributes);
    context_.metrics.security().authorization(decision);
    if (!decision.allowed)
      refused = absl::StrCat(rbacDetail(decision), " (", decision.describe(), ")");
  }
  if (!refused.empty()) {
    // Denied: no route is chosen and no tunnel opened.
  } else if (destination_.workload != nullptr) {
    // A workload bound to the waypoint by its own label: no routes apply, it is the endpoint.
    UpstreamEndpoint direct;
    direct.workload = destination_.workload;
    boost::system::error_code ec;
    direct.address = boost::asio::ip::tcp::endpoint(
        boost::asio::ip::make_address(destination_.address, ec), destination_.port);
    endpoint = direct;
    absl::StatusOr<agent::Tunnel> opened =
        co_await openTunnel(context_.pool, *endpoint, caller_.address);
    if (opened.ok()) {
      tunnel = *opened;
    } else {
      refused = std::string(opened.status().message());
    }
  } else if (snapshot->routes == nullptr) {
    refused = "no routing config yet";
  } else {
    const TcpRouteDecision decision =
        decideTcpRoute(*snapshot->routes, destination_.host, view, context_.random(), false);
    if (decision.kind == TcpRouteDecision::Kind::kNoRoute) {
      refused = decision.reason;
    } else {
      const TrafficPolicyView traffic = snapshot->routes->trafficPolicy(
          decision.destination.host, decision.destination.subset, destination_.port);
      const OutlierSettings outlier_settings =
          OutlierSettings::fromProto(traffic.outlier_detection);
      const OutlierFilter outliers{&context_.outliers, &outlier_settings, Clock::now()};
      absl::StatusOr<UpstreamEndpoint> chosen = chooseEndpoint(
          *snapshot, decision.destination, destination_.port, {}, balanceOf(traffic.load_balancer),
          context_.random(), context_.picker, &outliers);
      if (!chosen.ok()) {
        refused = std::string(chosen.status().message());
      } else {
        endpoint = *chosen;
        absl::StatusOr<agent::Tunnel> opened =
            co_await openTunnel(context_.pool, *endpoint, caller_.address);
        if (!opened.ok()) {
          refused = std::string(opened.status().message());
          if (outlier_settings.enabled) {
            AttemptResult failed;
            failed.outcome = AttemptResult::Outcome::kConnectFailure;
            recordOutcome(context_.outliers, *endpoint, failed, outlier_settings);
          }
        } else {
          tunnel = *opened;
        }
      }
    }
  }
  if (!tunnel) {
    // The client's CONNECT was accepted before the route was known: its stream is reset.
    downstream_->releaseChannel(stream_, hbone::kConnectError);
    accessLog()->info("TCP {}:{} refused: {} src.identity={}",
                      destination_.host.empty() ? destination_.address : destination_.host,
                      destination_.port, refused, caller_.identity);
    co_return;
  }
  uint64_t sent = 0;
  uint64_t received = 0;
  bool clean = true;
  if (!pending_.empty()) {  // sniffed bytes
    const absl::Status written = co_await tunnel->connection->writeAll(
        tunnel->stream, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(pending_.data()),
                                                 pending_.size()));
    sent += pending_.size();
    pending_.clear();
    clean = written.ok();
  }
  if (clean) {
    auto executor = co_await asio::this_coro::executor;
    asio::steady_timer other_done(executor, Clock::time_point::max());
    bool back_done = false;
    bool back_clean = true;
    // The way back runs in a coroutine of its own; parameters, not captures, so nothing it
    // uses lives in a temporary closure.
    asio::co_spawn(executor,
                   pumpInto(tunnel->connection, tunnel->stream, downstream_, stream_, &received,
                            &back_done, &back_clean, &other_done),
                   asio::detached);
    clean = co_await pump(*downstream_, stream_, *tunnel->connection, tunnel->stream, sent);
    while (!back_done) {
      boost::system::error_code ignored;
      co_await other_done.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
    clean = clean && back_clean;
  }
  if (clean) {
    tunnel->connection->finishChannel(tunnel->stream);
    downstream_->finishChannel(stream_);
  } else {
    tunnel->connection->releaseChannel(tunnel->stream);
    downstream_->releaseChannel(stream_);
  }
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  accessLog()->info("TCP {}:{} -> {} {} bytes sent, {} received, {:.0f} ms{} src.identity={}",
                    destination_.host.empty() ? destination_.address : destination_.host,
                    destination_.port, upstreamText(*endpoint), sent, received, ms,
                    clean ? "" : " (reset)", caller_.identity);
}

}  // namespace ambit::waypoint
