// The waypoint proxy: one process per Gateway of class istio-waypoint (or ambit-waypoint). It
// obtains the certificate of its own identity (spiffe://<td>/ns/<namespace>/sa/<name>), takes
// HBONE tunnels from node agents on port 15008, reads HTTP inside each tunnel, routes every
// request by the VirtualServices and DestinationRules the control plane sends it, and carries the
// request to the chosen endpoint over HBONE to that endpoint's node agent.
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"

namespace ambit::waypoint {

struct WaypointOptions {
  std::string namespace_;  // the Gateway's namespace (required)
  std::string name;        // the Gateway's name, also the service account (required)
  std::string trust_domain = "cluster.local";
  std::string control_address;  // host:port
  std::string control_ca_file;
  std::string control_server_name = "ambit-control";
  std::string token_file;
  std::string listen_address = "0.0.0.0";  // the HBONE listener's address
  uint16_t hbone_port = 15008;
  std::string admin_address = "127.0.0.1";
  uint16_t admin_port = 15000;
  uint16_t metrics_port = 15020;
  uint16_t readiness_port = 15021;
  size_t workers = 0;  // 0: one per core
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::seconds certificate_ttl{86400};
  uint32_t upstream_mark = 0;  // SO_MARK of upstream sockets; 0 leaves them unmarked
  size_t max_header_bytes = 60 * 1024;
  size_t max_body_bytes = 1 << 20;
  // meshConfig.pathNormalization's name: NONE, BASE (the default), MERGE_SLASHES or
  // DECODE_AND_MERGE_SLASHES.
  std::string path_normalization = "BASE";
};

class Waypoint {
 public:
  static absl::StatusOr<std::unique_ptr<Waypoint>> create(WaypointOptions options);
  ~Waypoint();

  // Serves until stop() (from a signal handler thread or another thread).
  void run();
  void stop();

 private:
  struct Impl;
  explicit Waypoint(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ambit::waypoint
