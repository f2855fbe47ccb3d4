// One attempt of a request to one endpoint: an HBONE tunnel to the endpoint's node agent (reused
// from the client connection's idle tunnels when one to that endpoint is open), the request
// written as HTTP/1.1, the response read back under a deadline.
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "agent/tunnel/hbone_pool.h"
#include "waypoint/http/http1_codec.h"
#include "waypoint/proxy/endpoints.h"

namespace ambit::waypoint {

struct AttemptResult {
  enum class Outcome {
    kResponse,        // `response` holds what the endpoint answered
    kConnectFailure,  // no tunnel (connect, TLS or the node agent's refusal)
    kReset,           // the tunnel ended before a whole response
    kTimeout,         // the deadline passed first
    kBadResponse,     // the endpoint's bytes are not an HTTP response
  };
  Outcome outcome = Outcome::kConnectFailure;
  HttpResponse response;
  std::string detail;  // why, for the access log
};

// Idle upstream tunnels of one client connection, by endpoint, for HTTP keep-alive.
class UpstreamTunnels {
 public:
  ~UpstreamTunnels();
  std::optional<agent::Tunnel> take(const std::string& key);
  void keep(const std::string& key, agent::Tunnel tunnel);

 private:
  std::map<std::string, agent::Tunnel> idle_;
};

// Opens an HBONE tunnel to `endpoint` through its node agent (port 15008, its SPIFFE identity
// required of the certificate), with the channel attached for readSome/writeAll. `source` is the
// client's address, for the forwarded header.
boost::asio::awaitable<absl::StatusOr<agent::Tunnel>> openTunnel(agent::HbonePool& pool,
                                                                 const UpstreamEndpoint& endpoint,
                                                                 const std::string& source);

// Sends `encoded` (a request as encodeRequest wrote it, for method `method`) to `endpoint` and
// reads the response until `deadline`. `source` is the client's address, for the forwarded
// header; `trust_domain` the mesh default.
boost::asio::awaitable<AttemptResult> attemptRequest(
    agent::HbonePool& pool, UpstreamTunnels& tunnels, const UpstreamEndpoint& endpoint,
    const std::string& encoded, const std::string& method, const std::string& source,
    std::chrono::steady_clock::time_point deadline, const Http1Limits& limits);

// Sends a mirrored copy of a request (Envoy's shadowing) and drops the answer: run detached, it
// owns its arguments; the request it copies goes on without waiting for it.
boost::asio::awaitable<void> mirrorRequest(agent::HbonePool& pool, UpstreamEndpoint endpoint,
                                           std::string encoded, std::string method,
                                           std::string source, Http1Limits limits);

}  // namespace ambit::waypoint
