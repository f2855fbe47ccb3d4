// Where the control plane's configuration comes from: a watched directory (the embedded default)
// or, later, the Kubernetes API. A source calls its listener with a complete new state after
// every change it applies.
#pragma once

#include <functional>

#include "control/source/config_state.h"
#include "core/status.h"

namespace ambit::control::source {

class ConfigSource {
 public:
  using Listener = std::function<void(ConfigStatePtr)>;

  virtual ~ConfigSource() = default;
  // Loads the initial state, calls the listener once with it, then watches for changes.
  virtual absl::Status start(Listener listener) = 0;
  virtual void stop() = 0;
};

}  // namespace ambit::control::source
