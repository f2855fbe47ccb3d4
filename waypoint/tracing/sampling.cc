// Sampling decisions and Istio's tracing config precedence.
#include "waypoint/tracing/sampling.h"

#include <absl/strings/str_cat.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

namespace ambit::waypoint::tracing {
namespace {

namespace mesh = istio::mesh::v1alpha1;
namespace tel = istio::telemetry::v1alpha1;

constexpr uint32_t kSamplingResolution = 1'000'000;

// Istio's proxyConfigSamplingValue: defaultConfig.tracing.sampling when set (0 means unset),
// where a value over 100 falls back to 1 percent.
double meshSamplingPercent(const mesh::MeshConfig& config) {
  const double sampling = config.default_config().tracing().sampling();
  if (sampling == 0.0) return kIstioDefaultSamplingPercent;
  if (sampling > 100.0) return kIstioDefaultSamplingPercent;
  return sampling;
}

TracingConfig disabled(std::string reason) {
  TracingConfig config;
  config.reason = std::move(reason);
  return config;
}

// The MeshConfig-only path, taken when no Telemetry configures tracing.
TracingConfig fromMeshConfig(const mesh::MeshConfig& config) {
  if (!config.enable_tracing()) return disabled("meshConfig.enableTracing is false");
  const mesh::Tracing& tracing = config.default_config().tracing();
  if (tracing.tracer_case() != mesh::Tracing::TRACER_NOT_SET &&
      tracing.tracer_case() != mesh::Tracing::kZipkin) {
    return disabled(
        "meshConfig.defaultConfig.tracing names a tracer other than zipkin, which Ambit "
        "does not report to");
  }
  TracingConfig result;
  result.enabled = true;
  result.percent = meshSamplingPercent(config);
  result.zipkin_address =
      tracing.zipkin().address().empty() ? kIstioDefaultZipkinAddress : tracing.zipkin().address();
  return result;
}

// Istio's `[<namespace>/]<hostname>` form of an extension provider's service.
std::string providerHost(const std::string& service) {
  const size_t slash = service.find('/');
  return slash == std::string::npos ? service : service.substr(slash + 1);
}

const mesh::MeshConfig::ExtensionProvider* findProvider(const mesh::MeshConfig& config,
                                                        const std::string& name) {
  for (const auto& provider : config.extension_providers()) {
    if (provider.name() == name) return &provider;
  }
  return nullptr;
}

}  // namespace

bool sampleRequest(const TraceContext* incoming, double percent, uint32_t random) {
  if (incoming != nullptr) {
    if (incoming->debug || incoming->sampled == Sampled::kYes) return true;
    if (incoming->sampled == Sampled::kNo) return false;
  }
  if (!(percent > 0)) return false;  // also NaN
  // Hits per million: percent * 10,000, rounded, at most the whole range.
  const double per_million =
      std::min(percent * (kSamplingResolution / 100.0), static_cast<double>(kSamplingResolution));
  const auto threshold = static_cast<uint32_t>(std::llround(per_million));
  return random % kSamplingResolution < threshold;
}

TracingConfig resolveTracing(const mesh::MeshConfig& config, const tel::Telemetry* root,
                             const tel::Telemetry* namespace_wide, const tel::Telemetry* workload) {
  // The entries that apply to a waypoint, least specific first, so later ones override.
  std::vector<const tel::Tracing*> entries;
  for (const tel::Telemetry* telemetry : {root, namespace_wide, workload}) {
    if (telemetry == nullptr) continue;
    for (const tel::Tracing& entry : telemetry->tracing()) {
      // Istio configures a waypoint's listeners as the server side (ListenerClassSidecarInbound).
      if (entry.has_match() && entry.match().mode() == tel::WorkloadMode::CLIENT) continue;
      entries.push_back(&entry);
    }
  }
  const auto& default_providers = config.default_providers().tracing();
  if (entries.empty() && default_providers.empty()) return fromMeshConfig(config);

  std::string provider_name = default_providers.empty() ? "" : default_providers[0];
  bool span_reporting_disabled = false;
  std::optional<double> percent;
  for (const tel::Tracing* entry : entries) {
    // Only one provider per proxy is supported; Istio takes the first.
    if (entry->providers_size() > 0) provider_name = entry->providers(0).name();
    if (entry->has_disable_span_reporting()) {
      span_reporting_disabled = entry->disable_span_reporting().value();
    }
    if (entry->has_random_sampling_percentage()) {
      percent = entry->random_sampling_percentage().value();
    }
  }

  if (span_reporting_disabled) return disabled("Telemetry tracing sets disableSpanReporting");
  if (provider_name.empty()) {
    // No provider anywhere, but the mesh config traces (IstioOperator's enableTracing with its
    // Zipkin address): Telemetry's sampling applies to that tracer.
    TracingConfig legacy = fromMeshConfig(config);
    if (legacy.enabled) {
      if (percent) legacy.percent = std::clamp(*percent, 0.0, 100.0);
      return legacy;
    }
    return disabled(
        "Telemetry configures tracing but names no provider, and meshConfig has no "
        "defaultProviders.tracing");
  }
  const mesh::MeshConfig::ExtensionProvider* provider = findProvider(config, provider_name);
  if (provider == nullptr) {
    return disabled(absl::StrCat("tracing provider \"", provider_name,
                                 "\" is not in meshConfig.extensionProviders"));
  }
  if (provider->provider_case() != mesh::MeshConfig::ExtensionProvider::kZipkin) {
    return disabled(absl::StrCat("tracing provider \"", provider_name,
                                 "\" is not a zipkin provider, the only kind Ambit reports to"));
  }
  const auto& zipkin = provider->zipkin();
  if (zipkin.service().empty() || zipkin.port() == 0 || zipkin.port() > 65535) {
    return disabled(
        absl::StrCat("tracing provider \"", provider_name, "\" lacks a service or a valid port"));
  }
  TracingConfig result;
  result.enabled = true;
  result.percent = percent ? *percent : meshSamplingPercent(config);
  result.zipkin_address = absl::StrCat(providerHost(zipkin.service()), ":", zipkin.port());
  result.zipkin_path = zipkin.path().empty() ? kZipkinSpansPath : zipkin.path();
  result.trace_id_128bit = !zipkin.enable_64bit_trace_id();
  result.provider = provider_name;
  return result;
}

}  // namespace ambit::waypoint::tracing
