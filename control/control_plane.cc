#include "control/control_plane.h"

#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <set>
#include <unordered_map>

#include "control/auth/token_file_authenticator.h"
#include "control/ca/certificate_service.h"
#include "control/ca/root_ca.h"
#include "control/ca/serving_credentials.h"
#include "control/ca/signer.h"
#include "control/cluster_identity_directory.h"
#include "control/debug/debug_endpoints.h"
#include "control/source/directory_source.h"
#include "control/translate/snapshot.h"
#include "control/translate/translator.h"
#include "control/translate/waypoint_config.h"
#include "control/translate/waypoints.h"
#include "control/xds/delta_ads_server.h"
#include "core/http/admin_server.h"
#include "core/log.h"
#include "k8s/gateway.pb.h"

namespace ambit::control {
namespace {

namespace fs = std::filesystem;

// Names the serving certificate answers to: in a cluster, the Service; locally, localhost.
const std::vector<std::string> kServingNames = {"ambit-control", "ambit-control.istio-system.svc",
                                                "localhost"};

// Which waypoints (by SPIFFE identity) may see each waypoint config resource ("type|name").
using WaypointAccess = std::unordered_map<std::string, std::set<std::string>>;

// The Istio config kinds waypoints receive, served even while none exists.
const std::vector<std::string> kWaypointTypes = {
    "type.googleapis.com/istio.networking.v1alpha3.VirtualService",
    "type.googleapis.com/istio.networking.v1alpha3.DestinationRule",
    "type.googleapis.com/istio.networking.v1alpha3.EnvoyFilter",
    "type.googleapis.com/istio.security.v1beta1.AuthorizationPolicy",
    "type.googleapis.com/istio.security.v1beta1.RequestAuthentication",
    "type.googleapis.com/istio.telemetry.v1alpha1.Telemetry",
    "type.googleapis.com/istio.mesh.v1alpha1.MeshConfig",
};

// Adds each waypoint's config to `snapshot`, and records which waypoint may see which resource.
// A waypoint runs as the service account named after its Gateway, as in Istio.
void addWaypointConfig(const std::vector<config::Object>& objects,
                       const translate::Options& options, xds::Snapshot& snapshot,
                       WaypointAccess& access, std::shared_ptr<spdlog::logger>& log) {
  for (const config::Object& o : objects) {
    if (o.kind->kind != config::Kind::kKubernetesGateway) continue;
    if (!translate::isWaypointClass(o.as<k8s::Gateway>().spec().gateway_class_name())) continue;
    auto resources = translate::waypointResources(objects, options, o.namespace_(), o.name());
    if (!resources.ok()) {
      log->info("waypoint {}/{}: {}", o.namespace_(), o.name(),
                std::string(resources.status().message()));
      continue;
    }
    const std::string identity =
        absl::StrCat("spiffe://", options.trust_domain, "/ns/", o.namespace_(), "/sa/", o.name());
    for (const translate::WaypointResource& r : *resources) {
      auto& slot = snapshot.types[r.type_url][r.name];
      if (!slot) slot = xds::makeResource(r.name, *r.spec);
      access[absl::StrCat(r.type_url, "|", r.name)].insert(identity);
    }
  }
}

}  // namespace

struct ControlPlane::Impl {
  ControlPlaneOptions options;
  std::shared_ptr<spdlog::logger> log = log::get("control");
  std::unique_ptr<auth::TokenFileAuthenticator> authenticator;
  std::shared_ptr<const ca::RootCa> root;
  std::unique_ptr<ca::CertificateSigner> signer;
  std::unique_ptr<ClusterIdentityDirectory> directory;
  std::unique_ptr<ca::CertificateService> ca_service;
  std::unique_ptr<xds::DeltaAdsServer> ads;
  std::unique_ptr<debug::DebugEndpoints> debug;
  std::unique_ptr<http::AdminServer> admin;
  std::unique_ptr<source::DirectorySource> source;
  std::unique_ptr<grpc::Server> grpc_server;
  int grpc_port = 0;
  int plaintext_port = 0;
  std::mutex access_mu;
  std::shared_ptr<const WaypointAccess> waypoint_access = std::make_shared<WaypointAccess>();

  // Node agents see addresses and authorizations; a waypoint sees those and its own config.
  bool visible(const auth::Caller* caller, const std::string& type_url,
               const xds::Resource& resource) {
    if (type_url == xds::kAddressType || type_url == xds::kAuthorizationType) return true;
    if (caller == nullptr) return true;  // authentication disabled (tests)
    if (caller->kind != auth::Caller::Kind::kWaypoint) return false;
    std::shared_ptr<const WaypointAccess> access;
    {
      std::lock_guard<std::mutex> lock(access_mu);
      access = waypoint_access;
    }
    auto it = access->find(absl::StrCat(type_url, "|", resource.name));
    return it != access->end() && it->second.count(caller->identity) > 0;
  }

