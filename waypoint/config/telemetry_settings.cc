// Telemetry policies per served service, chosen as the tracing settings choose theirs.
#include "waypoint/config/telemetry_settings.h"

#include <absl/strings/str_cat.h>

#include <algorithm>

namespace ambit::waypoint {
namespace {

std::string nameOf(const TelemetryEntry& e) {
  return absl::StrCat("Telemetry ", e.namespace_, "/", e.name);
}

}  // namespace

std::shared_ptr<const TelemetrySettings> TelemetrySettings::build(
    const std::vector<TelemetryEntry>& telemetries, const std::vector<SecurityTarget>& services,
    const std::string& waypoint_namespace) {
  auto out = std::make_shared<TelemetrySettings>();
  const TelemetryEntry* root = namespaceWideOf(telemetries, kTelemetryRootNamespace);
  const TelemetryEntry* own = waypoint_namespace == kTelemetryRootNamespace
                                  ? nullptr
                                  : namespaceWideOf(telemetries, waypoint_namespace);
  TelemetryNames names;
  if (root != nullptr) names.root = nameOf(*root);
  if (own != nullptr) names.namespace_wide = nameOf(*own);
  auto add_notes = [&out](const TelemetryPolicy& policy) {
    for (const std::string& note : policy.notes) {
      if (std::find(out->notes_.begin(), out->notes_.end(), note) == out->notes_.end()) {
        out->notes_.push_back(note);
      }
    }
  };
  // Services bound to the same Telemetry share its policy; the waypoint-wide one is that of a
  // Telemetry naming the waypoint, if any.
  std::map<const TelemetryEntry*, std::shared_ptr<const TelemetryPolicy>> by_bound;
  const TelemetryEntry* to_waypoint = boundTo(telemetries, SecurityTarget{});
  if (to_waypoint != nullptr) names.workload = nameOf(*to_waypoint);
  out->waypoint_wide_ = std::make_shared<const TelemetryPolicy>(
      resolveTelemetry(root ? &root->spec : nullptr, own ? &own->spec : nullptr,
                       to_waypoint ? &to_waypoint->spec : nullptr, names));
  add_notes(*out->waypoint_wide_);
  by_bound[to_waypoint] = out->waypoint_wide_;
  for (const SecurityTarget& service : services) {
    const TelemetryEntry* bound = boundTo(telemetries, service);
    if (bound == to_waypoint) continue;  // the waypoint-wide policy
    std::shared_ptr<const TelemetryPolicy>& policy = by_bound[bound];
    if (policy == nullptr) {
      names.workload = nameOf(*bound);
      policy = std::make_shared<const TelemetryPolicy>(resolveTelemetry(
          root ? &root->spec : nullptr, own ? &own->spec : nullptr, &bound->spec, names));
      add_notes(*policy);
    }
    out->by_host_[service.hostname] = policy;
  }
  return out;
}

const TelemetryPolicy& TelemetrySettings::forHost(std::string_view hostname) const {
  auto it = by_host_.find(hostname);
  return it != by_host_.end() ? *it->second : *waypoint_wide_;
}

}  // namespace ambit::waypoint
