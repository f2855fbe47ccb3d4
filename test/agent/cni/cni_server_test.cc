#include "agent/cni/cni_server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include "agent/cni/protocol.h"
#include "test/agent/cni/test_util.h"

namespace ambit::agent::cni {
namespace {

using ambit::cni::v1::AgentRequest;
using ambit::cni::v1::DelPod;
using ambit::cni::v1::PodInfo;
using testing::Inode;
using testing::inodeOfFd;
using testing::inodeOfPath;
using testing::kNetnsPath;
using testing::TempDir;

// What the handlers saw.
struct Seen {
  std::mutex mu;
  std::optional<PodInfo> added;
  Inode netns;
  std::optional<DelPod> deleted;
  int adds = 0;
};

CniHandlers recording(Seen& seen, absl::Status add_result = absl::OkStatus()) {
  CniHandlers handlers;
  handlers.on_add = [&seen, add_result](const PodInfo& pod, UniqueFd netns) {
    std::lock_guard<std::mutex> lock(seen.mu);
    seen.added = pod;
    seen.netns = inodeOfFd(netns.get());
    ++seen.adds;
    return add_result;
  };
  handlers.on_del = [&seen](const DelPod& pod) {
    std::lock_guard<std::mutex> lock(seen.mu);
    seen.deleted = pod;
    return absl::OkStatus();
  };
  return handlers;
}

AgentRequest addRequest() {
  AgentRequest request;
  auto* pod = request.mutable_add()->mutable_pod();
  pod->set_uid("uid-7");
  pod->set_namespace_("shop");
  pod->set_name("cart-0");
  pod->add_ips("10.244.1.7");
  pod->set_netns_path(kNetnsPath);
  pod->set_container_id("ctr-7");
  return request;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

TEST_CASE("AddPod with the netns fd reaches the handler", "[cni][server]") {
  TempDir tmp;
  Seen seen;
  const std::string path = tmp.file("run/ambit/cni.sock");  // parent created by start()
  CniServer server(path, recording(seen));
  REQUIRE(server.start().ok());

  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 0777) == 0600);

  UniqueFd netns(::open(kNetnsPath, O_RDONLY | O_CLOEXEC));
  REQUIRE(netns.valid());
  const auto reply = callAgent(path, addRequest(), netns.get(), absl::Seconds(5));
  REQUIRE(reply.ok());
  CHECK(reply->ok());
  CHECK(reply->error().empty());

