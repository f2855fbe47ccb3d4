// Entering pod network namespaces. The agent stays in the host's network namespace; these helpers
// create sockets in, run code in, and run commands in a pod's network namespace.
//
// Thread rule: setns() affects only the calling thread. socketIn() and runIn() switch the calling
// thread into the pod's namespace and always switch it back before returning; if switching back
// fails the process aborts (a thread left in a pod's namespace would silently put later sockets in
// the wrong pod). A socket keeps the namespace it was created in for its whole life, so sockets
// from socketIn() may be used from any thread (and with Boost.Asio) afterwards.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/unique_fd.h"

namespace ambit::agent {

// An open network namespace (a file descriptor of an nsfs inode, e.g. /proc/<pid>/ns/net or a
// bind mount under /run/netns). Move-only; the descriptor closes with it.
class Netns {
 public:
  // Opens `path` and checks that it is a network namespace.
  static absl::StatusOr<Netns> open(const std::string& path);
  // Takes ownership of an fd already known to refer to a network namespace (e.g. received from
  // the CNI plugin over SCM_RIGHTS). Not checked; inode() is 0 if fstat fails.
  static Netns adopt(UniqueFd fd);
  // The calling thread's current network namespace (/proc/thread-self/ns/net).
  static absl::StatusOr<Netns> current();

  Netns(Netns&&) = default;
  Netns& operator=(Netns&&) = default;

  // Identity: two Netns refer to the same namespace iff their inodes are equal.
  ino_t inode() const { return inode_; }
  int fd() const { return fd_.get(); }

 private:
  Netns(UniqueFd fd, ino_t inode) : fd_(std::move(fd)), inode_(inode) {}
  UniqueFd fd_;
  ino_t inode_ = 0;
};

// Runs `fn` on the calling thread while it is inside `netns`, then switches back (aborting the
// process if that fails). Threads started by `fn` inherit `netns`: do not start any there. When the
// thread already is in `netns`, runs `fn` without any setns() (so this works without CAP_SYS_ADMIN
// for the current namespace). Returns fn's status, or the setns() error if entering failed (then fn
// does not run).
absl::Status runIn(const Netns& netns, const std::function<absl::Status()>& fn);

// The socket factory: a socket created inside `netns` (SOCK_CLOEXEC | SOCK_NONBLOCK are added to
// `type`). E.g. socketIn(pod, AF_INET, SOCK_STREAM, 0) for the pod's listeners and upstreams.
absl::StatusOr<UniqueFd> socketIn(const Netns& netns, int domain, int type, int protocol);

// Runs a command with its network namespace set to `netns` (fork, setns in the child, exec;
// argv[0] is looked up in PATH unless it contains '/'), feeding it `stdin_data`. Returns its
// stdout when it exits with status 0; otherwise an INTERNAL error with the command, its exit
// status (or signal) and stderr. A command still running after 30 s is killed (DEADLINE_EXCEEDED).
// Used to run `nft` and `ip` inside a pod's namespace. Only the network namespace changes.
absl::StatusOr<std::string> runCommandIn(const Netns& netns, const std::vector<std::string>& argv,
                                         const std::string& stdin_data = "");

}  // namespace ambit::agent
