// IstioOperator spec.meshConfig: trust domains, proxy defaults (tracing and addresses), extension
// and default providers, and the mesh-wide traffic defaults. Istio validates the merged mesh
// config; only what the user wrote is checked here.
#include <set>

#include <absl/strings/ascii.h>
#include <absl/strings/match.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_replace.h>
#include <absl/strings/str_split.h>

#include "core/config/validate/common.h"
#include "core/config/validate/kinds.h"
#include "core/port_number.h"

namespace ambit::config::validate {
namespace {

namespace mesh = istio::mesh::v1alpha1;
using Provider = mesh::MeshConfig::ExtensionProvider;

// A "host:port" address ("zipkin.istio-system:9411", "[::1]:9411", "$(HOST_IP):8126").
void checkAddress(Issues& issues, const std::string& path, const std::string& written) {
  const std::string address = absl::StrReplaceAll(written, {{"$(HOST_IP)", "127.0.0.1"}});
  std::string host;
  std::string port;
  if (!address.empty() && address[0] == '[') {
    const size_t close = address.find("]:");
    if (close != std::string::npos) {
      host = address.substr(1, close - 1);
      port = address.substr(close + 2);
    }
  } else if (const size_t colon = address.rfind(':'); colon != std::string::npos) {
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
    if (host.find(':') != std::string::npos) host.clear();  // IPv6 without brackets
  }
  if (host.empty() || port.empty()) {
    issues.error(path, absl::StrCat("address ", q(written), " is invalid: expected host:port"));
    return;
  }
  if (!parsePortNumber(port)) {
    issues.error(path, absl::StrCat("address ", q(written), " is invalid: port ", q(port),
                                    " is not a number between 1 and 65535"));
  } else if (!dnsNameProblem(host, false).empty() && !isIpAddress(host)) {
    issues.error(path, absl::StrCat("address ", q(written), " is invalid: ", q(host),
                                    " is not a host name or an IP address"));
  }
}

void checkTrustDomain(Issues& issues, const std::string& path, const std::string& domain,
                      const char* what) {
  if (domain.empty()) {
    issues.error(path, absl::StrCat(what, " must not be empty"));
    return;
  }
  const std::vector<std::string> labels = absl::StrSplit(domain, '.');
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i + 1 == labels.size() && labels[i].empty() && i > 0) break;
    if (!isIstioDnsLabel(labels[i])) {
      issues.error(path, absl::StrCat(what, " ", q(domain), " is invalid: label ", q(labels[i]),
                                      " is not a DNS label"));
      return;
    }
  }
}

void checkProxyConfig(const mesh::ProxyConfig& proxy, const std::string& path, Issues& issues) {
  if (proxy.has_tracing()) {
    const mesh::Tracing& tracing = proxy.tracing();
    const std::string tp = field(path, "tracing");
    if (tracing.sampling() < 0 || tracing.sampling() > 100) {
      issues.error(field(tp, "sampling"),
                   absl::StrCat("sampling must be between 0 and 100, got ", tracing.sampling()));
    }
    if (tracing.has_zipkin()) {
      checkAddress(issues, field(field(tp, "zipkin"), "address"), tracing.zipkin().address());
    }
    if (tracing.has_datadog()) {
      checkAddress(issues, field(field(tp, "datadog"), "address"), tracing.datadog().address());
    }
    if (tracing.has_lightstep()) {
      checkAddress(issues, field(field(tp, "lightstep"), "address"), tracing.lightstep().address());
      if (tracing.lightstep().access_token().empty()) {
        issues.error(field(field(tp, "lightstep"), "accessToken"), "accessToken is required");
      }
    }
    if (tracing.has_tls_settings()) {
      validateClientTls(tracing.tls_settings(), field(tp, "tlsSettings"), issues);
    }
  }
  const std::pair<const std::string*, const char*> addresses[] = {
      {&proxy.discovery_address(), "discoveryAddress"},
      {&proxy.statsd_udp_address(), "statsdUdpAddress"},
      {&proxy.envoy_metrics_service().address(), "envoyMetricsService.address"},
      {&proxy.envoy_access_log_service().address(), "envoyAccessLogService.address"}};
  for (const auto& [address, name] : addresses) {
    if (!address->empty()) checkAddress(issues, field(path, name), *address);
  }
  if (proxy.proxy_admin_port() != 0) {
    checkPort(issues, field(path, "proxyAdminPort"), proxy.proxy_admin_port(), "proxyAdminPort");
  }
  if (proxy.status_port() != 0) {
    checkPort(issues, field(path, "statusPort"), proxy.status_port(), "statusPort");
  }
  if (proxy.has_drain_duration()) {
    checkDuration(issues, field(path, "drainDuration"), proxy.drain_duration(), "drainDuration");
    if (durationNanos(proxy.drain_duration()) % 1000000000 != 0) {
      issues.error(field(path, "drainDuration"), "drainDuration must be a whole number of seconds");
    }
  }
  if (proxy.has_concurrency() && proxy.concurrency().value() < 0) {
    issues.error(field(path, "concurrency"), absl::StrCat("concurrency must not be negative, got ",
                                                          proxy.concurrency().value()));
  }
  for (int i = 0; i < proxy.proxy_stats_matcher().inclusion_regexps_size(); ++i) {
    checkRegex(
        issues,
        item(field(field(path, "proxyStatsMatcher"), "inclusionRegexps"), static_cast<size_t>(i)),
        proxy.proxy_stats_matcher().inclusion_regexps(i));
  }
}

