// Istio's Telemetry API as a waypoint applies it to its request metrics and its access log: which
// of the four request metrics are reported, how their labels are changed (tagOverrides), and
// whether requests are logged, resolved from the Telemetry resources that apply with Istio's
// precedence. Pure functions over already selected config; the result is immutable and shared by
// every request to a service.
#pragma once

#include <absl/status/statusor.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "istio/telemetry/v1alpha1/telemetry.pb.h"
#include "waypoint/http/http_message.h"

namespace ambit::waypoint {

// The request metrics a waypoint reports, in the order TelemetryPolicy::metrics keeps them.
enum class RequestMetric : uint8_t {
  kRequestCount,     // REQUEST_COUNT: istio_requests_total
  kRequestDuration,  // REQUEST_DURATION: istio_request_duration_milliseconds
  kRequestSize,      // REQUEST_SIZE: istio_request_bytes
  kResponseSize,     // RESPONSE_SIZE: istio_response_bytes
};
inline constexpr size_t kRequestMetricCount = 4;

// What a tag override's value may read of one request. Views into the request, valid for the
// call that takes them.
struct RequestFacts {
  std::string_view host;  // the authority (Host header)
  std::string_view method;
  std::string_view path;  // the request target, with its query
  std::string_view scheme = "http";
  std::string_view protocol;             // "HTTP/1.1", "HTTP/2"
  const HttpHeaders* headers = nullptr;  // null: no header is known
  std::string_view source_principal;     // the caller's SPIFFE ID; empty when unknown
  uint16_t destination_port = 0;         // the service port the client called
  int response_code = 0;
};

// The value an UPSERT gives a label: one of the CEL expressions Ambit evaluates (Istio takes any
// CEL expression over Envoy's attributes; see parseTagValue).
struct TagValue {
  enum class Source : uint8_t {
    kLiteral,          // 'text' or "text"
    kRequestHost,      // request.host
    kRequestMethod,    // request.method
    kRequestUrlPath,   // request.url_path: the path without the query
    kRequestPath,      // request.path: the path with the query
    kRequestScheme,    // request.scheme
    kRequestProtocol,  // request.protocol
    kRequestHeader,    // request.headers['name']
    kSourcePrincipal,  // source.principal
    kDestinationPort,  // destination.port, or string(destination.port)
    kResponseCode,     // response.code, or string(response.code)
  };
  Source source = Source::kLiteral;
  std::string text;  // the literal, or the header's name in lower case

  friend bool operator==(const TagValue&, const TagValue&) = default;
};

// Reads `expression` as one of the supported forms (surrounding spaces allowed); an error says
// why it is not one.
absl::StatusOr<TagValue> parseTagValue(std::string_view expression);

// The label value `value` gives this request. An attribute the request lacks (a missing header,
// an unknown principal) gives "unknown", the value Istio's labels use for what is not known.
std::string evaluateTagValue(const TagValue& value, const RequestFacts& facts);

struct TagOverride {
  std::string label;
  bool remove = false;  // REMOVE: the label is left out; otherwise UPSERT with `value`
  TagValue value;

  friend bool operator==(const TagOverride&, const TagOverride&) = default;
};

// How one metric is reported.
struct MetricPolicy {
  bool disabled = false;
  // At most one per label, sorted by label: the override that won by precedence.
  std::vector<TagOverride> overrides;
};

struct TelemetryPolicy {
  // The waypoint logs every request unless a Telemetry turns its access log off.
  bool access_log = true;
  std::array<MetricPolicy, kRequestMetricCount> metrics;
  // What was ignored or approximated, for the log.
  std::vector<std::string> notes;

  const MetricPolicy& metric(RequestMetric m) const { return metrics[static_cast<size_t>(m)]; }
  // True when the metrics are reported as without any Telemetry: none disabled, no override.
  bool defaultMetrics() const;
};

// How notes name the three Telemetry resources resolveTelemetry takes.
struct TelemetryNames {
  std::string root = "the root namespace's Telemetry";
  std::string namespace_wide = "the namespace's Telemetry";
  std::string workload = "the Telemetry bound to the service";
};

// Resolves the policy of a waypoint from the Telemetry resources that apply to it: the root
// namespace's namespace-wide one, its namespace's namespace-wide one and the one bound to the
// service by targetRefs; each may be null. Choosing them is the caller's part.
//
// Istio's rules for a server-side proxy (entries and overrides with `match.mode: CLIENT` are
// skipped; SERVER and CLIENT_AND_SERVER apply):
// - Metrics: entries for the `prometheus` provider (or naming no provider: Istio's default) apply;
//   other providers are noted and ignored. Their overrides are applied in order, root first, then
//   namespace, then workload, so a later one wins for the metric and the tag it names: `disabled`
//   when set, and each tagOverride (REMOVE, or UPSERT with a value parseTagValue supports). An
//   UPSERT without a value (Istio requires one) or with an unsupported expression changes nothing
//   and is noted. ALL_METRICS (or no match) selects the four request metrics; TCP and gRPC
//   metrics and custom metrics are noted as not reported by the waypoint.
// - Access log: on by default. Entries naming the `envoy` provider, or none, apply in the same
//   order: `disabled: true` turns the log off, any other such entry turns it on. Other providers
//   are noted and change nothing; a `filter` is noted, and every request is still logged.
TelemetryPolicy resolveTelemetry(const istio::telemetry::v1alpha1::Telemetry* root,
                                 const istio::telemetry::v1alpha1::Telemetry* namespace_wide,
                                 const istio::telemetry::v1alpha1::Telemetry* workload,
                                 const TelemetryNames& names = {});

}  // namespace ambit::waypoint
