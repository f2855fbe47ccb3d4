#include "waypoint/proxy/session_support.h"

#include <absl/strings/str_cat.h>

#include "agent/identity/identities_on_node.h"
#include "core/tls/spiffe_id.h"

namespace ambit::waypoint {

std::shared_ptr<spdlog::logger> waypointLog() { return log::get("waypoint"); }
std::shared_ptr<spdlog::logger> accessLog() { return log::get("access"); }

agent::Snapshot::WorkloadPtr sourceWorkload(const WaypointSnapshot& snapshot,
                                            const Caller& caller) {
  if (caller.address.empty()) return nullptr;
  boost::system::error_code ec;
  const boost::asio::ip::address address = boost::asio::ip::make_address(caller.address, ec);
  if (ec) return nullptr;
  agent::Snapshot::WorkloadPtr workload = snapshot.mesh->workloadByIp(agent::toIpBytes(address));
  if (workload == nullptr) return nullptr;
  absl::StatusOr<tls::SpiffeId> identity =
      agent::workloadIdentity(*workload, agent::kDefaultTrustDomain);
  if (!identity.ok() || identity->toString() != caller.identity) return nullptr;
  return workload;
}

std::string callerNamespace(const Caller& caller) {
  absl::StatusOr<tls::SpiffeId> id = tls::SpiffeId::parse(caller.identity);
  return id.ok() ? id->ns : std::string();
}

std::string upstreamText(const UpstreamEndpoint& endpoint) {
  return absl::StrCat(endpoint.address.address().to_string(), ":", endpoint.address.port());
}

void recordOutcome(OutlierDetector& outliers, const UpstreamEndpoint& endpoint,
                   const AttemptResult& attempt, const OutlierSettings& settings) {
  using Outcome = OutlierDetector::Outcome;
  Outcome outcome = Outcome::k5xx;  // a response that does not parse
  if (attempt.outcome == AttemptResult::Outcome::kResponse) {
    outcome = OutlierDetector::outcomeOf(attempt.response.status);
  } else if (attempt.outcome != AttemptResult::Outcome::kBadResponse) {
    outcome = Outcome::kLocalOriginFailure;  // connect failure, reset, timeout
  }
  const uint64_t before = outliers.ejectionsTotal();
  outliers.record(endpoint.cluster, endpoint.workload->uid(), outcome,
                  std::chrono::steady_clock::now(), settings, endpoint.cluster_size);
  if (outliers.ejectionsTotal() > before) {
    waypointLog()->info("outlier detection: endpoint {} ({}) of {} ejected ({} ejections so far)",
                        endpoint.workload->name(), upstreamText(endpoint), endpoint.cluster,
                        outliers.ejectionCount(endpoint.cluster, endpoint.workload->uid()));
  }
}

}  // namespace ambit::waypoint
