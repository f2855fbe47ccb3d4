// Push latency of the Delta ADS server: from the first publish() folded into a push to the moment
// the last client connected at the time has been written its response.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

#include "control/xds/sync_status.h"

namespace ambit::control::xds {

class PushTracker {
 public:
  using Clock = std::chrono::steady_clock;

  // Pushes waiting for slow clients are bounded; beyond this the oldest is forgotten unmeasured.
  static constexpr size_t kMaxInFlight = 64;

  // A snapshot of `generation`, first published at `published`, became current; `clients` are
  // the streams that must receive it.
  void started(uint64_t generation, Clock::time_point published, std::vector<uint64_t> clients);
  // `client` has written everything for `generation` (and so for every older one).
  void synced(uint64_t client, uint64_t generation, Clock::time_point now);
  // `client` disconnected; it no longer holds up any push.
  void gone(uint64_t client);

  LatencyStats stats() const;

 private:
  struct InFlight {
    uint64_t generation = 0;
    Clock::time_point published;
    std::set<uint64_t> waiting;
    std::optional<Clock::time_point> last_write;
  };
  void finishDone();  // records and drops every push no client is waiting for; needs mu_

  mutable std::mutex mu_;
  std::deque<InFlight> in_flight_;
  LatencyStats stats_;
};

}  // namespace ambit::control::xds
