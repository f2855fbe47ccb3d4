// Spans as the waypoint records them, and their Zipkin v2 JSON encoding (the body of
// POST /api/v2/spans, https://zipkin.io/zipkin-api/#/default/post_spans). Pure.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "waypoint/tracing/trace_context.h"

namespace ambit::waypoint::tracing {

// Where a Zipkin collector takes spans.
inline constexpr const char* kZipkinSpansPath = "/api/v2/spans";

enum class SpanKind { kServer, kClient };

// Zipkin's endpoint: who recorded a span (local) or who was on the other side (remote).
struct Endpoint {
  std::string service_name;  // e.g. "my-service-waypoint.demo"; omitted when empty
  std::string ipv4;          // dotted quad; omitted when empty
  std::string ipv6;          // omitted when empty
  uint16_t port = 0;         // omitted when zero

  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

struct Span {
  TraceId trace_id;
  uint64_t id = 0;
  std::optional<uint64_t> parent_id;
  // Istio names a waypoint's span after the route: "my-service.demo.svc.cluster.local:80/*".
  std::string name;
  SpanKind kind = SpanKind::kServer;
  int64_t timestamp_us = 0;  // start, microseconds since the epoch
  int64_t duration_us = 0;   // omitted when zero, as Zipkin itself drops a zero duration
  bool debug = false;        // written only when true
  Endpoint local_endpoint;
  std::optional<Endpoint> remote_endpoint;
  // Ordered by name, so the encoding is byte-stable.
  std::map<std::string, std::string> tags;
};

// The facts about a request that become a span's tags, under the names Envoy and Istio use.
struct RequestTags {
  std::string method;              // http.method
  std::string url;                 // http.url: "http://<authority><path>"
  std::string protocol;            // http.protocol: "HTTP/1.1", "HTTP/2"
  int status = 0;                  // http.status_code; 0 when no response was sent
  std::string response_flags;      // response_flags, Envoy's codes ("-" for none)
  std::string upstream_cluster;    // upstream_cluster: "outbound|80|v1|my-service.demo.svc..."
  std::string node_id;             // node_id: the proxy's id
  std::string request_id;          // guid:x-request-id
  std::string user_agent;          // user_agent
  std::string peer_address;        // peer.address: the downstream's IP
  std::string canonical_service;   // istio.canonical_service
  std::string canonical_revision;  // istio.canonical_revision
  std::string mesh_id;             // istio.mesh_id
  std::string namespace_;          // istio.namespace
  std::optional<uint64_t> request_size;   // request_size, body bytes
  std::optional<uint64_t> response_size;  // response_size, body bytes
};

// Sets the tags of `tags` that are not empty, plus "component": "proxy", and "error": "true"
// when the status is 5xx or no response was sent (status 0), as Envoy marks failed requests.
void addRequestTags(const RequestTags& tags, Span& span);

// The spans as a Zipkin v2 JSON array. Ids are lower-case hex: 16 digits for span ids, 16 or 32
// for trace ids (see traceIdHex).
std::string encodeZipkinSpans(const std::vector<Span>& spans);

}  // namespace ambit::waypoint::tracing
