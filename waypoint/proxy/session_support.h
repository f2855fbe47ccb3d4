// What the waypoint's HTTP and TCP sessions share: who is calling, outlier bookkeeping, names for
// logs, and the TCP relay's entry point.
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange

#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "core/log.h"
#include "waypoint/proxy/http_session.h"
#include "waypoint/proxy/outlier.h"
#include "waypoint/proxy/upstream_call.h"

namespace ambit::waypoint {

std::shared_ptr<spdlog::logger> waypointLog();  // logger "waypoint"
std::shared_ptr<spdlog::logger> accessLog();    // logger "access", one line per request

// The calling workload, by the address its tunnel speaks for (the `forwarded` header, which the
// client's agent writes), if it is one the mesh knows AND it runs as the identity the tunnel's
// certificate proves; null otherwise. Only then is that address taken as the caller's for
// policies (source.ip, ipBlocks) and its labels for routes.
agent::Snapshot::WorkloadPtr sourceWorkload(const WaypointSnapshot& snapshot, const Caller& caller);
// The namespace of the caller's SPIFFE identity; empty when it does not parse.
std::string callerNamespace(const Caller& caller);

// "10.244.2.5:8080"
std::string upstreamText(const UpstreamEndpoint& endpoint);

// Tells outlier detection how the endpoint answered (a response's status, a failure to connect
// or a reset as a local-origin failure); logs an ejection.
void recordOutcome(OutlierDetector& outliers, const UpstreamEndpoint& endpoint,
                   const AttemptResult& attempt, const OutlierSettings& settings);

// Carries a stream the waypoint does not parse (tcp_session.cc); `pending` holds bytes already
// read from it (while sniffing).
boost::asio::awaitable<void> relayTcp(HttpSessionContext& context,
                                      std::shared_ptr<agent::HboneConnection> downstream,
                                      int32_t stream, const ServedDestination& destination,
                                      const Caller& caller, const ConfigStore& config,
                                      std::string pending);

}  // namespace ambit::waypoint
