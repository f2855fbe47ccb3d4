#include "agent/relay/outbound.h"

#include <vector>

namespace ambit::agent {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::string endpointText(const tcp::endpoint& endpoint) {
  const std::string address = endpoint.address().to_string();
  return endpoint.address().is_v6() ? absl::StrCat("[", address, "]:", endpoint.port())
                                    : absl::StrCat(address, ":", endpoint.port());
}

// The target port of `service_port` on `workload`, per the rules in outbound.h.
uint16_t targetPort(const istio::workload::Workload& workload, const std::string& key,
                    const istio::workload::Port& service_port) {
  auto it = workload.services().find(key);
  if (it != workload.services().end()) {
    for (const auto& port : it->second.ports()) {
      if (port.service_port() == service_port.service_port() && port.target_port() != 0) {
        return static_cast<uint16_t>(port.target_port());
      }
    }
  }
  if (service_port.target_port() != 0) return static_cast<uint16_t>(service_port.target_port());
  return static_cast<uint16_t>(service_port.service_port());
}

// The instance of `waypoint` to tunnel to: a hostname names the waypoint's Service (its healthy
// endpoints, round robin), an address names the instance itself.
absl::StatusOr<OutboundTarget> waypointTarget(const Snapshot& snapshot,
                                              const istio::workload::GatewayAddress& waypoint,
                                              const std::string& for_what,
                                              const tcp::endpoint& original_destination,
                                              EndpointPicker& picker) {
  const uint16_t port = static_cast<uint16_t>(waypoint.hbone_mtls_port());
  Snapshot::WorkloadPtr instance;
  std::string name;
  if (waypoint.has_hostname()) {
    name = absl::StrCat(waypoint.hostname().namespace_(), "/", waypoint.hostname().hostname());
    std::vector<const Snapshot::WorkloadPtr*> healthy;
    for (const auto& workload : snapshot.endpointsOf(name)) {
      if (workload->status() == istio::workload::HEALTHY && !workload->addresses().empty() &&
          fromIpBytes(workload->addresses(0)).ok()) {
        healthy.push_back(&workload);
      }
    }
    if (!healthy.empty()) instance = *healthy[picker.next(name, healthy.size())];
  } else if (waypoint.has_address()) {
    absl::StatusOr<asio::ip::address> address = fromIpBytes(waypoint.address().address());
    name = address.ok() ? address->to_string() : "(bad address)";
    instance = snapshot.workloadByIp(waypoint.address().address());
    if (instance != nullptr &&
        (instance->status() != istio::workload::HEALTHY || instance->addresses().empty() ||
         !fromIpBytes(instance->addresses(0)).ok())) {
      instance = nullptr;
    }
  } else {
    return absl::UnavailableError(absl::StrCat(for_what, " has a waypoint without an address"));
  }
  if (instance == nullptr || port == 0) {
    return absl::UnavailableError(
        absl::StrCat(for_what, " uses waypoint ", name, ", which has no healthy instance"));
  }
  OutboundTarget target;
  target.kind = OutboundTarget::Kind::kWaypoint;
  target.workload = instance;
  target.endpoint = tcp::endpoint(*fromIpBytes(instance->addresses(0)), port);
  target.authority = endpointText(original_destination);
  return target;
}

}  // namespace

std::string OutboundTarget::describe() const {
  const std::string where = endpointText(endpoint);
  switch (kind) {
    case Kind::kService:
      return absl::StrCat("service ", service ? Snapshot::serviceKey(*service) : "?",
                          " -> workload ", workload ? workload->uid() : "?", " at ", where);
    case Kind::kWorkload:
      return absl::StrCat("workload ", workload ? workload->uid() : "?", " at ", where);
    case Kind::kWaypoint:
      return absl::StrCat(service ? "service " + Snapshot::serviceKey(*service) : "workload", " ",
                          authority, " via waypoint ", workload ? workload->uid() : "?", " at ",
                          where);
    case Kind::kPassthrough:
      break;
  }
  return absl::StrCat("passthrough to ", where);
}

size_t EndpointPicker::next(const std::string& service_key, size_t count) {
  auto it = counters_.find(service_key);
  if (it == counters_.end()) it = counters_.emplace(service_key, 0).first;
  return static_cast<size_t>(it->second++ % count);
}

