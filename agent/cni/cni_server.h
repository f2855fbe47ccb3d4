// The agent side of the CNI protocol: a SOCK_SEQPACKET Unix socket that ambit-cni connects to
// for every pod it adds or deletes. Each connection carries one request and gets one reply.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <absl/time/time.h>

#include "ambit/cni/v1/cni.pb.h"
#include "core/status.h"
#include "core/unique_fd.h"

namespace ambit::agent::cni {

// Handlers run on the connection threads, so several may run at once; they must not call
// CniServer::stop().
struct CniHandlers {
  // A pod was added; `netns` is its network namespace (always valid). An error is sent back to
  // the plugin as the reply's error text.
  std::function<absl::Status(const ambit::cni::v1::PodInfo& pod, UniqueFd netns)> on_add;
  // A pod is being deleted.
  std::function<absl::Status(const ambit::cni::v1::DelPod& pod)> on_del;
};

struct CniServerOptions {
  // How long a connection may take to send its request before it is dropped.
  absl::Duration receive_timeout = absl::Seconds(2);
  // Connections served at once; further ones are closed straight away until one finishes.
  int max_connections = 64;
};

class CniServer {
 public:
  CniServer(std::string path, CniHandlers handlers, CniServerOptions options = {});
  ~CniServer();

  CniServer(const CniServer&) = delete;
  CniServer& operator=(const CniServer&) = delete;

  // Listens on the socket path: creates its parent directory (0700) when missing, replaces a
  // stale socket file, makes the socket mode 0600, and serves connections on background threads.
  absl::Status start();

  // Stops accepting, waits for every connection thread, and removes the socket file (unless another
  // process has replaced it since). Idempotent; the destructor calls it.
  void stop();

  const std::string& path() const { return path_; }

 private:
  struct Connection {
    UniqueFd socket;
    std::thread thread;
    std::atomic<bool> done{false};
  };

  void acceptLoop();
  void serve(Connection& connection);
  ambit::cni::v1::AgentReply handle(int socket);
  void reapFinished(bool all);

  const std::string path_;
  const CniHandlers handlers_;
  const CniServerOptions options_;

  UniqueFd listener_;
  dev_t socket_dev_ = 0;
  ino_t socket_ino_ = 0;
  UniqueFd wake_read_;
  UniqueFd wake_write_;
  std::thread acceptor_;
  std::atomic<bool> stopping_{false};
  bool started_ = false;

  std::mutex mu_;
  std::list<std::unique_ptr<Connection>> connections_;  // guarded by mu_
};

}  // namespace ambit::agent::cni
