// Decodes and checks the Address resources the control plane sends. A resource that fails here
// is NACKed with the reason, and the agent keeps its previous view.
#pragma once

#include <memory>

#include <google/protobuf/any.pb.h>

#include "core/status.h"
#include "istio/workload/workload.pb.h"

namespace ambit::agent {

absl::StatusOr<std::shared_ptr<const istio::workload::Address>> decodeAddress(
    const google::protobuf::Any& body);

}  // namespace ambit::agent
