// Istio's standard TCP metrics, with the names, help texts and labels ztunnel reports, so the
// dashboards and tools made for Istio read an Ambit mesh as they read an ambient one:
//   istio_tcp_connections_opened_total, istio_tcp_connections_closed_total,
//   istio_tcp_received_bytes_total (source to destination), istio_tcp_sent_bytes_total (back).
// Label sets are only known per connection, so series are created on the data path. A connection
// looks its labels up once, when it opens: a per-thread cache answers without a lock, and the
// shared index is locked only the first time a thread meets a label set. Bytes are then atomic
// increments on the handle. The number of label sets is bounded, so a busy or hostile mesh cannot
// grow the agent's memory without end; beyond the bound connections count into an overflow series.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/metrics/registry.h"
#include "istio/workload/workload.pb.h"

namespace ambit::agent {

// Which agent reports a connection, as ztunnel says it: the client's agent on its outbound side
// ("source"), the server's on its inbound side ("destination").
enum class Reporter { kSource, kDestination };
const char* reporterLabel(Reporter reporter);

// How a connection ended; ztunnel's `response_flags` values.
enum class ResponseFlags {
  kNone,                // "-": relayed until closed
  kDeny,                // "DENY": an authorization policy refused it, at open or later
  kConnectFailure,      // "CONNECT": no connection to the destination, or it failed mid-relay
  kTlsFailure,          // "TLS_FAILURE": the tunnel's TLS handshake or peer verification failed
  kH2HandshakeFailure,  // "H2_HANDSHAKE_FAILURE": the tunnel's HTTP/2 layer failed
  kIdentityError,       // "IDENTITY_ERROR": no workload certificate to present
  kCount,               // the number of flags, not a flag
};
inline constexpr size_t kResponseFlags = static_cast<size_t>(ResponseFlags::kCount);
const char* responseFlagsLabel(ResponseFlags flags);

// ztunnel's `connection_security_policy`: "mutual_tls" through an HBONE tunnel, "unknown" for
// plaintext.
enum class SecurityPolicy { kUnknown, kMutualTls };
const char* securityPolicyLabel(SecurityPolicy policy);

// The labels of one connection, filled once by the handler from the snapshot's workloads and
// service and from the TLS peer. An empty value is reported as "unknown", as ztunnel does.
// `request_protocol` is always "tcp" and `response_flags` is given at lookup.
struct TcpLabels {
  Reporter reporter = Reporter::kSource;

  std::string source_workload;  // Workload.workload_name (the Deployment, not the pod)
  std::string source_canonical_service;
  std::string source_canonical_revision;
  std::string source_workload_namespace;
  std::string source_principal;  // "spiffe://..." proven by mutual TLS only
  std::string source_app;        // canonical_name, as ztunnel fills it
  std::string source_version;    // canonical_revision, likewise
  std::string source_cluster;

  std::string destination_service;  // the Service's hostname
  std::string destination_service_namespace;
  std::string destination_service_name;

  std::string destination_workload;
  std::string destination_canonical_service;
  std::string destination_canonical_revision;
  std::string destination_workload_namespace;
  std::string destination_principal;  // the identity the destination runs as
  std::string destination_app;
  std::string destination_version;
  std::string destination_cluster;

  SecurityPolicy security_policy = SecurityPolicy::kUnknown;

  bool operator==(const TcpLabels&) const = default;
};

// The SPIFFE ID a workload runs as: its trust domain ("cluster.local" when empty), namespace and
// service account ("default" when empty), as the agent's certificates name it.
std::string workloadPrincipal(const istio::workload::Workload& workload);

// The source_* labels from the client's workload; the principal is left to the caller, which
// knows whether mutual TLS proved it.
void setSourceWorkload(TcpLabels& labels, const istio::workload::Workload& workload);
// The destination_* workload labels, the principal included.
void setDestinationWorkload(TcpLabels& labels, const istio::workload::Workload& workload);
// The destination_service* labels.
void setDestinationService(TcpLabels& labels, const istio::workload::Service& service);

// The four counters of one label set; valid for the life of the TcpMetrics that gave them.
struct TcpSeries {
  metrics::Counter* opened = nullptr;
  metrics::Counter* closed = nullptr;
  metrics::Counter* sent_bytes = nullptr;      // destination to source (the response)
  metrics::Counter* received_bytes = nullptr;  // source to destination (the request)
};

class TcpMetrics {
 public:
  static constexpr size_t kDefaultMaxLabelSets = 10000;

  // Registers the four families with `registry`, which may outlive this object.
  explicit TcpMetrics(metrics::Registry& registry, size_t max_label_sets = kDefaultMaxLabelSets);
  ~TcpMetrics();
  TcpMetrics(const TcpMetrics&) = delete;
  TcpMetrics& operator=(const TcpMetrics&) = delete;

  // The series of `labels` with `flags`, created on first use. Once `max_label_sets` series
  // exist, a new label set gets the overflow series instead: every string label "unknown", the
  // reporter, security policy and flags kept. Safe from any thread; no lock once this thread has
  // seen the label set.
  TcpSeries connection(const TcpLabels& labels, ResponseFlags flags = ResponseFlags::kNone);

  // Series created so far, overflow series included.
  size_t labelSets() const;
  // Lookups answered with an overflow series because the bound was reached.
  uint64_t dropped() const;

 private:
  struct State;
  std::shared_ptr<State> state_;  // shared with the registry's render callbacks
  uint64_t id_;                   // tells this object's per-thread cache entries from others'
};

}  // namespace ambit::agent