// Istio ignores an extension provider it cannot use (and logs why), so these are warnings.
template <class P>
void checkProviderService(const P& provider, const std::string& path, Issues& issues) {
  const std::string& service = provider.service();
  const std::string host =
      service.substr(service.find('/') == std::string::npos ? 0 : service.find('/') + 1);
  if (service.empty()) {
    issues.warning(field(path, "service"), "service is not set, so this provider cannot be used");
  } else if (host.empty() || (!dnsNameProblem(host, true).empty() && !isIpAddress(host))) {
    issues.warning(field(path, "service"),
                   absl::StrCat("service ", q(service),
                                " is not a host name or an IP address, so this provider cannot be "
                                "used"));
  }
  if (provider.port() < 1 || provider.port() > 65535) {
    issues.warning(field(path, "port"),
                   absl::StrCat("port must be between 1 and 65535, got ", provider.port(),
                                ", so this provider cannot be used"));
  }
}

void checkExtensionProvider(const Provider& p, const std::string& path, Issues& issues) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  switch (p.provider_case()) {
    case Provider::kEnvoyExtAuthzHttp: {
      const std::string pp = field(path, "envoyExtAuthzHttp");
      checkProviderService(p.envoy_ext_authz_http(), pp, issues);
      const std::string& prefix = p.envoy_ext_authz_http().path_prefix();
      if (!prefix.empty() && prefix[0] != '/') {
        issues.warning(field(pp, "pathPrefix"),
                       absl::StrCat("pathPrefix ", q(prefix), " should start with \"/\""));
      }
      break;
    }
    case Provider::kEnvoyExtAuthzGrpc:
      checkProviderService(p.envoy_ext_authz_grpc(), field(path, "envoyExtAuthzGrpc"), issues);
      break;
    case Provider::kZipkin:
      checkProviderService(p.zipkin(), field(path, "zipkin"), issues);
      break;
    case Provider::kLightstep:
      checkProviderService(p.lightstep(), field(path, "lightstep"), issues);
      break;
    case Provider::kDatadog:
      checkProviderService(p.datadog(), field(path, "datadog"), issues);
      break;
    case Provider::kSkywalking:
      checkProviderService(p.skywalking(), field(path, "skywalking"), issues);
      break;
    case Provider::kOpencensus:
      checkProviderService(p.opencensus(), field(path, "opencensus"), issues);
      break;
    case Provider::kOpentelemetry:
      checkProviderService(p.opentelemetry(), field(path, "opentelemetry"), issues);
      if (p.opentelemetry().has_grpc() && p.opentelemetry().has_http()) {
        issues.warning(field(path, "opentelemetry"), "grpc and http cannot both be set");
      }
      break;
    case Provider::kEnvoyHttpAls:
      checkProviderService(p.envoy_http_als(), field(path, "envoyHttpAls"), issues);
      break;
    case Provider::kEnvoyTcpAls:
      checkProviderService(p.envoy_tcp_als(), field(path, "envoyTcpAls"), issues);
      break;
    case Provider::kEnvoyOtelAls:
      checkProviderService(p.envoy_otel_als(), field(path, "envoyOtelAls"), issues);
      break;
    case Provider::PROVIDER_NOT_SET:
      issues.warning(path,
                     "no provider type is set (such as zipkin or envoyExtAuthzHttp), so "
                     "this provider cannot be used");
      break;
    default:
      break;
  }
#pragma GCC diagnostic pop
}

