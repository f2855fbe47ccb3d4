#include "agent/admin/tcp_metrics.h"

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace ambit::agent {
namespace {

// The string labels in one table, so hashing, the overflow set and rendering cannot disagree.
struct StringLabel {
  const char* name;
  std::string TcpLabels::*field;
};
constexpr StringLabel kStringLabels[] = {
    {"source_workload", &TcpLabels::source_workload},
    {"source_canonical_service", &TcpLabels::source_canonical_service},
    {"source_canonical_revision", &TcpLabels::source_canonical_revision},
    {"source_workload_namespace", &TcpLabels::source_workload_namespace},
    {"source_principal", &TcpLabels::source_principal},
    {"source_app", &TcpLabels::source_app},
    {"source_version", &TcpLabels::source_version},
    {"source_cluster", &TcpLabels::source_cluster},
    {"destination_service", &TcpLabels::destination_service},
    {"destination_service_namespace", &TcpLabels::destination_service_namespace},
    {"destination_service_name", &TcpLabels::destination_service_name},
    {"destination_workload", &TcpLabels::destination_workload},
    {"destination_canonical_service", &TcpLabels::destination_canonical_service},
    {"destination_canonical_revision", &TcpLabels::destination_canonical_revision},
    {"destination_workload_namespace", &TcpLabels::destination_workload_namespace},
    {"destination_principal", &TcpLabels::destination_principal},
    {"destination_app", &TcpLabels::destination_app},
    {"destination_version", &TcpLabels::destination_version},
    {"destination_cluster", &TcpLabels::destination_cluster},
};

struct LabelsHash {
  size_t operator()(const TcpLabels& labels) const {
    size_t h =
        static_cast<size_t>(labels.reporter) * 3 + static_cast<size_t>(labels.security_policy);
    const std::hash<std::string> hash;
    for (const StringLabel& label : kStringLabels) {
      h ^= hash(labels.*label.field) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    }
    return h;
  }
};

// The four counters of one label set and flags.
struct Entry {
  metrics::Counter opened;
  metrics::Counter closed;
  metrics::Counter sent_bytes;
  metrics::Counter received_bytes;
};
using Slots = std::array<Entry*, kResponseFlags>;
using Index = std::unordered_map<TcpLabels, Slots, LabelsHash>;

// Only the reporter and security policy survive in the overflow series: they are few, and they
// keep the totals per side and per security policy right.
TcpLabels overflowOf(const TcpLabels& labels) {
  TcpLabels out;
  out.reporter = labels.reporter;
  out.security_policy = labels.security_policy;
  return out;
}

std::string valueOrUnknown(const std::string& value) { return value.empty() ? "unknown" : value; }

// What a thread has looked up, for the TcpMetrics whose id is `owner`. Entries only point into
// that object's State, so a cache met by another object is emptied first.
struct ThreadCache {
  uint64_t owner = 0;
  Index entries;
};

ThreadCache& threadCache() {
  thread_local ThreadCache cache;
  return cache;
}

std::atomic<uint64_t> next_id{1};

TcpSeries seriesOf(Entry& entry) {
  return {&entry.opened, &entry.closed, &entry.sent_bytes, &entry.received_bytes};
}

}  // namespace

const char* reporterLabel(Reporter reporter) {
  return reporter == Reporter::kDestination ? "destination" : "source";
}

const char* responseFlagsLabel(ResponseFlags flags) {
  switch (flags) {
    case ResponseFlags::kNone:
      return "-";
    case ResponseFlags::kDeny:
      return "DENY";
    case ResponseFlags::kConnectFailure:
      return "CONNECT";
    case ResponseFlags::kTlsFailure:
      return "TLS_FAILURE";
    case ResponseFlags::kH2HandshakeFailure:
      return "H2_HANDSHAKE_FAILURE";
    case ResponseFlags::kIdentityError:
      return "IDENTITY_ERROR";
    case ResponseFlags::kCount:
      break;
  }
  return "-";
}

const char* securityPolicyLabel(SecurityPolicy policy) {
  return policy == SecurityPolicy::kMutualTls ? "mutual_tls" : "unknown";
}

std::string workloadPrincipal(const istio::workload::Workload& workload) {
  const std::string& trust_domain =
      workload.trust_domain().empty() ? std::string("cluster.local") : workload.trust_domain();
  const std::string& account =
      workload.service_account().empty() ? std::string("default") : workload.service_account();
  return "spiffe://" + trust_domain + "/ns/" + workload.namespace_() + "/sa/" + account;
}

void setSourceWorkload(TcpLabels& labels, const istio::workload::Workload& workload) {
  labels.source_workload = workload.workload_name();
  labels.source_canonical_service = workload.canonical_name();
  labels.source_canonical_revision = workload.canonical_revision();
  labels.source_workload_namespace = workload.namespace_();
  labels.source_app = workload.canonical_name();
  labels.source_version = workload.canonical_revision();
  labels.source_cluster = workload.cluster_id();
}

void setDestinationWorkload(TcpLabels& labels, const istio::workload::Workload& workload) {
  labels.destination_workload = workload.workload_name();
  labels.destination_canonical_service = workload.canonical_name();
  labels.destination_canonical_revision = workload.canonical_revision();
  labels.destination_workload_namespace = workload.namespace_();
  labels.destination_principal = workloadPrincipal(workload);
  labels.destination_app = workload.canonical_name();
  labels.destination_version = workload.canonical_revision();
  labels.destination_cluster = workload.cluster_id();
}

void setDestinationService(TcpLabels& labels, const istio::workload::Service& service) {
  labels.destination_service = service.hostname();
  labels.destination_service_namespace = service.namespace_();
  labels.destination_service_name = service.name();
}

struct TcpMetrics::State {
  explicit State(size_t max) : max_label_sets(max) {}

  // The entry for `labels` and `flags`, and whether it is the overflow entry given in its stead.
  std::pair<Entry*, bool> find(const TcpLabels& labels, ResponseFlags flags) {
    const auto f = static_cast<size_t>(flags);
    std::lock_guard<std::mutex> lock(mu);
    auto it = index.find(labels);
    if (it != index.end() && it->second[f] != nullptr) return {it->second[f], false};
    TcpLabels overflow = overflowOf(labels);
    if (count >= max_label_sets && !(labels == overflow)) {
      dropped->inc();
      Entry*& slot = index[overflow][f];
      if (slot == nullptr) slot = create(overflow, flags);
      return {slot, true};
    }
    if (it == index.end()) it = index.emplace(labels, Slots{}).first;
    it->second[f] = create(labels, flags);
    return {it->second[f], false};
  }

  // With `mu` held.
  Entry* create(const TcpLabels& labels, ResponseFlags flags) {
    metrics::Labels all{
        {"reporter", reporterLabel(labels.reporter)},
        {"request_protocol", "tcp"},
        {"response_flags", responseFlagsLabel(flags)},
        {"connection_security_policy", securityPolicyLabel(labels.security_policy)},
    };
    for (const StringLabel& label : kStringLabels) {
      all[label.name] = valueOrUnknown(labels.*label.field);
    }
    // Label sets that render alike ("" and "unknown") share one series, as Prometheus needs.
    auto [it, inserted] = by_text.try_emplace(metrics::labelText(all));
    if (inserted) ++count;
    return &it->second;
  }

  void write(std::string& out, const std::string& name, metrics::Counter Entry::*which) const {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& [text, entry] : by_text) {
      out += name;
      out += text;
      out += ' ';
      out += std::to_string((entry.*which).value());
      out += '\n';
    }
  }

  mutable std::mutex mu;
  const size_t max_label_sets;
  Index index;
  // Every series by its rendered labels: map nodes never move, so handles stay valid, and
  // rendering walks them in a stable order.
  std::map<std::string, Entry> by_text;
  size_t count = 0;
  metrics::Counter* dropped = nullptr;
};

