#include "agent/capture/ebpf_redirector.h"

#include <absl/strings/str_cat.h>

#include "agent/capture/bpf_reasons.h"
#include "agent/capture/nftables_redirector.h"
#include "agent/capture/policy_routing.h"
#include "core/log.h"

namespace ambit::agent {

absl::StatusOr<BpfPod> EbpfRedirector::bpfPod(const Netns& netns, const CaptureConfig& config,
                                              const CaptureTarget& target) {
  if (config.mark == config.route_mark || config.mark == 0 || config.route_mark == 0) {
    return absl::InvalidArgumentError("capture: mark and route_mark must be set and differ");
  }
  BpfPod pod;
  AMBIT_ASSIGN_OR_RETURN(pod.netns_cookie, netnsCookie(netns));
  pod.netns_fd = netns.fd();
  pod.config.mark = config.mark;
  pod.config.route_mark = config.route_mark;
  pod.config.outbound_port = config.outbound_port;
  pod.config.inbound_port = config.inbound_plaintext_port;
  pod.config.hbone_port = config.hbone_port;
  if (config.ebpf_fast_path) pod.config.flags |= AMBIT_NETNS_FAST_PATH;
  for (const std::string& address : target.addresses) {
    if (address.size() == 4 && (pod.config.flags & AMBIT_NETNS_HAS_IP4) == 0) {
      pod.config.flags |= AMBIT_NETNS_HAS_IP4;
      pod.config.ip4 = abiAddress(address);
    } else if (address.size() == 16 && (pod.config.flags & AMBIT_NETNS_HAS_IP6) == 0) {
      pod.config.flags |= AMBIT_NETNS_HAS_IP6;
      pod.config.ip6 = abiAddress(address);
    } else {
      continue;  // one address per family: the first the pod reported
    }
    pod.addresses.push_back(address);
  }
  if (pod.addresses.empty()) {
    return absl::InvalidArgumentError("eBPF capture: the pod has no IP address");
  }
  pod.inbound_v4_fd = target.inbound_v4_fd;
  pod.inbound_v6_fd = target.inbound_v6_fd;
  return pod;
}

absl::Status EbpfRedirector::install(const Netns& netns, const CaptureConfig& config,
                                     const CaptureTarget& target) {
  AMBIT_ASSIGN_OR_RETURN(BpfPod pod, bpfPod(netns, config, target));
  AMBIT_RETURN_IF_ERROR(installLocalRouting(netns, config));
  absl::Status status = setNetnsSysctl(netns, "net/ipv4/tcp_fwmark_accept", "1");
  if (status.ok()) status = capture_->enroll(pod);
  if (!status.ok()) {  // leave the pod as it was: enrollment is retried from scratch
    (void)removeLocalRouting(netns);
    (void)setNetnsSysctl(netns, "net/ipv4/tcp_fwmark_accept", "0");
    return status;
  }
  log::get("capture")->debug("eBPF capture installed in netns {} (cookie {})", netns.inode(),
                             pod.netns_cookie);
  return absl::OkStatus();
}

absl::Status EbpfRedirector::remove(const Netns& netns) {
  AMBIT_ASSIGN_OR_RETURN(uint64_t cookie, netnsCookie(netns));
  AMBIT_RETURN_IF_ERROR(capture_->release(cookie));
  AMBIT_RETURN_IF_ERROR(removeLocalRouting(netns));
  return setNetnsSysctl(netns, "net/ipv4/tcp_fwmark_accept", "0");
}

absl::StatusOr<bool> EbpfRedirector::installed(const Netns& netns) {
  AMBIT_ASSIGN_OR_RETURN(uint64_t cookie, netnsCookie(netns));
  return capture_->enrolled(cookie);
}

std::string EbpfRedirector::debugJson() const {
  return absl::StrCat(R"({"mode":"ebpf","bpf":)", capture_->describeJson(), "}");
}

void EbpfRedirector::exportMetrics(metrics::Registry& registry) {
  registry.collect(
      "ambit_capture_decisions_total",
      "Decisions of the eBPF capture programs, by hook and reason (per-CPU counters, summed).",
      "counter", [capture = capture_.get()](std::string& out) {
        const BpfCounters totals = capture->counters();
        for (uint32_t reason = 0; reason < AMBIT_CAPTURE_REASON_COUNT; ++reason) {
          absl::StrAppend(&out, "ambit_capture_decisions_total{hook=\"", bpfReasonHook(reason),
                          "\",reason=\"", bpfReasonLabel(reason), "\"} ", totals[reason], "\n");
        }
      });
}

absl::StatusOr<std::unique_ptr<Redirector>> makeRedirector(std::string_view mode,
                                                           const RedirectorOptions& options) {
  // nftables after eBPF (a changed mode, or auto falling back): the eBPF capture a previous
  // agent pinned must go, or its programs would keep steering the pods to listeners that moved.
  auto nftables = [&]() -> absl::StatusOr<std::unique_ptr<Redirector>> {
    if (absl::Status removed = BpfCapture::uninstallIfPinned(options.bpf); !removed.ok()) {
      return removed;
    }
    return std::make_unique<NftablesRedirector>();
  };
  if (mode == "nftables") return nftables();
  if (mode == "ebpf" || mode == "auto") {
    absl::StatusOr<std::unique_ptr<BpfCapture>> capture = BpfCapture::open(options.bpf);
    if (capture.ok()) return std::make_unique<EbpfRedirector>(*std::move(capture));
    // Another agent on the cgroup is a mistake to report, not a reason to fall back.
    if (mode == "ebpf" || capture.status().code() == absl::StatusCode::kAlreadyExists) {
      return capture.status();
    }
    log::get("capture")->warn("capture mode auto: eBPF is unavailable ({}); using nftables",
                              std::string(capture.status().message()));
    return nftables();
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown capture mode \"",
                                                 absl::string_view(mode.data(), mode.size()),
                                                 "\"; valid modes: auto, ebpf, nftables"));
}

}  // namespace ambit::agent
