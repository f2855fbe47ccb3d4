#include "core/tls/tls_path.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <fstream>

#include <absl/strings/str_cat.h>
#include <openssl/crypto.h>

#if defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

#include "core/unique_fd.h"

#ifndef TCP_ULP
#define TCP_ULP 31  // linux/tcp.h; older libc headers lack it
#endif

namespace ambit::tls {
namespace {

bool procListsTlsUlp() {
  std::ifstream in("/proc/sys/net/ipv4/tcp_available_ulp");
  std::string word;
  while (in >> word) {
    if (word == "tls") return true;
  }
  return false;
}

// The ULP can only be attached to an established TCP socket, so the probe builds one over loopback.
bool setsockoptAcceptsTlsUlp() {
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  UniqueFd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener || !client) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listener.get(), 1) != 0 ||
      ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      ::connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return false;
  }
  UniqueFd server(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!server) return false;
  return ::setsockopt(client.get(), SOL_TCP, TCP_ULP, "tls", 3) == 0;
}

}  // namespace

bool kernelOffersKtls() {
  static const bool offered = procListsTlsUlp() || setsockoptAcceptsTlsUlp();
  return offered;
}

bool cpuHasAesInstructions() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool has = __builtin_cpu_supports("aes") && __builtin_cpu_supports("pclmul");
  return has;
#elif defined(__aarch64__)
  static const bool has =
      (getauxval(AT_HWCAP) & HWCAP_AES) != 0 && (getauxval(AT_HWCAP) & HWCAP_PMULL) != 0;
  return has;
#else
  return false;
#endif
}

std::string describeTlsPath() {
  const bool aes = cpuHasAesInstructions();
  return absl::StrCat(
      "OpenSSL ", OpenSSL_version(OPENSSL_FULL_VERSION_STRING), ": TLS 1.3, X25519, ",
      aes ? "AES-128-GCM first (AES instructions)"
          : "ChaCha20-Poly1305 first (no AES instructions)",
      kernelOffersKtls()
          ? ", kTLS offered by the kernel (used by connections on a socket BIO)"
          : ", kTLS off (the kernel offers no TLS ULP): records are encrypted in user space");
}

}  // namespace ambit::tls
