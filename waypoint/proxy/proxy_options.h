// What the waypoint's data path is configured with (from WaypointOptions).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "agent/tunnel/hbone_pool.h"

namespace ambit::waypoint {

struct ProxyOptions {
  std::string identity;  // the waypoint's SPIFFE ID
  std::string listen_address = "0.0.0.0";
  uint16_t hbone_port = 15008;
  std::chrono::milliseconds connect_timeout{10000};
  size_t max_header_bytes = 60 * 1024;
  size_t max_body_bytes = 1 << 20;
  agent::HbonePoolOptions pool;
};

}  // namespace ambit::waypoint
