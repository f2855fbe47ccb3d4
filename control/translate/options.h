// Settings of the translation that come from the mesh, not from any one object: the identity
// trust domain, the cluster and network names, the root namespace and the DNS domain.
#pragma once

#include <string>

namespace ambit::control::translate {

struct Options {
  std::string trust_domain = "cluster.local";
  std::string cluster_id = "Kubernetes";
  std::string network;  // "" is the default network
  // Istio's meshConfig.rootNamespace: policies here apply mesh-wide.
  std::string root_namespace = "istio-system";
  // Services are named <name>.<namespace>.svc.<domain_suffix>.
  std::string domain_suffix = "cluster.local";
};

}  // namespace ambit::control::translate
