// The trace context a request carries, read from and written to its headers: W3C Trace Context
// (`traceparent`, `tracestate`) and Zipkin's B3 (the `x-b3-*` headers and the single `b3`
// header). Pure functions, so every accepted and refused form is tested by a table.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ambit::waypoint::tracing {

// Header fields as (name, value) pairs; names are matched without regard to case and written in
// lower case.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// A 128-bit trace id. `high` is zero for a 64-bit id (B3 allows both), which is then written
// with 16 hex digits in B3 headers and Zipkin spans; traceparent always carries 32.
struct TraceId {
  uint64_t high = 0;
  uint64_t low = 0;

  bool valid() const { return high != 0 || low != 0; }
  friend bool operator==(const TraceId&, const TraceId&) = default;
};

// A sampling decision as received: absent, keep the trace, or drop it.
enum class Sampled { kUnknown, kYes, kNo };

struct TraceContext {
  TraceId trace_id;      // all zero when the request carried only a sampling decision
  uint64_t span_id = 0;  // the sender's span, zero with the trace id
  std::optional<uint64_t> parent_span_id;
  Sampled sampled = Sampled::kUnknown;
  bool debug = false;      // B3's debug flag (`x-b3-flags: 1`, `b3: ...-d`), which implies kYes
  std::string tracestate;  // W3C vendor state, passed on as received; empty when absent

  // True when the context names a span to continue, false for a bare sampling decision such as
  // `b3: 0` or `x-b3-sampled: 0` alone.
  bool hasIds() const { return trace_id.valid() && span_id != 0; }
  friend bool operator==(const TraceContext&, const TraceContext&) = default;
};

// Lower-case hex of an id: 16 digits.
std::string hex64(uint64_t id);
// 16 digits when `id.high` is zero, else 32.
std::string traceIdHex(const TraceId& id);
// 32 digits always, as traceparent requires.
std::string traceIdHex128(const TraceId& id);

// Parses one header's value; nullopt when it is not a valid value of that header. Exposed for
// tests and debugging; extractTraceContext is what the proxy calls.
std::optional<TraceContext> parseTraceparent(std::string_view value);
std::optional<TraceContext> parseB3Single(std::string_view value);
// The x-b3-* headers of `headers`; nullopt when none is present or they are invalid together.
std::optional<TraceContext> parseB3Multi(const HeaderList& headers);

// The trace context of an incoming request: a valid `traceparent` (with `tracestate`) first,
// else a valid `b3`, else valid `x-b3-*` headers. Invalid headers are ignored, as if absent, so
// the request starts a new trace; nullopt when nothing valid is present.
std::optional<TraceContext> extractTraceContext(const HeaderList& headers);

// Random 64-bit values for new ids; must be safe to call from the thread that calls childContext.
using RandomSource = std::function<uint64_t()>;

// A random source backed by a per-thread generator seeded from std::random_device.
uint64_t randomId();

// The context of the span this proxy starts for a request: a new span id; the parent's trace
// id, span (as parent_span_id), debug flag and tracestate when `parent` has ids, else a new
// trace (128-bit unless `trace_id_128bit` is false) with no parent. `sampled` is the decision
// made for the request (see sampleRequest), which the context then carries.
TraceContext childContext(const TraceContext* parent, bool sampled, const RandomSource& random,
                          bool trace_id_128bit = true);

// Writes `context` into the headers of the request sent upstream: `traceparent` (and
// `tracestate` when not empty) and the B3 multi headers (x-b3-traceid, x-b3-spanid,
// x-b3-parentspanid when present, x-b3-sampled, or x-b3-flags: 1 for debug). Every incoming
// trace header (traceparent, tracestate, b3, x-b3-*) is removed first, so the upstream sees one
// consistent context.
void injectTraceContext(const TraceContext& context, HeaderList& headers);

}  // namespace ambit::waypoint::tracing
