#include "waypoint/config/config_store.h"

#include <absl/strings/str_cat.h>

#include "agent/relay/outbound.h"
#include "core/log.h"
#include "core/xds/workload_labels.h"

namespace ambit::waypoint {
namespace {

std::shared_ptr<spdlog::logger> logger() { return log::get("waypoint"); }

}  // namespace

const std::map<std::string, std::string>& WaypointSnapshot::labelsOf(const std::string& uid) const {
  static const std::map<std::string, std::string> kNone;
  auto it = labels_by_uid.find(uid);
  return it != labels_by_uid.end() ? it->second : kNone;
}

absl::StatusOr<ServedDestination> servedDestination(const WaypointSnapshot& snapshot,
                                                    const std::string& address, uint16_t port) {
  if (snapshot.version == 0 || snapshot.routes == nullptr) {
    return absl::FailedPreconditionError("no config yet");
  }
  boost::system::error_code ec;
  const boost::asio::ip::address ip = boost::asio::ip::make_address(address, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("\"", address, "\" is not an address"));
  const agent::IpBytes bytes = agent::toIpBytes(ip);
  ServedDestination out;
  out.address = address;
  out.port = port;
  if (agent::Snapshot::ServicePtr service = snapshot.mesh->serviceByVip(bytes)) {
    const std::string key = agent::Snapshot::serviceKey(*service);
    if (snapshot.routes->findService(service->hostname()) == nullptr) {
      return absl::NotFoundError(absl::StrCat("service ", key, " does not use this waypoint"));
    }
    const istio::workload::Port* service_port = nullptr;
    for (const auto& p : service->ports()) {
      if (p.service_port() == port) service_port = &p;
    }
    if (service_port == nullptr) {
      return absl::NotFoundError(absl::StrCat("service ", key, " has no port ", port));
    }
    out.protocol = service_port->app_protocol();
    out.service = service;
    out.host = service->hostname();
    return out;
  }
  if (agent::Snapshot::WorkloadPtr workload = snapshot.mesh->workloadByIp(bytes)) {
    if (snapshot.served_workloads.count(workload->uid()) > 0) {
      out.workload = workload;
      out.protocol = istio::workload::TCP;
      return out;
    }
  }
  return absl::NotFoundError(absl::StrCat(
      address, " is not the address of a service or workload that uses this waypoint"));
}

ConfigStore::ConfigStore(std::string gateway_namespace, std::string name, std::string domain_suffix,
                         metrics::Registry* registry, PathNormalization normalization)
    : namespace_(std::move(gateway_namespace)),
      name_(std::move(name)),
      domain_suffix_(std::move(domain_suffix)),
      normalization_(normalization),
      registry_(registry),
      rate_limits_(std::make_shared<RateLimits>(std::vector<RateLimitRule>{}, nullptr)) {}

bool ConfigStore::isThisWaypoint(const istio::workload::GatewayAddress& waypoint,
                                 const agent::Snapshot& mesh) const {
  if (waypoint.has_hostname()) {
    return waypoint.hostname().namespace_() == namespace_ &&
           waypoint.hostname().hostname() ==
               absl::StrCat(name_, ".", namespace_, ".svc.", domain_suffix_);
  }
  if (waypoint.has_address()) {
    agent::Snapshot::WorkloadPtr instance = mesh.workloadByIp(waypoint.address().address());
    return instance != nullptr && instance->namespace_() == namespace_ &&
           instance->service_account() == name_;
  }
  return false;
}

void ConfigStore::replaceAddresses(const agent::Snapshot::Addresses& addresses) {
  std::lock_guard lock(mu_);
  addresses_ = addresses;
  have_addresses_ = true;
  rebuildLocked();
}

void ConfigStore::replaceVirtualServices(std::vector<VirtualServiceEntry> entries) {
  std::lock_guard lock(mu_);
  virtual_services_ = std::move(entries);
  rebuildLocked();
}

void ConfigStore::replaceDestinationRules(std::vector<DestinationRuleEntry> entries) {
  std::lock_guard lock(mu_);
  destination_rules_ = std::move(entries);
  rebuildLocked();
}

void ConfigStore::replaceEnvoyFilters(const std::vector<EnvoyFilterEntry>& entries) {
  std::vector<std::string> notes;
  std::vector<RateLimitRule> rules = rateLimitRules(entries, namespace_, name_, &notes);
  for (const std::string& note : notes) logger()->warn("{}", note);
  for (const RateLimitRule& rule : rules) {
    logger()->info("local rate limit {}: {} tokens, {} per fill, {}", rule.filter,
                   rule.config.max_tokens, rule.config.tokens_per_fill,
                   rule.per_endpoint ? "a bucket per selected endpoint" : "one bucket");
  }
  std::lock_guard lock(mu_);
  rate_limits_ = std::make_shared<RateLimits>(std::move(rules), registry_);
  rebuildLocked();
}

void ConfigStore::replaceAuthorizationPolicies(std::vector<AuthorizationPolicyEntry> entries) {
  std::lock_guard lock(mu_);
  authorization_policies_ = std::move(entries);
  rebuildLocked();
}

void ConfigStore::replaceRequestAuthentications(std::vector<RequestAuthnEntry> entries) {
  std::lock_guard lock(mu_);
  request_authns_ = std::move(entries);
  rebuildLocked();
}

void ConfigStore::replaceTelemetries(std::vector<TelemetryEntry> entries) {
  std::lock_guard lock(mu_);
  telemetries_ = std::move(entries);
  rebuildLocked();
}

void ConfigStore::replaceMeshConfig(std::optional<istio::mesh::v1alpha1::MeshConfig> mesh) {
  std::lock_guard lock(mu_);
  mesh_config_ = std::move(mesh);
  rebuildLocked();
}

void ConfigStore::replaceJwks(std::shared_ptr<const JwksSet> jwks) {
  std::lock_guard lock(mu_);
  jwks_ = std::move(jwks);
  auto next = std::make_shared<WaypointSnapshot>(*current_.get());
  next->jwks = jwks_;
  current_.publish(std::move(next));
}

PathNormalization ConfigStore::normalizationLocked() const {
  if (!mesh_config_ || !mesh_config_->has_path_normalization()) return normalization_;
  const auto type = mesh_config_->path_normalization().normalization();
  absl::StatusOr<PathNormalization> mode = parsePathNormalization(
      istio::mesh::v1alpha1::MeshConfig::ProxyPathNormalization::NormalizationType_Name(type));
  return mode.ok() ? *mode : normalization_;
}

void ConfigStore::rebuildLocked() {
  auto next = std::make_shared<WaypointSnapshot>();
  next->rate_limits = rate_limits_;
  next->jwks = jwks_;
  std::vector<SecurityTarget> targets;
  std::vector<std::string> security_notes;
  if (!have_addresses_) {
    next->security = SecurityConfig::build({}, {}, {}, normalizationLocked(), security_notes);
    next->tracing = TracingSettings::build(mesh_config_, telemetries_, {}, namespace_, reporters_);
    next->telemetry = TelemetrySettings::build(telemetries_, {}, namespace_);
    for (const std::string& note : next->telemetry->notes()) logger()->warn("telemetry: {}", note);
    current_.publish(std::move(next));
    return;
  }
  next->version = ++version_;
  next->mesh = agent::Snapshot::build(addresses_, next->version);
  RouteConfigInput input;
  input.domain_suffix = domain_suffix_;
  input.virtual_services = virtual_services_;
  input.destination_rules = destination_rules_;
  for (const auto& [uid, workload] : next->mesh->workloads()) {
    if (workload->has_waypoint() && isThisWaypoint(workload->waypoint(), *next->mesh)) {
      next->served_workloads.insert(uid);
    }
    std::map<std::string, std::string> labels = xds::workloadLabels(*workload);
    if (!labels.empty()) next->labels_by_uid.emplace(uid, std::move(labels));
  }
  for (const auto& [key, service] : next->mesh->services()) {
    next->services_by_host[service->hostname()] = service;
    if (!service->has_waypoint() || !isThisWaypoint(service->waypoint(), *next->mesh)) continue;
    targets.push_back(SecurityTarget{service->namespace_(), service->name(), service->hostname()});
    ServiceInfo info;
    info.namespace_ = service->namespace_();
    info.hostname = service->hostname();
    for (const auto& vip : service->addresses()) {
      absl::StatusOr<boost::asio::ip::address> ip = agent::fromIpBytes(vip.address());
      if (ip.ok()) info.vips.push_back(ip->to_string());
    }
    for (const auto& port : service->ports()) {
      info.ports.push_back(static_cast<uint16_t>(port.service_port()));
    }
    input.services.push_back(std::move(info));
  }
  absl::StatusOr<std::shared_ptr<const RouteConfig>> routes = RouteConfig::build(std::move(input));
  if (!routes.ok()) {
    // Keep serving the last good routes with the new addresses rather than nothing.
    logger()->warn("routing config not rebuilt: {}", std::string(routes.status().message()));
    next->routes = current_.get()->routes;
  } else {
    next->routes = std::move(*routes);
    for (const std::string& note : next->routes->notes()) logger()->info("routing: {}", note);
  }
  next->security = SecurityConfig::build(authorization_policies_, request_authns_, targets,
                                         normalizationLocked(), security_notes);
  for (const std::string& note : security_notes) logger()->warn("security: {}", note);
  next->tracing =
      TracingSettings::build(mesh_config_, telemetries_, targets, namespace_, reporters_);
  next->telemetry = TelemetrySettings::build(telemetries_, targets, namespace_);
  for (const std::string& note : next->telemetry->notes()) logger()->warn("telemetry: {}", note);
  logger()->info(
      "config version {}: {} services served, {} VirtualServices, {} DestinationRules, "
      "{} AuthorizationPolicies, {} RequestAuthentications",
      next->version, next->routes ? next->routes->services().size() : 0, virtual_services_.size(),
      destination_rules_.size(), authorization_policies_.size(), request_authns_.size());
  current_.publish(std::move(next));
}

}  // namespace ambit::waypoint
