// Fixtures of the proxy command tests: a local HTTP server answering fixed bodies, the real
// /config_dump bodies of an agent and a waypoint over small snapshots, and command runs.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agent/state/snapshot.h"
#include "core/http/admin_server.h"
#include "waypoint/config/config_store.h"

namespace ambit::ctl::testing {

struct Run {
  int exit = -1;
  std::string out;
  std::string err;
};

using Command = int (*)(const std::vector<std::string>&, std::ostream&, std::ostream&);
Run run(Command command, const std::vector<std::string>& args);

bool has(const std::string& text, const std::string& part);

// An admin server on 127.0.0.1 (a free port) answering each path with its body (200,
// application/json), and 404 for any other path.
class FixedServer {
 public:
  explicit FixedServer(std::initializer_list<std::pair<std::string, std::string>> bodies);
  FixedServer(const FixedServer&) = delete;
  FixedServer& operator=(const FixedServer&) = delete;
  ~FixedServer();
  std::string address() const;

 private:
  std::unique_ptr<http::AdminServer> server_;
};

// A 127.0.0.1 address where nothing listens (a port just bound and released).
std::string closedAddress();

// The mesh: pods demo/echo-1 (node1, HBONE, healthy) and demo/echo-2 (node2, unhealthy), both
// endpoints of Service demo/echo (10.96.0.10, 80->8080 HTTP/1.1), policy demo/allow-client, and
// pod legacy/client (node1, no tunnel) outside it. Snapshot version 3.
std::shared_ptr<const agent::Snapshot> mesh();

// What WorkloadCertificates::debugJson() gives for one valid and one failing identity.
extern const char* const kCertificates;

// agent::configDumpJson(*mesh(), kCertificates): the agent's /config_dump.
std::string agentDump();

// A waypoint of namespace default serving my-service (VIP 10.96.0.20, ports 80 and 9000, with
// VirtualService default/my-service: a named redirect, a header match to subset v2, a 90/10
// split, and a TCP route on 9000) and plain (10.96.0.21, no VirtualService), over mesh().
// Snapshot version 7.
waypoint::WaypointSnapshot waypointSnapshot();

}  // namespace ambit::ctl::testing
