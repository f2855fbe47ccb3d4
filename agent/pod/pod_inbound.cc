// The inbound plaintext listener (15006): connections to the pod from outside the mesh, captured.
// They carry no identity, so PeerAuthentication STRICT (which the control plane sends as a DENY
// policy for connections without one) and identity-based policies refuse them.
#include <absl/strings/str_cat.h>

#include "agent/capture/original_dst.h"
#include "agent/pod/pod_proxy.h"
#include "agent/relay/transparent.h"
#include "core/log.h"

namespace ambit::agent {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

std::string str(const tcp::endpoint& endpoint) {
  return absl::StrCat(endpoint.address().to_string(), ":", endpoint.port());
}

}  // namespace

asio::awaitable<void> PodProxy::handleInbound(std::shared_ptr<PodProxy>, PerWorker& w,
                                              Socket downstream) {
  ConnectionReport report(metrics_.tcp(), Reporter::kDestination);
  boost::system::error_code ec;
  const tcp::endpoint peer = downstream.remote_endpoint(ec);
  absl::StatusOr<tcp::endpoint> original = originalDestination(downstream.native_handle());
  if (ec || !original.ok()) {
    refuse(downstream, Direction::kInbound, ConnectionResult::kNoRoute,
           "no peer or original destination");
    report.refused("no_route", "no peer or original destination");
    co_return;
  }
  const std::string connection = absl::StrCat(str(peer), " -> ", str(*original));
  report.record.source_address = str(peer);
  report.record.destination_address = str(*original);
  const std::shared_ptr<const Snapshot> snapshot = store_.current();
  const Snapshot::WorkloadPtr pod = podWorkload(*snapshot);
  InboundConnection facts;
  facts.transport = InboundConnection::Transport::kPlaintext;
  facts.peer_ip = toIpBytes(peer.address());
  facts.destination_ip = toIpBytes(original->address());
  facts.destination_port = original->port();
  facts.pod = pod.get();
  const InboundDecision decision = decideInbound(*snapshot, facts, agent_ports_);
  describeInbound(report, *snapshot, facts, decision);
  if (!decision.allowed()) {
    refuse(downstream, Direction::kInbound, inboundResult(decision.verdict),
           absl::StrCat(connection, ": ", decision.describe()));
    metrics_.denied(Direction::kInbound, decision);
    if (decision.verdict == InboundDecision::Verdict::kDenied) {
      report.closed(ResponseFlags::kDeny, 0, 0, decision.describe());
    } else {
      report.refused(inboundVerdictLabel(decision.verdict), decision.describe());
    }
    co_return;
  }
  facts.pod = nullptr;  // revalidate() looks the pod up in the snapshot of its time
  auto tracked = trackInbound(w, facts, [&downstream](const std::string& why) {
    log::get("proxy")->warn("inbound connection closed: {}", why);
    boost::system::error_code ignored;
    downstream.set_option(asio::socket_base::linger(true, 0), ignored);
    downstream.close(ignored);
  });
  co_await connectAndRelay(downstream, inboundUpstreamSocket(*netns_, peer, options_.delivery_mark),
                           *original, Direction::kInbound, connection, report);
}

}  // namespace ambit::agent
