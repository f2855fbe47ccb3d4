#include "agent/admin/connection_report.h"

namespace ambit::agent {

ConnectionReport::ConnectionReport(TcpMetrics& metrics, Reporter reporter) : metrics_(metrics) {
  labels.reporter = reporter;
  record.reporter = reporter;
}

void ConnectionReport::opened() {
  record.security_policy = labels.security_policy;
  series_ = metrics_.connection(labels);
  series_->opened->inc();
}

void ConnectionReport::closed(ResponseFlags flags, uint64_t source_to_destination,
                              uint64_t destination_to_source, std::string error) {
  if (!series_) opened();
  series_->received_bytes->inc(source_to_destination);
  series_->sent_bytes->inc(destination_to_source);
  if (flags == ResponseFlags::kNone) {
    series_->closed->inc();
  } else {
    metrics_.connection(labels, flags).closed->inc();
  }
  record.response_flags = flags;
  record.source_to_destination_bytes = source_to_destination;
  record.destination_to_source_bytes = destination_to_source;
  record.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start_);
  record.error = std::move(error);
  logAccess(record);
}

void ConnectionReport::refused(const char* decision, std::string error) {
  record.security_policy = labels.security_policy;
  record.decision = decision;
  record.error = std::move(error);
  record.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start_);
  logAccess(record);
}

}  // namespace ambit::agent
