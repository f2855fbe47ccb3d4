#include "agent/cni/protocol.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include <catch2/catch.hpp>

#include "test/agent/cni/test_util.h"

namespace ambit::agent::cni {
namespace {

using ambit::cni::v1::AgentReply;
using ambit::cni::v1::AgentRequest;
using testing::inodeOfFd;
using testing::inodeOfPath;
using testing::kNetnsPath;

struct SocketPair {
  UniqueFd a;
  UniqueFd b;
  SocketPair() {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == 0);
    a.reset(fds[0]);
    b.reset(fds[1]);
  }
};

struct Pipe {
  UniqueFd read;
  UniqueFd write;
  Pipe() {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0);
    read.reset(fds[0]);
    write.reset(fds[1]);
  }
  // True when every write end is closed (read sees end of file).
  bool writersClosed() const {
    char byte;
    return ::read(read.get(), &byte, 1) == 0;
  }
};

// Sends raw bytes, optionally with several fds, bypassing sendMessage's checks.
void sendRaw(int socket, const std::string& bytes, const std::vector<int>& fds) {
  iovec iov{};
  iov.iov_base = const_cast<char*>(bytes.data());
  iov.iov_len = bytes.size();
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  if (!fds.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  REQUIRE(::sendmsg(socket, &msg, MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()));
}

AgentRequest sampleAdd() {
  AgentRequest request;
  auto* pod = request.mutable_add()->mutable_pod();
  pod->set_uid("3f1c-uid");
  pod->set_namespace_("shop");
  pod->set_name("cart-0");
  pod->add_ips("10.244.1.5");
  pod->add_ips("fd00::5");
  pod->set_netns_path("/var/run/netns/cni-1");
  pod->set_container_id("c0ffee");
  return request;
}

TEST_CASE("a message round-trips over a SOCK_SEQPACKET pair without an fd", "[cni][protocol]") {
  SocketPair pair;
  REQUIRE(sendMessage(pair.a.get(), sampleAdd()).ok());
  AgentRequest got;
  UniqueFd fd(::dup(0));  // must be reset: no fd came along
  REQUIRE(receiveMessage(pair.b.get(), got, &fd, absl::Seconds(1)).ok());
  CHECK_FALSE(fd.valid());
  REQUIRE(got.has_add());
  CHECK(got.add().pod().uid() == "3f1c-uid");
  CHECK(got.add().pod().namespace_() == "shop");
  REQUIRE(got.add().pod().ips_size() == 2);
  CHECK(got.add().pod().ips(1) == "fd00::5");
  CHECK(got.add().pod().container_id() == "c0ffee");

  AgentReply reply;
  reply.set_ok(false);
  reply.set_error("no capacity");
  REQUIRE(sendMessage(pair.b.get(), reply).ok());
  AgentReply got_reply;
  REQUIRE(receiveMessage(pair.a.get(), got_reply, nullptr, absl::Seconds(1)).ok());
  CHECK_FALSE(got_reply.ok());
  CHECK(got_reply.error() == "no capacity");
}

TEST_CASE("a passed fd arrives as the same file, close-on-exec", "[cni][protocol]") {
  SocketPair pair;
  UniqueFd netns(::open(kNetnsPath, O_RDONLY | O_CLOEXEC));
  REQUIRE(netns.valid());
  REQUIRE(sendMessage(pair.a.get(), sampleAdd(), netns.get()).ok());
  netns.reset();

  AgentRequest got;
  UniqueFd fd;
  REQUIRE(receiveMessage(pair.b.get(), got, &fd, absl::Seconds(1)).ok());
  REQUIRE(fd.valid());
  CHECK(inodeOfFd(fd.get()) == inodeOfPath(kNetnsPath));
  CHECK((::fcntl(fd.get(), F_GETFD) & FD_CLOEXEC) != 0);
  CHECK(got.add().pod().name() == "cart-0");
}

TEST_CASE("a message over the size limit is refused on both ends", "[cni][protocol]") {
  SocketPair pair;
  AgentRequest big = sampleAdd();
  big.mutable_add()->mutable_pod()->set_name(std::string(kMaxMessageBytes + 1, 'x'));
  const absl::Status sent = sendMessage(pair.a.get(), big);
  CHECK(absl::IsInvalidArgument(sent));
  CHECK_THAT(std::string(sent.message()), Catch::Contains("limit"));

  // A peer that ignores the limit: the receiver sees truncation and closes the passed fd.
  Pipe pipe;
  sendRaw(pair.a.get(), std::string(kMaxMessageBytes + 100, 'x'), {pipe.write.get()});
  pipe.write.reset();
  AgentRequest got;
  UniqueFd fd;
  const absl::Status received = receiveMessage(pair.b.get(), got, &fd, absl::Seconds(1));
  CHECK(absl::IsInvalidArgument(received));
  CHECK_THAT(std::string(received.message()), Catch::Contains("truncated"));
  CHECK_FALSE(fd.valid());
  CHECK(pipe.writersClosed());
}

TEST_CASE("garbage is refused and the fd that came with it closed", "[cni][protocol]") {
  SocketPair pair;
  Pipe pipe;
  sendRaw(pair.a.get(), std::string("\xff\xff\xff\xff\x0f", 5), {pipe.write.get()});
  pipe.write.reset();
  AgentRequest got;
  UniqueFd fd;
  const absl::Status received = receiveMessage(pair.b.get(), got, &fd, absl::Seconds(1));
  CHECK(absl::IsInvalidArgument(received));
  CHECK_THAT(std::string(received.message()), Catch::Contains("not a valid"));
  CHECK_FALSE(fd.valid());
  CHECK(pipe.writersClosed());
}

TEST_CASE("more than one passed fd is refused and all of them closed", "[cni][protocol]") {
  SocketPair pair;
  Pipe first;
  Pipe second;
  std::string bytes;
  REQUIRE(sampleAdd().SerializeToString(&bytes));
  sendRaw(pair.a.get(), bytes, {first.write.get(), second.write.get()});
  first.write.reset();
  second.write.reset();
  AgentRequest got;
  UniqueFd fd;
  const absl::Status received = receiveMessage(pair.b.get(), got, &fd, absl::Seconds(1));
  CHECK(absl::IsInvalidArgument(received));
  CHECK_FALSE(fd.valid());
  CHECK(first.writersClosed());
  CHECK(second.writersClosed());
}

TEST_CASE("a passed fd is closed when the caller does not take it", "[cni][protocol]") {
  SocketPair pair;
  Pipe pipe;
  REQUIRE(sendMessage(pair.a.get(), sampleAdd(), pipe.write.get()).ok());
  pipe.write.reset();
  AgentRequest got;
  REQUIRE(receiveMessage(pair.b.get(), got, nullptr, absl::Seconds(1)).ok());
  CHECK(pipe.writersClosed());
}

TEST_CASE("receive times out and reports a closed peer", "[cni][protocol]") {
  SocketPair pair;
  AgentRequest got;
  const absl::Time start = absl::Now();
  CHECK(absl::IsDeadlineExceeded(
      receiveMessage(pair.b.get(), got, nullptr, absl::Milliseconds(100))));
  const absl::Duration waited = absl::Now() - start;
  CHECK(waited >= absl::Milliseconds(90));
  CHECK(waited < absl::Seconds(2));

  pair.a.reset();
  CHECK(absl::IsUnavailable(receiveMessage(pair.b.get(), got, nullptr, absl::Seconds(1))));
}

TEST_CASE("connecting to a path nobody listens on is Unavailable", "[cni][protocol]") {
  testing::TempDir dir;
  const auto reply = callAgent(dir.file("none.sock"), sampleAdd(), -1, absl::Seconds(1));
  CHECK(absl::IsUnavailable(reply.status()));
  CHECK(absl::IsInvalidArgument(connectUnix(std::string(200, 'a'), absl::Seconds(1)).status()));
}

}  // namespace
}  // namespace ambit::agent::cni
