// The agent's admin endpoints that are not metrics: /config_dump (what the agent believes about
// the mesh: its snapshot and its certificates, never keys) and /logging (read and change log
// levels at run time, as ztunnel's and Envoy's admin endpoints do).
#pragma once

#include <string>

#include "agent/state/snapshot.h"
#include "core/http/admin_server.h"

namespace ambit::agent {

// One JSON object: "version" (the snapshot's), "workloads" (uid, name, namespace, workload_name,
// addresses as text, service_account, trust_domain, node, tunnel_protocol, status, services with
// their ports, authorization_policies), "services" (hostname, name, namespace, vips, ports),
// "policies" (name, namespace, scope, action, groups as a count, dry_run) and "certificates":
// `certificates_json` as given (WorkloadCertificates::debugJson(), which holds no keys; empty
// gives null). Byte-stable: everything is in key order.
std::string configDumpJson(const Snapshot& snapshot, const std::string& certificates_json);

// /logging. Without a query, or for HEAD: the loggers and their levels, one per line. GET or POST
// with `level=<level>` sets every logger, with `<logger>=<level>` one logger; pairs are joined
// with '&' and `level` applies before the others, whatever their order. An unknown level or
// logger, or a malformed pair, is a 400 naming the problem and changes nothing.
http::Response loggingEndpoint(const http::Request& request);

}  // namespace ambit::agent