  std::lock_guard<std::mutex> lock(seen.mu);
  REQUIRE(seen.added.has_value());
  CHECK(seen.added->uid() == "uid-7");
  CHECK(seen.added->name() == "cart-0");
  REQUIRE(seen.added->ips_size() == 1);
  CHECK(seen.added->ips(0) == "10.244.1.7");
  CHECK(seen.netns == inodeOfPath(kNetnsPath));
}

TEST_CASE("a handler's error goes back to the plugin", "[cni][server]") {
  TempDir tmp;
  Seen seen;
  CniServer server(tmp.file("cni.sock"),
                   recording(seen, absl::UnavailableError("pod listener not ready")));
  REQUIRE(server.start().ok());
  UniqueFd netns(::open(kNetnsPath, O_RDONLY | O_CLOEXEC));
  const auto reply = callAgent(server.path(), addRequest(), netns.get(), absl::Seconds(5));
  REQUIRE(reply.ok());
  CHECK_FALSE(reply->ok());
  CHECK(reply->error() == "pod listener not ready");
}

TEST_CASE("AddPod without an fd is refused before the handler", "[cni][server]") {
  TempDir tmp;
  Seen seen;
  CniServer server(tmp.file("cni.sock"), recording(seen));
  REQUIRE(server.start().ok());
  const auto reply = callAgent(server.path(), addRequest(), -1, absl::Seconds(5));
  REQUIRE(reply.ok());
  CHECK_FALSE(reply->ok());
  CHECK_THAT(reply->error(), Catch::Contains("no network namespace fd"));
  std::lock_guard<std::mutex> lock(seen.mu);
  CHECK(seen.adds == 0);
}

TEST_CASE("DelPod reaches its handler; an empty request is refused", "[cni][server]") {
  TempDir tmp;
  Seen seen;
  CniServer server(tmp.file("cni.sock"), recording(seen));
  REQUIRE(server.start().ok());
  AgentRequest request;
  request.mutable_del()->set_uid("uid-7");
  request.mutable_del()->set_container_id("ctr-7");
  const auto reply = callAgent(server.path(), request, -1, absl::Seconds(5));
  REQUIRE(reply.ok());
  CHECK(reply->ok());
  {
    std::lock_guard<std::mutex> lock(seen.mu);
    REQUIRE(seen.deleted.has_value());
    CHECK(seen.deleted->uid() == "uid-7");
    CHECK(seen.deleted->container_id() == "ctr-7");
  }
  const auto empty = callAgent(server.path(), AgentRequest(), -1, absl::Seconds(5));
  REQUIRE(empty.ok());
  CHECK_FALSE(empty->ok());
}

TEST_CASE("a silent client neither blocks others nor stop()", "[cni][server]") {
  TempDir tmp;
  Seen seen;
  CniServer server(tmp.file("cni.sock"), recording(seen));
  REQUIRE(server.start().ok());
  auto silent = connectUnix(server.path(), absl::Seconds(1));
  REQUIRE(silent.ok());

  UniqueFd netns(::open(kNetnsPath, O_RDONLY | O_CLOEXEC));
  const absl::Time start = absl::Now();
  const auto reply = callAgent(server.path(), addRequest(), netns.get(), absl::Seconds(5));
  REQUIRE(reply.ok());
  CHECK(reply->ok());
  CHECK(absl::Now() - start < absl::Seconds(1));

  const absl::Time stop_start = absl::Now();
  server.stop();
  CHECK(absl::Now() - stop_start < absl::Seconds(1));
}

TEST_CASE("a silent client is dropped after the receive timeout", "[cni][server]") {
  TempDir tmp;
  Seen seen;
  CniServerOptions options;
  options.receive_timeout = absl::Milliseconds(200);
  CniServer server(tmp.file("cni.sock"), recording(seen), options);
  REQUIRE(server.start().ok());
  auto silent = connectUnix(server.path(), absl::Seconds(1));
  REQUIRE(silent.ok());
  ambit::cni::v1::AgentReply reply;
  // The server gives up on the request and answers with the reason.
  REQUIRE(receiveMessage(silent->get(), reply, nullptr, absl::Seconds(3)).ok());
  CHECK_FALSE(reply.ok());
  CHECK_THAT(reply.error(), Catch::Contains("no message within"));
}

TEST_CASE("stop() removes the socket, and a stale socket file is replaced", "[cni][server]") {
  TempDir tmp;
  const std::string path = tmp.file("cni.sock");
  {
    // A socket file left behind by a crashed agent.
    UniqueFd stale(::socket(AF_UNIX, SOCK_SEQPACKET, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    REQUIRE(::bind(stale.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0);
  }
  REQUIRE(exists(path));

  Seen seen;
  {
    CniServer server(path, recording(seen));
    REQUIRE(server.start().ok());
    AgentRequest request;
    request.mutable_del()->set_uid("uid-1");
    const auto reply = callAgent(path, request, -1, absl::Seconds(5));
    REQUIRE(reply.ok());
    CHECK(reply->ok());
    server.stop();
    CHECK_FALSE(exists(path));
    CHECK(absl::IsUnavailable(callAgent(path, request, -1, absl::Seconds(1)).status()));
    server.stop();  // idempotent
    REQUIRE(server.start().ok());
    CHECK(exists(path));
  }  // the destructor stops it too
  CHECK_FALSE(exists(path));

  // A path that is not a socket is left alone.
  std::ofstream(path) << "not a socket";
  CniServer server(path, recording(seen));
  CHECK(absl::IsFailedPrecondition(server.start()));
  CHECK(testing::readFile(path) == "not a socket");
}

TEST_CASE("an old server stopping leaves a newer server's socket alone", "[cni][server]") {
  TempDir tmp;
  Seen old_seen;
  Seen new_seen;
  const std::string path = tmp.file("cni.sock");
  CniServer old_server(path, recording(old_seen));
  REQUIRE(old_server.start().ok());
  CniServer new_server(path, recording(new_seen));
  REQUIRE(new_server.start().ok());
  old_server.stop();
  REQUIRE(exists(path));

  AgentRequest request;
  request.mutable_del()->set_uid("uid-9");
  const auto reply = callAgent(path, request, -1, absl::Seconds(5));
  REQUIRE(reply.ok());
  CHECK(reply->ok());
  std::lock_guard<std::mutex> lock(new_seen.mu);
  REQUIRE(new_seen.deleted.has_value());
  CHECK(new_seen.deleted->uid() == "uid-9");
}

}  // namespace
}  // namespace ambit::agent::cni
