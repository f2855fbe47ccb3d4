// The eBPF capture's kernel objects (bpf/capture.bpf.c): its programs, its maps and the links that
// attach them. One per agent.
//
// open() loads the programs and attaches connect4, connect6, sockops and getsockopt to one cgroup
// v2 directory (the node's pods and the agent live below it). Maps and links are pinned under
// pin_dir, so a restarted agent adopts them: maps keep their entries and links are switched to the
// new programs in place, so capture never stops (connections of enrolled pods fail closed while
// no agent listens). Destroying a BpfCapture closes descriptors only; uninstall() detaches and
// unpins everything. docs/ebpf.md describes each program and map.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/netns/netns.h"
#include "ambit/capture_abi.h"
#include "core/status.h"
#include "core/unique_fd.h"

struct ambit_capture;  // the libbpf skeleton (bpf/capture.skel.h)

namespace ambit::agent {

struct BpfCaptureOptions {
  // cgroup v2 directory of the pods and the agent; empty: the root of the cgroup v2 mount.
  std::string cgroup;
  std::string pin_dir = "/sys/fs/bpf/ambit";
  uint32_t max_pods = 1024;  // enrolled network namespaces the maps hold
  // Where the lock that keeps a second agent off the same cgroup lives.
  std::string lock_dir = "/run/ambit";
};

// One enrolled pod's netns as the programs see it.
struct BpfPod {
  uint64_t netns_cookie = 0;
  int netns_fd = -1;  // the sk_lookup link attaches here
  ambit_netns_config config{};
  std::vector<std::string> addresses;  // 4 or 16 raw bytes each
  int inbound_v4_fd = -1;              // listener for IPv4 addresses
  int inbound_v6_fd = -1;              // listener for IPv6 addresses
};

using BpfCounters = std::array<uint64_t, AMBIT_CAPTURE_REASON_COUNT>;

class BpfCapture {
 public:
  // Loads and attaches, adopting pinned state. FAILED_PRECONDITION when the kernel lacks what the
  // programs need (nothing is left attached), ALREADY_EXISTS when another agent holds the cgroup.
  static absl::StatusOr<std::unique_ptr<BpfCapture>> open(const BpfCaptureOptions& options);
  // Detaches every link found under pin_dir (cgroup and per-netns) and removes pin_dir; OK when
  // nothing is there.
  static absl::Status uninstall(const BpfCaptureOptions& options);
  // uninstall() when pin_dir exists (logged); for a switch to nftables mode.
  static absl::Status uninstallIfPinned(const BpfCaptureOptions& options);

  ~BpfCapture();
  BpfCapture(const BpfCapture&) = delete;
  BpfCapture& operator=(const BpfCapture&) = delete;

  // Captures `pod`: its listeners, addresses and netns entry, then the sk_lookup link of its netns.
  // Idempotent. RESOURCE_EXHAUSTED when the maps are full (nothing of the pod is kept).
  absl::Status enroll(const BpfPod& pod);
  // Stops capturing the netns: link first, then its entries. OK when it was not enrolled.
  absl::Status release(uint64_t netns_cookie);
  bool enrolled(uint64_t netns_cookie) const;
  std::vector<uint64_t> enrolledNetns() const;

  // The per-reason counters summed over CPUs.
  BpfCounters counters() const;
  // Programs (name, id), maps (name, id, entries) and enrolled netns cookies, as JSON.
  std::string describeJson() const;
  const BpfCaptureOptions& options() const { return options_; }
  // Whether open() adopted links a previous agent pinned.
  bool adopted() const { return adopted_; }

 private:
  explicit BpfCapture(BpfCaptureOptions options) : options_(std::move(options)) {}
  // The options with the cgroup filled in; FAILED_PRECONDITION without cgroup v2.
  static absl::StatusOr<BpfCaptureOptions> resolve(BpfCaptureOptions options);
  // Opens and loads the skeleton, replacing pinned maps that do not fit (once).
  absl::Status load();
  absl::Status openAndLoad();
  // Drops what a pod whose netns is gone left: its sk_lookup pin and its map entries.
  void sweepDefunctNetns();
  absl::Status attachCgroupLinks();
  absl::Status attachNetns(const BpfPod& pod);
  void removeEntries(uint64_t netns_cookie, const ambit_netns_config& config);

  const BpfCaptureOptions options_;
  UniqueFd lock_;
  UniqueFd cgroup_;
  ambit_capture* skeleton_ = nullptr;
  bool adopted_ = false;
};

// Where cgroup v2 is mounted: /sys/fs/cgroup on a unified host, /sys/fs/cgroup/unified on a
// hybrid one; empty when it is not mounted.
std::string cgroup2Root();

// An address (4 or 16 raw bytes) as the BPF maps hold it: 16 bytes, IPv4 as ::ffff:a.b.c.d.
ambit_ip abiAddress(const std::string& bytes);

// The cookie of a network namespace (SO_NETNS_COOKIE of a socket made in it).
absl::StatusOr<uint64_t> netnsCookie(const Netns& netns);

}  // namespace ambit::agent
