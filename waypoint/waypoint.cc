#include "waypoint/waypoint.h"

#include <absl/strings/ascii.h>
#include <absl/strings/str_cat.h>

#include <condition_variable>
#include <mutex>

#include "agent/admin/config_dump.h"
#include "agent/identity/certificate_client.h"
#include "agent/identity/credential_source.h"
#include "agent/identity/workload_certificates.h"
#include "agent/state/address_codec.h"
#include "core/files.h"
#include "core/http/admin_server.h"
#include "core/log.h"
#include "core/metrics/registry.h"
#include "core/tls/grpc_credentials.h"
#include "core/xds/delta_ads_client.h"
#include "istio/mesh/v1alpha1/config.pb.h"
#include "istio/networking/v1alpha3/destination_rule.pb.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"
#include "istio/security/v1beta1/authorization_policy.pb.h"
#include "istio/security/v1beta1/request_authentication.pb.h"
#include "istio/telemetry/v1alpha1/telemetry.pb.h"
#include "waypoint/admin/config_dump.h"
#include "waypoint/config/config_store.h"
#include "waypoint/config/jwks_cache.h"
#include "waypoint/proxy/proxy_worker.h"
#include "waypoint/telemetry/request_metrics.h"

namespace ambit::waypoint {
namespace {

std::shared_ptr<spdlog::logger> logger() { return log::get("waypoint"); }

constexpr const char* kVirtualServiceType =
    "type.googleapis.com/istio.networking.v1alpha3.VirtualService";
constexpr const char* kDestinationRuleType =
    "type.googleapis.com/istio.networking.v1alpha3.DestinationRule";
constexpr const char* kEnvoyFilterType =
    "type.googleapis.com/istio.networking.v1alpha3.EnvoyFilter";
constexpr const char* kAuthorizationPolicyType =
    "type.googleapis.com/istio.security.v1beta1.AuthorizationPolicy";
constexpr const char* kRequestAuthenticationType =
    "type.googleapis.com/istio.security.v1beta1.RequestAuthentication";
constexpr const char* kTelemetryType = "type.googleapis.com/istio.telemetry.v1alpha1.Telemetry";
constexpr const char* kMeshConfigType = "type.googleapis.com/istio.mesh.v1alpha1.MeshConfig";

// "namespace/name" resource names, as the control plane gives them.
std::pair<std::string, std::string> splitName(const std::string& name) {
  const size_t slash = name.find('/');
  if (slash == std::string::npos) return {"", name};
  return {name.substr(0, slash), name.substr(slash + 1)};
}

absl::Status validateResource(const std::string& type_url, const std::string& name,
                              const google::protobuf::Any& body) {
  if (type_url == xds::kAddressType) return agent::decodeAddress(body).status();
  if (type_url == kVirtualServiceType) {
    istio::networking::v1alpha3::VirtualService spec;
    if (!body.UnpackTo(&spec)) return absl::InvalidArgumentError(name + ": not a VirtualService");
  } else if (type_url == kDestinationRuleType) {
    istio::networking::v1alpha3::DestinationRule spec;
    if (!body.UnpackTo(&spec)) return absl::InvalidArgumentError(name + ": not a DestinationRule");
  } else if (type_url == kEnvoyFilterType) {
    istio::networking::v1alpha3::EnvoyFilter spec;
    if (!body.UnpackTo(&spec)) return absl::InvalidArgumentError(name + ": not an EnvoyFilter");
  } else if (type_url == kAuthorizationPolicyType) {
    istio::security::v1beta1::AuthorizationPolicy spec;
    if (!body.UnpackTo(&spec)) {
      return absl::InvalidArgumentError(name + ": not an AuthorizationPolicy");
    }
  } else if (type_url == kRequestAuthenticationType) {
    istio::security::v1beta1::RequestAuthentication spec;
    if (!body.UnpackTo(&spec)) {
      return absl::InvalidArgumentError(name + ": not a RequestAuthentication");
    }
  } else if (type_url == kTelemetryType) {
    istio::telemetry::v1alpha1::Telemetry spec;
    if (!body.UnpackTo(&spec)) return absl::InvalidArgumentError(name + ": not a Telemetry");
  } else if (type_url == kMeshConfigType) {
    istio::mesh::v1alpha1::MeshConfig spec;
    if (!body.UnpackTo(&spec)) return absl::InvalidArgumentError(name + ": not a MeshConfig");
  }
  return absl::OkStatus();
}

}  // namespace

struct Waypoint::Impl {
  WaypointOptions options;
  std::string identity;
  metrics::Registry registry;
  std::unique_ptr<RequestMetrics> request_metrics;
  std::unique_ptr<agent::WorkloadCertificates> certificates;
  std::unique_ptr<ConfigStore> config;
  std::unique_ptr<JwksCache> jwks;
  std::unique_ptr<xds::DeltaAdsClient> xds;
  std::vector<std::unique_ptr<ProxyWorker>> workers;
  std::unique_ptr<http::AdminServer> admin;
  std::unique_ptr<http::AdminServer> metrics_server;
  std::unique_ptr<http::AdminServer> readiness;
  std::mutex mu;
  std::condition_variable stopped_cv;
  bool stopped = false;

