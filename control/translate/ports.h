// Service ports as the workload API states them: numeric target ports, named target ports
// resolved against a pod's container ports, and the application protocol of a port.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "istio/workload/workload.pb.h"
#include "k8s/core.pb.h"

namespace ambit::control::translate {

// The TCP container port named `name` on the pod (Istio's FindPortName); a container port with
// no protocol is TCP, as Kubernetes defaults it.
std::optional<uint32_t> findContainerPort(const k8s::PodSpec& spec, const std::string& name);

// True when the service port's targetPort is a name.
bool hasNamedTargetPort(const k8s::ServicePort& port);

// The target port of a Service's port: its number, the service port when targetPort is unset
// (Kubernetes' default), and 0 when it is a name (resolved per workload).
uint32_t numericTargetPort(const k8s::ServicePort& port);

// The target port for one pod: a named target port resolved on the pod, nullopt when the pod has
// no such port (Istio then leaves the port out of the workload's service entry).
std::optional<uint32_t> targetPortFor(const k8s::ServicePort& port, const k8s::PodSpec& spec);

// Istio's protocol of a Kubernetes service port (appProtocol, else the port name's prefix,
// else TCP for a few well-known ports) mapped to the workload API's AppProtocol.
istio::workload::AppProtocol appProtocol(const k8s::ServicePort& port);

}  // namespace ambit::control::translate
