// Trace context headers: W3C Trace Context (https://www.w3.org/TR/trace-context/) and B3
// (https://github.com/openzipkin/b3-propagation), read strictly and written in canonical form.
#include "waypoint/tracing/trace_context.h"

#include <array>
#include <random>

namespace ambit::waypoint::tracing {
namespace {

constexpr char kDigits[] = "0123456789abcdef";

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// The value of a lower-case hex digit, or -1. Both W3C and B3 require lower case, so an
// upper-case digit makes the header invalid rather than being folded.
int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Exactly 16 lower-case hex digits.
std::optional<uint64_t> parseHex64(std::string_view text) {
  if (text.size() != 16) return std::nullopt;
  uint64_t value = 0;
  for (const char c : text) {
    const int digit = hexValue(c);
    if (digit < 0) return std::nullopt;
    value = (value << 4) | static_cast<uint64_t>(digit);
  }
  return value;
}

// A non-zero 16-digit span id.
std::optional<uint64_t> parseSpanId(std::string_view text) {
  const auto id = parseHex64(text);
  if (!id || *id == 0) return std::nullopt;
  return id;
}

// A non-zero trace id of 16 or 32 digits (only 32 when `require128`, as traceparent wants).
std::optional<TraceId> parseTraceId(std::string_view text, bool require128) {
  TraceId id;
  if (text.size() == 32) {
    const auto high = parseHex64(text.substr(0, 16));
    const auto low = parseHex64(text.substr(16));
    if (!high || !low) return std::nullopt;
    id = {*high, *low};
  } else if (text.size() == 16 && !require128) {
    const auto low = parseHex64(text);
    if (!low) return std::nullopt;
    id.low = *low;
  } else {
    return std::nullopt;
  }
  if (!id.valid()) return std::nullopt;
  return id;
}

// Every value of the header `name`, in order.
std::vector<std::string_view> valuesOf(const HeaderList& headers, std::string_view name) {
  std::vector<std::string_view> values;
  for (const auto& [n, v] : headers) {
    if (equalsIgnoreCase(n, name)) values.emplace_back(v);
  }
  return values;
}

std::optional<std::string_view> firstValue(const HeaderList& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (equalsIgnoreCase(n, name)) return std::string_view(v);
  }
  return std::nullopt;
}

// B3's single-header sampling state: "0", "1" or "d" (debug).
bool applyB3SamplingState(std::string_view state, TraceContext& context) {
  if (state == "0") {
    context.sampled = Sampled::kNo;
  } else if (state == "1") {
    context.sampled = Sampled::kYes;
  } else if (state == "d") {
    context.sampled = Sampled::kYes;
    context.debug = true;
  } else {
    return false;
  }
  return true;
}

constexpr std::array<std::string_view, 8> kTraceHeaders = {
    "traceparent", "tracestate",        "b3",           "x-b3-traceid",
    "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags",
};

}  // namespace

std::string hex64(uint64_t id) {
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kDigits[id & 0xf];
    id >>= 4;
  }
  return out;
}

std::string traceIdHex(const TraceId& id) {
  return id.high == 0 ? hex64(id.low) : hex64(id.high) + hex64(id.low);
}

std::string traceIdHex128(const TraceId& id) { return hex64(id.high) + hex64(id.low); }

std::optional<TraceContext> parseTraceparent(std::string_view value) {
  // version "-" trace-id "-" parent-id "-" trace-flags: 2 + 1 + 32 + 1 + 16 + 1 + 2 characters.
  constexpr size_t kLength = 55;
  if (value.size() < kLength) return std::nullopt;
  const std::string_view version = value.substr(0, 2);
  if (hexValue(version[0]) < 0 || hexValue(version[1]) < 0 || version == "ff") {
    return std::nullopt;
  }
  // Version 00 is exactly 55 characters. A later version may append fields after another '-';
  // the spec asks to read the fields 00 defines and ignore the rest.
  if (version == "00" ? value.size() != kLength : value.size() > kLength && value[kLength] != '-') {
    return std::nullopt;
  }
  if (value[2] != '-' || value[35] != '-' || value[52] != '-') return std::nullopt;
  const auto trace_id = parseTraceId(value.substr(3, 32), /*require128=*/true);
  const auto span_id = parseSpanId(value.substr(36, 16));
  const std::string_view flags_text = value.substr(53, 2);
  const int f1 = hexValue(flags_text[0]);
  const int f2 = hexValue(flags_text[1]);
  if (!trace_id || !span_id || f1 < 0 || f2 < 0) return std::nullopt;
  TraceContext context;
  context.trace_id = *trace_id;
  context.span_id = *span_id;
  context.sampled = (f2 & 1) != 0 ? Sampled::kYes : Sampled::kNo;
  return context;
}

std::optional<TraceContext> parseB3Single(std::string_view value) {
  TraceContext context;
  // A sampling decision alone ("0" denies, "1" accepts, "d" debug), with no ids.
  if (value.size() == 1) {
    if (!applyB3SamplingState(value, context)) return std::nullopt;
    return context;
  }
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    const size_t dash = value.find('-', start);
    parts.push_back(value.substr(start, dash == std::string_view::npos ? dash : dash - start));
    if (dash == std::string_view::npos) break;
    start = dash + 1;
  }
  // traceid-spanid[-sampling[-parentspanid]]: a parent id is only valid after a sampling state.
  if (parts.size() < 2 || parts.size() > 4) return std::nullopt;
  const auto trace_id = parseTraceId(parts[0], /*require128=*/false);
  const auto span_id = parseSpanId(parts[1]);
  if (!trace_id || !span_id) return std::nullopt;
  context.trace_id = *trace_id;
  context.span_id = *span_id;
  if (parts.size() >= 3 && !applyB3SamplingState(parts[2], context)) return std::nullopt;
  if (parts.size() == 4) {
    const auto parent = parseSpanId(parts[3]);
    if (!parent) return std::nullopt;
    context.parent_span_id = *parent;
  }
  return context;
}

