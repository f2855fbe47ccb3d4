// Where a captured outbound connection goes, decided against one mesh snapshot.
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange

#include <cstdint>
#include <map>
#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "agent/state/snapshot.h"
#include "core/status.h"

namespace ambit::agent {

struct OutboundTarget {
  enum class Kind {
    kService,      // original destination was a Service VIP; `workload` is the chosen endpoint
    kWorkload,     // original destination was a workload's IP
    kPassthrough,  // not in the mesh: connect to the original destination as is
    kWaypoint,     // the service or workload has a waypoint: tunnel to it, naming the original
                   // destination in `authority`; `workload` is the waypoint's instance
  };
  Kind kind = Kind::kPassthrough;
  // Where to connect.
  boost::asio::ip::tcp::endpoint endpoint;
  Snapshot::ServicePtr service;    // kService only
  Snapshot::WorkloadPtr workload;  // kService and kWorkload; the waypoint's for kWaypoint
  // kWaypoint: CONNECT's :authority, the original destination ("<vip>:<port>" for a service).
  std::string authority;
  // One line for logs, e.g. "service default/web.default.svc.cluster.local:80 -> workload
  // <uid> at 10.0.0.5:8080", "workload <uid> at 10.0.0.7:80", "passthrough to 1.2.3.4:443".
  std::string describe() const;
};

// Round-robin position per service key. Not thread-safe: one per worker thread, so picking an
// endpoint takes no lock.
class EndpointPicker {
 public:
  // The index (< count, count > 0) of the next endpoint of `service_key`.
  size_t next(const std::string& service_key, size_t count);

 private:
  std::map<std::string, uint64_t, std::less<>> counters_;
};

// Decides the target of a connection captured with `original_destination`:
//   - a Service VIP: the port must be one of the service's ports (else NOT_FOUND naming service
//     and port); a HEALTHY endpoint with an address is picked round robin (none: UNAVAILABLE
//     naming the service); the port is the endpoint's own target_port for that service port if
//     non-zero, else the service's target_port if non-zero, else the service port; the address is
//     the endpoint's first address.
//   - a workload IP: that workload, same port.
//   - a service (or a workload) bound to a waypoint (Address.waypoint): the waypoint instead, at
//     one of its healthy instances (round robin) on the waypoint's HBONE port, with the original
//     destination as `authority`; the waypoint applies the service's routes. A waypoint that does
//     not resolve or has no healthy instance is UNAVAILABLE naming it: the connection is refused,
//     never sent around the waypoint (its policies would be skipped).
//   - anything else: passthrough to the original destination.
// A loopback original destination is NOT_FOUND (capture never sends loopback here: a direct
// connection to the listener, or a lost destination). A snapshot with version 0 (never synced)
// gives FAILED_PRECONDITION "no config yet": the caller must refuse the connection, never pass it
// through.
absl::StatusOr<OutboundTarget> decideOutbound(
    const Snapshot& snapshot, const boost::asio::ip::tcp::endpoint& original_destination,
    EndpointPicker& picker);

// An address as the protos carry it (4 or 16 bytes; v4-mapped IPv6 becomes 4 bytes), and back.
IpBytes toIpBytes(const boost::asio::ip::address& address);
absl::StatusOr<boost::asio::ip::address> fromIpBytes(const IpBytes& bytes);

}  // namespace ambit::agent
