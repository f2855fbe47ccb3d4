#include "control/xds/push_tracker.h"

#include <algorithm>

namespace ambit::control::xds {

void LatencyStats::record(double ms) {
  ++count;
  last_ms = ms;
  max_ms = std::max(max_ms, ms);
  sum_ms += ms;
  size_t bucket = 0;
  while (bucket < kBucketBoundsMs.size() && ms > kBucketBoundsMs[bucket]) ++bucket;
  ++buckets[bucket];
}

void PushTracker::started(uint64_t generation, Clock::time_point published,
                          std::vector<uint64_t> clients) {
  if (clients.empty()) return;  // nobody to push to: nothing to measure
  std::lock_guard<std::mutex> lock(mu_);
  in_flight_.push_back({generation, published, {clients.begin(), clients.end()}, std::nullopt});
  if (in_flight_.size() > kMaxInFlight) in_flight_.pop_front();
}

void PushTracker::synced(uint64_t client, uint64_t generation, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  for (InFlight& push : in_flight_) {
    if (push.generation > generation) break;
    if (push.waiting.erase(client) > 0) push.last_write = now;
  }
  finishDone();
}

void PushTracker::gone(uint64_t client) {
  std::lock_guard<std::mutex> lock(mu_);
  for (InFlight& push : in_flight_) push.waiting.erase(client);
  finishDone();
}

void PushTracker::finishDone() {
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    if (!it->waiting.empty()) {
      ++it;
      continue;
    }
    // A push whose every client disconnected before being written is not a latency.
    if (it->last_write) {
      stats_.record(
          std::chrono::duration<double, std::milli>(*it->last_write - it->published).count());
    }
    it = in_flight_.erase(it);
  }
}

LatencyStats PushTracker::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace ambit::control::xds
