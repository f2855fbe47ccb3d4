// Tracing of one request at the waypoint, as Envoy traces for Istio: the trace context the client
// sent (W3C or B3) is continued with a span of the waypoint's own, sampled as the request says or
// else at the configured percentage; the upstream request carries the waypoint's span as its
// parent in both W3C and B3 headers; a sampled request's span goes to the collector when it ends.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "waypoint/config/tracing_settings.h"
#include "waypoint/http/http_message.h"
#include "waypoint/tracing/trace_context.h"
#include "waypoint/tracing/zipkin.h"

namespace ambit::waypoint {

struct ActiveTrace {
  tracing::TraceContext span;  // the waypoint's span: its id, and the client's as its parent
  bool sampled = false;
  const ServiceTracing* settings = nullptr;  // lives in the request's snapshot
  int64_t start_us = 0;                      // wall clock, for the span's timestamp
  std::chrono::steady_clock::time_point start;
};

// Starts the request's trace when tracing is on for its service (`settings` not null) and
// rewrites the trace headers of `request` (sent upstream) to name the waypoint's span. `headers`
// are the request's headers with lower-case names, as received.
std::optional<ActiveTrace> startTrace(
    const ServiceTracing* settings, const std::vector<std::pair<std::string, std::string>>& headers,
    HttpRequest& request, std::mt19937& random);

// Reports the span of a sampled trace with the request's tags.
void finishTrace(const ActiveTrace& trace, const std::string& span_name,
                 const tracing::Endpoint& local, const tracing::RequestTags& tags);

// The trace headers a waypoint replaces on the way upstream.
inline constexpr const char* kTraceHeaders[] = {"traceparent",  "tracestate",  "b3",
                                                "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid",
                                                "x-b3-sampled", "x-b3-flags"};

}  // namespace ambit::waypoint
