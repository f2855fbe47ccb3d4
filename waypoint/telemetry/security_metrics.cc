#include "waypoint/telemetry/security_metrics.h"

namespace ambit::waypoint {

SecurityMetrics::SecurityMetrics(metrics::Registry& registry) {
  const std::string authz_help = "AuthorizationPolicy decisions of the waypoint, by reason";
  for (size_t i = 0; i < kL7AuthorizationReasons; ++i) {
    const auto reason = static_cast<L7AuthorizationDecision::Reason>(i);
    const bool allowed = reason == L7AuthorizationDecision::Reason::kAllowedNoPolicy ||
                         reason == L7AuthorizationDecision::Reason::kAllowedByPolicy;
    authorization_[i] = &registry.counter(
        "ambit_waypoint_authorization_total", authz_help,
        {{"decision", allowed ? "allow" : "deny"}, {"reason", l7ReasonLabel(reason)}});
  }
  const std::string authn_help = "RequestAuthentication outcomes of the waypoint's requests";
  authentication_[static_cast<size_t>(AuthnResult::Kind::kNoToken)] = &registry.counter(
      "ambit_waypoint_authentication_total", authn_help, {{"result", "no_token"}});
  authentication_[static_cast<size_t>(AuthnResult::Kind::kValid)] =
      &registry.counter("ambit_waypoint_authentication_total", authn_help, {{"result", "valid"}});
  authentication_[static_cast<size_t>(AuthnResult::Kind::kInvalid)] =
      &registry.counter("ambit_waypoint_authentication_total", authn_help, {{"result", "invalid"}});
  path_refused_ = &registry.counter("ambit_waypoint_path_normalization_refused_total",
                                    "Requests refused (400) because their path cannot be "
                                    "normalized safely");
}

}  // namespace ambit::waypoint
