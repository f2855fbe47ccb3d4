#include "agent/state/address_codec.h"

#include <absl/strings/str_cat.h>

namespace ambit::agent {
namespace {

namespace wl = istio::workload;

bool validIpLength(const std::string& bytes) { return bytes.size() == 4 || bytes.size() == 16; }

absl::Status checkWorkload(const wl::Workload& workload) {
  if (workload.uid().empty()) return absl::InvalidArgumentError("workload has no uid");
  for (const std::string& address : workload.addresses()) {
    if (!validIpLength(address)) {
      return absl::InvalidArgumentError(
          absl::StrCat("workload ", workload.uid(), " has a ", address.size(), "-byte address"));
    }
  }
  for (const auto& [service, ports] : workload.services()) {
    for (const wl::Port& port : ports.ports()) {
      if (port.service_port() == 0 || port.service_port() > 65535 || port.target_port() > 65535) {
        return absl::InvalidArgumentError(
            absl::StrCat("workload ", workload.uid(), " has an invalid port for ", service));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status checkService(const wl::Service& service) {
  if (service.hostname().empty() || service.namespace_().empty()) {
    return absl::InvalidArgumentError("service has no hostname or namespace");
  }
  for (const wl::NetworkAddress& vip : service.addresses()) {
    if (!validIpLength(vip.address())) {
      return absl::InvalidArgumentError(absl::StrCat("service ", service.hostname(), " has a ",
                                                     vip.address().size(), "-byte address"));
    }
  }
  for (const wl::Port& port : service.ports()) {
    if (port.service_port() == 0 || port.service_port() > 65535 || port.target_port() > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("service ", service.hostname(), " has an invalid port"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<const wl::Address>> decodeAddress(
    const google::protobuf::Any& body) {
  auto address = std::make_shared<wl::Address>();
  if (!body.UnpackTo(address.get())) {
    return absl::InvalidArgumentError("does not decode as istio.workload.Address");
  }
  switch (address->type_case()) {
    case wl::Address::kWorkload:
      AMBIT_RETURN_IF_ERROR(checkWorkload(address->workload()));
      break;
    case wl::Address::kService:
      AMBIT_RETURN_IF_ERROR(checkService(address->service()));
      break;
    default:
      return absl::InvalidArgumentError("address is neither a workload nor a service");
  }
  return address;
}

}  // namespace ambit::agent
