#include "agent/netns/netns.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include <absl/strings/str_split.h>

#include "core/errno_text.h"
#include "core/log.h"

extern char** environ;

namespace ambit::agent {
namespace {

constexpr auto kCommandTimeout = std::chrono::seconds(30);

ino_t inodeOf(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return 0;
  return st.st_ino;
}

// Switches the calling thread back to `home`; there is no safe way to continue if that fails.
void returnHome(const Netns& home) {
  if (::setns(home.fd(), CLONE_NEWNET) != 0) {
    const int err = errno;
    log::get("netns")->critical("setns back to the agent's network namespace failed: {}",
                                errnoText(err));
    std::abort();
  }
}

// Resolves argv[0] through PATH before fork (execve in the child must not allocate).
std::string resolveExecutable(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string dirs =
      path != nullptr ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (absl::string_view dir : absl::StrSplit(dirs, ':')) {
    std::string candidate = absl::StrCat(dir.empty() ? absl::string_view(".") : dir, "/", name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return name;  // execve fails with ENOENT and the child reports it
}

void setNonBlocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

std::string joinArgv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& arg : argv) {
    if (!out.empty()) out += ' ';
    out += arg;
  }
  return out;
}

}  // namespace

absl::StatusOr<Netns> Netns::open(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return absl::NotFoundError(absl::StrCat("open netns ", path, ": ", errnoText(errno)));
  }
  const int type = ::ioctl(fd.get(), NS_GET_NSTYPE);
  if (type != CLONE_NEWNET) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is not a network namespace",
                     type < 0 ? absl::StrCat(" (", errnoText(errno), ")") : std::string()));
  }
  const ino_t inode = inodeOf(fd.get());
  return Netns(std::move(fd), inode);
}

Netns Netns::adopt(UniqueFd fd) {
  const ino_t inode = fd ? inodeOf(fd.get()) : 0;
  return Netns(std::move(fd), inode);
}

absl::StatusOr<Netns> Netns::current() { return open("/proc/thread-self/ns/net"); }

absl::Status runIn(const Netns& netns, const std::function<absl::Status()>& fn) {
  AMBIT_ASSIGN_OR_RETURN(Netns home, Netns::current());
  if (home.inode() == netns.inode() && netns.inode() != 0) return fn();
  if (::setns(netns.fd(), CLONE_NEWNET) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("setns into network namespace ", netns.inode(), ": ", errnoText(errno)));
  }
  absl::Status result;
  try {
    result = fn();
  } catch (...) {
    returnHome(home);
    throw;
  }
  returnHome(home);
  return result;
}

absl::StatusOr<UniqueFd> socketIn(const Netns& netns, int domain, int type, int protocol) {
  UniqueFd fd;
  AMBIT_RETURN_IF_ERROR(runIn(netns, [&]() -> absl::Status {
    fd.reset(::socket(domain, type | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol));
    if (!fd) {
      return absl::InternalError(
          absl::StrCat("socket in network namespace ", netns.inode(), ": ", errnoText(errno)));
    }
    return absl::OkStatus();
  }));
  return fd;
}

