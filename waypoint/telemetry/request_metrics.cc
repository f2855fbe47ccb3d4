#include "waypoint/telemetry/request_metrics.h"

#include <atomic>
#include <map>
#include <memory>
#include <tuple>
#include <utility>

namespace ambit::waypoint {
namespace {

// Istio's default buckets: milliseconds for durations, bytes for sizes.
const std::vector<double> kDurationBuckets = {0.5,   1,      5,      10,      25,     50,    100,
                                              250,   500,    1000,   2500,    5000,   10000, 30000,
                                              60000, 300000, 600000, 1800000, 3600000};
const std::vector<double> kSizeBuckets = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000};

constexpr const char* kRequestsName = "istio_requests_total";
constexpr const char* kRequestsHelp = "Requests the waypoint served.";
constexpr const char* kDurationName = "istio_request_duration_milliseconds";
constexpr const char* kDurationHelp = "Request durations, in milliseconds.";
constexpr const char* kRequestBytesName = "istio_request_bytes";
constexpr const char* kRequestBytesHelp = "Request sizes, in bytes.";
constexpr const char* kResponseBytesName = "istio_response_bytes";
constexpr const char* kResponseBytesHelp = "Response sizes, in bytes.";

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
  s.requests = &registry_.counter(kRequestsName, kRequestsHelp, key);
  s.duration = &registry_.histogram(kDurationName, kDurationHelp, kDurationBuckets, key);
  s.request_bytes = &registry_.histogram(kRequestBytesName, kRequestBytesHelp, kSizeBuckets, key);
  s.response_bytes =
      &registry_.histogram(kResponseBytesName, kResponseBytesHelp, kSizeBuckets, key);
  return cache.emplace(std::make_pair(id_, std::move(key)), s).first->second;
}

struct RequestMetrics::OneSeries {
  metrics::Counter* counter = nullptr;      // REQUEST_COUNT
  metrics::Histogram* histogram = nullptr;  // the others
};

RequestMetrics::OneSeries& RequestMetrics::seriesOf(RequestMetric metric, metrics::Labels labels) {
  // Keyed by the labels after the overrides, so two policies (or two values of an upserted
  // label) never share a series by mistake.
  thread_local std::map<std::tuple<uint64_t, RequestMetric, metrics::Labels>, OneSeries> cache;
  auto key = std::make_tuple(id_, metric, std::move(labels));
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  const metrics::Labels& l = std::get<2>(key);
  OneSeries s;
  switch (metric) {
    case RequestMetric::kRequestCount:
      s.counter = &registry_.counter(kRequestsName, kRequestsHelp, l);
      break;
    case RequestMetric::kRequestDuration:
      s.histogram = &registry_.histogram(kDurationName, kDurationHelp, kDurationBuckets, l);
      break;
    case RequestMetric::kRequestSize:
      s.histogram = &registry_.histogram(kRequestBytesName, kRequestBytesHelp, kSizeBuckets, l);
      break;
    case RequestMetric::kResponseSize:
      s.histogram = &registry_.histogram(kResponseBytesName, kResponseBytesHelp, kSizeBuckets, l);
      break;
  }
  return cache.emplace(std::move(key), s).first->second;
}

void RequestMetrics::recordWithPolicy(const RequestLabels& labels, double duration_ms,
                                      uint64_t request_bytes, uint64_t response_bytes,
                                      const TelemetryPolicy& policy, const RequestFacts* facts) {
  const metrics::Labels base = labelsOf(labels);
  const RequestFacts none;
  const RequestFacts& f = facts != nullptr ? *facts : none;
  const double observed[kRequestMetricCount] = {0, duration_ms, static_cast<double>(request_bytes),
                                                static_cast<double>(response_bytes)};
  for (size_t i = 0; i < kRequestMetricCount; ++i) {
    const MetricPolicy& m = policy.metrics[i];
    if (m.disabled) continue;
    metrics::Labels l = base;
    for (const TagOverride& o : m.overrides) {
      if (o.remove) {
        l.erase(o.label);
      } else {
        l[o.label] = evaluateTagValue(o.value, f);
      }
    }
    OneSeries& s = seriesOf(static_cast<RequestMetric>(i), std::move(l));
    if (s.counter != nullptr) s.counter->inc();
    if (s.histogram != nullptr) s.histogram->observe(observed[i]);
  }
}

void RequestMetrics::record(const RequestLabels& labels, double duration_ms, uint64_t request_bytes,
                            uint64_t response_bytes, const TelemetryPolicy* policy,
                            const RequestFacts* facts) {
  if (policy != nullptr && !policy->defaultMetrics()) {
    recordWithPolicy(labels, duration_ms, request_bytes, response_bytes, *policy, facts);
    return;
  }
  Series& s = series(labels);
  s.requests->inc();
  s.duration->observe(duration_ms);
  s.request_bytes->observe(static_cast<double>(request_bytes));
  s.response_bytes->observe(static_cast<double>(response_bytes));
}

}  // namespace ambit::waypoint
