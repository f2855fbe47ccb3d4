// The protocol of a Kubernetes Service port as Istio reads it: appProtocol, else the port name's
// prefix ("http-web", "tcp-db", "grpc"), else TCP for a few well-known ports; shared by the
// control plane (which sends it in the Service's Address) and ambitctl.
#pragma once

#include "istio/workload/workload.pb.h"
#include "k8s/core.pb.h"

namespace ambit::config {

istio::workload::AppProtocol appProtocolOf(const k8s::ServicePort& port);

}  // namespace ambit::config