IpBytes toIpBytes(const asio::ip::address& address) {
  if (address.is_v4()) {
    const auto bytes = address.to_v4().to_bytes();
    return IpBytes(bytes.begin(), bytes.end());
  }
  const asio::ip::address_v6 v6 = address.to_v6();
  if (v6.is_v4_mapped()) {
    const auto bytes = asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_bytes();
    return IpBytes(bytes.begin(), bytes.end());
  }
  const auto bytes = v6.to_bytes();
  return IpBytes(bytes.begin(), bytes.end());
}

absl::StatusOr<asio::ip::address> fromIpBytes(const IpBytes& bytes) {
  if (bytes.size() == 4) {
    asio::ip::address_v4::bytes_type raw;
    std::copy(bytes.begin(), bytes.end(), raw.begin());
    return asio::ip::address(asio::ip::address_v4(raw));
  }
  if (bytes.size() == 16) {
    asio::ip::address_v6::bytes_type raw;
    std::copy(bytes.begin(), bytes.end(), raw.begin());
    return asio::ip::address(asio::ip::address_v6(raw));
  }
  return absl::InvalidArgumentError(absl::StrCat("IP address of ", bytes.size(), " bytes"));
}

absl::StatusOr<OutboundTarget> decideOutbound(const Snapshot& snapshot,
                                              const tcp::endpoint& original_destination,
                                              EndpointPicker& picker) {
  const boost::asio::ip::address& address = original_destination.address();
  if (address.is_loopback() || (address.is_v6() && address.to_v6().is_v4_mapped() &&
                                address.to_v6().to_v4().is_loopback())) {
    // Capture never sends loopback to the agent: this is a direct connection to its listener, or
    // one whose original destination was lost. Passing it through would loop into the agent.
    return absl::NotFoundError(absl::StrCat("not a captured connection (original destination ",
                                            endpointText(original_destination), " is loopback)"));
  }
  if (snapshot.version() == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("no config yet: refusing connection to ", endpointText(original_destination)));
  }
  const IpBytes ip = toIpBytes(original_destination.address());
  const uint16_t port = original_destination.port();

  if (Snapshot::ServicePtr service = snapshot.serviceByVip(ip)) {
    const std::string key = Snapshot::serviceKey(*service);
    const istio::workload::Port* service_port = nullptr;
    for (const auto& p : service->ports()) {
      if (p.service_port() == port) {
        service_port = &p;
        break;
      }
    }
    if (service_port == nullptr) {
      return absl::NotFoundError(absl::StrCat("service ", key, " has no port ", port));
    }
    if (service->has_waypoint()) {
      absl::StatusOr<OutboundTarget> target = waypointTarget(
          snapshot, service->waypoint(), "service " + key, original_destination, picker);
      if (target.ok()) target->service = service;
      return target;
    }
    std::vector<const Snapshot::WorkloadPtr*> healthy;
    for (const auto& workload : snapshot.endpointsOf(key)) {
      if (workload->status() == istio::workload::HEALTHY && !workload->addresses().empty() &&
          fromIpBytes(workload->addresses(0)).ok()) {
        healthy.push_back(&workload);
      }
    }
    if (healthy.empty()) {
      return absl::UnavailableError(absl::StrCat("service ", key, " has no healthy endpoint"));
    }
    const Snapshot::WorkloadPtr& chosen = *healthy[picker.next(key, healthy.size())];
    OutboundTarget target;
    target.kind = OutboundTarget::Kind::kService;
    target.service = service;
    target.workload = chosen;
    target.endpoint =
        tcp::endpoint(*fromIpBytes(chosen->addresses(0)), targetPort(*chosen, key, *service_port));
    return target;
  }

  OutboundTarget target;
  target.endpoint = original_destination;
  if (Snapshot::WorkloadPtr workload = snapshot.workloadByIp(ip)) {
    if (workload->has_waypoint()) {
      return waypointTarget(snapshot, workload->waypoint(), "workload " + workload->uid(),
                            original_destination, picker);
    }
    target.kind = OutboundTarget::Kind::kWorkload;
    target.workload = workload;
  }
  return target;
}

}  // namespace ambit::agent
