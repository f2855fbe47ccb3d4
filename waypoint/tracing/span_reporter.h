// Sends finished spans to a Zipkin collector: POST http://<address><path> with a Zipkin v2 JSON
// array, in batches. The reporter runs on a thread of its own (with its own io_context), so
// report() never waits for the network and the proxy's workers need not share an event loop
// with it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "waypoint/tracing/zipkin.h"

namespace ambit::waypoint::tracing {

struct SpanReporterOptions {
  std::string address;  // "host:port" or "[ipv6]:port"; resolved again at every flush
  std::string path = kZipkinSpansPath;
  // A flush happens this often, and sooner when `batch_size` spans are queued (but never sooner
  // than this after a failed flush, so a collector that is down is not hammered).
  std::chrono::milliseconds flush_interval{1000};
  size_t batch_size = 100;    // spans per POST at most, and the queue length that starts a flush
  size_t max_queued = 10000;  // spans held at most; report() drops and counts the others
  // Each connection attempt, request write and response read must finish within this.
  std::chrono::milliseconds timeout{5000};
};

// Counts since the reporter started, for the caller to export as metrics.
struct SpanReporterStats {
  uint64_t sent = 0;     // spans in POSTs the collector answered with 2xx
  uint64_t dropped = 0;  // spans report() refused because the queue was full
  uint64_t failed = 0;   // spans lost to a failed flush (resolution, connection, timeout, non-2xx)
  uint64_t errors = 0;   // failed flushes
};

// Queues spans and sends them from its own thread. A flush takes every span queued at that
// moment and POSTs them in batches over one connection (kept alive while the collector allows);
// the first error ends the flush and the spans it held are counted as failed, never retried.
// Errors are logged at most once a minute (logger "tracing").
class SpanReporter {
 public:
  // InvalidArgument when the address has no host or port, or an option is zero.
  static absl::StatusOr<std::unique_ptr<SpanReporter>> create(SpanReporterOptions options);
  // Stops the thread after one last flush of what is queued, which takes at most about
  // `timeout` (plus the name resolution, which the system resolver bounds).
  ~SpanReporter();
  SpanReporter(const SpanReporter&) = delete;
  SpanReporter& operator=(const SpanReporter&) = delete;

  // Queues a finished span; thread-safe, never blocks on I/O.
  void report(Span span);
  SpanReporterStats stats() const;
  // Spans waiting for a flush.
  size_t queued() const;

 private:
  struct Impl;
  explicit SpanReporter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ambit::waypoint::tracing
