// The control plane's debug and health endpoints: /debug/syncz (each client's subscriptions and
// ACK state), /debug/configz (every object with its status), /metrics (Prometheus) and /ready.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

#include "control/ca/ca_metrics.h"
#include "control/source/config_state.h"
#include "control/xds/delta_ads_server.h"
#include "core/http/admin_server.h"

namespace ambit::control::debug {

class DebugEndpoints {
 public:
  DebugEndpoints(const xds::DeltaAdsServer& ads, const ca::CaMetrics& ca_metrics)
      : ads_(ads), ca_metrics_(ca_metrics) {}

  // Registers the handlers on `server`.
  void install(http::AdminServer& server);

  void setState(source::ConfigStatePtr state);
  void setReady(bool ready) { ready_ = ready; }

  std::string syncz() const;
  std::string configz() const;
  std::string metrics() const;

 private:
  source::ConfigStatePtr state() const;

  const xds::DeltaAdsServer& ads_;
  const ca::CaMetrics& ca_metrics_;
  std::atomic<bool> ready_{false};
  mutable std::mutex mu_;
  source::ConfigStatePtr state_;
};

}  // namespace ambit::control::debug
