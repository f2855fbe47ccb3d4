// Zipkin v2 JSON encoding of spans, with Ambit's JSON writer (fields in a fixed order).
#include "waypoint/tracing/zipkin.h"

#include "core/json/json_writer.h"

namespace ambit::waypoint::tracing {
namespace {

void writeEndpoint(json::Writer& w, const Endpoint& endpoint) {
  w.beginObject();
  if (!endpoint.service_name.empty()) w.field("serviceName", endpoint.service_name);
  if (!endpoint.ipv4.empty()) w.field("ipv4", endpoint.ipv4);
  if (!endpoint.ipv6.empty()) w.field("ipv6", endpoint.ipv6);
  if (endpoint.port != 0) w.field("port", static_cast<int>(endpoint.port));
  w.endObject();
}

void setIfNotEmpty(Span& span, const char* name, const std::string& value) {
  if (!value.empty()) span.tags[name] = value;
}

}  // namespace

void addRequestTags(const RequestTags& tags, Span& span) {
  span.tags["component"] = "proxy";
  setIfNotEmpty(span, "http.method", tags.method);
  setIfNotEmpty(span, "http.url", tags.url);
  setIfNotEmpty(span, "http.protocol", tags.protocol);
  span.tags["http.status_code"] = std::to_string(tags.status);
  setIfNotEmpty(span, "response_flags", tags.response_flags);
  setIfNotEmpty(span, "upstream_cluster", tags.upstream_cluster);
  setIfNotEmpty(span, "node_id", tags.node_id);
  setIfNotEmpty(span, "guid:x-request-id", tags.request_id);
  setIfNotEmpty(span, "user_agent", tags.user_agent);
  setIfNotEmpty(span, "peer.address", tags.peer_address);
  setIfNotEmpty(span, "istio.canonical_service", tags.canonical_service);
  setIfNotEmpty(span, "istio.canonical_revision", tags.canonical_revision);
  setIfNotEmpty(span, "istio.mesh_id", tags.mesh_id);
  setIfNotEmpty(span, "istio.namespace", tags.namespace_);
  if (tags.request_size) span.tags["request_size"] = std::to_string(*tags.request_size);
  if (tags.response_size) span.tags["response_size"] = std::to_string(*tags.response_size);
  if (tags.status == 0 || tags.status >= 500) span.tags["error"] = "true";
}

std::string encodeZipkinSpans(const std::vector<Span>& spans) {
  json::Writer w;
  w.beginArray();
  for (const Span& span : spans) {
    w.beginObject();
    w.field("traceId", traceIdHex(span.trace_id));
    if (span.parent_id) w.field("parentId", hex64(*span.parent_id));
    w.field("id", hex64(span.id));
    w.field("kind", span.kind == SpanKind::kServer ? "SERVER" : "CLIENT");
    if (!span.name.empty()) w.field("name", span.name);
    w.field("timestamp", span.timestamp_us);
    if (span.duration_us > 0) w.field("duration", span.duration_us);
    if (span.debug) w.field("debug", true);
    w.key("localEndpoint");
    writeEndpoint(w, span.local_endpoint);
    if (span.remote_endpoint) {
      w.key("remoteEndpoint");
      writeEndpoint(w, *span.remote_endpoint);
    }
    if (!span.tags.empty()) {
      w.key("tags").beginObject();
      for (const auto& [name, value] : span.tags) w.field(name, value);
      w.endObject();
    }
    w.endObject();
  }
  w.endArray();
  return w.str();
}

}  // namespace ambit::waypoint::tracing
