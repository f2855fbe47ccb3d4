#include "core/config/app_protocol.h"

#include <string>

#include <absl/strings/ascii.h>
#include <absl/strings/match.h>

namespace ambit::config {

namespace wl = istio::workload;

wl::AppProtocol appProtocolOf(const k8s::ServicePort& port) {
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

}  // namespace ambit::config
