// Pods to workload API Workloads, as istiod's ambient index builds them: identity, addresses,
// tunnel protocol, waypoint, the services the pod backs and the policies selecting it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "control/translate/mesh_objects.h"
#include "control/translate/note.h"
#include "control/translate/options.h"
#include "control/translate/policy_index.h"
#include "control/translate/waypoints.h"
#include "istio/workload/workload.pb.h"
#include "k8s/core.pb.h"

namespace ambit::control::translate {

// What a workload needs from the rest of the set, computed once per translation.
struct WorkloadContext {
  const MeshObjects& objects;
  const WaypointIndex& waypoints;
  const Options& options;
  const PolicyIndex& policies;
};

// istiod's pod uid: "<cluster>//Pod/<namespace>/<name>".
std::string podUid(const std::string& cluster_id, const std::string& namespace_,
                   const std::string& name);

// HEALTHY when the pod is not being deleted and its Ready condition is True, or, for pods
// written without conditions (as in the lab), when it is Running.
istio::workload::WorkloadStatus podStatus(const k8s::ObjectMeta& meta,
                                          const k8s::PodStatus& status);

// The Workload of a Pod object; nullopt for pods istiod does not publish: finished (Succeeded
// or Failed), without an IP yet, or with an IP that does not parse (noted).
std::optional<istio::workload::Workload> buildWorkload(const config::Object& pod,
                                                       const WorkloadContext& context,
                                                       std::vector<Note>& notes);

}  // namespace ambit::control::translate
