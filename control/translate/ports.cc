#include "control/translate/ports.h"

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

wl::AppProtocol appProtocol(const k8s::ServicePort& port) {
  if (port.protocol() == "UDP") return wl::UNKNOWN;
  std::string name = port.name();
  if (!port.app_protocol().empty()) {
    name = port.app_protocol();
    if (name == "kubernetes.io/h2c") return wl::HTTP2;
    if (name == "kubernetes.io/ws") return wl::HTTP11;
    if (name == "kubernetes.io/wss") return wl::TLS;
  }
  const std::string lower = absl::AsciiStrToLower(name);
  if (absl::StartsWith(lower, "grpc-web")) return wl::UNKNOWN;  // gRPC-Web has no AppProtocol
  const std::string prefix = lower.substr(0, lower.find('-'));
  if (prefix == "tcp") return wl::TCP;
  if (prefix == "http") return wl::HTTP11;
  if (prefix == "http2") return wl::HTTP2;
  if (prefix == "grpc") return wl::GRPC;
  if (prefix == "https" || prefix == "tls") return wl::TLS;
  static constexpr const char* kKnown[] = {"udp", "http_proxy", "mongo", "redis", "mysql"};
  for (const char* known : kKnown) {
    if (prefix == known) return wl::UNKNOWN;
  }
  // Unrecognized: Istio treats SMTP, DNS, MySQL and MongoDB ports as TCP.
  switch (port.port()) {
    case 25:
    case 53:
    case 3306:
    case 27017:
      return wl::TCP;
    default:
      return wl::UNKNOWN;
  }
}

}  // namespace ambit::control::translate
