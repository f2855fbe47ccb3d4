// The per-request sampling decision: incoming decisions honoured, and the share of requests
// sampled at a percentage over evenly spread random values.
#include <catch2/catch.hpp>

#include "waypoint/tracing/sampling.h"

namespace ambit::waypoint::tracing {
namespace {

TraceContext withDecision(Sampled sampled, bool debug = false) {
  TraceContext c;
  c.trace_id = {0, 1};
  c.span_id = 2;
  c.sampled = sampled;
  c.debug = debug;
  return c;
}

TEST_CASE("an incoming decision is honoured whatever the percentage") {
  const TraceContext yes = withDecision(Sampled::kYes);
  const TraceContext no = withDecision(Sampled::kNo);
  const TraceContext debug = withDecision(Sampled::kUnknown, true);
  for (const uint32_t random : {0u, 1u, 999'999u, 4'294'967'295u}) {
    INFO(random);
    CHECK(sampleRequest(&yes, 0, random));
    CHECK_FALSE(sampleRequest(&no, 100, random));
    CHECK(sampleRequest(&debug, 0, random));
  }
}

TEST_CASE("without a decision the percentage decides, one in a million") {
  struct Case {
    double percent;
    uint32_t expected_hits;  // among the randoms 0 .. 999,999
  };
  const std::vector<Case> cases = {
      {0, 0},      {100, 1'000'000}, {50, 500'000},      {1, 10'000},      {12.5, 125'000},
      {0.0001, 1}, {0.29, 2'900},    {99.9999, 999'999}, {150, 1'000'000}, {-5, 0},
  };
  const TraceContext unknown = withDecision(Sampled::kUnknown);
  for (const Case& c : cases) {
    INFO("percent " << c.percent);
    uint32_t hits = 0;
    uint32_t hits_with_context = 0;
    uint32_t hits_high = 0;
    for (uint32_t random = 0; random < 1'000'000; ++random) {
      hits += sampleRequest(nullptr, c.percent, random) ? 1 : 0;
      hits_with_context += sampleRequest(&unknown, c.percent, random) ? 1 : 0;
      // The same residues higher in the uint32_t range decide the same way.
      hits_high += sampleRequest(nullptr, c.percent, 3'000'000'000u + random) ? 1 : 0;
    }
    CHECK(hits == c.expected_hits);
    CHECK(hits_with_context == c.expected_hits);
    CHECK(hits_high == c.expected_hits);
  }
}

TEST_CASE("the hit is the low residues") {
  CHECK(sampleRequest(nullptr, 50, 499'999));
  CHECK_FALSE(sampleRequest(nullptr, 50, 500'000));
  CHECK(sampleRequest(nullptr, 50, 1'000'000));  // residue 0
  CHECK_FALSE(sampleRequest(nullptr, 0, 0));
}

}  // namespace
}  // namespace ambit::waypoint::tracing
