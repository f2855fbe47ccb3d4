// The listeners of one enrolled pod, opened inside the pod's network namespace while the agent
// stays in its own: outbound 127.0.0.1:15001 (captured connections of the pod's apps), inbound
// plaintext 0.0.0.0:15006 (captured connections to the pod from outside the mesh) and HBONE
// 0.0.0.0:15008 (mutual-TLS tunnels from other mesh workloads), each with an IPv6 twin when the
// pod has IPv6. Closing the listeners leaves connections in flight to finish on their own.
//
// The pieces: accepting is here (pod_proxy.cc); each listener's handling has its own file
// (pod_outbound.cc, pod_inbound.cc, pod_hbone_inbound.cc) and asks a pure function what to do
// (decideOutbound, decideInbound); bytes move through relay.h and the tunnel's HboneConnection.
#pragma once

#include <utility>  // before asio: Boost 1.74 needs it

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl/context.hpp>

#include "agent/admin/agent_metrics.h"
#include "agent/admin/connection_report.h"
#include "agent/capture/redirector.h"
#include "agent/identity/credential_source.h"
#include "agent/netns/netns.h"
#include "agent/pod/worker.h"
#include "agent/policy/inbound.h"
#include "agent/relay/outbound.h"
#include "agent/relay/relay.h"
#include "agent/state/snapshot_store.h"
#include "agent/tunnel/hbone_pool.h"

namespace ambit::agent {

struct PodProxyOptions {
  uint16_t outbound_port = 15001;
  uint16_t inbound_plaintext_port = 15006;
  uint16_t hbone_port = 15008;
  uint32_t mark = 0x539;
  // SO_MARK of the sockets that deliver inbound connections to the app (Redirector::deliveryMark).
  uint32_t delivery_mark = 0x539;
  std::chrono::milliseconds connect_timeout{10000};
  RelayOptions relay;
  HbonePoolOptions pool;  // its mark and connect timeout are set from the fields above
};

// Names a pod in logs and says who it is.
struct PodLabel {
  std::string uid;
  std::string name;                // namespace/name
  std::string identity;            // its SPIFFE ID, whose certificate its tunnels present
  std::vector<IpBytes> addresses;  // its IPs, 4 or 16 raw bytes each
};

// The `result` a refused inbound connection is counted under.
ConnectionResult inboundResult(InboundDecision::Verdict verdict);
// Fills an inbound connection's telemetry from what it was decided on: the source workload (by
// address), the destination workload, and the decision.
void describeInbound(ConnectionReport& report, const Snapshot& snapshot,
                     const InboundConnection& facts, const InboundDecision& decision);

class PodProxy : public std::enable_shared_from_this<PodProxy> {
 public:
  // The listeners run on the first worker and hand connections to every worker in turn.
  PodProxy(std::vector<Worker*> workers, std::shared_ptr<const Netns> netns, PodLabel pod,
           const SnapshotStore& store, AgentMetrics& metrics, const CredentialSource& credentials,
           PodProxyOptions options);
  ~PodProxy();

  // Opens every listener inside the pod's netns; on error none stays open. Call before the
  // listeners are used, from any thread.
  absl::Status start();
  // What capture steers to: the pod's addresses and the inbound listeners start() opened.
  CaptureTarget captureTarget() const;
  // Closes the listeners and drains the pod's tunnels on their workers' threads; thread-safe.
  void stop();
  // Re-decides every open inbound connection against the current snapshot and closes those it
  // now denies, on each worker's thread; thread-safe.
  void revalidate();

 private:
  using Acceptor = boost::asio::ip::tcp::acceptor;
  using Socket = boost::asio::ip::tcp::socket;
  // An inbound connection or tunnel being delivered: what it was decided on, and how to end it.
  struct OpenInbound {
    InboundConnection connection;
    std::function<void(const std::string& why)> close;
  };
  using OpenInboundList = std::list<OpenInbound>;
  // What the pod's connections on one worker share, touched by that worker's thread only.
  struct PerWorker {
    PerWorker(Worker& w, std::shared_ptr<const Netns> netns,
              std::function<TunnelCredentials()> credentials, HbonePoolOptions options)
        : worker(w), pool(w.io, std::move(netns), std::move(credentials), options) {}
    Worker& worker;
    HbonePool pool;
    // The HBONE server's TLS context for the pod's current certificate and roots.
    std::shared_ptr<const tls::WorkloadCredential> server_credential;
    std::shared_ptr<const tls::TrustBundle> server_bundle;
    std::shared_ptr<boost::asio::ssl::context> server_context;
    // Inbound connections being delivered, for revalidate().
    OpenInboundList open_inbound;
    // Tunnels this pod's HBONE server carries, drained by stop().
    std::list<std::weak_ptr<HboneConnection>> server_connections;
  };

