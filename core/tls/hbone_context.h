// TLS for HBONE: the mutual TLS 1.3 under the HTTP/2 CONNECT tunnels between node agents (and
// waypoints). Both sides present their workload certificate, verify the other's chain to the mesh
// roots and check its SPIFFE identity (peer_verify.h) inside the handshake, so a refused peer gets
// an alert and never a byte of the tunnel.
//
// The contexts are plain SSL_CTXs so that Boost.Asio can wrap them,
// `boost::asio::ssl::context(ctx.release())`, and raw SSL objects on a socket can use them too.
// What they fix:
//   - TLS 1.3 only; key exchange X25519 only: every peer is an Ambit process on the same OpenSSL,
//     so there is no older peer to fall back for.
//   - TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256 in the server's
//     order, except that a client listing ChaCha20 first (one without AES instructions, see
//     tls_path.h) gets it (SSL_OP_PRIORITIZE_CHACHA).
//   - ALPN "h2" on both sides; a server refuses a client hello without it.
//   - The server requires a client certificate.
//   - No session tickets, no session cache: tunnels are long-lived and pooled, so resumption would
//     save little, and a resumed session skips the certificate check this module exists for.
//   - Records up to 16 KiB, TLS's maximum, the default; read buffers kept between reads
//     (SSL_MODE_RELEASE_BUFFERS off) so a busy tunnel does not allocate per record.
//   - SSL_OP_ENABLE_KTLS when the kernel offers kTLS. It only takes effect on an SSL bound to the
//     socket (SSL_set_fd): Boost.Asio's ssl::stream feeds OpenSSL through a memory BIO pair, so
//     over Asio records are always encrypted in user space.
#pragma once

#include <optional>

#include <openssl/ssl.h>

#include "core/status.h"
#include "core/tls/openssl_util.h"
#include "core/tls/peer_verify.h"
#include "core/tls/spiffe_id.h"
#include "core/tls/trust_bundle.h"
#include "core/tls/workload_credential.h"

namespace ambit::tls {

inline constexpr const char* kHboneAlpn = "h2";
inline constexpr const char* kHboneCiphersuites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
inline constexpr const char* kHboneGroups = "X25519";

// The two sides' contexts. The peer must be in `credential`'s trust domain. `credential`'s chain
// must verify to `bundle` (its validity period aside), so a credential from another CA is refused
// here rather than by every peer. The credential and bundle may be dropped afterwards; to rotate
// either, build new contexts and use them for new connections.
absl::StatusOr<SslCtxPtr> makeHboneServerContext(const WorkloadCredential& credential,
                                                 const TrustBundle& bundle);
absl::StatusOr<SslCtxPtr> makeHboneClientContext(const WorkloadCredential& credential,
                                                 const TrustBundle& bundle);

// Call on each connection's SSL before its handshake (over Asio: stream.native_handle() after
// constructing the stream, which turns SSL_MODE_RELEASE_BUFFERS on). A client must pass the
// destination workload's identity: its handshake then fails unless the server's certificate names
// exactly that identity. A server may pass one to accept only that client, or nullopt.
absl::Status prepareHboneConnection(SSL* ssl, const std::optional<SpiffeId>& expected_peer);

// After a successful handshake: the peer's identity, checked again from the verified chain, with
// TLS 1.3 and ALPN h2 confirmed. Refusals carry their PeerRejection (peerRejectionOf).
absl::StatusOr<SpiffeId> verifyHandshakePeer(SSL* ssl);

// After a failed handshake: this side's refusal of the peer, carrying its PeerRejection, or OK when
// this side refused nothing (the peer refused us, the version or ALPN did not match, the
// connection broke). `openssl_error` is the handshake's error: ERR_get_error() after a raw
// SSL_accept/SSL_connect, or the value of Asio's ssl error_code.
absl::Status handshakeRefusal(SSL* ssl, unsigned long openssl_error);

}  // namespace ambit::tls
