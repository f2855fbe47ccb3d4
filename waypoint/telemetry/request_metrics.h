// Istio's request metrics as a waypoint reports them (reporter="waypoint"): istio_requests_total,
// istio_request_duration_milliseconds, istio_request_bytes and istio_response_bytes, with Istio's
// labels, as a Telemetry policy (telemetry_policy.h) shapes them: metrics it disables are not
// recorded, and its tag overrides change the labels. A label set's series are created once (under
// the registry's lock) and then cached per thread, so recording a request takes no lock.
#pragma once

#include <cstdint>
#include <string>

#include "core/metrics/registry.h"
#include "waypoint/telemetry/security_metrics.h"
#include "waypoint/telemetry/telemetry_policy.h"

namespace ambit::waypoint {

// The labels of one request, as Istio names them.
struct RequestLabels {
  std::string source_workload = "unknown";
  std::string source_workload_namespace = "unknown";
  std::string source_principal = "unknown";
  std::string source_app = "unknown";
  std::string source_version = "unknown";
  std::string destination_workload = "unknown";
  std::string destination_workload_namespace = "unknown";
  std::string destination_principal = "unknown";
  std::string destination_app = "unknown";
  std::string destination_version = "unknown";
  std::string destination_service = "unknown";
  std::string destination_service_name = "unknown";
  std::string destination_service_namespace = "unknown";
  std::string request_protocol = "http";
  int response_code = 0;
  std::string response_flags = "-";
  std::string connection_security_policy = "mutual_tls";
};

class RequestMetrics {
 public:
  explicit RequestMetrics(metrics::Registry& registry);

  // Records one request. `policy` null (or one that changes no metric) reports Istio's four
  // metrics with Istio's labels; `facts` gives the values of its UPSERT overrides (null: every
  // attribute is "unknown", literals aside).
  void record(const RequestLabels& labels, double duration_ms, uint64_t request_bytes,
              uint64_t response_bytes, const TelemetryPolicy* policy = nullptr,
              const RequestFacts* facts = nullptr);

  metrics::Registry& registry() { return registry_; }
  SecurityMetrics& security() { return security_; }

 private:
  struct Series;
  Series& series(const RequestLabels& labels);
  // One metric's series under labels a policy changed.
  struct OneSeries;
  OneSeries& seriesOf(RequestMetric metric, metrics::Labels labels);
  void recordWithPolicy(const RequestLabels& labels, double duration_ms, uint64_t request_bytes,
                        uint64_t response_bytes, const TelemetryPolicy& policy,
                        const RequestFacts* facts);

  metrics::Registry& registry_;
  SecurityMetrics security_;
  const uint64_t id_;  // unique in the process: keys the per-thread caches
};

}  // namespace ambit::waypoint
