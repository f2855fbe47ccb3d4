#include "agent/cni/cni_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>

#include "agent/cni/files.h"
#include "agent/cni/protocol.h"
#include "core/log.h"

namespace ambit::agent::cni {
namespace {

using ambit::cni::v1::AgentReply;
using ambit::cni::v1::AgentRequest;

std::shared_ptr<spdlog::logger> logger() { return ambit::log::get("cni-server"); }

std::string parentOf(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::Status bindTo(int fd, const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return absl::InternalError(absl::StrCat("bind ", path, ": ", errnoText(errno)));
  }
  return absl::OkStatus();
}

AgentReply failure(absl::string_view error) {
  AgentReply reply;
  reply.set_ok(false);
  reply.set_error(std::string(error));
  return reply;
}

}  // namespace

CniServer::CniServer(std::string path, CniHandlers handlers, CniServerOptions options)
    : path_(std::move(path)), handlers_(std::move(handlers)), options_(options) {}

CniServer::~CniServer() { stop(); }

absl::Status CniServer::start() {
  if (started_) return absl::FailedPreconditionError("CNI server already started");
  if (path_.empty() || path_.size() >= sizeof(sockaddr_un::sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("CNI socket path \"", path_,
                                                   "\" is empty or longer than ",
                                                   sizeof(sockaddr_un::sun_path) - 1, " bytes"));
  }
  AMBIT_RETURN_IF_ERROR(makeDirectories(parentOf(path_), 0700));

  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat("CNI socket path ", path_, " exists and is not a socket"));
    }
    if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
      return absl::InternalError(absl::StrCat("remove stale ", path_, ": ", errnoText(errno)));
    }
    logger()->info("removed stale socket {}", path_);
  }

  UniqueFd listener(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!listener) return absl::InternalError(absl::StrCat("socket: ", errnoText(errno)));
  // Bind under a temporary name, restrict it to 0600, then move it into place, so the socket is
  // never reachable with wider permissions.
  const std::string temp = absl::StrCat(path_, ".", ::getpid());
  if (temp.size() < sizeof(sockaddr_un::sun_path)) {
    ::unlink(temp.c_str());
    AMBIT_RETURN_IF_ERROR(bindTo(listener.get(), temp));
    if (::chmod(temp.c_str(), 0600) != 0 || ::rename(temp.c_str(), path_.c_str()) != 0) {
      const int err = errno;
      ::unlink(temp.c_str());
      return absl::InternalError(absl::StrCat("place socket ", path_, ": ", errnoText(err)));
    }
  } else {
    AMBIT_RETURN_IF_ERROR(bindTo(listener.get(), path_));
    if (::chmod(path_.c_str(), 0600) != 0) {
      const int err = errno;
      ::unlink(path_.c_str());
      return absl::InternalError(absl::StrCat("chmod ", path_, ": ", errnoText(err)));
    }
  }
  if (::listen(listener.get(), 128) != 0) {
    const int err = errno;
    ::unlink(path_.c_str());
    return absl::InternalError(absl::StrCat("listen ", path_, ": ", errnoText(err)));
  }

  // Remember which file is ours, so stop() never removes a socket a newer agent put there.
  struct stat placed {};
  if (::lstat(path_.c_str(), &placed) == 0) {
    socket_dev_ = placed.st_dev;
    socket_ino_ = placed.st_ino;
  }

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    const int err = errno;
    ::unlink(path_.c_str());
    return absl::InternalError(absl::StrCat("pipe: ", errnoText(err)));
  }
  wake_read_.reset(pipe_fds[0]);
  wake_write_.reset(pipe_fds[1]);
  listener_ = std::move(listener);
  stopping_ = false;
  started_ = true;
  acceptor_ = std::thread([this] { acceptLoop(); });
  logger()->info("listening for ambit-cni on {}", path_);
  return absl::OkStatus();
}