absl::StatusOr<std::string> runCommandIn(const Netns& netns, const std::vector<std::string>& argv,
                                         const std::string& stdin_data) {
  if (argv.empty()) return absl::InvalidArgumentError("runCommandIn: empty argv");
  const std::string command = joinArgv(argv);

  // Everything the child needs is prepared before fork: after fork only async-signal-safe calls.
  const std::string exe = resolveExecutable(argv[0]);
  std::vector<char*> cargv;
  cargv.reserve(argv.size() + 1);
  for (const auto& arg : argv) cargv.push_back(const_cast<char*>(arg.c_str()));
  cargv.push_back(nullptr);
  AMBIT_ASSIGN_OR_RETURN(Netns home, Netns::current());
  const bool enter = !(home.inode() == netns.inode() && netns.inode() != 0);

  // stdin is a socket so that writing to an exited child gives EPIPE, not SIGPIPE (MSG_NOSIGNAL).
  int in[2], out[2], err[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0) {
    return absl::InternalError(absl::StrCat("socketpair: ", errnoText(errno)));
  }
  UniqueFd in_child(in[0]), in_parent(in[1]);
  if (::pipe2(out, O_CLOEXEC) != 0)
    return absl::InternalError(absl::StrCat("pipe: ", errnoText(errno)));
  UniqueFd out_parent(out[0]), out_child(out[1]);
  if (::pipe2(err, O_CLOEXEC) != 0)
    return absl::InternalError(absl::StrCat("pipe: ", errnoText(errno)));
  UniqueFd err_parent(err[0]), err_child(err[1]);

  const pid_t pid = ::fork();
  if (pid < 0)
    return absl::InternalError(absl::StrCat("fork for ", command, ": ", errnoText(errno)));
  if (pid == 0) {
    ::dup2(in_child.get(), 0);
    ::dup2(out_child.get(), 1);
    ::dup2(err_child.get(), 2);
    if (enter && ::setns(netns.fd(), CLONE_NEWNET) != 0) {
      static const char kMsg[] = "setns into the pod's network namespace failed\n";
      [[maybe_unused]] auto ignored = ::write(2, kMsg, sizeof(kMsg) - 1);
      ::_exit(126);
    }
    ::execve(exe.c_str(), cargv.data(), environ);
    static const char kMsg[] = "exec failed: ";
    [[maybe_unused]] auto ignored = ::write(2, kMsg, sizeof(kMsg) - 1);
    const char* reason = ::strerror(errno);
    ignored = ::write(2, reason, ::strlen(reason));
    ignored = ::write(2, "\n", 1);
    ::_exit(127);
  }
  in_child.reset();
  out_child.reset();
  err_child.reset();
  setNonBlocking(in_parent.get());
  setNonBlocking(out_parent.get());
  setNonBlocking(err_parent.get());

  std::string stdout_data, stderr_data;
  size_t written = 0;
  if (stdin_data.empty()) in_parent.reset();
  const auto deadline = std::chrono::steady_clock::now() + kCommandTimeout;
  bool timed_out = false;
  while (out_parent || err_parent) {
    pollfd fds[3];
    nfds_t n = 0;
    auto add = [&](const UniqueFd& fd, short events) {
      if (fd) fds[n++] = pollfd{fd.get(), events, 0};
    };
    add(in_parent, POLLOUT);
    add(out_parent, POLLIN);
    add(err_parent, POLLIN);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    const int ready = ::poll(fds, n, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (in_parent && fds[i].fd == in_parent.get()) {
        const ssize_t w = ::send(in_parent.get(), stdin_data.data() + written,
                                 stdin_data.size() - written, MSG_NOSIGNAL);
        if (w > 0) written += static_cast<size_t>(w);
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == stdin_data.size()) {
          in_parent.reset();  // EOF for the child
        }
        continue;
      }
      UniqueFd& src = fds[i].fd == out_parent.get() ? out_parent : err_parent;
      std::string& dst = &src == &out_parent ? stdout_data : stderr_data;
      char buf[4096];
      const ssize_t r = ::read(src.get(), buf, sizeof buf);
      if (r > 0) {
        dst.append(buf, static_cast<size_t>(r));
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        src.reset();
      }
    }
  }
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return absl::DeadlineExceededError(
        absl::StrCat("`", command, "` did not finish within ", kCommandTimeout.count(), " s"));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return stdout_data;
  while (!stderr_data.empty() && stderr_data.back() == '\n') stderr_data.pop_back();
  const std::string how = WIFEXITED(status)
                              ? absl::StrCat("exited with status ", WEXITSTATUS(status))
                              : absl::StrCat("killed by signal ", WTERMSIG(status));
  return absl::InternalError(absl::StrCat("`", command, "` ", how, ": ", stderr_data));
}

}  // namespace ambit::agent
