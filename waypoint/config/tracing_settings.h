// The waypoint's tracing, per served service: the MeshConfig the control plane sends (from the
// IstioOperator's meshConfig) and the Telemetry resources that apply, resolved by Istio's
// precedence (waypoint/tracing/sampling.h), with the span reporter of the chosen collector.
// Reporters live as long as the store that made them, so no request ever drops the last
// reference to one (its destructor flushes, which must not run on a worker).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "istio/mesh/v1alpha1/config.pb.h"
#include "istio/telemetry/v1alpha1/telemetry.pb.h"
#include "waypoint/config/security_config.h"
#include "waypoint/config/telemetry_scopes.h"
#include "waypoint/tracing/sampling.h"
#include "waypoint/tracing/span_reporter.h"

namespace ambit::waypoint {

// The collectors spans go to, one reporter each, made on first use and kept.
class SpanReporters {
 public:
  // Null (and a log line, once) when a reporter cannot be made for this address.
  tracing::SpanReporter* get(const std::string& address, const std::string& path);
  std::map<std::string, tracing::SpanReporterStats> stats() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<tracing::SpanReporter>> reporters_;  // by address + path
};

struct ServiceTracing {
  tracing::TracingConfig config;
  tracing::SpanReporter* reporter = nullptr;  // set when config.enabled
};

class TracingSettings {
 public:
  // Resolves tracing for each of `services` from `mesh` (nullopt: no IstioOperator, Istio's
  // defaults) and `telemetries`: the root namespace's namespace-wide Telemetry, the waypoint
  // namespace's, and one bound by targetRefs to the service or the waypoint.
  static std::shared_ptr<const TracingSettings> build(
      const std::optional<istio::mesh::v1alpha1::MeshConfig>& mesh,
      const std::vector<TelemetryEntry>& telemetries, const std::vector<SecurityTarget>& services,
      const std::string& waypoint_namespace, SpanReporters& reporters);

  // Null when tracing is off for this service (or it is not served).
  const ServiceTracing* forHost(std::string_view hostname) const;

 private:
  std::map<std::string, ServiceTracing, std::less<>> by_host_;
};

}  // namespace ambit::waypoint
