// Prometheus metrics: counters, gauges and histograms with fixed label sets, rendered in the text
// exposition format. Updates are lock-free; only creating a series takes a lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace ambit::metrics {

using Labels = std::map<std::string, std::string>;

// Labels as the exposition format writes them: `{k="v",...}` in key order with values escaped, or
// nothing when there are none.
std::string labelText(const Labels& labels);

class Counter {
 public:
  void inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void add(int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// Cumulative buckets with fixed upper bounds, as Prometheus expects.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  struct Data {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // per bound, then +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  Data data() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // per bound, then +Inf (not cumulative)
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};  // sum in millionths, kept integral for atomics
};

class Registry {
 public:
  // Returns the series with this name and labels, creating it on first use. The help text and
  // type of a name are fixed by its first use.
  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& histogram(const std::string& name, const std::string& help,
                       const std::vector<double>& bounds, const Labels& labels = {});

  // A family whose series live outside the registry, for series created on the data path with
  // storage of their own. `write` appends the family's sample lines (use labelText for the
  // labels); it runs under the registry's lock at each render, so it must not call back into
  // the registry. The help text and type are fixed by the first use of the name.
  void collect(const std::string& name, const std::string& help, const char* type,
               std::function<void(std::string& out)> write);

  // The text exposition format (version 0.0.4), families sorted by name.
  std::string render() const;

 private:
  struct Family {
    std::string help;
    std::string type;
    std::map<Labels, std::unique_ptr<Counter>> counters;
    std::map<Labels, std::unique_ptr<Gauge>> gauges;
    std::map<Labels, std::unique_ptr<Histogram>> histograms;
    std::function<void(std::string& out)> collector;
  };
  Family& family(const std::string& name, const std::string& help, const char* type);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

}  // namespace ambit::metrics
