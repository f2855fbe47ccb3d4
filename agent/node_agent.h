// ambit-agent's wiring: the control plane stream, the snapshot store, the CNI server, the pods,
// the workload certificates and the admin endpoints. Connections run on the worker threads
// (--workers), enrollment on a thread of its own, certificate fetches on another.
#pragma once

#include <utility>  // before asio: Boost 1.74 needs it

#include <memory>
#include <string>
#include <thread>

#include <boost/asio.hpp>

#include "agent/admin/agent_metrics.h"
#include "agent/cni/cni_server.h"
#include "agent/identity/workload_certificates.h"
#include "agent/pod/pod_manager.h"
#include "agent/pod/worker.h"
#include "core/http/admin_server.h"
#include "core/xds/delta_ads_client.h"

namespace ambit::agent {

struct NodeAgentOptions {
  std::string node;
  std::string control_address;
  std::string control_ca_file;  // the mesh root that signed the control plane's certificate
  std::string control_server_name = "ambit-control";
  std::string token_file;
  std::string cni_socket = "/var/run/ambit/cni.sock";
  std::string pod_dir = "/var/run/ambit/pods";
  std::string redirect = "auto";  // capture mode: auto, ebpf or nftables (makeRedirector)
  RedirectorOptions capture;      // where the eBPF capture attaches and pins
  std::string admin_address = "127.0.0.1";
  uint16_t admin_port = 15000;  // /config_dump, /logging, /debug/*
  uint16_t metrics_port = 15020;
  uint16_t readiness_port = 15021;
  std::chrono::seconds certificate_ttl{std::chrono::hours(24)};  // asked of the CA
  size_t workers = 0;  // data-path threads; 0: one per core
  // On SIGTERM: listeners close and tunnels get GOAWAY at once; open connections have this long
  // to finish before the agent closes them and exits.
  std::chrono::seconds drain{5};
  PodManagerOptions pods;
};

class NodeAgent {
 public:
  static absl::StatusOr<std::unique_ptr<NodeAgent>> create(NodeAgentOptions options);
  ~NodeAgent();

  // Runs until stop(), or until SIGINT/SIGTERM and the drain that follows.
  void run();
  // Stops at once, without draining.
  void stop();

 private:
  explicit NodeAgent(NodeAgentOptions options);
  absl::Status init();
  void onAddresses(const xds::ResourceMap& resources);
  void onPolicies(const xds::ResourceMap& resources);
  void rediscoverPods();
  // Stops taking connections and waits up to the drain time for open ones, then stop().
  void drain();
  void awaitDrained(std::chrono::steady_clock::time_point deadline);
  http::Response ready() const;

  const NodeAgentOptions options_;
  // The data path: io_ is the first worker's (run by the thread that calls run(), which also
  // handles signals); the others each have a thread of their own.
  boost::asio::io_context io_{1};
  std::vector<std::unique_ptr<boost::asio::io_context>> other_ios_;
  std::vector<std::unique_ptr<Worker>> workers_;
  boost::asio::io_context enrollment_{1};  // one thread enrolls and releases pods
  bool draining_ = false;
  std::unique_ptr<boost::asio::steady_timer> drain_timer_;
  AgentMetrics metrics_;
  SnapshotStore store_;
  std::unique_ptr<Redirector> redirector_;
  std::unique_ptr<WorkloadCertificates> certificates_;
  std::unique_ptr<PodManager> pods_;
  std::unique_ptr<xds::DeltaAdsClient> xds_;
  std::unique_ptr<cni::CniServer> cni_;
  std::unique_ptr<http::AdminServer> admin_server_;
  std::unique_ptr<http::AdminServer> metrics_server_;
  std::unique_ptr<http::AdminServer> readiness_server_;
  // Decoded addresses by resource name, with the version they were decoded at, so a push only
  // decodes what changed.
  std::map<std::string, std::pair<std::string, std::shared_ptr<const istio::workload::Address>>>
      decoded_;
};

}  // namespace ambit::agent
