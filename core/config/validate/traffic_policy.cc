// Traffic policy pieces shared by destination rules and the mesh config: connection pools,
// outlier detection, locality load balancing and client TLS.
#include <algorithm>

#include <absl/strings/str_cat.h>
#include <absl/strings/str_split.h>

#include "core/config/validate/common.h"
#include "core/config/validate/failover.h"
#include "core/config/validate/kinds.h"

namespace ambit::config::validate {
namespace {

namespace net = istio::networking::v1alpha3;

void checkNonNegative(Issues& issues, const std::string& path, const char* what, int64_t value) {
  if (value < 0) issues.error(path, absl::StrCat(what, " must not be negative, got ", value));
}

// A locality "region/zone/subzone": no empty parts, at most one "*", and only at the end.
void checkLocality(Issues& issues, const std::string& path, const std::string& locality) {
  const auto stars = std::count(locality.begin(), locality.end(), '*');
  if (stars > 1 || (stars == 1 && locality.back() != '*')) {
    issues.error(path, absl::StrCat("locality ", q(locality),
                                    " is invalid: \"*\" may appear once, at the end"));
    return;
  }
  for (const absl::string_view part : absl::StrSplit(locality, absl::MaxSplits('/', 2))) {
    if (part.empty()) {
      issues.error(path, absl::StrCat("locality ", q(locality),
                                      " is invalid: region, zone and subzone must not be empty"));
      return;
    }
  }
}

bool isTopologyLabel(const std::string& label) {
  return label == "topology.kubernetes.io/region" || label == "topology.kubernetes.io/zone" ||
         label == "topology.istio.io/subzone";
}

}  // namespace

void validateConnectionPool(const net::ConnectionPoolSettings& pool, const std::string& path,
                            Issues& issues) {
  if (!pool.has_http() && !pool.has_tcp()) {
    issues.error(path, "connectionPool must set http or tcp");
    return;
  }
  if (pool.has_http()) {
    const auto& http = pool.http();
    const std::string hp = field(path, "http");
    checkNonNegative(issues, field(hp, "http1MaxPendingRequests"), "http1MaxPendingRequests",
                     http.http1_max_pending_requests());
    checkNonNegative(issues, field(hp, "http2MaxRequests"), "http2MaxRequests",
                     http.http2_max_requests());
    checkNonNegative(issues, field(hp, "maxRequestsPerConnection"), "maxRequestsPerConnection",
                     http.max_requests_per_connection());
    checkNonNegative(issues, field(hp, "maxRetries"), "maxRetries", http.max_retries());
    checkNonNegative(issues, field(hp, "maxConcurrentStreams"), "maxConcurrentStreams",
                     http.max_concurrent_streams());
    if (http.has_idle_timeout()) {
      checkDuration(issues, field(hp, "idleTimeout"), http.idle_timeout(), "idleTimeout");
    }
    if (http.h2_upgrade_policy() == net::ConnectionPoolSettings::HTTPSettings::UPGRADE &&
        http.use_client_protocol()) {
      issues.error(field(hp, "useClientProtocol"),
                   "useClientProtocol cannot be true when h2UpgradePolicy is UPGRADE");
    }
    if (http.has_http2_keep_alive()) {
      const auto& keepalive = http.http2_keep_alive();
      const std::string kp = field(hp, "http2KeepAlive");
      if (!keepalive.has_interval()) {
        issues.error(field(kp, "interval"), "interval is required");
      } else {
        checkDuration(issues, field(kp, "interval"), keepalive.interval(), "interval");
      }
      if (!keepalive.has_timeout()) {
        issues.error(field(kp, "timeout"), "timeout is required");
      } else {
        checkDuration(issues, field(kp, "timeout"), keepalive.timeout(), "timeout");
      }
    }
  }
  if (pool.has_tcp()) {
    const auto& tcp = pool.tcp();
    const std::string tp = field(path, "tcp");
    checkNonNegative(issues, field(tp, "maxConnections"), "maxConnections", tcp.max_connections());
    if (tcp.has_connect_timeout()) {
      checkDuration(issues, field(tp, "connectTimeout"), tcp.connect_timeout(), "connectTimeout");
    }
    if (tcp.has_max_connection_duration()) {
      checkDuration(issues, field(tp, "maxConnectionDuration"), tcp.max_connection_duration(),
                    "maxConnectionDuration");
    }
    // An idle timeout of 0s disables it.
    if (tcp.has_idle_timeout() && durationNanos(tcp.idle_timeout()) / 1000000 != 0) {
      checkDuration(issues, field(tp, "idleTimeout"), tcp.idle_timeout(), "idleTimeout");
    }
    if (tcp.has_tcp_keepalive()) {
      const std::string kp = field(tp, "tcpKeepalive");
      if (tcp.tcp_keepalive().has_time()) {
        checkDuration(issues, field(kp, "time"), tcp.tcp_keepalive().time(), "time");
      }
      if (tcp.tcp_keepalive().has_interval()) {
        checkDuration(issues, field(kp, "interval"), tcp.tcp_keepalive().interval(), "interval");
      }
    }
  }
}

void validateOutlierDetection(const net::OutlierDetection& outlier, const std::string& path,
                              Issues& issues) {
  if (outlier.has_base_ejection_time()) {
    checkDuration(issues, field(path, "baseEjectionTime"), outlier.base_ejection_time(),
                  "baseEjectionTime");
  }
  if (outlier.has_interval()) {
    checkDuration(issues, field(path, "interval"), outlier.interval(), "interval");
  }
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  const int32_t consecutive_errors = outlier.consecutive_errors();
#pragma GCC diagnostic pop
  if (consecutive_errors < 0) {
    checkNonNegative(issues, field(path, "consecutiveErrors"), "consecutiveErrors",
                     consecutive_errors);
  } else if (consecutive_errors > 0) {
    issues.warning(field(path, "consecutiveErrors"),
                   "consecutiveErrors is deprecated; use consecutive5xxErrors or "
                   "consecutiveGatewayErrors");
  }
  if (!outlier.split_external_local_origin_errors() &&
      outlier.consecutive_local_origin_failures().value() > 0) {
    issues.error(field(path, "consecutiveLocalOriginFailures"),
                 "consecutiveLocalOriginFailures needs splitExternalLocalOriginErrors: true");
  }
  checkIntPercent(issues, field(path, "maxEjectionPercent"), outlier.max_ejection_percent(),
                  "maxEjectionPercent");
  checkIntPercent(issues, field(path, "minHealthPercent"), outlier.min_health_percent(),
                  "minHealthPercent");
}

void validateLocalityLb(const net::LocalityLoadBalancerSetting& lb, bool has_outlier_detection,
                        const std::string& path, Issues& issues) {
  if (lb.distribute_size() > 0 && lb.failover_size() > 0) {
    issues.error(path, "distribute and failover cannot both be set");
    return;
  }
  if (lb.failover_size() > 0) {
    for (int i = 0; i < lb.failover_priority_size(); ++i) {
      if (isTopologyLabel(lb.failover_priority(i))) {
        issues.error(item(field(path, "failoverPriority"), static_cast<size_t>(i)),
                     absl::StrCat("failoverPriority cannot use the topology label ",
                                  q(lb.failover_priority(i)), " when failover is set"));
      }
    }
  }
  for (int i = 0; i < lb.distribute_size(); ++i) {
    const auto& d = lb.distribute(i);
    const std::string dp = item(field(path, "distribute"), static_cast<size_t>(i));
    checkLocality(issues, field(dp, "from"), d.from());
    int64_t total = 0;
    for (const std::string& locality : sortedKeys(d.to())) {
      const uint32_t weight = d.to().at(locality);
      checkLocality(issues, key(field(dp, "to"), locality), locality);
      if (weight < 1 || weight > 100) {
        issues.error(key(field(dp, "to"), locality),
                     absl::StrCat("locality weight must be between 1 and 100, got ", weight));
      }
      total += weight;
    }
    if (total != 100) {
      issues.error(field(dp, "to"), absl::StrCat("locality weights must sum to 100, got ", total));
    }
  }
  checkFailover(lb.failover(), lb.failover_priority_size() > 0, has_outlier_detection, path,
                issues);
}

void validateClientTls(const net::ClientTLSSettings& tls, const std::string& path, Issues& issues) {
  using Tls = net::ClientTLSSettings;
  const bool simple = tls.mode() == Tls::SIMPLE;
  const bool mutual = tls.mode() == Tls::MUTUAL;
  if (tls.insecure_skip_verify().value()) {
    if (simple && (!tls.ca_certificates().empty() || !tls.credential_name().empty() ||
                   tls.subject_alt_names_size() > 0)) {
      issues.error(field(path, "insecureSkipVerify"),
                   "caCertificates, credentialName and subjectAltNames cannot be set when "
                   "insecureSkipVerify is true");
    }
    if (mutual && (!tls.ca_certificates().empty() || tls.subject_alt_names_size() > 0)) {
      issues.error(field(path, "insecureSkipVerify"),
                   "caCertificates and subjectAltNames cannot be set when insecureSkipVerify is "
                   "true");
    }
  }
  if ((simple || mutual) && !tls.credential_name().empty()) {
    if (!tls.client_certificate().empty() || !tls.private_key().empty() ||
        !tls.ca_certificates().empty() || !tls.ca_crl().empty()) {
      issues.error(field(path, "credentialName"),
                   "clientCertificate, privateKey, caCertificates and caCrl cannot be set "
                   "together with credentialName");
    }
    return;
  }
  if (mutual) {
    if (tls.client_certificate().empty()) {
      issues.error(field(path, "clientCertificate"),
                   "MUTUAL mode needs clientCertificate (or credentialName)");
    }
    if (tls.private_key().empty()) {
      issues.error(field(path, "privateKey"), "MUTUAL mode needs privateKey (or credentialName)");
    }
  }
}

}  // namespace ambit::config::validate
