// The waypoint's /config_dump: what it believes about the mesh, in the node agent's shape
// (workloads, services, policies, certificates), and the routes it compiled for each service it
// serves, as `ambitctl proxy-config` reads them.
#pragma once

#include <string>

#include "waypoint/config/config_store.h"

namespace ambit::waypoint {

// One JSON object, keys in a fixed order so two dumps diff cleanly:
//   "version"       the waypoint snapshot's (0: no config yet);
//   "workloads", "services", "policies", "certificates"
//                   exactly as agent::configDumpJson writes them for the snapshot's mesh, with
//                   `certificates_json` (WorkloadCertificates::debugJson(); empty gives null);
//   "routes"        per served service, in hostname order: hostname, namespace, vips, ports, the
//                   VirtualServices in merge order, then "http" and "tcp": its routes in the order
//                   they are tried, each with virtual_service, index, name (HTTP), "match" (one
//                   summary per match, OR-ed; empty: every request), "action" (HTTP: forward,
//                   redirect or direct_response, with its status for the last two), "destinations"
//                   (host, subset, port, weight) and "never" when the route can never apply, why;
//   "notes"         the problems found while compiling the routes.
std::string waypointConfigDump(const WaypointSnapshot& snapshot,
                               const std::string& certificates_json = "");

}  // namespace ambit::waypoint
