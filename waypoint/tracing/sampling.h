// Whether a request is traced, and the tracing config of a waypoint: Istio's precedence of
// Telemetry `tracing` (workload over namespace over root namespace) over the MeshConfig defaults
// (enableTracing, defaultConfig.tracing). Pure functions over already selected config.
#pragma once

#include <cstdint>
#include <string>

#include "istio/mesh/v1alpha1/config.pb.h"
#include "istio/telemetry/v1alpha1/telemetry.pb.h"
#include "waypoint/tracing/trace_context.h"
#include "waypoint/tracing/zipkin.h"

namespace ambit::waypoint::tracing {

// The sampling decision for one request, as Envoy makes it. A decision the request carries
// (sampled or not, or B3's debug flag) is honoured, so every hop of a trace agrees; otherwise the
// request is sampled with `percent` (0 to 100, clamped) at Envoy's resolution of one in a
// million: a hit when `random % 1,000,000 < percent * 10,000`. `random` is uniform over
// uint32_t; a hash of x-request-id gives every proxy of the request the same decision, as
// Envoy's request-id based sampling does.
bool sampleRequest(const TraceContext* incoming, double percent, uint32_t random);

// The default sampling percentage Istio gives proxies (PILOT_TRACE_SAMPLING's default).
inline constexpr double kIstioDefaultSamplingPercent = 1.0;
// Istio's default Zipkin address (ProxyConfig tracing.zipkin.address).
inline constexpr const char* kIstioDefaultZipkinAddress = "zipkin.istio-system:9411";

// What a waypoint does about tracing.
struct TracingConfig {
  // Whether the waypoint samples requests, records spans and reports them. When false it
  // leaves the trace headers of requests as they came, as Envoy does without a tracer.
  bool enabled = false;
  double percent = 0;          // random sampling percentage for requests without a decision
  std::string zipkin_address;  // "host:port" of the collector
  std::string zipkin_path = kZipkinSpansPath;
  bool trace_id_128bit = true;  // new traces get 128-bit ids (false: the provider's 64-bit option)
  // The MeshConfig extension provider in use; empty on the MeshConfig-only path.
  std::string provider;
  // Why tracing is off (for logs and debug output); empty when enabled.
  std::string reason;

  friend bool operator==(const TracingConfig&, const TracingConfig&) = default;
};

// Resolves a waypoint's tracing from the mesh config and the Telemetry resources that apply to
// it: the root namespace's namespace-wide one, its namespace's namespace-wide one and the one
// selecting the workload (by selector or targetRefs); each may be null. Choosing them is the
// caller's part.
//
// Istio's rules, for a waypoint (a server-side proxy, so `match.mode: CLIENT` entries are
// skipped): the `tracing` entries of root, namespace and workload, in that order, each override
// the provider (its first `providers` name), `disableSpanReporting` and
// `randomSamplingPercentage` when they set them, starting from meshConfig.defaultProviders.tracing.
// The provider is looked up by name in meshConfig.extensionProviders and must be a Zipkin one.
// Sampling falls back to defaultConfig.tracing.sampling, then to 1 percent (Istio's default;
// a value over 100 also means 1). When no Telemetry has a tracing entry and the mesh has no
// default tracing provider, the MeshConfig alone decides: meshConfig.enableTracing, the Zipkin
// address of defaultConfig.tracing (default zipkin.istio-system:9411) and its sampling. When
// Telemetry entries name no provider and the mesh has none by default, they still override the
// sampling of that mesh-config tracer (so a Telemetry can tune example 14's tracing).
TracingConfig resolveTracing(const istio::mesh::v1alpha1::MeshConfig& mesh,
                             const istio::telemetry::v1alpha1::Telemetry* root,
                             const istio::telemetry::v1alpha1::Telemetry* namespace_wide,
                             const istio::telemetry::v1alpha1::Telemetry* workload);

}  // namespace ambit::waypoint::tracing