TcpMetrics::TcpMetrics(metrics::Registry& registry, size_t max_label_sets)
    : state_(std::make_shared<State>(max_label_sets)), id_(next_id.fetch_add(1)) {
  state_->dropped = &registry.counter(
      "ambit_agent_tcp_metrics_overflow_total",
      "Connections counted in the overflow series of the istio_tcp_* metrics (labels \"unknown\") "
      "because the bound on label sets was reached");
  struct Family {
    const char* name;
    const char* help;
    metrics::Counter Entry::*which;
  };
  const Family families[] = {
      {"istio_tcp_connections_opened_total", "The total number of TCP connections opened",
       &Entry::opened},
      {"istio_tcp_connections_closed_total", "The total number of TCP connections closed",
       &Entry::closed},
      {"istio_tcp_received_bytes_total",
       "The size of total bytes received during request in case of a TCP connection",
       &Entry::received_bytes},
      {"istio_tcp_sent_bytes_total",
       "The size of total bytes sent during response in case of a TCP connection",
       &Entry::sent_bytes},
  };
  for (const Family& family : families) {
    // The registry keeps the state alive, so a render after this object is gone stays safe.
    registry.collect(family.name, family.help, "counter",
                     [state = state_, name = std::string(family.name),
                      which = family.which](std::string& out) { state->write(out, name, which); });
  }
}

TcpMetrics::~TcpMetrics() = default;

TcpSeries TcpMetrics::connection(const TcpLabels& labels, ResponseFlags flags) {
  const auto f = static_cast<size_t>(flags);
  ThreadCache& cache = threadCache();
  if (cache.owner != id_) {
    cache.entries.clear();
    cache.owner = id_;
  }
  auto it = cache.entries.find(labels);
  if (it != cache.entries.end() && it->second[f] != nullptr) return seriesOf(*it->second[f]);
  auto [entry, overflowed] = state_->find(labels, flags);
  // Overflow answers are not cached: the cache would grow with every new label set, which is
  // what the bound is there to stop.
  if (!overflowed) {
    if (it == cache.entries.end()) it = cache.entries.emplace(labels, Slots{}).first;
    it->second[f] = entry;
  }
  return seriesOf(*entry);
}

size_t TcpMetrics::labelSets() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->count;
}

uint64_t TcpMetrics::dropped() const { return state_->dropped->value(); }

}  // namespace ambit::agent
