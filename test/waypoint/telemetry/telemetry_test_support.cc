// Loading Telemetry resources and reading a registry's rendering for the Telemetry tests.
#include "test/waypoint/telemetry/telemetry_test_support.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "core/config/loader.h"
#include "core/config/validate/validate.h"

namespace ambit::waypoint::testing {

std::vector<TelemetryEntry> loadTelemetries(const std::string& yaml) {
  config::LoadResult loaded;
  config::Loader().loadText(yaml, "test.yaml", loaded);
  config::validate::validateAll(loaded.objects, loaded.diagnostics);
  for (const config::Diagnostic& diagnostic : loaded.diagnostics) {
    INFO(diagnostic.format());
    CHECK(diagnostic.severity != config::Severity::kError);
  }
  std::vector<TelemetryEntry> out;
  for (const config::Object& object : loaded.objects) {
    if (object.kind->kind != config::Kind::kTelemetry) continue;
    out.push_back(TelemetryEntry{object.namespace_(), object.name(),
                                 object.as<istio::telemetry::v1alpha1::Telemetry>()});
  }
  return out;
}

const istio::telemetry::v1alpha1::Telemetry* telemetryNamed(
    const std::vector<TelemetryEntry>& entries, const std::string& name) {
  for (const TelemetryEntry& e : entries) {
    if (e.name == name) return &e.spec;
  }
  FAIL("no Telemetry named " << name);
  return nullptr;
}

std::string readSample(const std::string& file) {
  std::ifstream in(std::string(AMBIT_SOURCE_DIR) + "/samples/istio/" + file);
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string telemetryYaml(const std::string& name, const std::string& namespace_,
                          const std::string& spec) {
  return "---\napiVersion: telemetry.istio.io/v1alpha1\nkind: Telemetry\nmetadata:\n  name: " +
         name + "\n  namespace: " + namespace_ + "\nspec:\n" + spec;
}

std::vector<std::string> samplesNamed(const metrics::Registry& registry, const std::string& name) {
  std::vector<std::string> out;
  std::istringstream lines(registry.render());
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t end = line.find_first_of("{ ");
    if (line.substr(0, end) == name) out.push_back(line);
  }
  return out;
}

}  // namespace ambit::waypoint::testing