  void onConfig(source::ConfigStatePtr state) {
    directory->update(*state);
    const translate::Translation translation =
        translate::translate(state->objects, options.translation);
    for (const translate::Note& note : translation.notes) {
      log->info("translation: {}", note.format());
    }
    auto snapshot = std::make_shared<xds::Snapshot>(translate::snapshotOf(translation));
    auto access = std::make_shared<WaypointAccess>();
    addWaypointConfig(state->objects, options.translation, *snapshot, *access, log);
    {
      std::lock_guard<std::mutex> lock(access_mu);
      waypoint_access = std::move(access);
    }
    ads->publish(std::move(snapshot));
    debug->setState(std::move(state));
    debug->setReady(true);
  }
};

absl::Status ControlPlane::reloadTokens() {
  AMBIT_RETURN_IF_ERROR(impl_->authenticator->reload());
  impl_->log->info("tokens reloaded from {}: {} callers", impl_->options.tokens_file,
                   impl_->authenticator->tokenCount());
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ControlPlane>> ControlPlane::create(ControlPlaneOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  const ControlPlaneOptions& o = impl->options;
  if (o.config_dir.empty()) return absl::InvalidArgumentError("--config-dir is required");
  if (o.state_dir.empty()) return absl::InvalidArgumentError("--state-dir is required");
  if (o.tokens_file.empty()) return absl::InvalidArgumentError("--tokens is required");

  AMBIT_ASSIGN_OR_RETURN(impl->authenticator, auth::TokenFileAuthenticator::create(o.tokens_file));
  std::error_code ec;
  fs::create_directories(o.state_dir, ec);
  if (ec)
    return absl::InternalError(absl::StrCat("state directory ", o.state_dir, ": ", ec.message()));
  if (!o.cacerts_dir.empty()) {
    AMBIT_ASSIGN_OR_RETURN(ca::RootCa root, ca::RootCa::loadPluggedIn(o.cacerts_dir));
    impl->root = std::make_shared<const ca::RootCa>(std::move(root));
  } else {
    AMBIT_ASSIGN_OR_RETURN(ca::RootCa root,
                           ca::RootCa::loadOrCreate(o.state_dir, o.translation.trust_domain));
    impl->root = std::make_shared<const ca::RootCa>(std::move(root));
  }
  AMBIT_ASSIGN_OR_RETURN(impl->signer, ca::CertificateSigner::create(impl->root));
  impl->directory = std::make_unique<ClusterIdentityDirectory>(o.translation.trust_domain);
  impl->ca_service = std::make_unique<ca::CertificateService>(
      *impl->authenticator, *impl->directory, *impl->signer, o.translation.trust_domain);
  xds::DeltaAdsOptions ads_options;
  ads_options.debounce = o.debounce;
  ads_options.type_urls.insert(ads_options.type_urls.end(), kWaypointTypes.begin(),
                               kWaypointTypes.end());
  Impl* self = impl.get();
  ads_options.filter = [self](const auth::Caller* caller, const std::string& type_url,
                              const xds::Resource& resource) {
    return self->visible(caller, type_url, resource);
  };
  impl->ads = std::make_unique<xds::DeltaAdsServer>(impl->authenticator.get(), ads_options);
  impl->debug = std::make_unique<debug::DebugEndpoints>(*impl->ads, impl->ca_service->metrics());
  AMBIT_ASSIGN_OR_RETURN(impl->admin, http::AdminServer::create(o.debug_address, o.debug_port));
  impl->debug->install(*impl->admin);
  AMBIT_ASSIGN_OR_RETURN(impl->source, source::DirectorySource::create({o.config_dir}));
  return std::unique_ptr<ControlPlane>(new ControlPlane(std::move(impl)));
}

ControlPlane::ControlPlane(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ControlPlane::~ControlPlane() { stop(); }

absl::Status ControlPlane::start() {
  Impl& s = *impl_;
  AMBIT_ASSIGN_OR_RETURN(
      ca::ServingCertificate serving,
      s.signer->issueServing(kServingNames, {"127.0.0.1", "::1"}, std::chrono::hours(24 * 30)));
  AMBIT_ASSIGN_OR_RETURN(auto credentials, ca::serverCredentials(serving, s.root->rootPem()));
  grpc::ServerBuilder builder;
  builder.AddListeningPort(s.options.grpc_address, credentials, &s.grpc_port);
  if (!s.options.plaintext_grpc_address.empty()) {
    s.log->warn("serving plaintext ADS and CA on {} (for tests only)",
                s.options.plaintext_grpc_address);
    builder.AddListeningPort(s.options.plaintext_grpc_address, grpc::InsecureServerCredentials(),
                             &s.plaintext_port);
  }
  builder.RegisterService(s.ads.get());
  builder.RegisterService(s.ca_service.get());
  s.grpc_server = builder.BuildAndStart();
  if (!s.grpc_server || s.grpc_port == 0 ||
      (!s.options.plaintext_grpc_address.empty() && s.plaintext_port == 0)) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", s.options.grpc_address,
        s.options.plaintext_grpc_address.empty() ? "" : " or " + s.options.plaintext_grpc_address));
  }
  s.admin->start();
  AMBIT_RETURN_IF_ERROR(
      s.source->start([this](source::ConfigStatePtr state) { impl_->onConfig(std::move(state)); }));
  s.log->info("serving ADS and CA on {} (TLS), debug on {}:{}", s.options.grpc_address,
              s.options.debug_address, s.admin->port());
  return absl::OkStatus();
}

void ControlPlane::stop() {
  Impl& s = *impl_;
  if (s.source) s.source->stop();
  if (s.ads) s.ads->stop();
  if (s.grpc_server) {
    s.grpc_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    s.grpc_server.reset();
  }
  if (s.admin) s.admin->stop();
}

int ControlPlane::grpcPort() const { return impl_->grpc_port; }
int ControlPlane::plaintextPort() const { return impl_->plaintext_port; }
uint16_t ControlPlane::debugPort() const { return impl_->admin->port(); }

}  // namespace ambit::control
