// The Telemetry policy per served service: which Telemetry resources a waypoint in `default`
// applies to which service (root namespace, its own namespace, bound by targetRefs to the service
// or to the waypoint), the waypoint-wide policy for other destinations, and the notes.
#include <catch2/catch.hpp>

#include <algorithm>

#include "test/waypoint/telemetry/telemetry_test_support.h"
#include "waypoint/config/telemetry_settings.h"

namespace ambit::waypoint {
namespace {

using testing::loadTelemetries;
using testing::telemetryYaml;

SecurityTarget service(const std::string& namespace_, const std::string& name) {
  return SecurityTarget{namespace_, name, name + "." + namespace_ + ".svc.cluster.local"};
}

const std::string kLogOff = "  accessLogging:\n  - disabled: true\n";
const std::string kLogOn = "  accessLogging:\n  - disabled: false\n";
const std::string kCountOff =
    "  metrics:\n  - overrides:\n    - match:\n        metric: REQUEST_COUNT\n      disabled: "
    "true\n";

std::string bound(const std::string& kind, const std::string& name, const std::string& spec) {
  return "  targetRefs:\n  - kind: " + kind +
         "\n    group: " + (kind == "Gateway" ? "gateway.networking.k8s.io" : "\"\"") +
         "\n    name: " + name + "\n" + spec;
}

TEST_CASE("no Telemetry: every host gets the defaults") {
  const auto settings = TelemetrySettings::build({}, {service("default", "a")}, "default");
  CHECK(settings->forHost("a.default.svc.cluster.local").access_log);
  CHECK(settings->forHost("a.default.svc.cluster.local").defaultMetrics());
  CHECK(settings->forHost("").access_log);
  CHECK(settings->notes().empty());
}

TEST_CASE("root, waypoint namespace and targetRefs, per served service") {
  const std::vector<TelemetryEntry> entries = loadTelemetries(
      telemetryYaml("mesh", "istio-system", kLogOff) + telemetryYaml("ns", "default", kCountOff) +
      telemetryYaml("for-a", "default", bound("Service", "a", kLogOn)) +
      telemetryYaml("for-c", "other", bound("Service", "c", kLogOn)) +
      // A served service's namespace is not the waypoint's: its namespace-wide one does not apply.
      telemetryYaml("other-ns", "other", kLogOn));
  const auto settings = TelemetrySettings::build(
      entries, {service("default", "a"), service("default", "b"), service("other", "c")},
      "default");
  const TelemetryPolicy& a = settings->forHost("a.default.svc.cluster.local");
  const TelemetryPolicy& b = settings->forHost("b.default.svc.cluster.local");
  const TelemetryPolicy& c = settings->forHost("c.other.svc.cluster.local");
  const TelemetryPolicy& unknown = settings->forHost("10.0.0.1");
  CHECK(a.access_log);  // its own Telemetry turns the root's "off" back on
  CHECK_FALSE(b.access_log);
  CHECK(c.access_log);
  CHECK_FALSE(unknown.access_log);
  for (const TelemetryPolicy* p : {&a, &b, &c, &unknown}) {
    CHECK(p->metric(RequestMetric::kRequestCount).disabled);  // the waypoint namespace's
    CHECK_FALSE(p->metric(RequestMetric::kRequestDuration).disabled);
  }
  CHECK(&b == &unknown);  // shared: no Telemetry of its own
  CHECK(settings->notes().empty());
}

TEST_CASE(
    "a Telemetry naming the waypoint applies to every destination; one naming the service "
    "wins over it") {
  const std::vector<TelemetryEntry> entries = loadTelemetries(
      telemetryYaml("for-waypoint", "default", bound("Gateway", "waypoint", kLogOff)) +
      telemetryYaml("for-a", "default", bound("Service", "a", kLogOn)));
  const auto settings = TelemetrySettings::build(
      entries, {service("default", "a"), service("default", "b")}, "default");
  CHECK(settings->forHost("a.default.svc.cluster.local").access_log);
  CHECK_FALSE(settings->forHost("b.default.svc.cluster.local").access_log);
  CHECK_FALSE(settings->forHost("").access_log);
}

TEST_CASE("the first namespace-wide Telemetry by name, and a waypoint in the root namespace") {
  const std::vector<TelemetryEntry> entries = loadTelemetries(
      telemetryYaml("b-second", "default", kLogOn) + telemetryYaml("a-first", "default", kLogOff));
  CHECK_FALSE(TelemetrySettings::build(entries, {}, "default")->forHost("x").access_log);
  // The root namespace's Telemetry applies once, as the root's.
  const std::vector<TelemetryEntry> root =
      loadTelemetries(telemetryYaml("mesh", "istio-system", kLogOff));
  CHECK_FALSE(TelemetrySettings::build(root, {}, "istio-system")->forHost("x").access_log);
}

TEST_CASE("notes name the Telemetry, once each") {
  const std::string tcp =
      "  metrics:\n  - overrides:\n    - match:\n        metric: TCP_SENT_BYTES\n"
      "      disabled: true\n";
  const std::vector<TelemetryEntry> entries =
      loadTelemetries(telemetryYaml("mesh", "istio-system", tcp) +
                      telemetryYaml("for-a", "default", bound("Service", "a", tcp)));
  const auto settings = TelemetrySettings::build(
      entries, {service("default", "a"), service("default", "b")}, "default");
  const std::vector<std::string>& notes = settings->notes();
  REQUIRE(notes.size() == 2);
  CHECK(notes[0].find("Telemetry istio-system/mesh: ") == 0);
  CHECK(notes[1].find("Telemetry default/for-a: ") == 0);
}

}  // namespace
}  // namespace ambit::waypoint
