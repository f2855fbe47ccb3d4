// One access-log line per connection, when it ends: who called whom, what the policy decided and
// how many bytes went each way, as key=value pairs shaped like ztunnel's access log so the same
// queries work on both. Written to the logger "access" at info level, so operators can turn it
// off with the /logging endpoint (access=off) without touching the other loggers.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "agent/admin/tcp_metrics.h"
#include "agent/policy/authorize.h"
#include "agent/policy/inbound.h"

namespace ambit::agent {

struct ConnectionRecord {
  // kSource: the client's agent, logged as direction=outbound; kDestination: direction=inbound.
  Reporter reporter = Reporter::kSource;

  std::string source_address;   // "ip:port"
  std::string source_workload;  // the pod's name
  std::string source_namespace;
  std::string source_principal;  // "spiffe://...", shown only with mutual TLS

  // Where the connection went: the tunnel's end ("ip:15008") when tunnelled, else the address
  // connected to.
  std::string destination_address;
  std::string destination_hbone_address;  // the CONNECT target "ip:port" when tunnelled
  std::string destination_service;        // the Service's hostname
  std::string destination_workload;       // the pod's name
  std::string destination_namespace;
  std::string destination_principal;  // shown only with mutual TLS

  // Bytes by the way they went; the line shows them from the reporting side's workload, as
  // ztunnel does (bytes_sent is what the client sent for outbound, what the server sent for
  // inbound).
  uint64_t source_to_destination_bytes = 0;
  uint64_t destination_to_source_bytes = 0;
  std::chrono::milliseconds duration{0};

  // "allow", or why not: an authorizationReasonLabel or inboundVerdictLabel, or another static
  // label of the caller's ("destination_denied", "no_route", ...).
  const char* decision = "allow";
  // For a refusal by policy: the deciding policy ("namespace/name"), its group and rule (-1 when
  // not applicable).
  std::string policy;
  int group = -1;
  int rule = -1;

  ResponseFlags response_flags = ResponseFlags::kNone;
  SecurityPolicy security_policy = SecurityPolicy::kUnknown;
  // What went wrong, for a connection that failed; empty otherwise.
  std::string error;
};

// Fills decision, policy, group and rule from an inbound decision (response_flags too, to DENY,
// when it refuses by policy).
void setDecision(ConnectionRecord& record, const InboundDecision& decision);

// The line, without a trailing newline. Keys in a fixed order; empty text fields are left out;
// a value with a space, quote, backslash, '=' or control character is quoted, with '"' and '\'
// escaped and control characters written as \n, \t or \xHH, so one record is always one line.
std::string formatAccessLog(const ConnectionRecord& record);

// Writes the line to the "access" logger at info level (nothing is formatted when that level is
// off).
void logAccess(const ConnectionRecord& record);

}  // namespace ambit::agent
