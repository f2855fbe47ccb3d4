// Enrollment: decides which of this node's pods are in the mesh and keeps their capture and
// listeners in step with the control plane's view. A pod is enrolled when the CNI plugin has
// reported it on this node and its workload in the snapshot is captured (tunnel protocol HBONE,
// which the control plane sets from the istio.io/dataplane-mode label). Label changes enroll and
// release pods without restarting them. Enrollment runs on its own io_context (`control`), so a
// slow capture command never stalls the relays, which run on the workers.
#pragma once

#include <utility>  // before asio: Boost 1.74 needs it

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <boost/asio.hpp>

#include "agent/capture/redirector.h"
#include "agent/pod/pod_proxy.h"
#include "ambit/cni/v1/cni.pb.h"

namespace ambit::agent {

struct PodManagerOptions {
  std::string node;
  CaptureConfig capture;
  PodProxyOptions proxy;
  std::chrono::milliseconds retry_interval{2000};
};

class PodManager {
 public:
  // `workers` run the pods' listeners and connections; they outlive the manager.
  PodManager(boost::asio::io_context& control, std::vector<Worker*> workers,
             PodManagerOptions options, Redirector& redirector, SnapshotStore& store,
             AgentMetrics& metrics, const CredentialSource& credentials);

  // Thread-safe: queue work on the io_context and return at once.
  void addPod(const ambit::cni::v1::PodInfo& pod, std::shared_ptr<const Netns> netns);
  // A DEL naming another container than the pod's current sandbox is a late DEL of an old one
  // and changes nothing.
  void deletePod(const ambit::cni::v1::DelPod& pod);
  void snapshotChanged();

  // Releases every pod's listeners (capture stays, so traffic fails closed while the agent is
  // away); for shutdown.
  void shutdown();

  // {"pods":[{"uid":..,"namespace":..,"name":..,"ips":[..],"enrolled":..,"error":..}]}
  std::string debugJson() const;

 private:
  struct Pod {
    ambit::cni::v1::PodInfo info;
    std::shared_ptr<const Netns> netns;
    std::shared_ptr<PodProxy> proxy;   // set while enrolled
    bool released_after_sync = false;  // capture checked and removed once config was known
    std::string error;
  };

  void reconcile();
  // The pod's workload in `snapshot`, matched by address, namespace and name; nullptr if none.
  Snapshot::WorkloadPtr workloadOf(const Pod& pod, const Snapshot& snapshot) const;
  bool wantsCapture(const Pod& pod, const Snapshot& snapshot) const;
  absl::Status enroll(Pod& pod, const Snapshot& snapshot);
  absl::Status release(Pod& pod);
  void scheduleRetry();
  void updateGauges();

  boost::asio::io_context& io_;         // enrollment work and the retry timer
  const std::vector<Worker*> workers_;  // the pods' listeners and relays
  const PodManagerOptions options_;
  Redirector& redirector_;
  SnapshotStore& store_;
  AgentMetrics& metrics_;
  const CredentialSource& credentials_;
  boost::asio::steady_timer retry_;
  bool retry_pending_ = false;

  mutable std::mutex mu_;            // guards pods_ against debugJson on the admin thread
  std::map<std::string, Pod> pods_;  // by cni::podKey (the uid when known)
};

}  // namespace ambit::agent
