// Capture with eBPF (bpf/capture.bpf.c through BpfCapture): no netfilter rule in the pod.
//
// install() enrolls the pod's netns in the BPF maps and attaches the sk_lookup program to it; the
// cgroup programs, attached once for the whole node, then capture the pod's outbound connections
// and answer the agent's SO_ORIGINAL_DST. Inbound delivery keeps the client's address with the
// policy routing of policy_routing.h and net.ipv4.tcp_fwmark_accept=1 in the pod's netns: the
// agent's delivering socket carries route_mark and the app's accepted socket inherits it.
#pragma once

#include <memory>

#include "agent/capture/bpf_capture.h"
#include "agent/capture/redirector.h"

namespace ambit::agent {

class EbpfRedirector : public Redirector {
 public:
  explicit EbpfRedirector(std::unique_ptr<BpfCapture> capture) : capture_(std::move(capture)) {}

  std::string name() const override { return "ebpf"; }
  absl::Status install(const Netns& netns, const CaptureConfig& config,
                       const CaptureTarget& target) override;
  absl::Status remove(const Netns& netns) override;
  absl::StatusOr<bool> installed(const Netns& netns) override;
  uint32_t deliveryMark(const CaptureConfig& config) const override { return config.route_mark; }
  std::string debugJson() const override;
  // ambit_capture_decisions_total{hook,reason}, read from the per-CPU counters at each scrape.
  void exportMetrics(metrics::Registry& registry) override;

  // The BPF view of one pod's capture (what install() writes to the maps).
  static absl::StatusOr<BpfPod> bpfPod(const Netns& netns, const CaptureConfig& config,
                                       const CaptureTarget& target);

 private:
  std::unique_ptr<BpfCapture> capture_;
};

}  // namespace ambit::agent
