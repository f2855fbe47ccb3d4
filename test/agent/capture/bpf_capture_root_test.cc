// Needs root (CTest label "root"): BpfCapture's life cycle on a cgroup of the test's own, with pods
// in network namespaces: a full netns table, a second agent refused, a restart adopting the pins,
// uninstall and release. Each case uninstalls what it attached, even when it fails.
#include <bpf/bpf.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "agent/capture/ebpf_redirector.h"
#include "test/agent/capture/temp_capture.h"
#include "test/agent/netns/temp_netns.h"

namespace ambit::agent {
namespace {

namespace fs = std::filesystem;
using testing::TempCgroup;
using testing::TempNetns;

// A pod: a netns with 10.251.0.<n>/32 (on lo) and the agent's inbound listener on port 15006.
class TestPod {
 public:
  explicit TestPod(int n) {
    const std::string address = "10.251.0." + std::to_string(n);
    netns_.run({"ip", "addr", "add", address + "/32", "dev", "lo"});
    auto fd = socketIn(netns_.netns(), AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd.ok());
    listener_ = *std::move(fd);
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_port = htons(15006);
    REQUIRE(::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&at), sizeof at) == 0);
    REQUIRE(::listen(listener_.get(), 16) == 0);
    CaptureTarget target;
    const char raw[4] = {10, static_cast<char>(251), 0, static_cast<char>(n)};
    target.addresses = {std::string(raw, 4)};
    target.inbound_v4_fd = listener_.get();
    auto pod = EbpfRedirector::bpfPod(netns_.netns(), CaptureConfig{}, target);
    INFO(pod.status().ToString());
    REQUIRE(pod.ok());
    pod_ = *std::move(pod);
  }
  const BpfPod& bpf() const { return pod_; }
  uint64_t cookie() const { return pod_.netns_cookie; }
  int netnsFd() const { return netns_.netns().fd(); }

 private:
  TempNetns netns_;
  UniqueFd listener_;
  BpfPod pod_;
};

// Uninstalls `options` and removes its lock directory when it goes, whatever the test did.
class Uninstaller {
 public:
  explicit Uninstaller(BpfCaptureOptions options) : options_(std::move(options)) {}
  ~Uninstaller() {
    const absl::Status status = BpfCapture::uninstall(options_);
    CHECK(status.ok());
    std::error_code ignored;
    fs::remove_all(options_.lock_dir, ignored);
  }
  Uninstaller(const Uninstaller&) = delete;
  Uninstaller& operator=(const Uninstaller&) = delete;

 private:
  BpfCaptureOptions options_;
};

std::unique_ptr<BpfCapture> openCapture(const BpfCaptureOptions& options) {
  auto capture = BpfCapture::open(options);
  INFO(capture.status().ToString());
  REQUIRE(capture.ok());
  return *std::move(capture);
}

// Programs attached directly to `target_fd` (a cgroup or a netns) for `type`.
uint32_t attachedCount(int target_fd, bpf_attach_type type) {
  uint32_t ids[64];
  uint32_t count = 64;
  uint32_t flags = 0;
  REQUIRE(bpf_prog_query(target_fd, type, 0, &flags, ids, &count) == 0);
  return count;
}

// Every attach type open() uses on the cgroup.
constexpr bpf_attach_type kCgroupTypes[] = {
    BPF_CGROUP_INET4_CONNECT,     BPF_CGROUP_INET6_CONNECT, BPF_CGROUP_INET4_GETPEERNAME,
    BPF_CGROUP_INET6_GETPEERNAME, BPF_CGROUP_SOCK_OPS,      BPF_CGROUP_GETSOCKOPT,
};

UniqueFd openDir(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  REQUIRE(fd);
  return fd;
}

