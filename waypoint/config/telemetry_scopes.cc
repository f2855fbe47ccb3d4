#include "waypoint/config/telemetry_scopes.h"

namespace ambit::waypoint {

bool namespaceWide(const istio::telemetry::v1alpha1::Telemetry& spec) {
  return !spec.has_selector() && spec.targetrefs().empty() && !spec.has_targetref();
}

const TelemetryEntry* namespaceWideOf(const std::vector<TelemetryEntry>& entries,
                                      const std::string& ns) {
  const TelemetryEntry* chosen = nullptr;
  for (const TelemetryEntry& e : entries) {
    if (e.namespace_ != ns || !namespaceWide(e.spec)) continue;
    if (chosen == nullptr || e.name < chosen->name) chosen = &e;
  }
  return chosen;
}

const TelemetryEntry* boundTo(const std::vector<TelemetryEntry>& entries,
                              const SecurityTarget& service) {
  const TelemetryEntry* to_waypoint = nullptr;
  for (const TelemetryEntry& e : entries) {
    if (namespaceWide(e.spec)) continue;
    auto refs = e.spec.targetrefs();
    if (refs.empty() && e.spec.has_targetref()) *refs.Add() = e.spec.targetref();
    if (!policyAppliesTo(refs, e.namespace_, service)) continue;
    if (policyAppliesTo(refs, e.namespace_, SecurityTarget{})) {  // names the waypoint
      if (to_waypoint == nullptr) to_waypoint = &e;
      continue;
    }
    return &e;
  }
  return to_waypoint;
}

}  // namespace ambit::waypoint
