// The Delta ADS server of ambit-control: serves the current Snapshot to node agents
// (ztunnel-compatible) and waypoints over Envoy's incremental aggregated discovery protocol.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include "control/auth/caller.h"
#include "control/xds/client_state.h"
#include "control/xds/push_tracker.h"
#include "control/xds/resources.h"
#include "control/xds/sync_status.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"

namespace ambit::control::xds {

// Whether `caller` (null when authentication is off) may see `resource`; lets the control plane
// show a waypoint only its own configuration.
using ResourceFilter = std::function<bool(const auth::Caller* caller, const std::string& type_url,
                                          const Resource& resource)>;

struct DeltaAdsOptions {
  // Publishes within this window of the first one are pushed together, once.
  std::chrono::milliseconds debounce{100};
  // A client whose write has been blocked this long (it does not read) is disconnected.
  std::chrono::milliseconds write_timeout{30000};
  // Type URLs served even while the snapshot has no resource of them; a request for a type in
  // neither this list nor the snapshot is answered empty, logged and counted.
  std::vector<std::string> type_urls = {kAddressType, kAuthorizationType};
  ClientLimits limits;
  ResourceFilter filter;  // empty: every resource visible to everyone
};

class DeltaAdsServer final : public discovery::AggregatedDiscoveryService::Service {
 public:
  using ResponseStream =
      grpc::ServerReaderWriter<discovery::DeltaDiscoveryResponse, discovery::DeltaDiscoveryRequest>;

  // `authenticator` may be null (no authentication, for tests); it must outlive the server.
  explicit DeltaAdsServer(const auth::Authenticator* authenticator, DeltaAdsOptions options = {});
  ~DeltaAdsServer() override;
  DeltaAdsServer(const DeltaAdsServer&) = delete;
  DeltaAdsServer& operator=(const DeltaAdsServer&) = delete;

  // Makes `snapshot` the configuration to serve. The first snapshot ever is pushed at once; later
  // ones after the debounce window, several within it coalescing into one push.
  void publish(SnapshotPtr snapshot);

  // Ends every stream (CANCELLED) and refuses new ones (UNAVAILABLE). Call before shutting the
  // grpc::Server down, whose Shutdown() otherwise waits for streams that never end.
  void stop();

  std::vector<ClientSyncStatus> syncStatus() const;
  AdsCounters counters() const;

  grpc::Status DeltaAggregatedResources(grpc::ServerContext* context,
                                        ResponseStream* stream) override;

 private:
  struct Stream;
  using SteadyClock = std::chrono::steady_clock;

  absl::StatusOr<std::optional<auth::Caller>> authenticate(const grpc::ServerContext& context);
  grpc::Status readLoop(Stream& stream, ResponseStream& io);
  void writeLoop(Stream& stream, ResponseStream& io);
  std::pair<SnapshotPtr, uint64_t> current() const;
  bool knownType(const std::string& type_url) const;
  void timerLoop();
  void activate(SnapshotPtr snapshot, SteadyClock::time_point published);  // needs publish_mu_
  void cancelBlockedWrites();
  std::string nextNonce();

  const auth::Authenticator* const authenticator_;
  const DeltaAdsOptions options_;
  const std::shared_ptr<spdlog::logger> log_;

  mutable std::mutex snapshot_mu_;  // a leaf: never held while taking another lock
  SnapshotPtr current_;
  uint64_t generation_ = 0;

  std::mutex publish_mu_;  // debounce state and the timer thread; taken before streams_mu_
  std::condition_variable timer_cv_;
  SnapshotPtr pending_;
  SteadyClock::time_point pending_since_;
  SteadyClock::time_point pending_deadline_;
  bool ever_published_ = false;
  bool stopping_ = false;
  std::thread timer_;

  mutable std::mutex streams_mu_;  // taken before a Stream's own mutex
  std::map<uint64_t, Stream*> streams_;
  bool stopped_ = false;

  PushTracker tracker_;
  std::atomic<uint64_t> next_stream_id_{1};
  std::atomic<uint64_t> next_nonce_{1};
  std::atomic<uint64_t> streams_total_{0};
  std::atomic<uint64_t> pushes_{0};
  std::atomic<uint64_t> responses_{0};
  std::atomic<uint64_t> nacks_{0};
  std::atomic<uint64_t> unknown_types_{0};
  std::atomic<uint64_t> invalid_requests_{0};
  std::atomic<uint64_t> auth_failures_{0};
  std::atomic<uint64_t> write_timeouts_{0};
};

}  // namespace ambit::control::xds
