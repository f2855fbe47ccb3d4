// Traffic capture: what, inside a pod's network namespace, sends the pod's TCP traffic to the
// agent's listeners in that namespace. One interface, two implementations: "ebpf"
// (ebpf_redirector.h, the default where the kernel supports it) and "nftables"
// (nftables_redirector.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/capture/bpf_capture.h"
#include "agent/netns/netns.h"
#include "core/metrics/registry.h"
#include "core/status.h"

namespace ambit::agent {

struct CaptureConfig {
  // The agent listens on 127.0.0.1:outbound_port in the pod's netns; the pod's outgoing TCP is
  // redirected there.
  uint16_t outbound_port = 15001;
  // The agent listens on 0.0.0.0:inbound_plaintext_port in the pod's netns; incoming TCP (except
  // to hbone_port and outbound_port) is redirected there.
  uint16_t inbound_plaintext_port = 15006;
  // The agent's HBONE listener in the pod's netns; never redirected.
  uint16_t hbone_port = 15008;
  // SO_MARK of every socket the agent opens in a pod's netns: such traffic is never captured.
  uint32_t mark = 0x539;
  // Packet mark of the app's replies on connections the agent opened to deliver inbound traffic:
  // nftables sets it from the conntrack mark, eBPF mode has the delivering socket carry it and
  // the app's accepted socket inherit it (tcp_fwmark_accept). Policy routing sends packets with
  // this mark to the local stack (route_table). Must differ from `mark`: the agent's own outgoing
  // sockets carry `mark` and must route normally.
  uint32_t route_mark = 0x111;
  // Routing table holding "local 0.0.0.0/0 dev lo" (and ::/0 where the netns has IPv6).
  uint32_t route_table = 133;
  // eBPF mode: splice the plaintext legs between the pod's apps and the agent in the kernel
  // (sk_msg on a sockhash) instead of carrying them through loopback TCP. The agent turns it on
  // (--ebpf-fast-path, docs/benchmarks.md has why).
  bool ebpf_fast_path = false;
};

// The pod whose netns capture is installed in, and the agent's listeners there.
struct CaptureTarget {
  std::vector<std::string> addresses;  // the pod's IPs, 4 or 16 raw bytes each
  int inbound_v4_fd = -1;              // the inbound plaintext listeners (eBPF steers to them)
  int inbound_v6_fd = -1;
};

class Redirector {
 public:
  virtual ~Redirector() = default;
  // The capture mode ("ebpf" or "nftables").
  virtual std::string name() const = 0;
  // Installs (or replaces) capture in `netns`; the target's listeners must be open. Idempotent.
  virtual absl::Status install(const Netns& netns, const CaptureConfig& config,
                               const CaptureTarget& target) = 0;
  // Removes everything install() put in `netns`; OK when nothing is installed.
  virtual absl::Status remove(const Netns& netns) = 0;
  // Whether capture is installed in `netns`.
  virtual absl::StatusOr<bool> installed(const Netns& netns) = 0;
  // SO_MARK of the agent's sockets that deliver inbound connections to the app, whose replies
  // must come back to the agent.
  virtual uint32_t deliveryMark(const CaptureConfig& config) const { return config.mark; }
  // What the mode has loaded, as JSON, for the admin's /debug/capture.
  virtual std::string debugJson() const = 0;
  // Adds the mode's own series to the agent's metrics.
  virtual void exportMetrics(metrics::Registry& /*registry*/) {}
};

struct RedirectorOptions {
  BpfCaptureOptions bpf;  // for "ebpf" (and "auto")
};

// The redirector of a capture mode: "ebpf", "nftables", or "auto" (eBPF where the kernel supports
// it, nftables otherwise, saying why in one log line). INVALID_ARGUMENT naming the valid modes for
// any other name; "ebpf" fails when the kernel cannot run it.
absl::StatusOr<std::unique_ptr<Redirector>> makeRedirector(std::string_view mode,
                                                           const RedirectorOptions& options = {});

}  // namespace ambit::agent
