// The configuration in force in the control plane: the last good version of every object, and
// the status of every object a source has seen (accepted, or rejected with its reasons).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/config/diagnostic.h"
#include "core/config/object.h"

namespace ambit::control::source {

struct ObjectStatus {
  config::ObjectRef object;  // empty kind for a document that could not be identified
  config::Origin origin;
  bool accepted = false;
  // True when a rejected object's previous version stays in force.
  bool previous_in_force = false;
  std::vector<config::Diagnostic> findings;  // errors and warnings about it
};

struct ConfigState {
  uint64_t generation = 0;              // increases with every change
  std::vector<config::Object> objects;  // in force, sorted by kind, namespace, name
  std::vector<ObjectStatus> statuses;   // every object and unidentified document seen
};

using ConfigStatePtr = std::shared_ptr<const ConfigState>;

}  // namespace ambit::control::source
