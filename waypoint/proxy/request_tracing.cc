#include "waypoint/proxy/request_tracing.h"

#include "waypoint/tracing/sampling.h"
#include "waypoint/tracing/span_reporter.h"

namespace ambit::waypoint {

std::optional<ActiveTrace> startTrace(
    const ServiceTracing* settings, const std::vector<std::pair<std::string, std::string>>& headers,
    HttpRequest& request, std::mt19937& random) {
  if (settings == nullptr || !settings->config.enabled) return std::nullopt;
  const std::optional<tracing::TraceContext> incoming = tracing::extractTraceContext(headers);
  ActiveTrace trace;
  trace.settings = settings;
  trace.sampled = tracing::sampleRequest(incoming ? &*incoming : nullptr, settings->config.percent,
                                         static_cast<uint32_t>(random()));
  const tracing::RandomSource ids = [&random] {
    return (static_cast<uint64_t>(random()) << 32) | static_cast<uint64_t>(random());
  };
  trace.span = tracing::childContext(incoming ? &*incoming : nullptr, trace.sampled, ids,
                                     settings->config.trace_id_128bit);
  trace.start = std::chrono::steady_clock::now();
  trace.start_us = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  tracing::HeaderList upstream;
  tracing::injectTraceContext(trace.span, upstream);
  for (const char* name : kTraceHeaders) request.headers.remove(name);
  for (const auto& [name, value] : upstream) request.headers.add(name, value);
  return trace;
}

void finishTrace(const ActiveTrace& trace, const std::string& span_name,
                 const tracing::Endpoint& local, const tracing::RequestTags& tags) {
  if (!trace.sampled || trace.settings == nullptr || trace.settings->reporter == nullptr) return;
  tracing::Span span;
  span.trace_id = trace.span.trace_id;
  span.id = trace.span.span_id;
  span.parent_id = trace.span.parent_span_id;
  span.name = span_name;
  span.kind = tracing::SpanKind::kServer;
  span.timestamp_us = trace.start_us;
  span.duration_us = std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::microseconds>(
                                              std::chrono::steady_clock::now() - trace.start)
                                              .count());
  span.debug = trace.span.debug;
  span.local_endpoint = local;
  tracing::addRequestTags(tags, span);
  trace.settings->reporter->report(std::move(span));
}

}  // namespace ambit::waypoint
