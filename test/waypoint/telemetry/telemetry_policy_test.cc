// A waypoint's Telemetry policy from Telemetry resources as users write them (loaded through
// Ambit's loader): Istio's example 15, the access log switch, disabled metrics and tag overrides,
// with Istio's precedence of workload over namespace over root namespace and the notes for what
// Ambit does not do.
#include <catch2/catch.hpp>

#include <algorithm>

#include "test/waypoint/telemetry/telemetry_test_support.h"
#include "waypoint/telemetry/telemetry_policy.h"

namespace ambit::waypoint {
namespace {

using testing::loadTelemetries;
using testing::readSample;
using testing::telemetryNamed;
using testing::telemetryYaml;
using tel_t = istio::telemetry::v1alpha1::Telemetry;

// The policy of root, namespace and workload Telemetry resources given by name ("" for none),
// all loaded from `yaml`.
TelemetryPolicy resolve(const std::string& yaml, const std::string& root,
                        const std::string& namespace_wide, const std::string& workload = "") {
  const std::vector<TelemetryEntry> entries = loadTelemetries(yaml);
  auto named = [&](const std::string& name) -> const tel_t* {
    return name.empty() ? nullptr : telemetryNamed(entries, name);
  };
  return resolveTelemetry(named(root), named(namespace_wide), named(workload));
}

bool hasNote(const TelemetryPolicy& policy, const std::string& part) {
  return std::any_of(policy.notes.begin(), policy.notes.end(),
                     [&](const std::string& note) { return note.find(part) != std::string::npos; });
}

const MetricPolicy& metric(const TelemetryPolicy& p, RequestMetric m) { return p.metric(m); }

// The disabled flags of the four metrics, in RequestMetric order.
std::vector<bool> disabled(const TelemetryPolicy& p) {
  std::vector<bool> out;
  for (const MetricPolicy& m : p.metrics) out.push_back(m.disabled);
  return out;
}

TagOverride upsert(const std::string& label, TagValue::Source source,
                   const std::string& text = "") {
  return TagOverride{label, false, TagValue{source, text}};
}

TagOverride removal(const std::string& label) { return TagOverride{label, true, TagValue{}}; }

TEST_CASE("without Telemetry: access log on, Istio's metrics unchanged") {
  const TelemetryPolicy p = resolveTelemetry(nullptr, nullptr, nullptr);
  CHECK(p.access_log);
  CHECK(p.defaultMetrics());
  CHECK(disabled(p) == std::vector<bool>{false, false, false, false});
  CHECK(p.notes.empty());
}

TEST_CASE("Istio's example 15 as written") {
  const std::vector<TelemetryEntry> entries = loadTelemetries(readSample("15-telemetry.yaml"));
  REQUIRE(entries.size() == 2);
  const TelemetryPolicy p = resolveTelemetry(telemetryNamed(entries, "mesh-default"),
                                             telemetryNamed(entries, "namespace-metrics"), nullptr);
  // The root Telemetry turns the envoy access log on: it already is.
  CHECK(p.access_log);
  // The UPSERT of response_code has no value (Istio requires one): nothing changes, with a note.
  CHECK(p.defaultMetrics());
  REQUIRE(p.notes.size() == 1);
  CHECK(p.notes[0].find("response_code") != std::string::npos);
  CHECK(p.notes[0].find("without a value") != std::string::npos);
  CHECK(p.notes[0].find("the namespace's Telemetry") == 0);
}

TEST_CASE("access logging: disabled, providers, modes and precedence") {
  const std::string off = "  accessLogging:\n  - disabled: true\n";
  const std::string envoy_on = "  accessLogging:\n  - providers:\n    - name: envoy\n";
  const std::string envoy_off =
      "  accessLogging:\n  - providers:\n    - name: envoy\n    disabled: true\n";
  const std::string explicit_on = "  accessLogging:\n  - disabled: false\n";
  const std::string otel_off =
      "  accessLogging:\n  - providers:\n    - name: otel\n    disabled: true\n";
  const std::string client_off =
      "  accessLogging:\n  - match:\n      mode: CLIENT\n    disabled: true\n";
  const std::string server_off =
      "  accessLogging:\n  - match:\n      mode: SERVER\n    disabled: true\n";
  const std::string both_off =
      "  accessLogging:\n  - match:\n      mode: CLIENT_AND_SERVER\n    disabled: true\n";
  const std::string filtered =
      "  accessLogging:\n  - filter:\n      expression: response.code >= 400\n";
  const std::string two_entries = "  accessLogging:\n  - disabled: true\n  - disabled: false\n";
  struct Case {
    std::string what, root, ns, workload;
    bool access_log;
    std::string note;  // a part of a note there must be; empty: no notes at all
  };
  const Case cases[] = {
      {"root disables", off, "", "", false, ""},
      {"root disables via envoy", envoy_off, "", "", false, ""},
      {"namespace enables over root", off, envoy_on, "", true, ""},
      {"workload enables over namespace", "", off, explicit_on, true, ""},
      {"workload disables over root", envoy_on, "", off, false, ""},
      {"another provider changes nothing", off, otel_off, "", false, "\"otel\""},
      {"another provider, default on", "", "", otel_off, true, "\"otel\""},
      {"client mode is skipped", "", client_off, "", true, ""},
      {"server mode applies", "", server_off, "", false, ""},
      {"client and server mode applies", "", "", both_off, false, ""},
      {"a filter is noted, every request logged", off, filtered, "", true,
       "every request is logged"},
      {"later entry of one Telemetry wins", "", two_entries, "", true, ""},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    std::string yaml;
    if (!c.root.empty()) yaml += telemetryYaml("root", "istio-system", c.root);
    if (!c.ns.empty()) yaml += telemetryYaml("ns", "default", c.ns);
    if (!c.workload.empty()) yaml += telemetryYaml("workload", "default", c.workload);
    const TelemetryPolicy p = resolve(yaml, c.root.empty() ? "" : "root", c.ns.empty() ? "" : "ns",
                                      c.workload.empty() ? "" : "workload");
    CHECK(p.access_log == c.access_log);
    if (c.note.empty()) {
      CHECK(p.notes.empty());
    } else {
      CHECK(hasNote(p, c.note));
    }
    CHECK(p.defaultMetrics());
  }
}

// A metrics entry overriding `metric` (empty: no match) with `body` (indented under the override).
std::string metricsOverride(const std::string& metric, const std::string& body,
                            const std::string& providers = "", const std::string& mode = "") {
  std::string out = "  metrics:\n  - ";
  if (!providers.empty()) out += "providers:\n" + providers + "    ";
  out += "overrides:\n    - ";
  if (!metric.empty() || !mode.empty()) {
    out += "match:\n";
    if (!metric.empty()) out += "        metric: " + metric + "\n";
    if (!mode.empty()) out += "        mode: " + mode + "\n";
    out += "      ";
  }
  return out + body;
}

TEST_CASE("metrics: disabled, by metric, mode and provider") {
  const std::string off = "disabled: true\n";
  const std::string on = "disabled: false\n";
  const std::string prometheus = "    - name: prometheus\n";
  const std::string stackdriver = "    - name: stackdriver\n";
  struct Case {
    std::string what, root, ns, workload;
    std::vector<bool> disabled;
    std::string note;
  };
  using V = std::vector<bool>;
  const Case cases[] = {
      {"REQUEST_COUNT", "", metricsOverride("REQUEST_COUNT", off), "", V{true, false, false, false},
       ""},
      {"REQUEST_DURATION", metricsOverride("REQUEST_DURATION", off), "", "",
       V{false, true, false, false}, ""},
      {"REQUEST_SIZE", "", "", metricsOverride("REQUEST_SIZE", off), V{false, false, true, false},
       ""},
      {"RESPONSE_SIZE", "", metricsOverride("RESPONSE_SIZE", off, prometheus), "",
       V{false, false, false, true}, ""},
      {"ALL_METRICS", metricsOverride("ALL_METRICS", off), "", "", V{true, true, true, true}, ""},
      {"no match is every metric", "", metricsOverride("", off), "", V{true, true, true, true}, ""},
      {"namespace re-enables one", metricsOverride("ALL_METRICS", off),
       metricsOverride("REQUEST_DURATION", on), "", V{true, false, true, true}, ""},
      {"workload re-enables all", metricsOverride("ALL_METRICS", off), "",
       metricsOverride("ALL_METRICS", on), V{false, false, false, false}, ""},
      {"an override without disabled keeps it", metricsOverride("ALL_METRICS", off),
       metricsOverride("REQUEST_COUNT", "tagOverrides:\n        x:\n          operation: REMOVE\n"),
       "", V{true, true, true, true}, ""},
      {"client mode is skipped", "", metricsOverride("REQUEST_COUNT", off, "", "CLIENT"), "",
       V{false, false, false, false}, ""},
      {"server mode applies", "", metricsOverride("REQUEST_COUNT", off, "", "SERVER"), "",
       V{true, false, false, false}, ""},
      {"client and server mode applies", "",
       metricsOverride("REQUEST_COUNT", off, "", "CLIENT_AND_SERVER"), "",
       V{true, false, false, false}, ""},
      {"TCP metrics are the agents'", "", metricsOverride("TCP_OPENED_CONNECTIONS", off), "",
       V{false, false, false, false}, "TCP_OPENED_CONNECTIONS is not reported by the waypoint"},
      {"gRPC message metrics", "", metricsOverride("GRPC_REQUEST_MESSAGES", off), "",
       V{false, false, false, false}, "GRPC_REQUEST_MESSAGES is not reported by the waypoint"},
      {"another provider is ignored", "", metricsOverride("ALL_METRICS", off, stackdriver), "",
       V{false, false, false, false}, "\"stackdriver\""},
      {"prometheus among others applies", "",
       metricsOverride("ALL_METRICS", off, prometheus + stackdriver), "", V{true, true, true, true},
       "\"stackdriver\""},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    std::string yaml;
    if (!c.root.empty()) yaml += telemetryYaml("root", "istio-system", c.root);
    if (!c.ns.empty()) yaml += telemetryYaml("ns", "default", c.ns);
    if (!c.workload.empty()) yaml += telemetryYaml("workload", "default", c.workload);
    INFO(yaml);
    const TelemetryPolicy p = resolve(yaml, c.root.empty() ? "" : "root", c.ns.empty() ? "" : "ns",
                                      c.workload.empty() ? "" : "workload");
    CHECK(disabled(p) == c.disabled);
    if (c.note.empty()) {
      CHECK(p.notes.empty());
    } else {
      CHECK(hasNote(p, c.note));
    }
    CHECK(p.access_log);
  }
}

TEST_CASE("a custom metric is noted and ignored") {
  const std::string yaml = telemetryYaml("ns", "default", R"(  metrics:
  - overrides:
    - match:
        customMetric: my_metric
      disabled: true
)");
  const TelemetryPolicy p = resolve(yaml, "", "ns");
  CHECK(p.defaultMetrics());
  CHECK(hasNote(p, "custom metric \"my_metric\""));
}

TEST_CASE("tag overrides: REMOVE and UPSERT on the metrics they match") {
  const std::string yaml = telemetryYaml("ns", "default", R"(  metrics:
  - providers:
    - name: prometheus
    overrides:
    - match:
        metric: REQUEST_DURATION
      tagOverrides:
        request_protocol:
          operation: REMOVE
    - match:
        metric: REQUEST_COUNT
      tagOverrides:
        user_type:
          value: request.headers['x-user-type']
        route_path:
          operation: UPSERT
          value: request.url_path
        tier:
          value: "'gold'"
)");
  const TelemetryPolicy p = resolve(yaml, "", "ns");
  CHECK(p.notes.empty());
  CHECK_FALSE(p.defaultMetrics());
  CHECK(metric(p, RequestMetric::kRequestDuration).overrides ==
        std::vector<TagOverride>{removal("request_protocol")});
  // Sorted by label.
  CHECK(metric(p, RequestMetric::kRequestCount).overrides ==
        std::vector<TagOverride>{
            upsert("route_path", TagValue::Source::kRequestUrlPath),
            upsert("tier", TagValue::Source::kLiteral, "gold"),
            upsert("user_type", TagValue::Source::kRequestHeader, "x-user-type")});
  CHECK(metric(p, RequestMetric::kRequestSize).overrides.empty());
  CHECK(metric(p, RequestMetric::kResponseSize).overrides.empty());
}

TEST_CASE("tag overrides: each supported expression, through the loader") {
  struct Case {
    std::string value;  // as YAML writes it
    TagValue expected;
  };
  using S = TagValue::Source;
  const Case cases[] = {
      {"\"'text'\"", {S::kLiteral, "text"}},
      {"'\"text\"'", {S::kLiteral, "text"}},
      {"request.host", {S::kRequestHost, ""}},
      {"request.method", {S::kRequestMethod, ""}},
      {"request.url_path", {S::kRequestUrlPath, ""}},
      {"request.path", {S::kRequestPath, ""}},
      {"request.scheme", {S::kRequestScheme, ""}},
      {"request.protocol", {S::kRequestProtocol, ""}},
      {"\"request.headers['x-a']\"", {S::kRequestHeader, "x-a"}},
      {"'request.headers[\"X-A\"]'", {S::kRequestHeader, "x-a"}},
      {"source.principal", {S::kSourcePrincipal, ""}},
      {"destination.port", {S::kDestinationPort, ""}},
      {"string(destination.port)", {S::kDestinationPort, ""}},
      {"response.code", {S::kResponseCode, ""}},
  };
  for (const Case& c : cases) {
    INFO(c.value);
    const std::string yaml =
        telemetryYaml("ns", "default",
                      metricsOverride("ALL_METRICS",
                                      "tagOverrides:\n        my_label:\n          operation: "
                                      "UPSERT\n          value: " +
                                          c.value + "\n"));
    const TelemetryPolicy p = resolve(yaml, "", "ns");
    CHECK(p.notes.empty());
    for (const MetricPolicy& m : p.metrics) {
      CHECK(m.overrides == std::vector<TagOverride>{TagOverride{"my_label", false, c.expected}});
    }
  }
}

TEST_CASE("tag overrides: unsupported expressions and names are noted and change nothing") {
  struct Case {
    std::string tag;  // the tagOverrides entry, as YAML under the override
    std::string note;
  };
  const Case cases[] = {
      {"        x:\n          value: \"request.headers['x'] || 'none'\"\n",
       "is not an expression Ambit evaluates"},
      {"        x:\n          value: source.namespace\n", "\"source.namespace\""},
      {"        x:\n          operation: UPSERT\n", "without a value"},
      {"        9lives:\n          value: \"'a'\"\n", "not a valid Prometheus label name"},
      {"        __name__:\n          value: \"'a'\"\n", "not a valid Prometheus label name"},
  };
  for (const Case& c : cases) {
    INFO(c.tag);
    // The root upserts x; the namespace's ignored override leaves that in place.
    const std::string yaml =
        telemetryYaml("root", "istio-system",
                      metricsOverride("REQUEST_COUNT",
                                      "tagOverrides:\n        x:\n          value: \"'root'\"\n")) +
        telemetryYaml("ns", "default", metricsOverride("REQUEST_COUNT", "tagOverrides:\n" + c.tag));
    const TelemetryPolicy p = resolve(yaml, "root", "ns");
    CHECK(hasNote(p, c.note));
    CHECK(p.notes.size() == 1);
    CHECK(p.notes[0].find("the namespace's Telemetry: ") == 0);
    CHECK(metric(p, RequestMetric::kRequestCount).overrides ==
          std::vector<TagOverride>{upsert("x", TagValue::Source::kLiteral, "root")});
  }
}

TEST_CASE("tag overrides: later wins per metric and tag, root then namespace then workload") {
  auto tags = [](const std::string& metric, const std::string& label, const std::string& op) {
    return metricsOverride(metric, "tagOverrides:\n        " + label + ":\n" + op);
  };
  const std::string remove = "          operation: REMOVE\n";
  auto value = [](const std::string& text) { return "          value: \"'" + text + "'\"\n"; };
  using S = TagValue::Source;
  struct Case {
    std::string what, root, ns, workload;
    std::vector<TagOverride> count;  // REQUEST_COUNT's overrides
    std::vector<TagOverride> size;   // REQUEST_SIZE's
  };
  const Case cases[] = {
      {"namespace over root",
       tags("ALL_METRICS", "x", value("root")),
       tags("ALL_METRICS", "x", value("ns")),
       "",
       {upsert("x", S::kLiteral, "ns")},
       {upsert("x", S::kLiteral, "ns")}},
      {"workload removes what root upserted",
       tags("ALL_METRICS", "x", value("root")),
       "",
       tags("REQUEST_COUNT", "x", remove),
       {removal("x")},
       {upsert("x", S::kLiteral, "root")}},
      {"namespace upserts what root removed",
       tags("REQUEST_COUNT", "response_code", remove),
       tags("REQUEST_COUNT", "response_code", value("any")),
       "",
       {upsert("response_code", S::kLiteral, "any")},
       {}},
      {"different tags add up",
       tags("ALL_METRICS", "a", value("1")),
       tags("REQUEST_COUNT", "b", remove),
       tags("REQUEST_COUNT", "c", value("3")),
       {upsert("a", S::kLiteral, "1"), removal("b"), upsert("c", S::kLiteral, "3")},
       {upsert("a", S::kLiteral, "1")}},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    std::string yaml;
    if (!c.root.empty()) yaml += telemetryYaml("root", "istio-system", c.root);
    if (!c.ns.empty()) yaml += telemetryYaml("ns", "default", c.ns);
    if (!c.workload.empty()) yaml += telemetryYaml("workload", "default", c.workload);
    const TelemetryPolicy p = resolve(yaml, c.root.empty() ? "" : "root", c.ns.empty() ? "" : "ns",
                                      c.workload.empty() ? "" : "workload");
    CHECK(p.notes.empty());
    CHECK(metric(p, RequestMetric::kRequestCount).overrides == c.count);
    CHECK(metric(p, RequestMetric::kRequestSize).overrides == c.size);
  }
}

TEST_CASE("tag overrides: within one Telemetry, later overrides win") {
  const std::string yaml = telemetryYaml("ns", "default", R"(  metrics:
  - overrides:
    - tagOverrides:
        x:
          value: "'first'"
        y:
          operation: REMOVE
    - match:
        metric: REQUEST_COUNT
      tagOverrides:
        x:
          operation: REMOVE
        y:
          value: "'second'"
  - overrides:
    - match:
        metric: REQUEST_DURATION
      tagOverrides:
        x:
          value: request.method
)");
  const TelemetryPolicy p = resolve(yaml, "", "ns");
  using S = TagValue::Source;
  CHECK(metric(p, RequestMetric::kRequestCount).overrides ==
        std::vector<TagOverride>{removal("x"), upsert("y", S::kLiteral, "second")});
  CHECK(metric(p, RequestMetric::kRequestDuration).overrides ==
        std::vector<TagOverride>{upsert("x", S::kRequestMethod), removal("y")});
  CHECK(metric(p, RequestMetric::kResponseSize).overrides ==
        std::vector<TagOverride>{upsert("x", S::kLiteral, "first"), removal("y")});
}

TEST_CASE("notes name the Telemetry they come from") {
  const std::string yaml =
      telemetryYaml("ns", "default", metricsOverride("TCP_SENT_BYTES", "disabled: true\n"));
  const std::vector<TelemetryEntry> entries = loadTelemetries(yaml);
  TelemetryNames names;
  names.namespace_wide = "Telemetry default/ns";
  const TelemetryPolicy p =
      resolveTelemetry(nullptr, telemetryNamed(entries, "ns"), nullptr, names);
  REQUIRE(p.notes.size() == 1);
  CHECK(p.notes[0].find("Telemetry default/ns: metrics override ignored: TCP_SENT_BYTES") == 0);
}

}  // namespace
}  // namespace ambit::waypoint
