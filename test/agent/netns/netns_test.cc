#include "agent/netns/netns.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

namespace ambit::agent {
namespace {

ino_t inodeOfPath(const char* path) {
  struct stat st {};
  REQUIRE(::stat(path, &st) == 0);
  return st.st_ino;
}

TEST_CASE("Netns::current is the thread's network namespace") {
  auto self = Netns::current();
  REQUIRE(self.ok());
  CHECK(self->inode() != 0);
  CHECK(self->inode() == inodeOfPath("/proc/thread-self/ns/net"));
  CHECK(self->fd() >= 0);
}

TEST_CASE("Netns::open accepts network namespaces only") {
  auto self = Netns::open("/proc/self/ns/net");
  REQUIRE(self.ok());
  CHECK(self->inode() == inodeOfPath("/proc/self/ns/net"));

  auto missing = Netns::open("/nonexistent/ns");
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  auto not_ns = Netns::open("/proc/self/ns/uts");
  CHECK(not_ns.status().code() == absl::StatusCode::kInvalidArgument);
  auto plain_file = Netns::open("/proc/self/status");
  CHECK(plain_file.status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Netns::adopt takes an open namespace fd") {
  const Netns adopted = Netns::adopt(UniqueFd(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)));
  CHECK(adopted.fd() >= 0);
  CHECK(adopted.inode() == inodeOfPath("/proc/self/ns/net"));
}

TEST_CASE("runIn the current namespace runs the function and returns its status") {
  auto self = Netns::current();
  REQUIRE(self.ok());
  int calls = 0;
  CHECK(runIn(*self, [&] {
          ++calls;
          return absl::OkStatus();
        }).ok());
  CHECK(runIn(*self, [&] {
          ++calls;
          return absl::AbortedError("inner");
        }) == absl::AbortedError("inner"));
  CHECK(calls == 2);
  auto fd = socketIn(*self, AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd.ok());
  CHECK((::fcntl(fd->get(), F_GETFL) & O_NONBLOCK) != 0);
  CHECK((::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC) != 0);
}

TEST_CASE("runCommandIn feeds stdin and returns stdout") {
  auto self = Netns::current();
  REQUIRE(self.ok());
  auto out = runCommandIn(*self, {"cat"}, "table inet ambit {}\n");
  REQUIRE(out.ok());
  CHECK(*out == "table inet ambit {}\n");
  // Larger than a pipe buffer both ways: no deadlock between writing stdin and reading stdout.
  const std::string big(1 << 20, 'x');
  auto echoed = runCommandIn(*self, {"cat"}, big);
  REQUIRE(echoed.ok());
  CHECK(*echoed == big);
  auto args = runCommandIn(*self, {"/bin/echo", "a b", "c"});
  REQUIRE(args.ok());
  CHECK(*args == "a b c\n");
}

TEST_CASE("runCommandIn reports exit status and stderr") {
  auto self = Netns::current();
  REQUIRE(self.ok());
  auto failed = runCommandIn(*self, {"sh", "-c", "echo out; echo 'it broke' >&2; exit 3"});
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.status().code() == absl::StatusCode::kInternal);
  CHECK_THAT(std::string(failed.status().message()), Catch::Contains("exited with status 3") &&
                                                         Catch::Contains("it broke") &&
                                                         Catch::Contains("sh -c"));
  auto missing = runCommandIn(*self, {"ambit-no-such-command"});
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(std::string(missing.status().message()),
             Catch::Contains("status 127") && Catch::Contains("exec failed"));
  // A child that exits without reading its stdin does not kill us with SIGPIPE.
  auto ignores_stdin = runCommandIn(*self, {"true"}, std::string(1 << 20, 'y'));
  CHECK(ignores_stdin.ok());
  CHECK(runCommandIn(*self, {}).status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ambit::agent
