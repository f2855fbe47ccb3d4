// Framing of the CNI-to-agent protocol (proto/ambit/cni/v1/cni.proto): one serialized protobuf
// message per datagram on an AF_UNIX SOCK_SEQPACKET socket, optionally with one file descriptor
// passed as SCM_RIGHTS (the pod's network namespace on AddPod).
#pragma once

#include <cstddef>
#include <string>

#include <absl/time/time.h>
#include <google/protobuf/message.h>

#include "ambit/cni/v1/cni.pb.h"
#include "core/status.h"
#include "core/unique_fd.h"

namespace ambit::agent::cni {

// The largest serialized message either side sends or accepts.
inline constexpr std::size_t kMaxMessageBytes = 64 * 1024;

// The agent's socket when the network config names none.
inline constexpr char kDefaultAgentSocket[] = "/var/run/ambit/cni.sock";

// Sends `message` as one datagram on `socket`; passes `fd_to_pass` along when it is >= 0 (the
// caller keeps its own copy). Fails on messages over kMaxMessageBytes.
absl::Status sendMessage(int socket, const google::protobuf::Message& message, int fd_to_pass = -1);

// Receives one datagram from `socket` into `out`, waiting at most `timeout` (DeadlineExceeded
// after that, Unavailable when the peer closed). A passed fd lands in `received_fd` (O_CLOEXEC);
// when `received_fd` is null any passed fd is closed. Truncated datagrams or control data,
// unparsable messages and more than one fd are refused (InvalidArgument) and every fd that came
// with them is closed.
absl::Status receiveMessage(int socket, google::protobuf::Message& out, UniqueFd* received_fd,
                            absl::Duration timeout);

// Connects a SOCK_SEQPACKET socket (O_CLOEXEC) to the Unix socket at `path`, waiting at most
// `timeout` when the listener's backlog is full. Unavailable when nobody listens there.
absl::StatusOr<UniqueFd> connectUnix(const std::string& path, absl::Duration timeout);

// One exchange with the agent, as the plugin does it: connects to `socket_path`, sends `request`
// (with `fd_to_pass` when >= 0) and waits for the reply, all within `timeout`. An error status
// means the agent was not reached or did not answer; a reply with ok=false is returned as is.
absl::StatusOr<ambit::cni::v1::AgentReply> callAgent(const std::string& socket_path,
                                                     const ambit::cni::v1::AgentRequest& request,
                                                     int fd_to_pass, absl::Duration timeout);

}  // namespace ambit::agent::cni
