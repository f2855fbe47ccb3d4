// A waypoint's tracing config from IstioOperator meshConfig and Telemetry resources, written as
// users write them and loaded through Ambit's loader: the MeshConfig-only path, and Istio's
// precedence of workload over namespace over root-namespace Telemetry.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <sstream>

#include "core/config/loader.h"
#include "core/config/validate/validate.h"
#include "istio/install/v1alpha1/operator.pb.h"
#include "waypoint/tracing/sampling.h"

namespace ambit::waypoint::tracing {
namespace {

namespace mesh = istio::mesh::v1alpha1;
namespace tel = istio::telemetry::v1alpha1;

struct Config {
  mesh::MeshConfig mesh;                            // from the IstioOperator, if any
  std::map<std::string, tel::Telemetry> telemetry;  // by name
  const tel::Telemetry* get(const std::string& name) const {
    const auto it = telemetry.find(name);
    REQUIRE(it != telemetry.end());
    return &it->second;
  }
};

// Loads a YAML stream; unless `validate` is false, the test fails on any validation error.
Config load(const std::string& yaml, bool validate = true) {
  config::LoadResult loaded;
  config::Loader().loadText(yaml, "test.yaml", loaded);
  if (validate) config::validate::validateAll(loaded.objects, loaded.diagnostics);
  for (const config::Diagnostic& diagnostic : loaded.diagnostics) {
    INFO(diagnostic.format());
    CHECK(diagnostic.severity != config::Severity::kError);
  }
  Config out;
  for (const config::Object& object : loaded.objects) {
    if (object.kind->kind == config::Kind::kIstioOperator) {
      out.mesh = object.as<istio::install::v1alpha1::IstioOperatorSpec>().meshconfig();
    } else if (object.kind->kind == config::Kind::kTelemetry) {
      out.telemetry[object.name()] = object.as<tel::Telemetry>();
    }
  }
  return out;
}

std::string readSample(const std::string& file) {
  std::ifstream in(std::string(AMBIT_SOURCE_DIR) + "/samples/istio/" + file);
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A mesh with two Zipkin providers and an OpenTelemetry one; `extra` adds meshConfig fields.
std::string meshWithProviders(const std::string& extra = "") {
  return R"(apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  meshConfig:
    extensionProviders:
    - name: zipkin
      zipkin:
        service: zipkin.istio-system.svc.cluster.local
        port: 9411
    - name: other-zipkin
      zipkin:
        service: observability/collector.observability.svc.cluster.local
        port: 9412
        path: /zipkin/spans
        enable64bitTraceId: true
    - name: otel
      opentelemetry:
        service: otel.observability.svc.cluster.local
        port: 4317
)" + extra;
}

std::string telemetry(const std::string& name, const std::string& namespace_,
                      const std::string& tracing) {
  return "---\napiVersion: telemetry.istio.io/v1alpha1\nkind: Telemetry\nmetadata:\n  name: " +
         name + "\n  namespace: " + namespace_ + "\nspec:\n  tracing:\n" + tracing;
}

TEST_CASE("Istio's example 14: enableTracing with 100 percent to Zipkin") {
  const Config c = load(readSample("14-tracing-istiooperator.yaml"));
  const TracingConfig t = resolveTracing(c.mesh, nullptr, nullptr, nullptr);
  CHECK(t.enabled);
  CHECK(t.percent == 100.0);
  CHECK(t.zipkin_address == "zipkin.istio-system:9411");
  CHECK(t.zipkin_path == "/api/v2/spans");
  CHECK(t.trace_id_128bit);
  CHECK(t.provider.empty());
  CHECK(t.reason.empty());
}

TEST_CASE("the MeshConfig-only path") {
  SECTION("tracing is off by default") {
    const TracingConfig t = resolveTracing(mesh::MeshConfig(), nullptr, nullptr, nullptr);
    CHECK_FALSE(t.enabled);
    CHECK(t.reason == "meshConfig.enableTracing is false");
  }
  SECTION("enabled without sampling or address: 1 percent to Istio's default Zipkin") {
    const Config c = load(R"(apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  meshConfig:
    enableTracing: true
)");
    const TracingConfig t = resolveTracing(c.mesh, nullptr, nullptr, nullptr);
    CHECK(t.enabled);
    CHECK(t.percent == 1.0);
    CHECK(t.zipkin_address == "zipkin.istio-system:9411");
  }
  SECTION("a sampling over 100 means 1 percent, as Istio reads it") {
    const Config c = load(R"(apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  meshConfig:
    enableTracing: true
    defaultConfig:
      tracing:
        sampling: 150
        zipkin:
          address: zipkin.tracing:9411
)",
                          /*validate=*/false);
    const TracingConfig t = resolveTracing(c.mesh, nullptr, nullptr, nullptr);
    CHECK(t.enabled);
    CHECK(t.percent == 1.0);
    CHECK(t.zipkin_address == "zipkin.tracing:9411");
  }
  SECTION("a tracer other than Zipkin is not reported to") {
    const Config c = load(R"(apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  meshConfig:
    enableTracing: true
    defaultConfig:
      tracing:
        sampling: 10
        datadog:
          address: datadog.agent:8126
)");
    const TracingConfig t = resolveTracing(c.mesh, nullptr, nullptr, nullptr);
    CHECK_FALSE(t.enabled);
    CHECK_THAT(t.reason, Catch::Contains("zipkin"));
  }
  SECTION("a Telemetry without tracing entries leaves the MeshConfig in charge") {
    const Config c = load(readSample("14-tracing-istiooperator.yaml") + "\n---\n" +
                          readSample("15-telemetry.yaml"));
    const TracingConfig t =
        resolveTracing(c.mesh, c.get("mesh-default"), c.get("namespace-metrics"), nullptr);
    CHECK(t.enabled);
    CHECK(t.percent == 100.0);
  }
}

TEST_CASE("Telemetry precedence: workload over namespace over root namespace") {
  const std::string yaml =
      meshWithProviders(R"(    defaultConfig:
      tracing:
        sampling: 5
)") + telemetry("root", "istio-system", R"(  - providers:
    - name: zipkin
    randomSamplingPercentage: 10
)") + telemetry("ns", "demo", "  - randomSamplingPercentage: 20\n") +
      telemetry("ns-other-provider", "demo", "  - providers:\n    - name: other-zipkin\n") +
      telemetry("ns-disable", "demo", "  - disableSpanReporting: true\n") +
      telemetry("wl", "demo", "  - randomSamplingPercentage: 30\n") +
      telemetry("wl-enable", "demo", "  - disableSpanReporting: false\n") +
      telemetry("wl-zero", "demo", "  - randomSamplingPercentage: 0\n") +
      telemetry("wl-client-only", "demo", R"(  - match:
      mode: CLIENT
    randomSamplingPercentage: 70
    disableSpanReporting: true
)") + telemetry("wl-server-only", "demo", R"(  - match:
      mode: SERVER
    randomSamplingPercentage: 80
)") + telemetry("wl-no-percent", "demo", "  - providers:\n    - name: zipkin\n");
  const Config c = load(yaml);
  const auto* root = c.get("root");

  struct Case {
    const char* name;
    const tel::Telemetry* root;
    const tel::Telemetry* namespace_wide;
    const tel::Telemetry* workload;
    bool enabled;
    double percent;
    const char* address;
  };
  const char* kZipkin = "zipkin.istio-system.svc.cluster.local:9411";
  const char* kOther = "collector.observability.svc.cluster.local:9412";
  const std::vector<Case> cases = {
      {"root alone", root, nullptr, nullptr, true, 10, kZipkin},
      {"namespace over root", root, c.get("ns"), nullptr, true, 20, kZipkin},
      {"workload over namespace", root, c.get("ns"), c.get("wl"), true, 30, kZipkin},
      {"workload over root", root, nullptr, c.get("wl"), true, 30, kZipkin},
      {"an explicit 0 percent overrides", root, c.get("ns"), c.get("wl-zero"), true, 0, kZipkin},
      {"a field left unset keeps the parent's", root, c.get("ns"), c.get("wl-no-percent"), true, 20,
       kZipkin},
      {"the namespace changes the provider", root, c.get("ns-other-provider"), c.get("wl"), true,
       30, kOther},
      {"the namespace disables span reporting", root, c.get("ns-disable"), nullptr, false, 0, ""},
      {"the workload enables it again", root, c.get("ns-disable"), c.get("wl-enable"), true, 10,
       kZipkin},
      {"CLIENT entries do not apply to a waypoint", root, nullptr, c.get("wl-client-only"), true,
       10, kZipkin},
      {"SERVER entries do", root, nullptr, c.get("wl-server-only"), true, 80, kZipkin},
      {"without a percentage, defaultConfig's sampling", nullptr, nullptr, c.get("wl-no-percent"),
       true, 5, kZipkin},
  };
  for (const Case& k : cases) {
    SECTION(k.name) {
      const TracingConfig t = resolveTracing(c.mesh, k.root, k.namespace_wide, k.workload);
      INFO(t.reason);
      CHECK(t.enabled == k.enabled);
      if (k.enabled) {
        CHECK(t.percent == k.percent);
        CHECK(t.zipkin_address == k.address);
        CHECK(t.reason.empty());
      } else {
        CHECK_FALSE(t.reason.empty());
      }
    }
  }
}

TEST_CASE("Telemetry providers") {
  const std::string yaml =
      meshWithProviders("    defaultProviders:\n      tracing:\n      - zipkin\n") +
      telemetry("other", "demo", "  - providers:\n    - name: other-zipkin\n") +
      telemetry("otel", "demo", "  - providers:\n    - name: otel\n") +
      telemetry("missing", "demo", "  - providers:\n    - name: jaeger\n") +
      telemetry("first-wins", "demo", R"(  - providers:
    - name: other-zipkin
    - name: zipkin
)");
  const Config c = load(yaml);

  SECTION("the mesh's default provider applies without any Telemetry, enableTracing or not") {
    const TracingConfig t = resolveTracing(c.mesh, nullptr, nullptr, nullptr);
    CHECK(t.enabled);
    CHECK(t.provider == "zipkin");
    CHECK(t.zipkin_address == "zipkin.istio-system.svc.cluster.local:9411");
    CHECK(t.zipkin_path == "/api/v2/spans");
    CHECK(t.percent == 1.0);
    CHECK(t.trace_id_128bit);
  }
  SECTION("a named provider: namespace prefix, path and 64-bit ids") {
    const TracingConfig t = resolveTracing(c.mesh, nullptr, c.get("other"), nullptr);
    CHECK(t.enabled);
    CHECK(t.provider == "other-zipkin");
    CHECK(t.zipkin_address == "collector.observability.svc.cluster.local:9412");
    CHECK(t.zipkin_path == "/zipkin/spans");
    CHECK_FALSE(t.trace_id_128bit);
  }
  SECTION("the first provider of an entry is the one used") {
    CHECK(resolveTracing(c.mesh, nullptr, nullptr, c.get("first-wins")).provider == "other-zipkin");
  }
  SECTION("a provider that is not Zipkin turns tracing off") {
    const TracingConfig t = resolveTracing(c.mesh, nullptr, nullptr, c.get("otel"));
    CHECK_FALSE(t.enabled);
    CHECK_THAT(t.reason, Catch::Contains("\"otel\" is not a zipkin provider"));
  }
  SECTION("an unknown provider turns tracing off") {
    const TracingConfig t = resolveTracing(c.mesh, nullptr, nullptr, c.get("missing"));
    CHECK_FALSE(t.enabled);
    CHECK_THAT(t.reason, Catch::Contains("\"jaeger\" is not in meshConfig.extensionProviders"));
  }
  SECTION("tracing entries with no provider anywhere turn tracing off") {
    const Config bare = load(meshWithProviders() +
                             telemetry("percent", "demo", "  - randomSamplingPercentage: 50\n"));
    const TracingConfig t = resolveTracing(bare.mesh, nullptr, bare.get("percent"), nullptr);
    CHECK_FALSE(t.enabled);
    CHECK_THAT(t.reason, Catch::Contains("names no provider"));
  }
  SECTION("with no provider anywhere, Telemetry's sampling tunes the mesh config's tracer") {
    const Config with14 =
        load(readSample("14-tracing-istiooperator.yaml") + "\n---\n" +
             telemetry("percent", "demo", "  - randomSamplingPercentage: 12.5\n"));
    const TracingConfig t = resolveTracing(with14.mesh, nullptr, with14.get("percent"), nullptr);
    CHECK(t.enabled);
    CHECK(t.percent == 12.5);
    CHECK(t.zipkin_address == "zipkin.istio-system:9411");
    const Config disabling = load(telemetry("off", "demo", "  - disableSpanReporting: true\n"));
    const TracingConfig off = resolveTracing(with14.mesh, nullptr, disabling.get("off"), nullptr);
    CHECK_FALSE(off.enabled);
  }
}

}  // namespace
}  // namespace ambit::waypoint::tracing
