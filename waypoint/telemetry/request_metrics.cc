#include "waypoint/telemetry/request_metrics.h"

#include <atomic>
#include <map>
#include <memory>

namespace ambit::waypoint {
namespace {

// Istio's default buckets: milliseconds for durations, bytes for sizes.
const std::vector<double> kDurationBuckets = {0.5,   1,      5,      10,      25,     50,    100,
                                              250,   500,    1000,   2500,    5000,   10000, 30000,
                                              60000, 300000, 600000, 1800000, 3600000};
const std::vector<double> kSizeBuckets = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000};

metrics::Labels labelsOf(const RequestLabels& l) {
  return {{"reporter", "waypoint"},
          {"source_workload", l.source_workload},
          {"source_workload_namespace", l.source_workload_namespace},
          {"source_principal", l.source_principal},
          {"source_app", l.source_app},
          {"source_version", l.source_version},
          {"source_cluster", "Kubernetes"},
          {"destination_workload", l.destination_workload},
          {"destination_workload_namespace", l.destination_workload_namespace},
          {"destination_principal", l.destination_principal},
          {"destination_app", l.destination_app},
          {"destination_version", l.destination_version},
          {"destination_service", l.destination_service},
          {"destination_service_name", l.destination_service_name},
          {"destination_service_namespace", l.destination_service_namespace},
          {"destination_cluster", "Kubernetes"},
          {"request_protocol", l.request_protocol},
          {"response_code", std::to_string(l.response_code)},
          {"grpc_response_status", ""},
          {"response_flags", l.response_flags},
          {"connection_security_policy", l.connection_security_policy}};
}

}  // namespace

struct RequestMetrics::Series {
  metrics::Counter* requests;
  metrics::Histogram* duration;
  metrics::Histogram* request_bytes;
  metrics::Histogram* response_bytes;
};

RequestMetrics::RequestMetrics(metrics::Registry& registry)
    : registry_(registry), security_(registry), id_([] {
        static std::atomic<uint64_t> next{1};
        return next.fetch_add(1, std::memory_order_relaxed);
      }()) {}

RequestMetrics::Series& RequestMetrics::series(const RequestLabels& labels) {
  metrics::Labels key = labelsOf(labels);
  // Per thread and per instance: the first request of a label set takes the registry's lock.
  thread_local std::map<std::pair<uint64_t, metrics::Labels>, Series> cache;
  auto it = cache.find({id_, key});
  if (it != cache.end()) return it->second;
  Series s;
  s.requests = &registry_.counter("istio_requests_total", "Requests the waypoint served.", key);
  s.duration = &registry_.histogram("istio_request_duration_milliseconds",
                                    "Request durations, in milliseconds.", kDurationBuckets, key);
  s.request_bytes =
      &registry_.histogram("istio_request_bytes", "Request sizes, in bytes.", kSizeBuckets, key);
  s.response_bytes =
      &registry_.histogram("istio_response_bytes", "Response sizes, in bytes.", kSizeBuckets, key);
  return cache.emplace(std::make_pair(id_, std::move(key)), s).first->second;
}

void RequestMetrics::record(const RequestLabels& labels, double duration_ms, uint64_t request_bytes,
                            uint64_t response_bytes) {
  Series& s = series(labels);
  s.requests->inc();
  s.duration->observe(duration_ms);
  s.request_bytes->observe(static_cast<double>(request_bytes));
  s.response_bytes->observe(static_cast<double>(response_bytes));
}

}  // namespace ambit::waypoint
