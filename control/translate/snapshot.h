// The node agents' xDS snapshot of an object set: the Address and Authorization resources of its
// translation, under istiod's resource names.
#pragma once

#include <vector>

#include "control/translate/options.h"
#include "control/translate/translator.h"
#include "control/xds/resources.h"
#include "core/config/object.h"

namespace ambit::control::translate {

// Both types are always present, empty when the set has nothing of that type, so a subscriber
// learns that every earlier resource is gone.
xds::Snapshot snapshotOf(const Translation& translation);

// snapshotOf(translate(objects, options)).
xds::Snapshot buildSnapshot(const std::vector<config::Object>& objects, const Options& options);

}  // namespace ambit::control::translate
