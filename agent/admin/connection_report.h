// One connection's telemetry, filled as the connection is decided and carried: the Istio TCP
// series for its labels and its access-log line. The series are looked up once, when the
// connection opens; bytes and the close only increment them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "agent/admin/access_log.h"
#include "agent/admin/tcp_metrics.h"

namespace ambit::agent {

class ConnectionReport {
 public:
  ConnectionReport(TcpMetrics& metrics, Reporter reporter);

  TcpLabels labels;
  ConnectionRecord record;

  // The connection is decided and carried: istio_tcp_connections_opened_total.
  void opened();
  // It ended: bytes, istio_tcp_connections_closed_total under `flags` (opening it first if it
  // never was, as a connection refused by policy is), and the access-log line.
  void closed(ResponseFlags flags, uint64_t source_to_destination, uint64_t destination_to_source,
              std::string error = "");
  // Refused before its labels meant anything (no config, no route): the access-log line only.
  void refused(const char* decision, std::string error);

 private:
  TcpMetrics& metrics_;
  std::optional<TcpSeries> series_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace ambit::agent
