// The request metrics as a Telemetry policy shapes them, read back from the registry's
// rendering: a disabled metric is absent, a removed label absent, an upserted label present with
// the request's value, and each distinct label set its own series.
#include <catch2/catch.hpp>

#include <algorithm>

#include "test/waypoint/telemetry/telemetry_test_support.h"
#include "waypoint/telemetry/request_metrics.h"

namespace ambit::waypoint {
namespace {

using testing::samplesNamed;

bool contains(const std::string& line, const std::string& part) {
  return line.find(part) != std::string::npos;
}

bool allContain(const std::vector<std::string>& lines, const std::string& part) {
  return !lines.empty() && std::all_of(lines.begin(), lines.end(),
                                       [&](const std::string& l) { return contains(l, part); });
}

bool noneContain(const std::vector<std::string>& lines, const std::string& part) {
  return std::none_of(lines.begin(), lines.end(),
                      [&](const std::string& l) { return contains(l, part); });
}

RequestLabels someLabels() {
  RequestLabels labels;
  labels.destination_service = "my-service.default.svc.cluster.local";
  labels.response_code = 200;
  return labels;
}

TEST_CASE("without a policy: Istio's four metrics with Istio's labels") {
  metrics::Registry registry;
  RequestMetrics m(registry);
  m.record(someLabels(), 12.0, 10, 20);
  TelemetryPolicy defaults;
  m.record(someLabels(), 12.0, 10, 20, &defaults, nullptr);
  const std::vector<std::string> count = samplesNamed(registry, "istio_requests_total");
  REQUIRE(count.size() == 1);
  CHECK(contains(count[0], "request_protocol=\"http\""));
  CHECK(contains(count[0], "} 2"));
  CHECK(samplesNamed(registry, "istio_request_duration_milliseconds_count").size() == 1);
  CHECK(samplesNamed(registry, "istio_request_bytes_count").size() == 1);
  CHECK(samplesNamed(registry, "istio_response_bytes_count").size() == 1);
}

TEST_CASE("a policy disables a metric, removes and upserts labels") {
  TelemetryPolicy policy;
  policy.metrics[static_cast<size_t>(RequestMetric::kRequestCount)].disabled = true;
  policy.metrics[static_cast<size_t>(RequestMetric::kRequestDuration)].overrides = {
      TagOverride{"request_protocol", true, {}}};
  policy.metrics[static_cast<size_t>(RequestMetric::kRequestSize)].overrides = {
      TagOverride{"response_code", false, TagValue{TagValue::Source::kLiteral, "any"}},
      TagOverride{"user_type", false, TagValue{TagValue::Source::kRequestHeader, "x-user-type"}}};
  HttpHeaders headers;
  headers.add("X-User-Type", "beta");
  RequestFacts facts;
  facts.headers = &headers;

  metrics::Registry registry;
  RequestMetrics m(registry);
  m.record(someLabels(), 12.0, 10, 20, &policy, &facts);

  CHECK(samplesNamed(registry, "istio_requests_total").empty());
  const std::vector<std::string> duration =
      samplesNamed(registry, "istio_request_duration_milliseconds_count");
  REQUIRE(duration.size() == 1);
  CHECK(noneContain(duration, "request_protocol="));
  CHECK(allContain(duration, "response_code=\"200\""));
  const std::vector<std::string> size = samplesNamed(registry, "istio_request_bytes_count");
  REQUIRE(size.size() == 1);
  CHECK(contains(size[0], "response_code=\"any\""));
  CHECK(contains(size[0], "user_type=\"beta\""));
  CHECK(contains(size[0], "request_protocol=\"http\""));
  CHECK(contains(size[0], "} 1"));
  // RESPONSE_SIZE has no override: Istio's labels.
  const std::vector<std::string> response = samplesNamed(registry, "istio_response_bytes_count");
  REQUIRE(response.size() == 1);
  CHECK(contains(response[0], "request_protocol=\"http\""));
  CHECK(noneContain(response, "user_type="));
}

TEST_CASE("each upserted value is a series of its own, and the cache keeps them apart") {
  TelemetryPolicy policy;
  policy.metrics[static_cast<size_t>(RequestMetric::kRequestCount)].overrides = {
      TagOverride{"method", false, TagValue{TagValue::Source::kRequestMethod, ""}}};
  metrics::Registry registry;
  RequestMetrics m(registry);
  RequestFacts get;
  get.method = "GET";
  RequestFacts post;
  post.method = "POST";
  for (int i = 0; i < 3; ++i) m.record(someLabels(), 1.0, 0, 0, &policy, &get);
  m.record(someLabels(), 1.0, 0, 0, &policy, &post);
  m.record(someLabels(), 1.0, 0, 0, &policy, nullptr);  // no facts: unknown
  m.record(someLabels(), 1.0, 0, 0);                    // no policy: Istio's labels
  const std::vector<std::string> count = samplesNamed(registry, "istio_requests_total");
  REQUIRE(count.size() == 4);
  auto value = [&](const std::string& part) {
    for (const std::string& line : count) {
      if (contains(line, part)) return line.substr(line.rfind(' ') + 1);
    }
    return std::string("absent");
  };
  CHECK(value("method=\"GET\"") == "3");
  CHECK(value("method=\"POST\"") == "1");
  CHECK(value("method=\"unknown\"") == "1");
  CHECK(std::count_if(count.begin(), count.end(),
                      [](const std::string& l) { return !contains(l, "method="); }) == 1);
  // The histograms had no override: one series for all six requests.
  const std::vector<std::string> duration =
      samplesNamed(registry, "istio_request_duration_milliseconds_count");
  REQUIRE(duration.size() == 1);
  CHECK(contains(duration[0], "} 6"));
}

TEST_CASE("two RequestMetrics on one thread keep their series apart") {
  TelemetryPolicy policy;
  policy.metrics[static_cast<size_t>(RequestMetric::kRequestCount)].overrides = {
      TagOverride{"tier", false, TagValue{TagValue::Source::kLiteral, "gold"}}};
  metrics::Registry first_registry;
  metrics::Registry second_registry;
  RequestMetrics first(first_registry);
  RequestMetrics second(second_registry);
  first.record(someLabels(), 1.0, 0, 0, &policy, nullptr);
  second.record(someLabels(), 1.0, 0, 0, &policy, nullptr);
  second.record(someLabels(), 1.0, 0, 0, &policy, nullptr);
  const std::vector<std::string> a = samplesNamed(first_registry, "istio_requests_total");
  const std::vector<std::string> b = samplesNamed(second_registry, "istio_requests_total");
  REQUIRE(a.size() == 1);
  REQUIRE(b.size() == 1);
  CHECK(contains(a[0], "} 1"));
  CHECK(contains(b[0], "} 2"));
}

}  // namespace
}  // namespace ambit::waypoint