void CniServer::stop() {
  if (!started_) return;
  started_ = false;
  stopping_ = true;
  const char byte = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_write_.get(), &byte, 1);
  if (acceptor_.joinable()) acceptor_.join();
  {
    // Wake connections still waiting for their request; handlers already running finish and can
    // still send their reply.
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& connection : connections_) ::shutdown(connection->socket.get(), SHUT_RD);
  }
  reapFinished(/*all=*/true);
  listener_.reset();
  wake_read_.reset();
  wake_write_.reset();
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0 && st.st_dev == socket_dev_ && st.st_ino == socket_ino_) {
    ::unlink(path_.c_str());
  }
  logger()->info("stopped listening on {}", path_);
}

void CniServer::reapFinished(bool all) {
  std::list<std::unique_ptr<Connection>> finished;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      if (all || (*it)->done) {
        finished.push_back(std::move(*it));
        it = connections_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& connection : finished) {
    if (connection->thread.joinable()) connection->thread.join();
  }
}

void CniServer::acceptLoop() {
  while (!stopping_) {
    pollfd fds[2] = {};
    fds[0].fd = listener_.get();
    fds[0].events = POLLIN;
    fds[1].fd = wake_read_.get();
    fds[1].events = POLLIN;
    // Wake up now and then to join finished connection threads even when no one connects.
    const int ready = ::poll(fds, 2, 1000);
    reapFinished(/*all=*/false);
    if (ready < 0) {
      if (errno == EINTR) continue;
      logger()->error("poll on {}: {}", path_, errnoText(errno));
      return;
    }
    if (stopping_ || (fds[1].revents & POLLIN) != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;

    UniqueFd socket(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!socket) {
      if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED) {
        logger()->warn("accept on {}: {}", path_, errnoText(errno));
      }
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (static_cast<int>(connections_.size()) >= options_.max_connections) {
      logger()->warn("{} CNI connections in progress, refusing another", connections_.size());
      continue;  // closes the socket
    }
    auto connection = std::make_unique<Connection>();
    connection->socket = std::move(socket);
    Connection& ref = *connection;
    connections_.push_back(std::move(connection));
    ref.thread = std::thread([this, &ref] { serve(ref); });
  }
}

void CniServer::serve(Connection& connection) {
  const AgentReply reply = handle(connection.socket.get());
  if (!reply.ok()) logger()->warn("CNI request failed: {}", reply.error());
  const absl::Status sent = sendMessage(connection.socket.get(), reply);
  if (!sent.ok()) logger()->warn("reply to ambit-cni: {}", std::string(sent.message()));
  connection.done = true;
}

AgentReply CniServer::handle(int socket) {
  AgentRequest request;
  UniqueFd fd;
  const absl::Status received = receiveMessage(socket, request, &fd, options_.receive_timeout);
  if (!received.ok()) return failure(received.message());

  try {
    switch (request.payload_case()) {
      case AgentRequest::kAdd: {
        const auto& pod = request.add().pod();
        if (!fd) {
          return failure(absl::StrCat("AddPod for ", pod.namespace_(), "/", pod.name(),
                                      " carries no network namespace fd"));
        }
        if (pod.uid().empty()) return failure("AddPod without a pod uid");
        if (!handlers_.on_add) return failure("this agent does not handle AddPod");
        logger()->info("add pod {}/{} uid {}", pod.namespace_(), pod.name(), pod.uid());
        const absl::Status status = handlers_.on_add(pod, std::move(fd));
        if (!status.ok()) return failure(status.message());
        break;
      }
      case AgentRequest::kDel: {
        const auto& pod = request.del();
        if (!handlers_.on_del) return failure("this agent does not handle DelPod");
        logger()->info("delete pod {}/{} uid {}", pod.namespace_(), pod.name(), pod.uid());
        const absl::Status status = handlers_.on_del(pod);
        if (!status.ok()) return failure(status.message());
        break;
      }
      case AgentRequest::PAYLOAD_NOT_SET:
        return failure("request carries neither AddPod nor DelPod");
    }
  } catch (const std::exception& e) {
    return failure(absl::StrCat("handler failed: ", e.what()));
  }
  AgentReply reply;
  reply.set_ok(true);
  return reply;
}

}  // namespace ambit::agent::cni
