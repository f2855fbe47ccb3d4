#include "agent/cni/protocol.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

#include "agent/cni/files.h"

namespace ambit::agent::cni {
namespace {

// Room for a few fds, so that a peer sending more than one is seen (and all of them closed)
// rather than having the kernel drop the extra ones silently.
constexpr int kMaxFdsInControl = 4;

// Waits until `socket` is readable or `timeout` passes.
absl::Status waitReadable(int socket, absl::Duration timeout) {
  const absl::Time deadline =
      timeout == absl::InfiniteDuration() ? absl::InfiniteFuture() : absl::Now() + timeout;
  for (;;) {
    int wait_ms = -1;
    if (deadline != absl::InfiniteFuture()) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) {
        return absl::DeadlineExceededError(
            absl::StrCat("no message within ", absl::FormatDuration(timeout)));
      }
      // Round up so that a sub-millisecond remainder does not spin.
      wait_ms = static_cast<int>(
          std::min<int64_t>(absl::ToInt64Milliseconds(left + absl::Milliseconds(1)), 1 << 30));
    }
    pollfd pfd{};
    pfd.fd = socket;
    pfd.events = POLLIN;
    const int ready = ::poll(&pfd, 1, wait_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("poll: ", errnoText(errno)));
    }
    if (ready > 0) return absl::OkStatus();
  }
}

}  // namespace

absl::Status sendMessage(int socket, const google::protobuf::Message& message, int fd_to_pass) {
  std::string bytes;
  if (!message.SerializeToString(&bytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat("serialize ", message.GetTypeName(), ": message is not valid"));
  }
  if (bytes.size() > kMaxMessageBytes) {
    return absl::InvalidArgumentError(absl::StrCat(message.GetTypeName(), " is ", bytes.size(),
                                                   " bytes, more than the limit of ",
                                                   kMaxMessageBytes));
  }
  iovec iov{};
  iov.iov_base = bytes.data();
  iov.iov_len = bytes.size();
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  if (fd_to_pass >= 0) {
    std::memset(control, 0, sizeof(control));
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &fd_to_pass, sizeof(int));
  }
  for (;;) {
    const ssize_t sent = ::sendmsg(socket, &msg, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      const std::string text = absl::StrCat("send ", message.GetTypeName(), ": ", errnoText(err));
      if (err == EPIPE || err == ECONNRESET || err == ENOTCONN) {
        return absl::UnavailableError(text);
      }
      return absl::InternalError(text);
    }
    if (static_cast<std::size_t>(sent) != bytes.size()) {
      return absl::InternalError(absl::StrCat("send ", message.GetTypeName(), ": sent ", sent,
                                              " of ", bytes.size(), " bytes"));
    }
    return absl::OkStatus();
  }
}

absl::Status receiveMessage(int socket, google::protobuf::Message& out, UniqueFd* received_fd,
                            absl::Duration timeout) {
  if (received_fd != nullptr) received_fd->reset();
  AMBIT_RETURN_IF_ERROR(waitReadable(socket, timeout));

  std::vector<char> buffer(kMaxMessageBytes);
  iovec iov{};
  iov.iov_base = buffer.data();
  iov.iov_len = buffer.size();
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsInControl)];
  std::memset(control, 0, sizeof(control));
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);

  ssize_t got;
  do {
    got = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    const int err = errno;
    if (err == ECONNRESET) return absl::UnavailableError("receive: connection reset by peer");
    if (err == EAGAIN || err == EWOULDBLOCK) {
      return absl::DeadlineExceededError("receive: no message ready");
    }
    return absl::InternalError(absl::StrCat("receive: ", errnoText(err)));
  }

  // Take ownership of every fd that came along, so that each one is closed on any error below.
  std::vector<UniqueFd> fds;
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
      fds.emplace_back(fd);
    }
  }

  if (got == 0 && fds.empty())
    return absl::UnavailableError("receive: peer closed the connection (or sent an empty message)");
  if ((msg.msg_flags & MSG_TRUNC) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("receive: message larger than the limit of ",
                                                   kMaxMessageBytes, " bytes (truncated)"));
  }
  if ((msg.msg_flags & MSG_CTRUNC) != 0) {
    return absl::InvalidArgumentError("receive: control data truncated (too many fds passed)");
  }
  if (fds.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("receive: ", fds.size(), " fds passed, at most one expected"));
  }
  if (!out.ParseFromArray(buffer.data(), static_cast<int>(got))) {
    return absl::InvalidArgumentError(
        absl::StrCat("receive: ", got, " bytes are not a valid ", out.GetTypeName()));
  }
  if (received_fd != nullptr && !fds.empty()) *received_fd = std::move(fds.front());
  return absl::OkStatus();
}

absl::StatusOr<UniqueFd> connectUnix(const std::string& path, absl::Duration timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("socket path \"", path,
                                                   "\" is empty or longer than ",
                                                   sizeof(addr.sun_path) - 1, " bytes"));
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd) return absl::InternalError(absl::StrCat("socket: ", errnoText(errno)));
  // connect() on a Unix socket waits for room in the listener's backlog up to SO_SNDTIMEO.
  if (timeout != absl::InfiniteDuration()) {
    const timeval tv = absl::ToTimeval(std::max(timeout, absl::Milliseconds(1)));
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  }
  int rc;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    const int err = errno;
    if (err == EAGAIN || err == EINPROGRESS) {
      return absl::DeadlineExceededError(
          absl::StrCat("connect ", path, ": the listener did not accept in time"));
    }
    return absl::UnavailableError(absl::StrCat("connect ", path, ": ", errnoText(err)));
  }
  return fd;
}

absl::StatusOr<ambit::cni::v1::AgentReply> callAgent(const std::string& socket_path,
                                                     const ambit::cni::v1::AgentRequest& request,
                                                     int fd_to_pass, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  AMBIT_ASSIGN_OR_RETURN(UniqueFd socket, connectUnix(socket_path, timeout));
  AMBIT_RETURN_IF_ERROR(sendMessage(socket.get(), request, fd_to_pass));
  ambit::cni::v1::AgentReply reply;
  const absl::Status received = receiveMessage(
      socket.get(), reply, nullptr, std::max(deadline - absl::Now(), absl::ZeroDuration()));
  if (!received.ok()) {
    return absl::Status(received.code(),
                        absl::StrCat("agent at ", socket_path, ": ", received.message()));
  }
  return reply;
}

}  // namespace ambit::agent::cni
