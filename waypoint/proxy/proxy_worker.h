// One data-path thread of the waypoint: its event loop, its own SO_REUSEPORT HBONE listener, its
// upstream HBONE pool, TLS contexts and round-robin state, so a request takes no lock. The kernel
// spreads incoming tunnels over the workers' listeners.
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange

#include <cstdint>
#include <list>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include <boost/asio.hpp>
#include <boost/asio/ssl/context.hpp>

#include "agent/identity/credential_source.h"
#include "agent/relay/outbound.h"
#include "agent/tunnel/hbone_connection.h"
#include "agent/tunnel/hbone_pool.h"
#include "waypoint/config/config_store.h"
#include "waypoint/proxy/endpoints.h"
#include "waypoint/proxy/outlier.h"
#include "waypoint/proxy/proxy_options.h"
#include "waypoint/telemetry/request_metrics.h"

namespace ambit::waypoint {

class ProxyWorker {
 public:
  ProxyWorker(size_t index, const ConfigStore& config, const agent::CredentialSource& credentials,
              RequestMetrics& metrics, ProxyOptions options);
  ~ProxyWorker();

  // Opens the listener; on error nothing is left open.
  absl::Status listen();
  void start();  // runs the event loop on a thread of its own
  // Closes the listener and drains tunnels; joins the thread. Thread-safe.
  void stop();

 private:
  boost::asio::awaitable<void> acceptLoop();
  boost::asio::awaitable<void> serveConnection(boost::asio::ip::tcp::socket socket);
  boost::asio::awaitable<void> serveStream(std::shared_ptr<agent::HboneConnection> connection,
                                           int32_t stream, hbone::HboneRequest request,
                                           std::string peer_identity);
  absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> serverContext();

  const size_t index_;
  const ConfigStore& config_;
  const agent::CredentialSource& credentials_;
  RequestMetrics& metrics_;
  const ProxyOptions options_;
  boost::asio::io_context io_{1};
  boost::asio::ip::tcp::acceptor acceptor_{io_};
  std::unique_ptr<agent::HbonePool> pool_;
  agent::EndpointPicker picker_;
  OutlierDetector outliers_;  // this worker's own evidence, as each Envoy worker's
  ActiveRequests active_;
  std::mt19937 random_;
  std::shared_ptr<boost::asio::ssl::context> server_context_;
  std::shared_ptr<const tls::WorkloadCredential> server_credential_;
  std::shared_ptr<const tls::TrustBundle> server_bundle_;
  std::list<std::weak_ptr<agent::HboneConnection>> connections_;
  std::thread thread_;
};

}  // namespace ambit::waypoint