  absl::Status init();
  void onResources(const std::string& type_url, const xds::ResourceMap& resources);
  http::Response ready() const;
};

absl::Status Waypoint::Impl::init() {
  const WaypointOptions& o = options;
  if (o.namespace_.empty()) return absl::InvalidArgumentError("--namespace is required");
  if (o.name.empty()) return absl::InvalidArgumentError("--name is required");
  identity = absl::StrCat("spiffe://", o.trust_domain, "/ns/", o.namespace_, "/sa/", o.name);
  AMBIT_ASSIGN_OR_RETURN(std::string root, readFlagFile(o.control_ca_file, "--control-ca"));
  AMBIT_ASSIGN_OR_RETURN(std::string token, readFlagFile(o.token_file, "--token-file"));
  token = std::string(absl::StripAsciiWhitespace(token));
  if (token.empty()) return absl::InvalidArgumentError("--token-file: the file is empty");
  AMBIT_ASSIGN_OR_RETURN(auto control_tls, tls::clientCredentials(root));

  request_metrics = std::make_unique<RequestMetrics>(registry);
  agent::WorkloadCertificatesOptions certificate_options;
  certificate_options.ttl = o.certificate_ttl;
  certificate_options.trust_bundle_pem = root;
  certificate_options.registry = &registry;
  AMBIT_ASSIGN_OR_RETURN(
      certificates,
      agent::WorkloadCertificates::create(
          std::make_shared<agent::GrpcCertificateClient>(agent::GrpcCertificateClient::makeChannel(
              o.control_address, tls::withBearerToken(control_tls, token), o.control_server_name)),
          certificate_options));
  certificates->setIdentities({identity});
  AMBIT_ASSIGN_OR_RETURN(const PathNormalization normalization,
                         parsePathNormalization(o.path_normalization));
  config = std::make_unique<ConfigStore>(o.namespace_, o.name, "cluster.local", &registry,
                                         normalization);
  // Spans per collector, by outcome. The metrics server stops before the store goes.
  registry.collect(
      "ambit_waypoint_spans_total", "Spans the waypoint reported to a Zipkin collector, by result",
      "counter", [store = config.get()](std::string& out) {
        for (const auto& [collector, s] : store->spanReporters().stats()) {
          for (const auto& [result, n] : {std::pair<const char*, uint64_t>{"sent", s.sent},
                                          {"dropped", s.dropped},
                                          {"failed", s.failed}}) {
            out += absl::StrCat("ambit_waypoint_spans_total",
                                metrics::labelText({{"collector", collector}, {"result", result}}),
                                " ", n, "\n");
          }
        }
      });
  jwks = std::make_unique<JwksCache>(
      JwksCacheOptions{}, [this] { config->replaceJwks(jwks->current()); }, &registry);

  ProxyOptions proxy;
  proxy.identity = identity;
  proxy.listen_address = o.listen_address;
  proxy.hbone_port = o.hbone_port;
  proxy.connect_timeout = o.connect_timeout;
  proxy.max_header_bytes = o.max_header_bytes;
  proxy.max_body_bytes = o.max_body_bytes;
  proxy.pool.mark = o.upstream_mark;
  proxy.pool.connect_timeout = o.connect_timeout;
  const size_t count =
      o.workers > 0 ? o.workers : std::max<size_t>(1, std::thread::hardware_concurrency());
  for (size_t i = 0; i < count; ++i) {
    auto worker = std::make_unique<ProxyWorker>(i, *config, *certificates, *request_metrics, proxy);
    AMBIT_RETURN_IF_ERROR(worker->listen());
    workers.push_back(std::move(worker));
  }

  xds::DeltaAdsClientOptions xds_options;
  xds_options.target = o.control_address;
  xds_options.credentials = tls::withBearerToken(control_tls, token);
  xds_options.server_name = o.control_server_name;
  xds_options.node_id = absl::StrCat("waypoint~", o.namespace_, "/", o.name);
  xds_options.type_urls = {xds::kAddressType, kVirtualServiceType,      kDestinationRuleType,
                           kEnvoyFilterType,  kAuthorizationPolicyType, kRequestAuthenticationType,
                           kTelemetryType,    kMeshConfigType};
  xds = std::make_unique<xds::DeltaAdsClient>(
      xds_options, validateResource,
      [this](const std::string& type_url, const xds::ResourceMap& resources) {
        onResources(type_url, resources);
      });

  log::get("access");  // /logging sets the levels of loggers that exist
  AMBIT_ASSIGN_OR_RETURN(metrics_server,
                         http::AdminServer::create(o.admin_address, o.metrics_port));
  auto render = [this](const http::Request&) {
    certificates->refreshMetrics();
    return http::Response{200, "text/plain; version=0.0.4", registry.render()};
  };
  metrics_server->handle("/metrics", render);
  metrics_server->handle("/stats/prometheus", render);
  AMBIT_ASSIGN_OR_RETURN(admin, http::AdminServer::create(o.admin_address, o.admin_port));
  admin->handle("/logging", agent::loggingEndpoint, /*accept_post=*/true);
  admin->handle("/debug/certificates", [this](const http::Request&) {
    return http::Response{200, "application/json", certificates->debugJson() + "\n"};
  });
  admin->handle("/config_dump", [this](const http::Request&) {
    return http::Response{200, "application/json",
                          waypointConfigDump(*config->current(), certificates->debugJson()) + "\n"};
  });
  AMBIT_ASSIGN_OR_RETURN(readiness, http::AdminServer::create(o.admin_address, o.readiness_port));
  readiness->handle("/healthz/ready", [this](const http::Request&) { return ready(); });
  return absl::OkStatus();
}

void Waypoint::Impl::onResources(const std::string& type_url, const xds::ResourceMap& resources) {
  if (type_url == xds::kAddressType) {
    agent::Snapshot::Addresses addresses;
    for (const auto& [name, resource] : resources) {
      absl::StatusOr<std::shared_ptr<const istio::workload::Address>> address =
          agent::decodeAddress(resource.body);
      if (address.ok()) addresses[name] = *address;
    }
    config->replaceAddresses(addresses);
  } else if (type_url == kVirtualServiceType) {
    std::vector<VirtualServiceEntry> entries;
    for (const auto& [name, resource] : resources) {
      VirtualServiceEntry entry;
      std::tie(entry.namespace_, entry.name) = splitName(name);
      if (resource.body.UnpackTo(&entry.spec)) entries.push_back(std::move(entry));
    }
    config->replaceVirtualServices(std::move(entries));
  } else if (type_url == kDestinationRuleType) {
    std::vector<DestinationRuleEntry> entries;
    for (const auto& [name, resource] : resources) {
      DestinationRuleEntry entry;
      std::tie(entry.namespace_, entry.name) = splitName(name);
      if (resource.body.UnpackTo(&entry.spec)) entries.push_back(std::move(entry));
    }
    config->replaceDestinationRules(std::move(entries));
  } else if (type_url == kEnvoyFilterType) {
    std::vector<EnvoyFilterEntry> entries;
    for (const auto& [name, resource] : resources) {
      EnvoyFilterEntry entry;
      std::tie(entry.namespace_, entry.name) = splitName(name);
      if (resource.body.UnpackTo(&entry.spec)) entries.push_back(std::move(entry));
    }
    config->replaceEnvoyFilters(entries);
  } else if (type_url == kAuthorizationPolicyType) {
    std::vector<AuthorizationPolicyEntry> entries;
    for (const auto& [name, resource] : resources) {
      AuthorizationPolicyEntry entry;
      std::tie(entry.namespace_, entry.name) = splitName(name);
      if (resource.body.UnpackTo(&entry.spec)) entries.push_back(std::move(entry));
    }
    config->replaceAuthorizationPolicies(std::move(entries));
  } else if (type_url == kRequestAuthenticationType) {
    std::vector<RequestAuthnEntry> entries;
    for (const auto& [name, resource] : resources) {
      RequestAuthnEntry entry;
      std::tie(entry.namespace_, entry.name) = splitName(name);
      if (resource.body.UnpackTo(&entry.spec)) entries.push_back(std::move(entry));
    }
    config->replaceRequestAuthentications(std::move(entries));
  } else if (type_url == kTelemetryType) {
    std::vector<TelemetryEntry> entries;
    for (const auto& [name, resource] : resources) {
      TelemetryEntry entry;
      std::tie(entry.namespace_, entry.name) = splitName(name);
      if (resource.body.UnpackTo(&entry.spec)) entries.push_back(std::move(entry));
    }
    config->replaceTelemetries(std::move(entries));
  } else if (type_url == kMeshConfigType) {
    std::optional<istio::mesh::v1alpha1::MeshConfig> mesh;
    for (const auto& [name, resource] : resources) {
      istio::mesh::v1alpha1::MeshConfig spec;
      if (resource.body.UnpackTo(&spec)) mesh = std::move(spec);
    }
    config->replaceMeshConfig(std::move(mesh));
  }
  // The services served or the rules may have changed: fetch the key sets the rules name now.
  if (const auto& security = config->current()->security) jwks->setUris(security->jwksUris());
}

http::Response Waypoint::Impl::ready() const {
  std::string missing;
  if (!xds->synced()) missing = "no full config from the control plane yet";
  if (missing.empty() && certificates->get(identity) == nullptr) {
    missing = absl::StrCat("no certificate for ", identity, " yet");
  }
  if (missing.empty()) return http::Response{200, "text/plain; charset=utf-8", "ready\n"};
  return http::Response{503, "text/plain; charset=utf-8",
                        absl::StrCat("not ready: ", missing, "\n")};
}

Waypoint::Waypoint(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Waypoint::~Waypoint() {
  stop();
  for (auto* server : {impl_->admin.get(), impl_->metrics_server.get(), impl_->readiness.get()}) {
    if (server != nullptr) server->stop();
  }
  for (auto& worker : impl_->workers) worker->stop();
  if (impl_->xds) impl_->xds->stop();
  impl_->jwks.reset();
  if (impl_->certificates) impl_->certificates->stop();
}

absl::StatusOr<std::unique_ptr<Waypoint>> Waypoint::create(WaypointOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  AMBIT_RETURN_IF_ERROR(impl->init());
  return std::unique_ptr<Waypoint>(new Waypoint(std::move(impl)));
}

void Waypoint::run() {
  impl_->admin->start();
  impl_->metrics_server->start();
  impl_->readiness->start();
  impl_->xds->start();
  for (auto& worker : impl_->workers) worker->start();
  logger()->info("waypoint {}/{} as {}: HBONE on {}:{}, {} workers", impl_->options.namespace_,
                 impl_->options.name, impl_->identity, impl_->options.listen_address,
                 impl_->options.hbone_port, impl_->workers.size());
  std::unique_lock lock(impl_->mu);
  impl_->stopped_cv.wait(lock, [this] { return impl_->stopped; });
}

void Waypoint::stop() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopped = true;
  }
  impl_->stopped_cv.notify_all();
}

}  // namespace ambit::waypoint
