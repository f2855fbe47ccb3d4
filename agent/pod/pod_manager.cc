#include "agent/pod/pod_manager.h"

#include <absl/strings/str_cat.h>

#include "agent/cni/pod_records.h"
#include "agent/identity/identities_on_node.h"
#include "core/json/json_writer.h"
#include "core/log.h"

namespace ambit::agent {
namespace {

namespace asio = boost::asio;
namespace wl = istio::workload;

std::shared_ptr<spdlog::logger> logger() { return log::get("pods"); }

std::string podName(const ambit::cni::v1::PodInfo& info) {
  return absl::StrCat(info.namespace_(), "/", info.name());
}

std::string keyOf(const ambit::cni::v1::PodInfo& info) {
  return cni::podKey(info.uid(), info.namespace_(), info.name(), info.container_id());
}

}  // namespace

PodManager::PodManager(asio::io_context& control, std::vector<Worker*> workers,
                       PodManagerOptions options, Redirector& redirector, SnapshotStore& store,
                       AgentMetrics& metrics, const CredentialSource& credentials)
    : io_(control),
      workers_(std::move(workers)),
      options_(std::move(options)),
      redirector_(redirector),
      store_(store),
      metrics_(metrics),
      credentials_(credentials),
      retry_(control) {}

void PodManager::addPod(const ambit::cni::v1::PodInfo& info, std::shared_ptr<const Netns> netns) {
  asio::post(io_, [this, info, netns = std::move(netns)] {
    {
      std::lock_guard lock(mu_);
      Pod& pod = pods_[keyOf(info)];
      if (pod.proxy != nullptr && pod.netns->inode() != netns->inode()) {
        // The same pod in a new sandbox: the old listeners belong to a dead netns.
        pod.proxy->stop();
        pod.proxy.reset();
      }
      pod.info = info;
      pod.netns = netns;
      pod.released_after_sync = false;
      pod.error.clear();
    }
    logger()->info("pod {} ({}) reported on this node", podName(info), info.uid());
    {
      std::lock_guard lock(mu_);
      updateGauges();
    }
    reconcile();
  });
}

void PodManager::deletePod(const ambit::cni::v1::DelPod& del) {
  asio::post(io_, [this, del] {
    std::lock_guard lock(mu_);
    auto it = pods_.find(cni::podKey(del.uid(), del.namespace_(), del.name(), del.container_id()));
    if (it == pods_.end()) return;
    const std::string& current = it->second.info.container_id();
    if (!del.container_id().empty() && !current.empty() && del.container_id() != current) {
      logger()->info("pod {}: ignoring DEL of old sandbox {}", podName(it->second.info),
                     del.container_id());
      return;
    }
    if (it->second.proxy != nullptr) it->second.proxy->stop();
    logger()->info("pod {} ({}) removed from this node", podName(it->second.info), it->first);
    pods_.erase(it);
    updateGauges();
  });
}

void PodManager::snapshotChanged() {
  asio::post(io_, [this] { reconcile(); });
}

void PodManager::shutdown() {
  asio::post(io_, [this] {
    std::lock_guard lock(mu_);
    for (auto& [key, pod] : pods_) {
      if (pod.proxy != nullptr) pod.proxy->stop();
      pod.proxy.reset();
    }
    retry_.cancel();
  });
}

Snapshot::WorkloadPtr PodManager::workloadOf(const Pod& pod, const Snapshot& snapshot) const {
  for (const std::string& ip : pod.info.ips()) {
    boost::system::error_code ec;
    const asio::ip::address address = asio::ip::make_address(ip, ec);
    if (ec) continue;
    Snapshot::WorkloadPtr workload = snapshot.workloadByIp(toIpBytes(address));
    if (workload != nullptr && workload->namespace_() == pod.info.namespace_() &&
        workload->name() == pod.info.name()) {
      return workload;
    }
  }
  return nullptr;
}

bool PodManager::wantsCapture(const Pod& pod, const Snapshot& snapshot) const {
  const Snapshot::WorkloadPtr workload = workloadOf(pod, snapshot);
  if (workload == nullptr) return false;
  if (!workload->node().empty() && workload->node() != options_.node) {
    logger()->warn("pod {} is reported on {} but the control plane places it on {}",
                   podName(pod.info), options_.node, workload->node());
  }
  return workload->tunnel_protocol() == wl::HBONE && workload->network_mode() != wl::HOST_NETWORK;
}

absl::Status PodManager::enroll(Pod& pod, const Snapshot& snapshot) {
  const Snapshot::WorkloadPtr workload = workloadOf(pod, snapshot);
  if (workload == nullptr) return absl::NotFoundError("the pod's workload is not in the config");
  AMBIT_ASSIGN_OR_RETURN(tls::SpiffeId identity, workloadIdentity(*workload, kDefaultTrustDomain));
  PodLabel label{pod.info.uid(), podName(pod.info), identity.toString(), {}};
  for (const std::string& address : workload->addresses()) label.addresses.push_back(address);
  auto proxy = std::make_shared<PodProxy>(workers_, pod.netns, std::move(label), store_, metrics_,
                                          credentials_, options_.proxy);
  // Listeners first, then capture: captured traffic never meets a closed port.
  AMBIT_RETURN_IF_ERROR(proxy->start());
  if (absl::Status installed =
          redirector_.install(*pod.netns, options_.capture, proxy->captureTarget());
      !installed.ok()) {
    proxy->stop();
    return installed;
  }
  pod.proxy = std::move(proxy);
  logger()->info("enrolled pod {}: {} capture, listeners {}, {}, {}", podName(pod.info),
                 redirector_.name(), options_.proxy.outbound_port,
                 options_.proxy.inbound_plaintext_port, options_.proxy.hbone_port);
  return absl::OkStatus();
}

absl::Status PodManager::release(Pod& pod) {
  // Capture first, then listeners: released traffic never meets a closed port.
  AMBIT_RETURN_IF_ERROR(redirector_.remove(*pod.netns));
  if (pod.proxy != nullptr) {
    pod.proxy->stop();
    pod.proxy.reset();
    logger()->info("released pod {}: its traffic is no longer captured", podName(pod.info));
  }
  pod.released_after_sync = true;
  return absl::OkStatus();
}

void PodManager::reconcile() {
  const std::shared_ptr<const Snapshot> snapshot = store_.current();
  // Without config, nothing changes: pods captured before a restart stay captured, and their
  // connections are refused until the agent knows where they should go.
  if (snapshot->version() == 0) return;
  bool failed = false;
  std::lock_guard lock(mu_);
  for (auto& [key, pod] : pods_) {
    const bool want = wantsCapture(pod, *snapshot);
    absl::Status status;
    if (want && pod.proxy == nullptr) {
      status = enroll(pod, *snapshot);
    } else if (!want && (pod.proxy != nullptr || !pod.released_after_sync)) {
      status = release(pod);
    }
    if (want) pod.released_after_sync = false;
    if (status.ok()) {
      pod.error.clear();
      // Policies may have changed: open connections they now deny are closed.
      if (pod.proxy != nullptr) pod.proxy->revalidate();
      continue;
    }
    pod.error = std::string(status.message());
    failed = true;
    metrics_.enrollment_failures.inc();
    logger()->warn("pod {}: could not {}: {}; retrying", podName(pod.info),
                   want ? "enroll" : "release", std::string(status.message()));
  }
  updateGauges();
  if (failed) scheduleRetry();
}

void PodManager::scheduleRetry() {
  if (retry_pending_) return;
  retry_pending_ = true;
  retry_.expires_after(options_.retry_interval);
  retry_.async_wait([this](boost::system::error_code ec) {
    retry_pending_ = false;
    if (!ec) reconcile();
  });
}

void PodManager::updateGauges() {
  int64_t enrolled = 0;
  for (const auto& [key, pod] : pods_) enrolled += pod.proxy != nullptr ? 1 : 0;
  metrics_.enrolled_pods.set(enrolled);
  metrics_.known_pods.set(static_cast<int64_t>(pods_.size()));
}

std::string PodManager::debugJson() const {
  std::lock_guard lock(mu_);
  json::Writer writer;
  writer.beginObject().key("pods").beginArray();
  for (const auto& [key, pod] : pods_) {
    writer.beginObject();
    writer.key("uid").value(pod.info.uid());
    writer.key("namespace").value(pod.info.namespace_());
    writer.key("name").value(pod.info.name());
    writer.key("ips").beginArray();
    for (const std::string& ip : pod.info.ips()) writer.value(ip);
    writer.endArray();
    writer.key("netns").value(pod.info.netns_path());
    writer.key("enrolled").value(pod.proxy != nullptr);
    writer.key("error").value(pod.error);
    writer.endObject();
  }
  writer.endArray().endObject();
  return writer.str();
}

}  // namespace ambit::agent
