// The workload labels Ambit attaches to istio.workload.Workload as the extension
// "ambit.io/labels" (proto/ambit/workload/v1/labels.proto): written by the control plane, read by
// waypoints to select DestinationRule subsets.
#pragma once

#include <map>
#include <string>

#include "istio/workload/workload.pb.h"

namespace ambit::xds {

inline constexpr const char* kLabelsExtension = "ambit.io/labels";

// Adds (or replaces) the labels extension; nothing is added for no labels.
void setWorkloadLabels(const std::map<std::string, std::string>& labels,
                       istio::workload::Workload& workload);

// The labels the extension carries; empty without one, or when it does not unpack.
std::map<std::string, std::string> workloadLabels(const istio::workload::Workload& workload);

}  // namespace ambit::xds
