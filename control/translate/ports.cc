#include "control/translate/ports.h"

#include "core/config/app_protocol.h"

#include <absl/strings/ascii.h>
#include <absl/strings/match.h>

namespace ambit::control::translate {
namespace wl = istio::workload;

std::optional<uint32_t> findContainerPort(const k8s::PodSpec& spec, const std::string& name) {
  for (const k8s::Container& container : spec.containers()) {
    for (const k8s::ContainerPort& port : container.ports()) {
      const bool tcp = port.protocol().empty() || port.protocol() == "TCP";
      if (port.name() == name && tcp) return static_cast<uint32_t>(port.container_port());
    }
  }
  return std::nullopt;
}

bool hasNamedTargetPort(const k8s::ServicePort& port) {
  return port.has_target_port() && port.target_port().type() == 1;
}

uint32_t numericTargetPort(const k8s::ServicePort& port) {
  if (hasNamedTargetPort(port)) return 0;
  if (!port.has_target_port() || port.target_port().int_val() == 0) {
    return static_cast<uint32_t>(port.port());
  }
  return static_cast<uint32_t>(port.target_port().int_val());
}

std::optional<uint32_t> targetPortFor(const k8s::ServicePort& port, const k8s::PodSpec& spec) {
  if (!hasNamedTargetPort(port)) return numericTargetPort(port);
  return findContainerPort(spec, port.target_port().str_val());
}

wl::AppProtocol appProtocol(const k8s::ServicePort& port) { return config::appProtocolOf(port); }

}  // namespace ambit::control::translate
