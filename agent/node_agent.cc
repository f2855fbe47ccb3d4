#include "agent/node_agent.h"

#include <absl/strings/str_cat.h>
#include <absl/strings/strip.h>

#include "agent/admin/config_dump.h"
#include "agent/cni/pod_records.h"
#include "agent/identity/certificate_client.h"
#include "agent/identity/identities_on_node.h"
#include "agent/state/address_codec.h"
#include "core/files.h"
#include "core/log.h"
#include "core/tls/grpc_credentials.h"
#include "core/tls/tls_path.h"
#include "istio/security/authorization.pb.h"

namespace ambit::agent {
namespace {

namespace asio = boost::asio;

std::shared_ptr<spdlog::logger> logger() { return log::get("agent"); }

absl::Status validateResource(const std::string& type_url, const std::string&,
                              const google::protobuf::Any& body) {
  if (type_url == xds::kAddressType) return decodeAddress(body).status();
  istio::security::Authorization policy;
  if (!body.UnpackTo(&policy)) {
    return absl::InvalidArgumentError("does not decode as istio.security.Authorization");
  }
  return absl::OkStatus();
}

// The certificate manager as the data path's source of credentials.

}  // namespace

NodeAgent::NodeAgent(NodeAgentOptions options) : options_(std::move(options)) {}

NodeAgent::~NodeAgent() { stop(); }

absl::StatusOr<std::unique_ptr<NodeAgent>> NodeAgent::create(NodeAgentOptions options) {
  std::unique_ptr<NodeAgent> agent(new NodeAgent(std::move(options)));
  AMBIT_RETURN_IF_ERROR(agent->init());
  return agent;
}

absl::Status NodeAgent::init() {
  AMBIT_ASSIGN_OR_RETURN(redirector_, makeRedirector(options_.redirect, options_.capture));
  redirector_->exportMetrics(metrics_.registry());
  AMBIT_ASSIGN_OR_RETURN(std::string root, readFlagFile(options_.control_ca_file, "--control-ca"));
  AMBIT_ASSIGN_OR_RETURN(std::string token, readFlagFile(options_.token_file, "--token-file"));
  token = std::string(absl::StripAsciiWhitespace(token));
  if (token.empty()) return absl::InvalidArgumentError("--token-file: the file is empty");
  AMBIT_ASSIGN_OR_RETURN(auto control_tls, tls::clientCredentials(root));

  WorkloadCertificatesOptions certificate_options;
  certificate_options.ttl = options_.certificate_ttl;
  certificate_options.trust_bundle_pem = root;
  certificate_options.registry = &metrics_.registry();
  AMBIT_ASSIGN_OR_RETURN(
      certificates_, WorkloadCertificates::create(
                         std::make_shared<GrpcCertificateClient>(GrpcCertificateClient::makeChannel(
                             options_.control_address, tls::withBearerToken(control_tls, token),
                             options_.control_server_name)),
                         certificate_options));

  const size_t worker_count = options_.workers > 0
                                  ? options_.workers
                                  : std::max<size_t>(1, std::thread::hardware_concurrency());
  std::vector<Worker*> workers;
  for (size_t i = 0; i < worker_count; ++i) {
    boost::asio::io_context* io = &io_;
    if (i > 0) io = other_ios_.emplace_back(std::make_unique<asio::io_context>(1)).get();
    workers.push_back(workers_.emplace_back(std::make_unique<Worker>(i, *io)).get());
  }

  PodManagerOptions pod_options = options_.pods;
  pod_options.node = options_.node;
  pod_options.proxy.delivery_mark = redirector_->deliveryMark(pod_options.capture);
  pods_ = std::make_unique<PodManager>(enrollment_, workers, pod_options, *redirector_, store_,
                                       metrics_, *certificates_);
  store_.subscribe([this](const std::shared_ptr<const Snapshot>& snapshot) {
    metrics_.snapshot_workloads.set(static_cast<int64_t>(snapshot->workloadCount()));
    metrics_.snapshot_services.set(static_cast<int64_t>(snapshot->serviceCount()));
    // Certificates for the identities of the node's pods are fetched before their first tunnel.
    if (snapshot->version() > 0) {
      certificates_->setIdentities(identitiesOnNode(*snapshot, options_.node, kDefaultTrustDomain));
    }
    pods_->snapshotChanged();
  });

  xds::DeltaAdsClientOptions xds_options;
  xds_options.target = options_.control_address;
  xds_options.credentials = tls::withBearerToken(control_tls, token);
  xds_options.server_name = options_.control_server_name;
  xds_options.node_id = options_.node;
  xds_options.type_urls = {xds::kAddressType, xds::kAuthorizationType};
  auto validator = [this](const std::string& type_url, const std::string& name,
                          const google::protobuf::Any& body) {
    absl::Status status = validateResource(type_url, name, body);
    if (!status.ok()) metrics_.xds_nacks.inc();
    return status;
  };
  xds_ = std::make_unique<xds::DeltaAdsClient>(
      xds_options, validator,
      [this](const std::string& type_url, const xds::ResourceMap& resources) {
        metrics_.xds_acks.inc();
        if (type_url == xds::kAddressType) onAddresses(resources);
        if (type_url == xds::kAuthorizationType) onPolicies(resources);
      });

  cni::CniHandlers handlers;
  handlers.on_add = [this](const ambit::cni::v1::PodInfo& pod, UniqueFd fd) {
    pods_->addPod(pod, std::make_shared<const Netns>(Netns::adopt(std::move(fd))));
    return absl::OkStatus();
  };
  handlers.on_del = [this](const ambit::cni::v1::DelPod& pod) {
    pods_->deletePod(pod);
    return absl::OkStatus();
  };
  cni_ = std::make_unique<cni::CniServer>(options_.cni_socket, std::move(handlers));
  if (absl::Status started = cni_->start(); !started.ok()) {
    return absl::Status(started.code(),
                        absl::StrCat("--cni-socket: ", std::string(started.message())));
  }

  log::get("access");  // /logging sets the levels of loggers that exist
  AMBIT_ASSIGN_OR_RETURN(metrics_server_,
                         http::AdminServer::create(options_.admin_address, options_.metrics_port));
  auto render_metrics = [this](const http::Request&) {
    certificates_->refreshMetrics();
    const xds::DeltaAdsClient::Counters counters = xds_->counters();
    metrics_.xds_connected.set(counters.connected ? 1 : 0);
    return http::Response{200, "text/plain; version=0.0.4", metrics_.registry().render()};
  };
  metrics_server_->handle("/metrics", render_metrics);
  metrics_server_->handle("/stats/prometheus", render_metrics);
  AMBIT_ASSIGN_OR_RETURN(admin_server_,
                         http::AdminServer::create(options_.admin_address, options_.admin_port));
  admin_server_->handle("/config_dump", [this](const http::Request&) {
    return http::Response{200, "application/json",
                          configDumpJson(*store_.current(), certificates_->debugJson()) + "\n"};
  });
  admin_server_->handle("/logging", loggingEndpoint, /*accept_post=*/true);
  // The debug views on both ports: tools and the lab read them on the metrics port.
  for (http::AdminServer* server : {admin_server_.get(), metrics_server_.get()}) {
    server->handle("/debug/pods", [this](const http::Request&) {
      return http::Response{200, "application/json", pods_->debugJson() + "\n"};
    });
    server->handle("/debug/certificates", [this](const http::Request&) {
      return http::Response{200, "application/json", certificates_->debugJson() + "\n"};
    });
    server->handle("/debug/capture", [this](const http::Request&) {
      return http::Response{200, "application/json", redirector_->debugJson() + "\n"};
    });
  }
  AMBIT_ASSIGN_OR_RETURN(readiness_server_, http::AdminServer::create(options_.admin_address,
                                                                      options_.readiness_port));
  readiness_server_->handle("/healthz/ready", [this](const http::Request&) { return ready(); });
  return absl::OkStatus();
}

http::Response NodeAgent::ready() const {
  if (xds_->synced()) return http::Response{200, "text/plain; charset=utf-8", "ready\n"};
  const xds::DeltaAdsClient::Counters counters = xds_->counters();
  return http::Response{
      503, "text/plain; charset=utf-8",
      absl::StrCat("not ready: no full config from the control plane at ", options_.control_address,
                   " yet", counters.last_error.empty() ? "" : " (", counters.last_error,
                   counters.last_error.empty() ? "" : ")", "\n")};
}

void NodeAgent::onAddresses(const xds::ResourceMap& resources) {
  SnapshotStore::Addresses addresses;
  std::map<std::string, std::pair<std::string, std::shared_ptr<const istio::workload::Address>>>
      decoded;
  for (const auto& [name, resource] : resources) {
    auto cached = decoded_.find(name);
    if (cached != decoded_.end() && cached->second.first == resource.version &&
        !resource.version.empty()) {
      decoded[name] = cached->second;
    } else {
      absl::StatusOr<std::shared_ptr<const istio::workload::Address>> address =
          decodeAddress(resource.body);
      if (!address.ok()) continue;  // validated before acceptance; cannot happen
      decoded[name] = {resource.version, *address};
    }
    addresses[name] = decoded[name].second;
  }
  decoded_ = std::move(decoded);
  store_.replaceAddresses(addresses);
}

void NodeAgent::onPolicies(const xds::ResourceMap& resources) {
  SnapshotStore::Policies policies;
  for (const auto& [name, resource] : resources) {
    auto policy = std::make_shared<istio::security::Authorization>();
    if (resource.body.UnpackTo(policy.get())) policies[name] = std::move(policy);
  }
  store_.replacePolicies(policies);
}

void NodeAgent::rediscoverPods() {
  cni::PodRecords records(options_.pod_dir);
  absl::StatusOr<std::vector<ambit::cni::v1::PodInfo>> pods = records.list();
  if (!pods.ok()) {
    logger()->warn("cannot read pod records in {}: {}", options_.pod_dir,
                   std::string(pods.status().message()));
    return;
  }
  for (const ambit::cni::v1::PodInfo& pod : *pods) {
    absl::StatusOr<Netns> netns = Netns::open(pod.netns_path());
    if (!netns.ok()) {
      // The sandbox is gone and its DEL was missed: forget the pod.
      logger()->info("pod {}/{}: netns {} is gone ({}); dropping its record", pod.namespace_(),
                     pod.name(), pod.netns_path(), std::string(netns.status().message()));
      (void)records.remove(pod.uid());
      continue;
    }
    pods_->addPod(pod, std::make_shared<const Netns>(std::move(*netns)));
  }
  logger()->info("found {} pod records in {}", pods->size(), options_.pod_dir);
}

void NodeAgent::run() {
  asio::signal_set signals(io_, SIGINT, SIGTERM);
  std::function<void(boost::system::error_code, int)> on_signal =
      [this, &signals, &on_signal](boost::system::error_code ec, int signal) {
        if (ec) return;
        if (draining_) {
          logger()->info("signal {} while draining: stopping now", signal);
          stop();
          return;
        }
        logger()->info("signal {}: draining for up to {} s", signal, options_.drain.count());
        drain();
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);
  // Work guards: every io_context runs until stop(), even with no pods.
  auto guard = asio::make_work_guard(io_);
  auto enrollment_guard = asio::make_work_guard(enrollment_);
  std::thread enrollment_thread([this] { enrollment_.run(); });
  std::vector<std::thread> worker_threads;
  for (auto& io : other_ios_) {
    worker_threads.emplace_back([io = io.get()] {
      auto worker_guard = asio::make_work_guard(*io);
      io->run();
    });
  }
  admin_server_->start();
  metrics_server_->start();
  readiness_server_->start();
  rediscoverPods();
  xds_->start();
  logger()->info(
      "node agent for {} running: control plane {}, {} capture, {} worker thread(s), CNI socket "
      "{}; "
      "{}",
      options_.node, options_.control_address, redirector_->name(), workers_.size(),
      options_.cni_socket, tls::describeTlsPath());
  io_.run();
  for (auto& io : other_ios_) io->stop();
  for (std::thread& thread : worker_threads) thread.join();
  enrollment_.stop();
  enrollment_thread.join();
}

void NodeAgent::drain() {
  draining_ = true;
  // No new pods or connections; tunnels get GOAWAY, so peers open new ones elsewhere.
  if (cni_ != nullptr) cni_->stop();
  if (pods_ != nullptr) pods_->shutdown();
  awaitDrained(std::chrono::steady_clock::now() + options_.drain);
}

void NodeAgent::awaitDrained(std::chrono::steady_clock::time_point deadline) {
  const int64_t open = metrics_.active_connections.value();
  if (open == 0 || std::chrono::steady_clock::now() >= deadline) {
    if (open > 0) logger()->warn("drain time is up: closing {} open connection(s)", open);
    logger()->info("drained; exiting");
    stop();
    return;
  }
  drain_timer_ = std::make_unique<asio::steady_timer>(io_, std::chrono::milliseconds(100));
  drain_timer_->async_wait([this, deadline](boost::system::error_code ec) {
    if (!ec) awaitDrained(deadline);
  });
}

void NodeAgent::stop() {
  if (cni_ != nullptr) cni_->stop();
  if (certificates_ != nullptr) certificates_->stop();
  if (xds_ != nullptr) xds_->stop();
  if (pods_ != nullptr) pods_->shutdown();
  asio::post(io_, [this] { io_.stop(); });
}

}  // namespace ambit::agent
