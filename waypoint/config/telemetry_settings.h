// The waypoint's request metrics and access log policy, per served service: the Telemetry
// resources that apply (the root namespace's namespace-wide one, the waypoint namespace's, and one
// bound to the service by targetRefs) resolved by Istio's precedence
// (waypoint/telemetry/telemetry_policy.h). Built with each snapshot; requests read it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "waypoint/config/security_config.h"
#include "waypoint/config/telemetry_scopes.h"
#include "waypoint/telemetry/telemetry_policy.h"

namespace ambit::waypoint {

class TelemetrySettings {
 public:
  // Resolves the policy of each of `services` from `telemetries` (the ones the control plane sent
  // this waypoint), and the waypoint-wide policy (root and waypoint namespace only) for any other
  // destination.
  static std::shared_ptr<const TelemetrySettings> build(
      const std::vector<TelemetryEntry>& telemetries, const std::vector<SecurityTarget>& services,
      const std::string& waypoint_namespace);

  // The policy for requests to `hostname`: the service's when it is served, else the
  // waypoint-wide one. Lives as long as these settings.
  const TelemetryPolicy& forHost(std::string_view hostname) const;

  // The notes of every policy, each once, for the log.
  const std::vector<std::string>& notes() const { return notes_; }

 private:
  std::shared_ptr<const TelemetryPolicy> waypoint_wide_;
  // The services bound to a Telemetry of their own; the others get waypoint_wide_.
  std::map<std::string, std::shared_ptr<const TelemetryPolicy>, std::less<>> by_host_;
  std::vector<std::string> notes_;
};

}  // namespace ambit::waypoint