TEST_CASE("root: a full netns table refuses the next pod and keeps the others") {
  REQUIRE(testing::runningAsRoot());
  TempCgroup cgroup;
  TestPod a(1);
  TestPod b(2);
  const BpfCaptureOptions options = testing::testBpfOptions(cgroup.path(), 1);
  Uninstaller uninstaller(options);
  std::unique_ptr<BpfCapture> capture = openCapture(options);

  REQUIRE(capture->enroll(a.bpf()).ok());
  const absl::Status full = capture->enroll(b.bpf());
  INFO(full.ToString());
  CHECK(full.code() == absl::StatusCode::kResourceExhausted);
  CHECK(full.message().find("(1 pods") != std::string_view::npos);
  CHECK(capture->enrolled(a.cookie()));
  CHECK_FALSE(capture->enrolled(b.cookie()));
  CHECK(capture->enrolledNetns() == std::vector<uint64_t>{a.cookie()});
  CHECK(attachedCount(a.netnsFd(), BPF_SK_LOOKUP) == 1);
  CHECK(attachedCount(b.netnsFd(), BPF_SK_LOOKUP) == 0);
  // B's address left nothing behind in ambit_pods.
  UniqueFd pods(bpf_obj_get((options.pin_dir + "/maps/" AMBIT_MAP_PODS).c_str()));
  REQUIRE(pods);
  ambit_ip b_ip{};
  b_ip.addr[10] = b_ip.addr[11] = 0xff;
  std::memcpy(&b_ip.addr[12], b.bpf().addresses[0].data(), 4);
  ambit_pod owner{};
  CHECK(bpf_map_lookup_elem(pods.get(), &b_ip, &owner) != 0);
}

TEST_CASE("root: a second capture on the same cgroup is refused") {
  REQUIRE(testing::runningAsRoot());
  TempCgroup cgroup;
  const BpfCaptureOptions options = testing::testBpfOptions(cgroup.path());
  BpfCaptureOptions other = options;
  other.lock_dir += "-b";
  other.pin_dir += "-b";
  Uninstaller uninstaller(options);
  Uninstaller other_uninstaller(other);
  std::unique_ptr<BpfCapture> first = openCapture(options);
  UniqueFd cgroup_fd = openDir(cgroup.path());
  std::vector<uint32_t> before;
  for (bpf_attach_type type : kCgroupTypes) before.push_back(attachedCount(cgroup_fd.get(), type));
  CHECK(before[0] == 1);

  // The same lock.
  auto same = BpfCapture::open(options);
  INFO(same.status().ToString());
  CHECK(same.status().code() == absl::StatusCode::kAlreadyExists);

  // Another lock and pin directory: Ambit's programs already on the cgroup.
  auto foreign = BpfCapture::open(other);
  INFO(foreign.status().ToString());
  CHECK(foreign.status().code() == absl::StatusCode::kAlreadyExists);
  std::vector<uint32_t> after;
  for (bpf_attach_type type : kCgroupTypes) after.push_back(attachedCount(cgroup_fd.get(), type));
  CHECK(after == before);
  CHECK_FALSE(fs::exists(other.pin_dir));  // the refused attempt pinned nothing
}

TEST_CASE("root: a pod whose netns went while no capture ran is released at the next open") {
  REQUIRE(testing::runningAsRoot());
  TempCgroup cgroup;
  const BpfCaptureOptions options = testing::testBpfOptions(cgroup.path());
  Uninstaller uninstaller(options);
  auto a = std::make_unique<TestPod>(1);
  TestPod b(2);
  const uint64_t gone = a->cookie();
  std::unique_ptr<BpfCapture> capture = openCapture(options);
  REQUIRE(capture->enroll(a->bpf()).ok());
  REQUIRE(capture->enroll(b.bpf()).ok());
  capture.reset();  // as a killed agent
  a.reset();        // the pod's netns goes
  CHECK(fs::exists(options.pin_dir + "/netns/" + std::to_string(gone)));

  capture = openCapture(options);
  CHECK_FALSE(capture->enrolled(gone));
  CHECK_FALSE(fs::exists(options.pin_dir + "/netns/" + std::to_string(gone)));
  CHECK(capture->enrolled(b.cookie()));
  CHECK(capture->enrolledNetns() == std::vector<uint64_t>{b.cookie()});
}

TEST_CASE("root: pinned maps of another size are replaced, and the links switched in place") {
  REQUIRE(testing::runningAsRoot());
  TempCgroup cgroup;
  TestPod a(1);
  BpfCaptureOptions options = testing::testBpfOptions(cgroup.path(), 4);
  Uninstaller uninstaller(options);
  UniqueFd cgroup_fd = openDir(cgroup.path());
  std::unique_ptr<BpfCapture> capture = openCapture(options);
  REQUIRE(capture->enroll(a.bpf()).ok());
  capture.reset();

  options.max_pods = 8;  // ambit_netns no longer fits its pin
  capture = openCapture(options);
  CHECK(capture->adopted());
  CHECK_FALSE(capture->enrolled(a.cookie()));  // fresh maps: the agent enrolls its pods again
  REQUIRE(capture->enroll(a.bpf()).ok());
  CHECK(capture->enrolled(a.cookie()));
  for (bpf_attach_type type : kCgroupTypes) {
    INFO("attach type " << type);
    CHECK(attachedCount(cgroup_fd.get(), type) == 1);
  }
}

