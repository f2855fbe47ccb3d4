// The listeners of one enrolled pod, opened inside the pod's network namespace while the agent
// stays in its own: outbound 127.0.0.1:15001 (captured connections of the pod's apps), inbound
// plaintext 0.0.0.0:15006 (captured connections to the pod from outside the mesh) and HBONE
// 0.0.0.0:15008, each with an IPv6 twin when the pod has IPv6. Closing the listeners leaves
// connections in flight to finish on their own.
#pragma once

#include <utility>  // before asio: Boost 1.74 needs it

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio.hpp>

#include "agent/admin/agent_metrics.h"
#include "agent/netns/netns.h"
#include "agent/relay/outbound.h"
#include "agent/relay/relay.h"
#include "agent/state/snapshot_store.h"

namespace ambit::agent {

struct PodProxyOptions {
  uint16_t outbound_port = 15001;
  uint16_t inbound_plaintext_port = 15006;
  uint16_t hbone_port = 15008;
  uint32_t mark = 0x539;
  std::chrono::milliseconds connect_timeout{10000};
  RelayOptions relay;
};

// Names a pod in logs: "namespace/name".
struct PodLabel {
  std::string uid;
  std::string name;  // namespace/name
};

class PodProxy : public std::enable_shared_from_this<PodProxy> {
 public:
  PodProxy(boost::asio::io_context& io, std::shared_ptr<const Netns> netns, PodLabel pod,
           const SnapshotStore& store, EndpointPicker& picker, AgentMetrics& metrics,
           PodProxyOptions options);

  // Opens every listener inside the pod's netns; on error none stays open. Call before the
  // listeners are used, from any thread.
  absl::Status start();
  // Closes the listeners on the io_context's thread; thread-safe.
  void stop();

 private:
  using Acceptor = boost::asio::ip::tcp::acceptor;
  using Socket = boost::asio::ip::tcp::socket;

  absl::StatusOr<Acceptor> listen(const boost::asio::ip::tcp::endpoint& endpoint);
  // Each coroutine takes the proxy's owner as a parameter, so the proxy lives as long as any of
  // them, even one that has not started yet.
  boost::asio::awaitable<void> acceptLoop(std::shared_ptr<PodProxy> self, Acceptor& acceptor,
                                          Direction role);
  boost::asio::awaitable<void> handleOutbound(std::shared_ptr<PodProxy> self, Socket downstream);
  boost::asio::awaitable<void> handleInbound(std::shared_ptr<PodProxy> self, Socket downstream);
  void refuseHbone(Socket downstream);
  // Logs why, counts it and resets the connection.
  void refuse(Socket& downstream, Direction direction, ConnectionResult result,
              const std::string& why);
  // Connects a socket made in the pod's netns to `destination` and relays; refuses on failure.
  boost::asio::awaitable<void> connectAndRelay(Socket downstream,
                                               absl::StatusOr<UniqueFd> upstream_fd,
                                               boost::asio::ip::tcp::endpoint destination,
                                               Direction direction, std::string connection);
  // Connects `upstream` (already created in the pod's netns) with the connect timeout.
  boost::asio::awaitable<boost::system::error_code> connect(
      Socket& upstream, const boost::asio::ip::tcp::endpoint& destination);
  boost::asio::awaitable<void> relay(Socket& downstream, Socket& upstream, Direction direction,
                                     const std::string& description);

  boost::asio::io_context& io_;
  const std::shared_ptr<const Netns> netns_;
  const PodLabel pod_;
  const SnapshotStore& store_;
  EndpointPicker& picker_;
  AgentMetrics& metrics_;
  const PodProxyOptions options_;
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
};

}  // namespace ambit::agent
