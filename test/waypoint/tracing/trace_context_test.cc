// Trace context headers: every accepted and refused form of traceparent, b3 and x-b3-*, their
// precedence, the headers written upstream and the child context.
#include "waypoint/tracing/trace_context.h"

#include <catch2/catch.hpp>

namespace ambit::waypoint::tracing {
namespace {

constexpr const char* kTrace128 = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr const char* kSpan = "00f067aa0ba902b7";
constexpr TraceId kTraceId{0x4bf92f3577b34da6, 0xa3ce929d0e0e4736};
constexpr uint64_t kSpanId = 0x00f067aa0ba902b7;

std::string traceparent(const std::string& flags) {
  return std::string("00-") + kTrace128 + "-" + kSpan + "-" + flags;
}

TraceContext context(TraceId trace, uint64_t span, Sampled sampled,
                     std::optional<uint64_t> parent = std::nullopt, bool debug = false) {
  TraceContext c;
  c.trace_id = trace;
  c.span_id = span;
  c.sampled = sampled;
  c.parent_span_id = parent;
  c.debug = debug;
  return c;
}

TraceContext decisionOnly(Sampled sampled, bool debug = false) {
  TraceContext c;
  c.sampled = sampled;
  c.debug = debug;
  return c;
}

TEST_CASE("hex encoding of ids") {
  CHECK(hex64(0) == "0000000000000000");
  CHECK(hex64(0xabcdef0123456789) == "abcdef0123456789");
  CHECK(traceIdHex({0, 0x1f}) == "000000000000001f");
  CHECK(traceIdHex({1, 2}) == "00000000000000010000000000000002");
  CHECK(traceIdHex128({0, 0x1f}) == "0000000000000000000000000000001f");
}

TEST_CASE("traceparent: valid values") {
  struct Case {
    std::string value;
    Sampled sampled;
  };
  const std::vector<Case> cases = {
      {traceparent("01"), Sampled::kYes},
      {traceparent("00"), Sampled::kNo},
      // Only bit 0 means anything to version 00; the other bits are ignored.
      {traceparent("03"), Sampled::kYes},
      {traceparent("02"), Sampled::kNo},
      {traceparent("ff"), Sampled::kYes},
      // A later version is read by the fields 00 defines, whatever follows a '-'.
      {std::string("01-") + kTrace128 + "-" + kSpan + "-01", Sampled::kYes},
      {std::string("cc-") + kTrace128 + "-" + kSpan + "-00-what-the-future-holds", Sampled::kNo},
  };
  for (const Case& c : cases) {
    INFO(c.value);
    const auto parsed = parseTraceparent(c.value);
    REQUIRE(parsed);
    CHECK(*parsed == context(kTraceId, kSpanId, c.sampled));
  }
}

TEST_CASE("traceparent: invalid values") {
  const std::string tail = std::string("-") + kTrace128 + "-" + kSpan + "-01";
  const std::vector<std::string> cases = {
      "",
      "00",
      traceparent("0"),                                                     // short flags
      traceparent("01") + "-",                                              // 00 has nothing after
      traceparent("011"),                                                   // long flags
      "ff" + tail,                                                          // forbidden version
      "0A" + tail,                                                          // upper-case version
      "0g" + tail,                                                          // not hex
      "01" + tail + "x",                                                    // later version, no '-'
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-" + std::string(kSpan) + "-01",  // upper-case trace
      std::string("00-") + kTrace128 + "-00F067AA0BA902B7-01",              // upper-case span
      traceparent("0A"),                                                    // upper-case flags
      std::string("00-00000000000000000000000000000000-") + kSpan + "-01",  // zero trace id
      std::string("00-") + kTrace128 + "-0000000000000000-01",              // zero span id
      std::string("00-a3ce929d0e0e4736-") + kSpan + "-01",                  // 64-bit trace id
      std::string("00-") + kTrace128 + "-" + kSpan + "0-1",                 // misplaced '-'
      std::string("00_") + kTrace128 + "_" + kSpan + "_01",                 // wrong separator
      std::string("00-") + kTrace128 + "-" + kSpan + "-0g",                 // flags not hex
      std::string(" 00-") + kTrace128 + "-" + kSpan + "-01",                // leading space
      std::string("00-4bf92f3577b34da6a3ce929d0e0e473g-") + kSpan + "-01",  // trace not hex
  };
  for (const std::string& value : cases) {
    INFO("\"" << value << "\"");
    CHECK_FALSE(parseTraceparent(value));
  }
}

TEST_CASE("b3 single header: valid values") {
  struct Case {
    std::string value;
    TraceContext expected;
  };
  const TraceId trace64{0, 0x64fe8b2a57d3eff7};
  const std::vector<Case> cases = {
      {"80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90",
       context({0x80f198ee56343ba8, 0x64fe8b2a57d3eff7}, 0xe457b5a2e4d86bd1, Sampled::kYes,
               0x05e3ac9a4f6e3b90)},
      {"64fe8b2a57d3eff7-e457b5a2e4d86bd1",
       context(trace64, 0xe457b5a2e4d86bd1, Sampled::kUnknown)},
      {"64fe8b2a57d3eff7-e457b5a2e4d86bd1-0", context(trace64, 0xe457b5a2e4d86bd1, Sampled::kNo)},
      {"64fe8b2a57d3eff7-e457b5a2e4d86bd1-d",
       context(trace64, 0xe457b5a2e4d86bd1, Sampled::kYes, std::nullopt, true)},
      {"0", decisionOnly(Sampled::kNo)},
      {"1", decisionOnly(Sampled::kYes)},
      {"d", decisionOnly(Sampled::kYes, true)},
  };
  for (const Case& c : cases) {
    INFO(c.value);
    const auto parsed = parseB3Single(c.value);
    REQUIRE(parsed);
    CHECK(*parsed == c.expected);
  }
}

TEST_CASE("b3 single header: invalid values") {
  const std::vector<std::string> cases = {
      "",
      "2",
      "true",
      "-",
      "64fe8b2a57d3eff7",                                        // no span id
      "64fe8b2a57d3eff7-",                                       // empty span id
      "-e457b5a2e4d86bd1",                                       // empty trace id
      "64fe8b2a57d3eff-e457b5a2e4d86bd1",                        // 15 digits
      "64fe8b2a57d3eff7aa-e457b5a2e4d86bd1",                     // 18 digits
      "64FE8B2A57D3EFF7-e457b5a2e4d86bd1",                       // upper case
      "0000000000000000-e457b5a2e4d86bd1",                       // zero trace id
      "64fe8b2a57d3eff7-0000000000000000",                       // zero span id
      "64fe8b2a57d3eff7-e457b5a2e4d86bd1-true",                  // only 0, 1 and d here
      "64fe8b2a57d3eff7-e457b5a2e4d86bd1-",                      // empty sampling state
      "64fe8b2a57d3eff7-e457b5a2e4d86bd1-05e3ac9a4f6e3b90",      // parent without sampling state
      "64fe8b2a57d3eff7-e457b5a2e4d86bd1-1-0000000000000000",    // zero parent
      "64fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05E3AC9A4F6E3B90",    // upper-case parent
      "64fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90-x",  // a fifth field
  };
  for (const std::string& value : cases) {
    INFO("\"" << value << "\"");
    CHECK_FALSE(parseB3Single(value));
  }
}

TEST_CASE("b3 multi headers: valid sets") {
  struct Case {
    const char* name;
    HeaderList headers;
    TraceContext expected;
  };
  const TraceId trace64{0, 0x64fe8b2a57d3eff7};
  const std::vector<Case> cases = {
      {"all, 128-bit",
       {{"x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"},
        {"x-b3-spanid", "e457b5a2e4d86bd1"},
        {"x-b3-parentspanid", "05e3ac9a4f6e3b90"},
        {"x-b3-sampled", "1"}},
       context({0x80f198ee56343ba8, 0x64fe8b2a57d3eff7}, 0xe457b5a2e4d86bd1, Sampled::kYes,
               0x05e3ac9a4f6e3b90)},
      {"64-bit, no decision",
       {{"x-b3-traceid", "64fe8b2a57d3eff7"}, {"x-b3-spanid", "e457b5a2e4d86bd1"}},
       context(trace64, 0xe457b5a2e4d86bd1, Sampled::kUnknown)},
      {"sampled 0",
       {{"x-b3-traceid", "64fe8b2a57d3eff7"},
        {"x-b3-spanid", "e457b5a2e4d86bd1"},
        {"x-b3-sampled", "0"}},
       context(trace64, 0xe457b5a2e4d86bd1, Sampled::kNo)},
      {"sampled true",
       {{"x-b3-traceid", "64fe8b2a57d3eff7"},
        {"x-b3-spanid", "e457b5a2e4d86bd1"},
        {"x-b3-sampled", "true"}},
       context(trace64, 0xe457b5a2e4d86bd1, Sampled::kYes)},
      {"sampled false",
       {{"x-b3-traceid", "64fe8b2a57d3eff7"},
        {"x-b3-spanid", "e457b5a2e4d86bd1"},
        {"x-b3-sampled", "false"}},
       context(trace64, 0xe457b5a2e4d86bd1, Sampled::kNo)},
      {"debug wins over sampled 0",
       {{"x-b3-traceid", "64fe8b2a57d3eff7"},
        {"x-b3-spanid", "e457b5a2e4d86bd1"},
        {"x-b3-sampled", "0"},
        {"x-b3-flags", "1"}},
       context(trace64, 0xe457b5a2e4d86bd1, Sampled::kYes, std::nullopt, true)},
      {"flags 0 change nothing",
       {{"x-b3-traceid", "64fe8b2a57d3eff7"},
        {"x-b3-spanid", "e457b5a2e4d86bd1"},
        {"x-b3-flags", "0"}},
       context(trace64, 0xe457b5a2e4d86bd1, Sampled::kUnknown)},
      {"names in any case",
       {{"X-B3-TraceId", "64fe8b2a57d3eff7"},
        {"X-B3-SpanId", "e457b5a2e4d86bd1"},
        {"X-B3-Sampled", "1"}},
       context(trace64, 0xe457b5a2e4d86bd1, Sampled::kYes)},
      {"a decision alone", {{"x-b3-sampled", "0"}}, decisionOnly(Sampled::kNo)},
      {"debug alone", {{"x-b3-flags", "1"}}, decisionOnly(Sampled::kYes, true)},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      const auto parsed = parseB3Multi(c.headers);
      REQUIRE(parsed);
      CHECK(*parsed == c.expected);
      CHECK(parsed->hasIds() == c.expected.trace_id.valid());
    }
  }
}

TEST_CASE("b3 multi headers: invalid sets") {
  const std::string trace = "64fe8b2a57d3eff7";
  const std::string span = "e457b5a2e4d86bd1";
  const std::vector<std::pair<const char*, HeaderList>> cases = {
      {"trace id without span id", {{"x-b3-traceid", trace}}},
      {"span id without trace id", {{"x-b3-spanid", span}}},
      {"parent alone", {{"x-b3-parentspanid", span}}},
      {"upper-case trace id", {{"x-b3-traceid", "64FE8B2A57D3EFF7"}, {"x-b3-spanid", span}}},
      {"zero trace id", {{"x-b3-traceid", "0000000000000000"}, {"x-b3-spanid", span}}},
      {"17-digit trace id", {{"x-b3-traceid", trace + "a"}, {"x-b3-spanid", span}}},
      {"zero span id", {{"x-b3-traceid", trace}, {"x-b3-spanid", "0000000000000000"}}},
      {"short span id", {{"x-b3-traceid", trace}, {"x-b3-spanid", "e457b5a2e4d86bd"}}},
      {"bad parent",
       {{"x-b3-traceid", trace}, {"x-b3-spanid", span}, {"x-b3-parentspanid", "xyz"}}},
      {"sampled 2", {{"x-b3-traceid", trace}, {"x-b3-spanid", span}, {"x-b3-sampled", "2"}}},
      {"sampled yes", {{"x-b3-traceid", trace}, {"x-b3-spanid", span}, {"x-b3-sampled", "yes"}}},
      {"sampled True", {{"x-b3-sampled", "True"}}},
      {"flags 2", {{"x-b3-traceid", trace}, {"x-b3-spanid", span}, {"x-b3-flags", "2"}}},
  };
  for (const auto& [name, headers] : cases) {
    SECTION(name) { CHECK_FALSE(parseB3Multi(headers)); }
  }
  CHECK_FALSE(parseB3Multi({}));
  CHECK_FALSE(parseB3Multi({{"x-request-id", "abc"}}));
}

TEST_CASE("extraction: traceparent first, then b3, then the x-b3 headers, invalid ones ignored") {
  const HeaderList multi = {{"x-b3-traceid", "1111111111111111"},
                            {"x-b3-spanid", "2222222222222222"},
                            {"x-b3-sampled", "1"}};
  const std::string single = "3333333333333333-4444444444444444-0";
  const TraceContext from_multi =
      context({0, 0x1111111111111111}, 0x2222222222222222, Sampled::kYes);
  const TraceContext from_single =
      context({0, 0x3333333333333333}, 0x4444444444444444, Sampled::kNo);
  const TraceContext from_w3c = context(kTraceId, kSpanId, Sampled::kYes);

  struct Case {
    const char* name;
    HeaderList headers;
    std::optional<TraceContext> expected;
  };
  auto with = [](HeaderList base, HeaderList more) {
    base.insert(base.end(), more.begin(), more.end());
    return base;
  };
  TraceContext w3c_with_state = from_w3c;
  w3c_with_state.tracestate = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE";
  const std::vector<Case> cases = {
      {"nothing", {{"x-request-id", "r1"}}, std::nullopt},
      {"all three: traceparent wins",
       with(multi, {{"b3", single}, {"traceparent", traceparent("01")}}), from_w3c},
      {"bad traceparent: b3 wins", with(multi, {{"b3", single}, {"traceparent", "00-bad"}}),
       from_single},
      {"two traceparent fields are ambiguous: b3 wins",
       with(multi, {{"b3", single},
                    {"traceparent", traceparent("01")},
                    {"traceparent", traceparent("01")}}),
       from_single},
      {"bad traceparent and b3: x-b3-* win",
       with(multi, {{"b3", "nonsense"}, {"traceparent", "ff-x"}}), from_multi},
      {"b3 alone", {{"b3", single}}, from_single},
      {"a decision in b3 wins over x-b3 ids", with(multi, {{"b3", "0"}}),
       decisionOnly(Sampled::kNo)},
      {"everything invalid",
       {{"traceparent", "00-zz"}, {"b3", "x"}, {"x-b3-traceid", "1"}, {"x-b3-spanid", "2"}},
       std::nullopt},
      {"tracestate fields join in order",
       {{"traceparent", traceparent("01")},
        {"tracestate", "rojo=00f067aa0ba902b7"},
        {"tracestate", "congo=t61rcWkgMzE"}},
       w3c_with_state},
      {"tracestate without a valid traceparent is dropped",
       {{"traceparent", "00-bad"}, {"tracestate", "rojo=1"}, {"b3", single}},
       from_single},
      {"header names in any case", {{"TraceParent", traceparent("01")}}, from_w3c},
  };
  for (const Case& c : cases) {
    SECTION(c.name) { CHECK(extractTraceContext(c.headers) == c.expected); }
  }
}

// Returns the values of a list in turn, then repeats the last.
RandomSource sequence(std::vector<uint64_t> values) {
  auto index = std::make_shared<size_t>(0);
  return [values = std::move(values), index] {
    const uint64_t value = values[std::min(*index, values.size() - 1)];
    ++*index;
    return value;
  };
}

TEST_CASE("child context continues the parent's trace") {
  TraceContext parent = context(kTraceId, kSpanId, Sampled::kYes, 0x99);
  parent.tracestate = "rojo=1";
  const TraceContext child = childContext(&parent, true, sequence({0xabc}));
  CHECK(child.trace_id == kTraceId);
  CHECK(child.span_id == 0xabc);
  CHECK(child.parent_span_id == kSpanId);
  CHECK(child.sampled == Sampled::kYes);
  CHECK(child.tracestate == "rojo=1");
  CHECK_FALSE(child.debug);

  // The decision passed in is what the child carries.
  CHECK(childContext(&parent, false, sequence({0xabc})).sampled == Sampled::kNo);

  parent.debug = true;
  CHECK(childContext(&parent, true, sequence({0xabc})).debug);
  CHECK_FALSE(childContext(&parent, false, sequence({0xabc})).debug);
}

TEST_CASE("child context without a parent starts a trace") {
  SECTION("128-bit, zero ids are drawn again") {
    const TraceContext child = childContext(nullptr, true, sequence({0, 0x1, 0x2, 0, 0x3}));
    CHECK(child.trace_id == TraceId{0x1, 0x2});
    CHECK(child.span_id == 0x3);
    CHECK_FALSE(child.parent_span_id);
    CHECK(child.sampled == Sampled::kYes);
    CHECK(child.tracestate.empty());
  }
  SECTION("64-bit") {
    const TraceContext child = childContext(nullptr, false, sequence({0x5, 0x6}), false);
    CHECK(child.trace_id == TraceId{0, 0x5});
    CHECK(child.span_id == 0x6);
    CHECK(child.sampled == Sampled::kNo);
  }
  SECTION("a parent with a decision but no ids starts a trace too") {
    const TraceContext parent = decisionOnly(Sampled::kYes, true);
    const TraceContext child = childContext(&parent, true, sequence({0x7, 0x8, 0x9}));
    CHECK(child.trace_id == TraceId{0x7, 0x8});
    CHECK(child.span_id == 0x9);
    CHECK_FALSE(child.parent_span_id);
    CHECK(child.debug);
  }
  SECTION("the default random source gives distinct non-zero ids") {
    const TraceContext a = childContext(nullptr, true, randomId);
    const TraceContext b = childContext(nullptr, true, randomId);
    CHECK(a.hasIds());
    CHECK(a.trace_id.high != 0);
    CHECK_FALSE(a.trace_id == b.trace_id);
    CHECK(a.span_id != b.span_id);
  }
}

TEST_CASE("injection replaces incoming trace headers with W3C and B3 ones") {
  HeaderList headers = {{"host", "my-service"},
                        {"Traceparent", traceparent("00")},
                        {"tracestate", "old=1"},
                        {"b3", "0"},
                        {"X-B3-Sampled", "0"},
                        {"x-b3-traceid", "1111111111111111"},
                        {"x-b3-spanid", "2222222222222222"},
                        {"x-b3-parentspanid", "3333333333333333"},
                        {"x-b3-flags", "0"},
                        {"x-request-id", "r1"}};
  TraceContext c = context(kTraceId, 0x1234, Sampled::kYes, kSpanId);
  c.tracestate = "rojo=1";
  injectTraceContext(c, headers);
  const HeaderList expected = {
      {"host", "my-service"},
      {"x-request-id", "r1"},
      {"traceparent", std::string("00-") + kTrace128 + "-0000000000001234-01"},
      {"tracestate", "rojo=1"},
      {"x-b3-traceid", kTrace128},
      {"x-b3-spanid", "0000000000001234"},
      {"x-b3-parentspanid", kSpan},
      {"x-b3-sampled", "1"},
  };
  CHECK(headers == expected);
}

TEST_CASE("injection forms") {
  struct Case {
    const char* name;
    TraceContext context;
    HeaderList expected;
  };
  const std::vector<Case> cases = {
      {"not sampled, 64-bit trace, no parent",
       context({0, 0x77}, 0x88, Sampled::kNo),
       {{"traceparent", "00-00000000000000000000000000000077-0000000000000088-00"},
        {"x-b3-traceid", "0000000000000077"},
        {"x-b3-spanid", "0000000000000088"},
        {"x-b3-sampled", "0"}}},
      {"debug: x-b3-flags instead of x-b3-sampled",
       context({0, 0x77}, 0x88, Sampled::kYes, std::nullopt, true),
       {{"traceparent", "00-00000000000000000000000000000077-0000000000000088-01"},
        {"x-b3-traceid", "0000000000000077"},
        {"x-b3-spanid", "0000000000000088"},
        {"x-b3-flags", "1"}}},
      {"no decision: no x-b3-sampled",
       context({0, 0x77}, 0x88, Sampled::kUnknown),
       {{"traceparent", "00-00000000000000000000000000000077-0000000000000088-00"},
        {"x-b3-traceid", "0000000000000077"},
        {"x-b3-spanid", "0000000000000088"}}},
      {"a decision alone", decisionOnly(Sampled::kNo), {{"x-b3-sampled", "0"}}},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      HeaderList headers;
      injectTraceContext(c.context, headers);
      CHECK(headers == c.expected);
    }
  }
}

TEST_CASE("inject then extract gives the context back") {
  const std::vector<TraceContext> contexts = {
      context(kTraceId, 0x1234, Sampled::kYes, kSpanId),
      context(kTraceId, 0x1234, Sampled::kNo),
      context({0, 0x77}, 0x88, Sampled::kYes, 0x99),
      context({0, 0x77}, 0x88, Sampled::kYes, std::nullopt, true),
  };
  for (TraceContext c : contexts) {
    c.tracestate = "rojo=1";
    INFO(traceIdHex(c.trace_id) << " " << hex64(c.span_id));
    HeaderList headers;
    injectTraceContext(c, headers);
    // traceparent carries no parent span id and no debug flag: a W3C hop sees the rest.
    TraceContext w3c = c;
    w3c.parent_span_id.reset();
    w3c.debug = false;
    CHECK(extractTraceContext(headers) == w3c);
    // The B3 headers carry everything but W3C's tracestate.
    TraceContext b3 = c;
    b3.tracestate.clear();
    CHECK(parseB3Multi(headers) == b3);
  }
}

}  // namespace
}  // namespace ambit::waypoint::tracing
