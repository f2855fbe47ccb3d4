#include "agent/capture/original_dst.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "core/errno_text.h"

namespace ambit::agent {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// From <linux/netfilter_ipv4.h> and <linux/netfilter_ipv6/ip6_tables.h>, whose other contents
// clash with the libc headers.
constexpr int kSoOriginalDst = 80;
constexpr int kIp6tSoOriginalDst = 80;

absl::Status lookupError(int err) {
  if (err == ENOENT) return absl::NotFoundError("original destination: no conntrack entry");
  return absl::InternalError(absl::StrCat("original destination: ", errnoText(err)));
}

absl::StatusOr<tcp::endpoint> viaIpv4(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  if (::getsockopt(fd, SOL_IP, kSoOriginalDst, &addr, &len) != 0) return lookupError(errno);
  asio::ip::address_v4::bytes_type bytes;
  std::memcpy(bytes.data(), &addr.sin_addr, bytes.size());
  return tcp::endpoint(asio::ip::address_v4(bytes), ntohs(addr.sin_port));
}

}  // namespace

absl::StatusOr<tcp::endpoint> originalDestination(int fd) {
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("original destination: getsockname: ", errnoText(errno)));
  }
  if (local.ss_family == AF_INET) return viaIpv4(fd);
  if (local.ss_family != AF_INET6) {
    return absl::InvalidArgumentError("original destination: not an IP socket");
  }
  const auto& local6 = reinterpret_cast<const sockaddr_in6&>(local);
  if (IN6_IS_ADDR_V4MAPPED(&local6.sin6_addr)) {
    auto v4 = viaIpv4(fd);
    if (v4.ok()) return v4;
  }
  sockaddr_in6 addr{};
  len = sizeof addr;
  if (::getsockopt(fd, SOL_IPV6, kIp6tSoOriginalDst, &addr, &len) != 0) return lookupError(errno);
  asio::ip::address_v6::bytes_type bytes;
  std::memcpy(bytes.data(), &addr.sin6_addr, bytes.size());
  return tcp::endpoint(asio::ip::address_v6(bytes, addr.sin6_scope_id), ntohs(addr.sin6_port));
}

}  // namespace ambit::agent
