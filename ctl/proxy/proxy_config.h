// `ambitctl proxy-config`: what one node agent or waypoint holds (workloads, services, policies,
// certificates, and a waypoint's routes), read from its admin server's /config_dump and
// /debug/certificates and shown as tables, as `istioctl proxy-config` and `istioctl
// ztunnel-config` show it for Istio's proxies. Exit 0 when shown, 1 when the target cannot be
// read or has no such kind, 2 on usage errors.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace ambit::ctl {

// The admin server when --admin names none: the agent's and the waypoint's --admin-address and
// --admin-port defaults.
inline constexpr const char* kDefaultAdmin = "127.0.0.1:15000";

// Runs the command with its arguments (after the word "proxy-config").
int runProxyConfig(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace ambit::ctl
