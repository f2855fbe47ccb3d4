// Test helpers for capture: a cgroup the test process moves into for the test's life (the eBPF
// programs attach there and see the test's sockets), and a redirector of either mode whose eBPF
// state lives under a pin directory of its own, uninstalled at the end. Need root.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "agent/capture/bpf_capture.h"
#include "agent/capture/ebpf_redirector.h"
#include "agent/capture/nftables_redirector.h"

namespace ambit::agent::testing {

// The calling process's cgroup v2 directory.
inline std::string ownCgroup() {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("0::", 0) == 0) return cgroup2Root() + line.substr(3);
  }
  return cgroup2Root();
}

// A fresh cgroup with this process in it; the process moves back and the cgroup goes with it.
class TempCgroup {
 public:
  TempCgroup() : previous_(ownCgroup()) {
    static std::atomic<int> counter{0};
    REQUIRE_FALSE(cgroup2Root().empty());
    path_ =
        cgroup2Root() + "/ambit-t-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    std::filesystem::create_directory(path_);
    moveTo(path_);
  }
  ~TempCgroup() {
    moveTo(previous_);
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  TempCgroup(const TempCgroup&) = delete;
  TempCgroup& operator=(const TempCgroup&) = delete;
  const std::string& path() const { return path_; }

 private:
  static void moveTo(const std::string& cgroup) {
    std::ofstream procs(cgroup + "/cgroup.procs");
    procs << ::getpid() << std::flush;
  }
  std::string previous_;
  std::string path_;
};

inline BpfCaptureOptions testBpfOptions(const std::string& cgroup, uint32_t max_pods = 16) {
  BpfCaptureOptions options;
  options.cgroup = cgroup;
  options.pin_dir = "/sys/fs/bpf/ambit-t-" + std::to_string(::getpid());
  options.lock_dir = "/run/ambit-t-" + std::to_string(::getpid());
  options.max_pods = max_pods;
  return options;
}

// A redirector of `mode` ("nftables" or "ebpf"); for eBPF, its cgroup holds this process.
class TestRedirector {
 public:
  explicit TestRedirector(const std::string& mode) {
    if (mode == "nftables") {
      redirector_ = std::make_unique<NftablesRedirector>();
      return;
    }
    cgroup_ = std::make_unique<TempCgroup>();
    options_ = testBpfOptions(cgroup_->path());
    auto capture = BpfCapture::open(options_);
    INFO(capture.status().ToString());
    if (!capture.ok()) (void)BpfCapture::uninstall(options_);  // the destructor will not run
    REQUIRE(capture.ok());
    redirector_ = std::make_unique<EbpfRedirector>(*std::move(capture));
  }
  ~TestRedirector() {
    redirector_.reset();
    if (!cgroup_) return;
    CHECK(BpfCapture::uninstall(options_).ok());
    std::error_code ignored;
    std::filesystem::remove_all(options_.lock_dir, ignored);
  }
  Redirector& operator*() { return *redirector_; }
  Redirector* operator->() { return redirector_.get(); }

 private:
  std::unique_ptr<TempCgroup> cgroup_;  // first: it outlives the redirector
  BpfCaptureOptions options_;
  std::unique_ptr<Redirector> redirector_;
};

}  // namespace ambit::agent::testing