TEST_CASE("root: a restarted capture adopts the pins, and uninstall removes everything") {
  REQUIRE(testing::runningAsRoot());
  TempCgroup cgroup;
  TestPod a(1);
  const BpfCaptureOptions options = testing::testBpfOptions(cgroup.path());
  Uninstaller uninstaller(options);
  UniqueFd cgroup_fd = openDir(cgroup.path());

  std::unique_ptr<BpfCapture> capture = openCapture(options);
  CHECK_FALSE(capture->adopted());
  REQUIRE(capture->enroll(a.bpf()).ok());
  capture.reset();  // as a killed agent: no uninstall
  CHECK(attachedCount(cgroup_fd.get(), BPF_CGROUP_INET4_CONNECT) > 0);
  CHECK(attachedCount(a.netnsFd(), BPF_SK_LOOKUP) == 1);
  CHECK(fs::exists(options.pin_dir));

  capture = openCapture(options);
  CHECK(capture->adopted());
  CHECK(capture->enrolled(a.cookie()));
  for (bpf_attach_type type : kCgroupTypes) {
    INFO("attach type " << type);
    CHECK(attachedCount(cgroup_fd.get(), type) == 1);
  }
  REQUIRE(capture->enroll(a.bpf()).ok());  // idempotent: the netns link is switched in place
  CHECK(attachedCount(a.netnsFd(), BPF_SK_LOOKUP) == 1);

  capture.reset();
  const absl::Status removed = BpfCapture::uninstall(options);
  INFO(removed.ToString());
  CHECK(removed.ok());
  CHECK_FALSE(fs::exists(options.pin_dir));
  for (bpf_attach_type type : kCgroupTypes) {
    INFO("attach type " << type);
    CHECK(attachedCount(cgroup_fd.get(), type) == 0);
  }
  CHECK(attachedCount(a.netnsFd(), BPF_SK_LOOKUP) == 0);
  CHECK(BpfCapture::uninstall(options).ok());  // nothing there
}

TEST_CASE("root: release stops capturing a pod, and releasing again is OK") {
  REQUIRE(testing::runningAsRoot());
  TempCgroup cgroup;
  TestPod a(1);
  const BpfCaptureOptions options = testing::testBpfOptions(cgroup.path());
  Uninstaller uninstaller(options);
  std::unique_ptr<BpfCapture> capture = openCapture(options);

  REQUIRE(capture->enroll(a.bpf()).ok());
  CHECK(capture->enrolled(a.cookie()));
  CHECK(attachedCount(a.netnsFd(), BPF_SK_LOOKUP) == 1);
  CHECK(capture->release(a.cookie()).ok());
  CHECK_FALSE(capture->enrolled(a.cookie()));
  CHECK(capture->enrolledNetns().empty());
  CHECK(attachedCount(a.netnsFd(), BPF_SK_LOOKUP) == 0);
  CHECK_FALSE(fs::exists(options.pin_dir + "/netns/" + std::to_string(a.cookie())));
  CHECK(capture->release(a.cookie()).ok());
}

TEST_CASE("root: switching to nftables removes the eBPF capture a previous agent pinned") {
  REQUIRE(testing::runningAsRoot());
  TempCgroup cgroup;
  TestPod a(1);
  RedirectorOptions options;
  options.bpf = testing::testBpfOptions(cgroup.path());
  Uninstaller uninstaller(options.bpf);
  UniqueFd cgroup_fd = openDir(cgroup.path());
  {
    std::unique_ptr<BpfCapture> capture = openCapture(options.bpf);
    REQUIRE(capture->enroll(a.bpf()).ok());
  }  // as an agent stopped in eBPF mode: everything stays pinned and attached
  REQUIRE(attachedCount(cgroup_fd.get(), BPF_CGROUP_INET4_CONNECT) == 1);

  auto nftables = makeRedirector("nftables", options);
  INFO(nftables.status().ToString());
  REQUIRE(nftables.ok());
  CHECK((*nftables)->name() == "nftables");
  CHECK_FALSE(fs::exists(options.bpf.pin_dir));
  for (bpf_attach_type type : kCgroupTypes) {
    INFO("attach type " << type);
    CHECK(attachedCount(cgroup_fd.get(), type) == 0);
  }
  CHECK(attachedCount(a.netnsFd(), BPF_SK_LOOKUP) == 0);
}

}  // namespace
}  // namespace ambit::agent
