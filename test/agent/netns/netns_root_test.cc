// Needs root (CTest label "root"): creates network namespaces.
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <future>
#include <thread>

#include "agent/netns/netns.h"
#include "test/agent/netns/temp_netns.h"

namespace ambit::agent {
namespace {

using testing::TempNetns;

ino_t currentInode() {
  auto self = Netns::current();
  REQUIRE(self.ok());
  return self->inode();
}

TEST_CASE("root: socketIn creates the socket in the pod's namespace and returns home") {
  REQUIRE(testing::runningAsRoot());
  TempNetns pod;
  const ino_t home = currentInode();
  REQUIRE(pod.netns().inode() != home);

  auto fd = socketIn(pod.netns(), AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd.ok());
  CHECK(currentInode() == home);
  // The kernel tells which namespace a socket belongs to.
  const Netns of_socket = Netns::adopt(UniqueFd(::ioctl(fd->get(), SIOCGSKNS)));
  REQUIRE(of_socket.fd() >= 0);
  CHECK(of_socket.inode() == pod.netns().inode());

  auto here = socketIn(*Netns::current(), AF_INET, SOCK_STREAM, 0);
  REQUIRE(here.ok());
  CHECK(Netns::adopt(UniqueFd(::ioctl(here->get(), SIOCGSKNS))).inode() == home);
}

TEST_CASE("root: runIn switches the calling thread only, and always back") {
  REQUIRE(testing::runningAsRoot());
  TempNetns pod;
  const ino_t home = currentInode();
  ino_t seen_inside = 0;
  std::atomic<ino_t> seen_by_other_thread{0};
  std::promise<void> inside;
  std::thread other([&, entered = inside.get_future()]() mutable {
    entered.wait();  // look while the first thread is in the pod's namespace
    seen_by_other_thread = currentInode();
  });
  const absl::Status status = runIn(pod.netns(), [&] {
    seen_inside = currentInode();
    inside.set_value();
    other.join();
    return absl::CancelledError("from inside");
  });
  CHECK(status == absl::CancelledError("from inside"));
  CHECK(seen_inside == pod.netns().inode());
  CHECK(seen_by_other_thread == home);
  CHECK(currentInode() == home);

  CHECK_THROWS(runIn(pod.netns(), []() -> absl::Status { throw std::runtime_error("boom"); }));
  CHECK(currentInode() == home);
}

TEST_CASE("root: runCommandIn runs the command in the pod's namespace") {
  REQUIRE(testing::runningAsRoot());
  TempNetns pod;
  auto links = runCommandIn(pod.netns(), {"ip", "-o", "link", "show"});
  REQUIRE(links.ok());
  // A fresh namespace has only its loopback.
  CHECK_THAT(*links, Catch::Contains("1: lo:"));
  CHECK(std::count(links->begin(), links->end(), '\n') == 1);
  auto own = runCommandIn(pod.netns(), {"readlink", "/proc/self/ns/net"});
  REQUIRE(own.ok());
  CHECK(*own == "net:[" + std::to_string(pod.netns().inode()) + "]\n");
  auto failing = runCommandIn(pod.netns(), {"ip", "link", "show", "dev", "eth-none"});
  REQUIRE_FALSE(failing.ok());
  CHECK_THAT(std::string(failing.status().message()), Catch::Contains("eth-none"));
}

}  // namespace
}  // namespace ambit::agent
