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
  AMBIT_RETURN_IF_ERROR(
      setOption(fd.get(), SOL_SOCKET, SO_MARK, static_cast<int>(mark), "SO_MARK"));
  return fd;
}

}  // namespace

absl::StatusOr<UniqueFd> inboundUpstreamSocket(const Netns& netns,
                                               const boost::asio::ip::tcp::endpoint& client_source,
                                               uint32_t mark) {
  const bool v6 = client_source.address().is_v6();
  AMBIT_ASSIGN_OR_RETURN(UniqueFd fd, markedSocket(netns, v6 ? AF_INET6 : AF_INET, mark));
  if (v6) {
    AMBIT_RETURN_IF_ERROR(setOption(fd.get(), SOL_IPV6, IPV6_TRANSPARENT, 1, "IPV6_TRANSPARENT"));
  } else {
    AMBIT_RETURN_IF_ERROR(setOption(fd.get(), SOL_IP, IP_TRANSPARENT, 1, "IP_TRANSPARENT"));
  }
  AMBIT_RETURN_IF_ERROR(
      setOption(fd.get(), SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1, "IP_BIND_ADDRESS_NO_PORT"));
  const boost::asio::ip::tcp::endpoint source(client_source.address(), 0);
  if (::bind(fd.get(), source.data(), static_cast<socklen_t>(source.size())) != 0) {
    return absl::InternalError(absl::StrCat(
        "bind to client address ", client_source.address().to_string(), ": ", errnoText(errno)));
  }
  return fd;
}

absl::StatusOr<UniqueFd> outboundUpstreamSocket(const Netns& netns, uint32_t mark, int domain) {
  return markedSocket(netns, domain, mark);
}

}  // namespace ambit::agent
