// Counters of the waypoint's L7 security decisions, by outcome and reason, created once so that
// counting a request is one relaxed atomic add:
//   ambit_waypoint_authorization_total{decision, reason}   AuthorizationPolicy decisions
//   ambit_waypoint_authentication_total{result}            RequestAuthentication outcomes
//   ambit_waypoint_path_normalization_refused_total        requests refused before any policy
#pragma once

#include <array>

#include "core/metrics/registry.h"
#include "waypoint/authz/l7_policy.h"
#include "waypoint/jwt/request_authn.h"

namespace ambit::waypoint {

class SecurityMetrics {
 public:
  explicit SecurityMetrics(metrics::Registry& registry);

  void authorization(const L7AuthorizationDecision& decision) {
    authorization_[static_cast<size_t>(decision.reason)]->inc();
  }
  void authentication(AuthnResult::Kind kind) { authentication_[static_cast<size_t>(kind)]->inc(); }
  void pathRefused() { path_refused_->inc(); }

 private:
  std::array<metrics::Counter*, kL7AuthorizationReasons> authorization_{};
  std::array<metrics::Counter*, 3> authentication_{};
  metrics::Counter* path_refused_ = nullptr;
};

}  // namespace ambit::waypoint