  absl::StatusOr<Acceptor> listen(const boost::asio::ip::tcp::endpoint& endpoint);
  // Each coroutine takes the proxy's owner as a parameter, so the proxy lives as long as any of
  // them, even one that has not started yet.
  boost::asio::awaitable<void> acceptLoop(std::shared_ptr<PodProxy> self, Acceptor& acceptor,
                                          Direction role);

  // pod_outbound.cc
  boost::asio::awaitable<void> handleOutbound(std::shared_ptr<PodProxy> self, PerWorker& w,
                                              Socket downstream);
  boost::asio::awaitable<void> tunnelOutbound(PerWorker& w, Socket& downstream,
                                              const OutboundTarget& target, std::string connection,
                                              ConnectionReport& report);
  // pod_inbound.cc
  boost::asio::awaitable<void> handleInbound(std::shared_ptr<PodProxy> self, PerWorker& w,
                                             Socket downstream);
  // pod_hbone_inbound.cc
  boost::asio::awaitable<void> serveHbone(std::shared_ptr<PodProxy> self, PerWorker& w,
                                          Socket downstream);
  boost::asio::awaitable<void> handleTunnelRequest(std::shared_ptr<PodProxy> self, PerWorker& w,
                                                   std::shared_ptr<HboneConnection> connection,
                                                   int32_t stream, hbone::HboneRequest request,
                                                   boost::asio::ip::tcp::endpoint peer,
                                                   std::string peer_identity);
  absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> serverContext(PerWorker& w);

  // Shared by the handlers (pod_proxy.cc).
  // Logs why, counts it and resets the connection.
  void refuse(Socket& downstream, Direction direction, ConnectionResult result,
              const std::string& why);
  // Connects `upstream` (already created in the pod's netns) with the connect timeout.
  boost::asio::awaitable<boost::system::error_code> connect(
      Socket& upstream, const boost::asio::ip::tcp::endpoint& destination);
  // Connects a socket made in the pod's netns to `destination` and relays; refuses on failure.
  // Opens `report` once connected and closes it when the relay ends.
  boost::asio::awaitable<void> connectAndRelay(Socket& downstream,
                                               absl::StatusOr<UniqueFd> upstream_fd,
                                               boost::asio::ip::tcp::endpoint destination,
                                               Direction direction, std::string connection,
                                               ConnectionReport& report);
  boost::asio::awaitable<void> relay(Socket& downstream, Socket& upstream, Direction direction,
                                     const std::string& description, ConnectionReport& report);
  // Registers an inbound connection for revalidate(); the entry lives until the handle goes.
  std::shared_ptr<void> trackInbound(PerWorker& w, InboundConnection connection,
                                     std::function<void(const std::string&)> close);
  // The pod's workload in `snapshot` (by its addresses), or nullptr.
  Snapshot::WorkloadPtr podWorkload(const Snapshot& snapshot) const;

  const std::vector<Worker*> workers_;
  const std::shared_ptr<const Netns> netns_;
  const PodLabel pod_;
  const SnapshotStore& store_;
  AgentMetrics& metrics_;
  const CredentialSource& credentials_;
  const PodProxyOptions options_;
  const AgentPorts agent_ports_;
  std::vector<std::unique_ptr<PerWorker>> per_worker_;  // by Worker::index
  std::vector<std::unique_ptr<Acceptor>> acceptors_;    // on the first worker
  int inbound_v4_fd_ = -1;                              // set by start(), for captureTarget()
  int inbound_v6_fd_ = -1;
  size_t next_worker_ = 0;  // the accept hand-off's round robin
};

}  // namespace ambit::agent
