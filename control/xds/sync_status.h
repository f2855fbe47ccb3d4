// What the Delta ADS server reports about itself for the debug endpoint and `ambitctl
// proxy-status`: each connected client's subscriptions and ACK state, and server-wide counters.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "control/auth/caller.h"

namespace ambit::control::xds {

using WallTime = std::chrono::system_clock::time_point;

// The last response a client rejected.
struct NackRecord {
  std::string nonce;
  int code = 0;         // error_detail.code as the client sent it
  std::string message;  // error_detail.message: the client's reason
  WallTime time;
};

// One type URL of one client stream.
struct TypeSyncStatus {
  std::string type_url;
  bool known_type = true;  // false: neither served nor in the snapshot (answered empty)
  bool wildcard = false;
  std::vector<std::string> names;  // explicit subscriptions, sorted
  size_t resources_held = 0;       // resources the client holds, as far as the server knows
  std::string sent_version;        // system_version_info of the last response
  std::string sent_nonce;
  WallTime sent_time;
  std::string acked_version;  // system_version_info of the last ACKed response
  std::string acked_nonce;
  std::string pending_nonce;  // newest response neither ACKed nor NACKed, if any
  std::optional<NackRecord> last_nack;
  uint64_t nacks = 0;
  uint64_t responses_sent = 0;
  uint64_t resources_sent = 0;
};

// One connected client stream.
struct ClientSyncStatus {
  uint64_t stream_id = 0;
  std::string node_id;  // Node.id from the client's requests
  std::optional<auth::Caller> caller;
  std::string peer;  // gRPC peer, "ipv4:127.0.0.1:51234"
  WallTime connected_since;
  std::vector<TypeSyncStatus> types;  // by type URL
};

// Time from a publish() to the moment the last connected client's response for it was written.
// It includes the debounce delay, because that is how stale a client's view can be.
struct LatencyStats {
  static constexpr std::array<double, 9> kBucketBoundsMs = {1,   5,   10,   50,  100,
                                                            250, 500, 1000, 5000};
  uint64_t count = 0;
  double last_ms = 0;
  double max_ms = 0;
  double sum_ms = 0;
  // buckets[i] counts pushes with latency <= kBucketBoundsMs[i] and above the bound before;
  // the last bucket counts the rest.
  std::array<uint64_t, kBucketBoundsMs.size() + 1> buckets{};

  void record(double ms);
};

struct AdsCounters {
  uint64_t connected_clients = 0;
  uint64_t streams_total = 0;  // streams accepted since start
  uint64_t pushes = 0;         // snapshots made current (after debouncing)
  uint64_t responses = 0;      // DeltaDiscoveryResponses written
  uint64_t nacks = 0;
  uint64_t unknown_type_requests = 0;
  uint64_t invalid_requests = 0;  // streams ended with INVALID_ARGUMENT
  uint64_t auth_failures = 0;
  uint64_t write_timeouts = 0;  // clients disconnected because a write stayed blocked
  LatencyStats push_latency;
};

}  // namespace ambit::control::xds
