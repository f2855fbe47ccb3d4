// What the machine offers TLS: whether the kernel can take over record encryption (kTLS) and
// whether the CPU has AES instructions, probed once, and the one line the daemons log at start.
#pragma once

#include <string>

namespace ambit::tls {

// True when the kernel accepts the "tls" TCP upper-layer protocol: listed in
// /proc/sys/net/ipv4/tcp_available_ulp, or accepted by setsockopt(TCP_ULP, "tls") on a connected
// loopback pair (which also loads the module when the caller may). False when the kernel is built
// without CONFIG_TLS or loopback is down. Probed on the first call.
bool kernelOffersKtls();

// True when AES-GCM runs on dedicated instructions (AES-NI and PCLMULQDQ on x86-64, the AES and
// PMULL extensions on arm64); without them ChaCha20-Poly1305 is the faster cipher.
bool cpuHasAesInstructions();

// "OpenSSL 3.0.19: TLS 1.3, X25519, AES-128-GCM first (AES instructions), kTLS off (the kernel
// offers no TLS ULP)": the startup log line of a process that serves HBONE.
std::string describeTlsPath();

}  // namespace ambit::tls