void checkProviders(const mesh::MeshConfig& config, const std::string& path, Issues& issues) {
  std::set<std::string> names = {"prometheus", "stackdriver", "envoy"};  // Istio's built-ins
  std::set<std::string> defined;
  for (int i = 0; i < config.extension_providers_size(); ++i) {
    const Provider& p = config.extension_providers(i);
    const std::string pp = item(field(path, "extensionProviders"), static_cast<size_t>(i));
    if (p.name().empty()) {
      issues.error(field(pp, "name"), "name is required");
    } else if (!defined.insert(p.name()).second) {
      issues.error(field(pp, "name"),
                   absl::StrCat("duplicate extension provider name ", q(p.name())));
    }
    names.insert(p.name());
    checkExtensionProvider(p, pp, issues);
  }
  const auto& defaults = config.default_providers();
  const std::string dp = field(path, "defaultProviders");
  for (const auto& [list, name] :
       {std::pair{&defaults.tracing(), "tracing"}, std::pair{&defaults.metrics(), "metrics"},
        std::pair{&defaults.access_logging(), "accessLogging"}}) {
    for (int i = 0; i < list->size(); ++i) {
      const std::string at = item(field(dp, name), static_cast<size_t>(i));
      if ((*list)[i].empty()) {
        issues.error(at, "provider name must not be empty");
      } else if (names.count((*list)[i]) == 0) {
        issues.warning(
            at, absl::StrCat("provider ", q((*list)[i]), " is not defined in extensionProviders"));
      }
    }
  }
}

}  // namespace

void validateIstioOperator(const istio::install::v1alpha1::IstioOperatorSpec& spec,
                           Issues& issues) {
  if (!spec.has_meshconfig()) return;
  const mesh::MeshConfig& config = spec.meshconfig();
  const std::string path = "spec.meshConfig";
  const std::pair<int32_t, const char*> ports[] = {
      {config.proxy_listen_port(), "proxyListenPort"},
      {config.proxy_inbound_listen_port(), "proxyInboundListenPort"},
      {config.proxy_http_port(), "proxyHttpPort"}};
  for (const auto& [port, name] : ports) {
    if (port != 0) checkPort(issues, field(path, name), port, name);
  }
  if (config.has_connect_timeout()) {
    checkDuration(issues, field(path, "connectTimeout"), config.connect_timeout(),
                  "connectTimeout");
  }
  if (config.has_protocol_detection_timeout()) {
    const int64_t nanos = durationNanos(config.protocol_detection_timeout());
    if (nanos < 0 || nanos % 1000000 != 0) {
      issues.error(field(path, "protocolDetectionTimeout"),
                   "protocolDetectionTimeout must be 0s (disabled) or a positive whole number of "
                   "milliseconds");
    }
  }
  if (config.has_default_config()) {
    checkProxyConfig(config.default_config(), field(path, "defaultConfig"), issues);
  }
  if (!config.trust_domain().empty()) {
    checkTrustDomain(issues, field(path, "trustDomain"), config.trust_domain(), "trustDomain");
  }
  for (int i = 0; i < config.trust_domain_aliases_size(); ++i) {
    checkTrustDomain(issues, item(field(path, "trustDomainAliases"), static_cast<size_t>(i)),
                     config.trust_domain_aliases(i), "trust domain alias");
  }
  if (config.has_locality_lb_setting()) {
    validateLocalityLb(config.locality_lb_setting(), true, field(path, "localityLbSetting"),
                       issues);
  }
  for (int i = 0; i < config.service_settings_size(); ++i) {
    const auto& hosts = config.service_settings(i).hosts();
    const std::string sp = item(field(path, "serviceSettings"), static_cast<size_t>(i));
    for (int j = 0; j < hosts.size(); ++j) {
      checkHost(issues, item(field(sp, "hosts"), static_cast<size_t>(j)), hosts[j]);
    }
  }
  checkProviders(config, path, issues);
  if (config.mesh_mtls().ecdh_curves_size() > 0) {
    issues.error(field(field(path, "meshMTLS"), "ecdhCurves"),
                 "meshMTLS does not support ecdhCurves; set them in tlsDefaults");
  }
  static const std::set<std::string> kCurves = {
      "P-224", "P-256", "P-521", "P-384", "X25519", "X25519Kyber768Draft00", "X25519MLKEM768"};
  for (int i = 0; i < config.tls_defaults().ecdh_curves_size(); ++i) {
    const std::string& curve = config.tls_defaults().ecdh_curves(i);
    if (!curve.empty() && kCurves.count(curve) == 0) {
      issues.warning(item(field(field(path, "tlsDefaults"), "ecdhCurves"), static_cast<size_t>(i)),
                     absl::StrCat("ECDH curve ", q(curve), " is unknown and ignored"));
    }
  }
  if (config.has_default_traffic_policy()) {
    const auto& policy = config.default_traffic_policy();
    const std::string tp = field(path, "defaultTrafficPolicy");
    if (policy.has_connection_pool()) {
      validateConnectionPool(policy.connection_pool(), field(tp, "connectionPool"), issues);
    }
    if (policy.has_outlier_detection()) {
      validateOutlierDetection(policy.outlier_detection(), field(tp, "outlierDetection"), issues);
    }
  }
  if (config.has_default_http_retry_policy()) {
    validateHttpRetry(config.default_http_retry_policy(), field(path, "defaultHttpRetryPolicy"),
                      issues);
  }
}

}  // namespace ambit::config::validate