std::optional<TraceContext> parseB3Multi(const HeaderList& headers) {
  const auto trace_id_text = firstValue(headers, "x-b3-traceid");
  const auto span_id_text = firstValue(headers, "x-b3-spanid");
  const auto parent_text = firstValue(headers, "x-b3-parentspanid");
  const auto sampled_text = firstValue(headers, "x-b3-sampled");
  const auto flags_text = firstValue(headers, "x-b3-flags");
  if (!trace_id_text && !span_id_text && !parent_text && !sampled_text && !flags_text) {
    return std::nullopt;
  }
  TraceContext context;
  // Ids come together: a trace id needs a span id, and neither a span nor a parent id means
  // anything without a trace id. Without any, the headers may still carry a decision alone.
  if (trace_id_text || span_id_text || parent_text) {
    if (!trace_id_text || !span_id_text) return std::nullopt;
    const auto trace_id = parseTraceId(*trace_id_text, /*require128=*/false);
    const auto span_id = parseSpanId(*span_id_text);
    if (!trace_id || !span_id) return std::nullopt;
    context.trace_id = *trace_id;
    context.span_id = *span_id;
    if (parent_text) {
      const auto parent = parseSpanId(*parent_text);
      if (!parent) return std::nullopt;
      context.parent_span_id = *parent;
    }
  }
  if (sampled_text) {
    // "true" and "false" are what early B3 senders wrote; the spec accepts them still.
    if (*sampled_text == "1" || *sampled_text == "true") {
      context.sampled = Sampled::kYes;
    } else if (*sampled_text == "0" || *sampled_text == "false") {
      context.sampled = Sampled::kNo;
    } else {
      return std::nullopt;
    }
  }
  if (flags_text) {
    if (*flags_text == "1") {
      // Debug implies an accept decision, whatever x-b3-sampled says.
      context.debug = true;
      context.sampled = Sampled::kYes;
    } else if (*flags_text != "0") {
      return std::nullopt;
    }
  }
  return context;
}

std::optional<TraceContext> extractTraceContext(const HeaderList& headers) {
  // More than one traceparent field is ambiguous, so the W3C context is invalid then.
  const std::vector<std::string_view> traceparents = valuesOf(headers, "traceparent");
  if (traceparents.size() == 1) {
    if (auto context = parseTraceparent(traceparents[0])) {
      // Several tracestate fields are one list split across lines (RFC 9110 5.3).
      std::string tracestate;
      for (const std::string_view part : valuesOf(headers, "tracestate")) {
        if (part.empty()) continue;
        if (!tracestate.empty()) tracestate += ',';
        tracestate += part;
      }
      context->tracestate = std::move(tracestate);
      return context;
    }
  }
  if (const auto b3 = firstValue(headers, "b3")) {
    if (auto context = parseB3Single(*b3)) return context;
  }
  return parseB3Multi(headers);
}

uint64_t randomId() {
  thread_local std::mt19937_64 generator{[] {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ device();
  }()};
  return generator();
}

TraceContext childContext(const TraceContext* parent, bool sampled, const RandomSource& random,
                          bool trace_id_128bit) {
  const auto nonZero = [&random] {
    uint64_t id = 0;
    while (id == 0) id = random();
    return id;
  };
  TraceContext child;
  if (parent != nullptr && parent->hasIds()) {
    child.trace_id = parent->trace_id;
    child.parent_span_id = parent->span_id;
    child.tracestate = parent->tracestate;
  } else {
    child.trace_id.high = trace_id_128bit ? nonZero() : 0;
    child.trace_id.low = nonZero();
  }
  child.span_id = nonZero();
  child.sampled = sampled ? Sampled::kYes : Sampled::kNo;
  child.debug = sampled && parent != nullptr && parent->debug;
  return child;
}

void injectTraceContext(const TraceContext& context, HeaderList& headers) {
  std::erase_if(headers, [](const auto& field) {
    for (const std::string_view name : kTraceHeaders) {
      if (equalsIgnoreCase(field.first, name)) return true;
    }
    return false;
  });
  const bool sampled = context.sampled == Sampled::kYes || context.debug;
  if (context.hasIds()) {
    headers.emplace_back("traceparent", "00-" + traceIdHex128(context.trace_id) + "-" +
                                            hex64(context.span_id) + (sampled ? "-01" : "-00"));
    if (!context.tracestate.empty()) headers.emplace_back("tracestate", context.tracestate);
    headers.emplace_back("x-b3-traceid", traceIdHex(context.trace_id));
    headers.emplace_back("x-b3-spanid", hex64(context.span_id));
    if (context.parent_span_id) {
      headers.emplace_back("x-b3-parentspanid", hex64(*context.parent_span_id));
    }
  }
  // B3 says not to send x-b3-sampled with the debug flag, which implies it.
  if (context.debug) {
    headers.emplace_back("x-b3-flags", "1");
  } else if (context.sampled != Sampled::kUnknown) {
    headers.emplace_back("x-b3-sampled", sampled ? "1" : "0");
  }
}

}  // namespace ambit::waypoint::tracing
