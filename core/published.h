// A value that one writer replaces now and then and many threads read on every connection: readers
// get a shared_ptr to an immutable T without taking a lock while it is unchanged since their last
// read (one atomic load and a compare), so snapshots are swapped atomically under live traffic.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>

namespace ambit {

template <typename T>
class Published {
 public:
  explicit Published(std::shared_ptr<const T> initial)
      : value_(std::move(initial)), generation_(nextGeneration()) {}

  std::shared_ptr<const T> get() const {
    thread_local Cache cache;
    const uint64_t generation = generation_.load(std::memory_order_acquire);
    if (cache.owner == this && cache.generation == generation) return cache.value;
    std::shared_ptr<const T> value;
    {
      std::lock_guard lock(mu_);
      value = value_;
    }
    // `value` may be newer than `generation`; the next call then fetches it once more.
    cache = Cache{this, generation, value};
    return value;
  }

  void publish(std::shared_ptr<const T> value) {
    {
      std::lock_guard lock(mu_);
      value_ = std::move(value);
    }
    generation_.store(nextGeneration(), std::memory_order_release);
  }

 private:
  // What one thread last read, from which instance, at which generation. It keeps that value alive
  // until the thread reads again.
  struct Cache {
    const Published* owner = nullptr;
    uint64_t generation = 0;
    std::shared_ptr<const T> value;
  };

  // Generations are unique in the process, so a thread's copy can never be taken for another
  // instance's that happens to live at the same address.
  static uint64_t nextGeneration() {
    static std::atomic<uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
  }

  mutable std::mutex mu_;
  std::shared_ptr<const T> value_;
  std::atomic<uint64_t> generation_;
};

}  // namespace ambit
