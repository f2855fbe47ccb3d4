#include "agent/relay/transparent.h"

#include <netinet/in.h>

#include <cerrno>
#include <cstring>

#include "core/errno_text.h"

namespace ambit::agent {
namespace {

absl::Status setOption(int fd, int level, int name, int value, const char* what) {
  if (::setsockopt(fd, level, name, &value, sizeof value) != 0) {
    return absl::InternalError(absl::StrCat("setsockopt ", what, ": ", errnoText(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<UniqueFd> markedSocket(const Netns& netns, int domain, uint32_t mark) {
  AMBIT_ASSIGN_OR_RETURN(UniqueFd fd, socketIn(netns, domain, SOCK_STREAM, IPPROTO_TCP));
  // Mark 0 is no mark: a process without CAP_NET_ADMIN (a waypoint) may not set one.
  if (mark != 0) {
    AMBIT_RETURN_IF_ERROR(
        setOption(fd.get(), SOL_SOCKET, SO_MARK, static_cast<int>(mark), "SO_MARK"));
  }
  return fd;
}

}  // namespace

absl::StatusOr<UniqueFd> inboundUpstreamSocket(const Netns& netns,
                                               const boost::asio::ip::tcp::endpoint& client_source,
                                               uint32_t mark) {
  const bool v6 = client_source.address().is_v6();
  // A connection the agent accepted with its original destination kept (eBPF steering) shares its
  // addresses with this one: its source port must differ from the client's, or the app's SYN
  // would meet the agent's own socket. Bound now, checked, and bound again if it collides.
  for (int attempt = 0; attempt < 4; ++attempt) {
    AMBIT_ASSIGN_OR_RETURN(UniqueFd fd, markedSocket(netns, v6 ? AF_INET6 : AF_INET, mark));
    if (v6) {
      AMBIT_RETURN_IF_ERROR(setOption(fd.get(), SOL_IPV6, IPV6_TRANSPARENT, 1, "IPV6_TRANSPARENT"));
    } else {
      AMBIT_RETURN_IF_ERROR(setOption(fd.get(), SOL_IP, IP_TRANSPARENT, 1, "IP_TRANSPARENT"));
    }
    const bool avoid_port = client_source.port() != 0;
    if (!avoid_port) {
      AMBIT_RETURN_IF_ERROR(
          setOption(fd.get(), SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1, "IP_BIND_ADDRESS_NO_PORT"));
    }
    const boost::asio::ip::tcp::endpoint source(client_source.address(), 0);
    if (::bind(fd.get(), source.data(), static_cast<socklen_t>(source.size())) != 0) {
      return absl::InternalError(absl::StrCat(
          "bind to client address ", client_source.address().to_string(), ": ", errnoText(errno)));
    }
    if (!avoid_port) return fd;
    boost::asio::ip::tcp::endpoint bound;
    socklen_t len = static_cast<socklen_t>(bound.capacity());
    if (::getsockname(fd.get(), bound.data(), &len) != 0) {
      return absl::InternalError(absl::StrCat("getsockname: ", errnoText(errno)));
    }
    bound.resize(len);
    if (bound.port() != client_source.port()) return fd;
  }
  return absl::InternalError("no source port other than the client's own was free");
}

absl::StatusOr<UniqueFd> outboundUpstreamSocket(const Netns& netns, uint32_t mark, int domain) {
  return markedSocket(netns, domain, mark);
}

}  // namespace ambit::agent
