// What a pod's metadata says about it as a mesh workload: canonical service name and revision,
// the workload (Deployment) it belongs to, and whether the node agent captures its traffic.
#pragma once

#include <string>

#include "control/translate/mesh_objects.h"
#include "k8s/core.pb.h"
#include "k8s/meta.pb.h"

namespace ambit::control::translate {

inline constexpr const char* kDataplaneModeLabel = "istio.io/dataplane-mode";
inline constexpr const char* kRedirectionAnnotation = "ambient.istio.io/redirection";
inline constexpr const char* kSidecarStatusAnnotation = "sidecar.istio.io/status";
inline constexpr const char* kTunnelLabel = "networking.istio.io/tunnel";
inline constexpr const char* kWorkloadNameLabel = "service.istio.io/workload-name";

struct CanonicalService {
  std::string name;
  std::string revision;
};

// Istio's canonical service: the name from service.istio.io/canonical-name,
// app.kubernetes.io/name or app (else the workload name); the revision from
// service.istio.io/canonical-revision, app.kubernetes.io/version or version (else "latest").
CanonicalService canonicalService(const Labels& labels, const std::string& workload_name);

// The name of the workload a pod belongs to, as Istio derives it: the service.istio.io/
// workload-name label; else for a generated pod name its controller, with the ReplicaSet's
// pod-template-hash suffix removed (the Deployment); else the Deployment that selects the pod and
// prefixes its name; else the pod name.
std::string workloadName(const k8s::ObjectMeta& pod, const MeshObjects& objects);

// Whether Istio's CNI (default enablement selectors) would capture the pod's traffic: not host
// network, no sidecar, and the pod label istio.io/dataplane-mode=ambient, or the namespace label
// istio.io/dataplane-mode=ambient without the pod label istio.io/dataplane-mode=none.
bool ambientEnrolled(const k8s::ObjectMeta& pod, const k8s::PodSpec& spec,
                     const Labels& namespace_labels);

// True when the comma-separated networking.istio.io/tunnel label lists "http": the workload
// terminates HBONE itself (a waypoint).
bool supportsHttpTunnel(const Labels& labels);

}  // namespace ambit::control::translate
