// The HBONE client side of one enrolled pod: opens tunnels (CONNECT streams) to destination
// workloads over pooled mutual-TLS connections made from the pod's network namespace, so the
// peer sees the pod's own address and identity. Connections are keyed by (destination identity,
// destination address); the source identity is the pod's. A connection takes streams up to the
// server's SETTINGS_MAX_CONCURRENT_STREAMS before another is opened, and is closed after
// `idle_timeout` without streams.
//
// Threads: one pool per pod, used from the pod's io_context thread only.
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "agent/admin/agent_metrics.h"
#include "agent/netns/netns.h"
#include "agent/tunnel/hbone_connection.h"
#include "core/hbone/hbone_client.h"
#include "core/status.h"
#include "core/tls/spiffe_id.h"
#include "core/tls/trust_bundle.h"
#include "core/tls/workload_credential.h"

namespace ambit::agent {

// What a tunnel's client side needs to present and trust: the pod's certificate and the mesh
// roots, as they are at the moment of the call (certificates rotate).
struct TunnelCredentials {
  std::shared_ptr<const tls::WorkloadCredential> credential;
  std::shared_ptr<const tls::TrustBundle> bundle;
};

struct HbonePoolOptions {
  uint32_t mark = 0x539;  // SO_MARK of the pool's sockets, so capture leaves them alone
  std::chrono::milliseconds connect_timeout{10000};  // TCP connect, TLS handshake and response
  std::chrono::milliseconds idle_timeout{60000};     // a connection without streams this long
  hbone::HboneOptions session;
  AgentMetrics* metrics = nullptr;  // handshakes, pooled connections and streams, when set
};

// Where a tunnel goes.
struct TunnelTarget {
  boost::asio::ip::tcp::endpoint hbone_endpoint;  // the destination's <ip>:15008
  tls::SpiffeId identity;                         // what its certificate must name
  std::string authority;                          // CONNECT's :authority, "<ip>:<port>"
  hbone::HboneHeaders headers;                    // forwarded, baggage, traceparent
};

// An open tunnel: a stream of a pooled connection whose response was 2xx.
struct Tunnel {
  std::shared_ptr<HboneConnection> connection;
  int32_t stream = 0;
};

struct HbonePoolStats {
  uint64_t connections_opened = 0;
  uint64_t handshakes_failed = 0;
  size_t connections_open = 0;
};

class HbonePool {
 public:
  HbonePool(boost::asio::io_context& io, std::shared_ptr<const Netns> netns,
            std::function<TunnelCredentials()> credentials, HbonePoolOptions options);
  ~HbonePool();

  // Opens a tunnel to `target`. Errors say which step failed: no certificate yet
  // (FAILED_PRECONDITION: the caller must refuse the connection, never fall back to plaintext);
  // connect or TLS handshake (UNAVAILABLE, with the peer refusal reason); a non-2xx response
  // (PERMISSION_DENIED for 401/403, UNAVAILABLE otherwise).
  boost::asio::awaitable<absl::StatusOr<Tunnel>> open(const TunnelTarget& target);

  // Drains every connection (GOAWAY) and forgets them; tunnels in flight finish.
  void shutdown();

  const HbonePoolStats& stats() const { return stats_; }

 private:
  struct Pooled;
  struct Waiter;
  using Key = std::pair<std::string, std::string>;  // identity, hbone endpoint

  boost::asio::awaitable<absl::StatusOr<std::shared_ptr<Pooled>>> connect(
      const TunnelTarget& target, const TunnelCredentials& credentials);
  std::shared_ptr<Pooled> usable(const Key& key);
  absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> contextFor(
      const TunnelCredentials& credentials);
  void forget(const Pooled* pooled);
  void armIdleTimer();

  boost::asio::io_context& io_;
  const std::shared_ptr<const Netns> netns_;
  const std::function<TunnelCredentials()> credentials_;
  const HbonePoolOptions options_;
  std::multimap<Key, std::shared_ptr<Pooled>> pooled_;
  // The client TLS context of the current credential; rebuilt when the certificate or roots change.
  std::shared_ptr<const tls::WorkloadCredential> context_credential_;
  std::shared_ptr<const tls::TrustBundle> context_bundle_;
  std::shared_ptr<boost::asio::ssl::context> context_;
  boost::asio::steady_timer idle_timer_;
  bool idle_timer_armed_ = false;
  HbonePoolStats stats_;
  // Replaced by shutdown(): callbacks of connections from before it see theirs expired.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ambit::agent
