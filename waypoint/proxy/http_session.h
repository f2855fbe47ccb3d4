// The HTTP/1.1 requests of one tunnel to the waypoint: each is decoded, routed by decideRoute
// against the snapshot current when it arrives (kept to its end), sent to the chosen endpoint with
// the route's faults, timeout and retries, and answered; then the next, while the client keeps the
// connection alive.
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange

#include <memory>
#include <random>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "agent/relay/outbound.h"
#include "agent/tunnel/hbone_connection.h"
#include "agent/tunnel/hbone_pool.h"
#include "waypoint/config/config_store.h"
#include "waypoint/proxy/endpoints.h"
#include "waypoint/proxy/outlier.h"
#include "waypoint/proxy/proxy_options.h"
#include "waypoint/telemetry/request_metrics.h"

namespace ambit::waypoint {

// What a worker lends to the sessions it runs; used from the worker's thread only.
struct HttpSessionContext {
  agent::HbonePool& pool;
  agent::EndpointPicker& picker;
  std::mt19937& random;
  RequestMetrics& metrics;
  const ProxyOptions& options;
  OutlierDetector& outliers;
  ActiveRequests& active;  // requests in flight per endpoint, for LEAST_REQUEST
};

// Who is calling: the HBONE peer's identity and the address the tunnel speaks for.
struct Caller {
  std::string identity;  // SPIFFE ID
  std::string address;   // from the tunnel's forwarded header; empty when absent
};

boost::asio::awaitable<void> serveHttp(HttpSessionContext context,
                                       std::shared_ptr<agent::HboneConnection> downstream,
                                       int32_t stream, ServedDestination destination, Caller caller,
                                       const ConfigStore& config);

}  // namespace ambit::waypoint
