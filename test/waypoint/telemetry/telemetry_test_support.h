// Helpers for the waypoint's Telemetry tests: Telemetry resources loaded from YAML through Ambit's
// loader (and its validation), Istio's samples, and series read back from a registry's rendering.
#pragma once

#include <string>
#include <vector>

#include "core/metrics/registry.h"
#include "waypoint/config/tracing_settings.h"

namespace ambit::waypoint::testing {

// The Telemetry resources of a YAML stream, in order; the test fails on any validation error.
std::vector<TelemetryEntry> loadTelemetries(const std::string& yaml);

// The one named `name`; the test fails when there is none.
const istio::telemetry::v1alpha1::Telemetry* telemetryNamed(
    const std::vector<TelemetryEntry>& entries, const std::string& name);

// samples/istio/<file> of the source tree.
std::string readSample(const std::string& file);

// A Telemetry manifest: `spec` is the body of `spec:`, indented by two spaces.
std::string telemetryYaml(const std::string& name, const std::string& namespace_,
                          const std::string& spec);

// The sample lines of `registry`'s rendering whose name is `name` exactly (before any `{`).
std::vector<std::string> samplesNamed(const metrics::Registry& registry, const std::string& name);

}  // namespace ambit::waypoint::testing
