// Test helper: a named network namespace (ambit-t-<pid>-<n>) created for one test and deleted
// when the helper goes away, including when an assertion fails. Needs root.
#pragma once

#include <unistd.h>

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "agent/netns/netns.h"

namespace ambit::agent::testing {

inline absl::StatusOr<std::string> runHere(const std::vector<std::string>& argv,
                                           const std::string& stdin_data = "") {
  auto self = Netns::current();
  if (!self.ok()) return self.status();
  return runCommandIn(*self, argv, stdin_data);
}

class TempNetns {
 public:
  TempNetns() {
    static std::atomic<int> counter{0};
    name_ = "ambit-t-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    (void)runHere({"ip", "netns", "del", name_});  // left by an earlier process with our pid
    auto added = runHere({"ip", "netns", "add", name_});
    INFO(added.status().ToString());
    REQUIRE(added.ok());
    auto opened = Netns::open("/run/netns/" + name_);
    if (!opened.ok()) {
      (void)runHere({"ip", "netns", "del", name_});
      FAIL(opened.status().ToString());
    }
    netns_.emplace(*std::move(opened));
    try {
      run({"ip", "link", "set", "lo", "up"});
    } catch (...) {  // the destructor does not run for a constructor that throws
      netns_.reset();
      (void)runHere({"ip", "netns", "del", name_});
      throw;
    }
  }
  ~TempNetns() {
    netns_.reset();
    (void)runHere({"ip", "netns", "del", name_});
  }
  TempNetns(const TempNetns&) = delete;
  TempNetns& operator=(const TempNetns&) = delete;

  const std::string& name() const { return name_; }
  const Netns& netns() const { return *netns_; }

  // Runs a command inside; the test fails if it does.
  std::string run(const std::vector<std::string>& argv) const {
    auto out = runCommandIn(*netns_, argv);
    INFO(out.status().ToString());
    REQUIRE(out.ok());
    return *out;
  }

 private:
  std::string name_;
  std::optional<Netns> netns_;
};

inline bool runningAsRoot() { return ::geteuid() == 0; }

}  // namespace ambit::agent::testing
