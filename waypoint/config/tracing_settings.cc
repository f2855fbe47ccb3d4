#include "waypoint/config/tracing_settings.h"

#include <absl/strings/str_cat.h>

#include "core/log.h"

namespace ambit::waypoint {

tracing::SpanReporter* SpanReporters::get(const std::string& address, const std::string& path) {
  const std::string key = absl::StrCat(address, path);
  std::lock_guard lock(mu_);
  auto it = reporters_.find(key);
  if (it != reporters_.end()) return it->second.get();
  tracing::SpanReporterOptions options;
  options.address = address;
  options.path = path;
  absl::StatusOr<std::unique_ptr<tracing::SpanReporter>> made =
      tracing::SpanReporter::create(options);
  if (!made.ok()) {
    log::get("waypoint")
        ->warn("tracing: no reporter for {}{}: {}", address, path,
               std::string(made.status().message()));
    reporters_[key] = nullptr;
    return nullptr;
  }
  log::get("waypoint")->info("tracing: spans go to http://{}{}", address, path);
  return (reporters_[key] = std::move(*made)).get();
}

std::map<std::string, tracing::SpanReporterStats> SpanReporters::stats() const {
  std::lock_guard lock(mu_);
  std::map<std::string, tracing::SpanReporterStats> out;
  for (const auto& [key, reporter] : reporters_) {
    if (reporter != nullptr) out[key] = reporter->stats();
  }
  return out;
}

std::shared_ptr<const TracingSettings> TracingSettings::build(
    const std::optional<istio::mesh::v1alpha1::MeshConfig>& mesh,
    const std::vector<TelemetryEntry>& telemetries, const std::vector<SecurityTarget>& services,
    const std::string& waypoint_namespace, SpanReporters& reporters) {
  auto out = std::make_shared<TracingSettings>();
  const istio::mesh::v1alpha1::MeshConfig mesh_config =
      mesh.value_or(istio::mesh::v1alpha1::MeshConfig());
  const TelemetryEntry* root = namespaceWideOf(telemetries, kTelemetryRootNamespace);
  const TelemetryEntry* own = waypoint_namespace == kTelemetryRootNamespace
                                  ? nullptr
                                  : namespaceWideOf(telemetries, waypoint_namespace);
  for (const SecurityTarget& service : services) {
    const TelemetryEntry* bound = boundTo(telemetries, service);
    ServiceTracing settings;
    settings.config =
        tracing::resolveTracing(mesh_config, root ? &root->spec : nullptr,
                                own ? &own->spec : nullptr, bound ? &bound->spec : nullptr);
    if (!settings.config.enabled) continue;
    settings.reporter = reporters.get(settings.config.zipkin_address, settings.config.zipkin_path);
    if (settings.reporter == nullptr) continue;
    out->by_host_.emplace(service.hostname, std::move(settings));
  }
  return out;
}

const ServiceTracing* TracingSettings::forHost(std::string_view hostname) const {
  auto it = by_host_.find(hostname);
  return it != by_host_.end() ? &it->second : nullptr;
}

}  // namespace ambit::waypoint
