// Whether a TLS peer is a mesh workload this side may talk to: its chain leads to the mesh roots,
// its leaf is not a CA and names exactly one SPIFFE identity in the trust domain, and that identity
// is the expected one when the caller knows whom it dialed. The checks are functions of the chain
// and a time, so every refusal is testable without a handshake; hbone_context.h applies the same
// checks inside handshakes.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include <openssl/x509.h>

#include "core/status.h"
#include "core/tls/spiffe_id.h"
#include "core/tls/trust_bundle.h"

namespace ambit::tls {

// Why a peer was refused; one counter per reason.
enum class PeerRejection {
  kNoCertificate,     // the peer sent none
  kUntrustedChain,    // no path to a mesh root, a bad signature, or a certificate unfit for TLS use
  kExpired,           // a certificate of the chain is past its notAfter
  kNotYetValid,       // a certificate of the chain is before its notBefore
  kNotALeaf,          // the leaf is a CA certificate
  kNoUriSan,          // the leaf has no URI SAN
  kMultipleUriSans,   // more than one URI SAN (or more than one subjectAltName extension)
  kBadSpiffeId,       // the URI SAN is not a SPIFFE ID of the form Ambit issues
  kWrongTrustDomain,  // a SPIFFE ID of another trust domain
  kWrongIdentity,     // a workload of the trust domain, but not the one expected
  kCount,             // the number of reasons, to size arrays of counters
};

// "no_certificate", "untrusted_chain", ...: stable snake_case names for metric labels.
const char* peerRejectionLabel(PeerRejection reason);

// The reason carried by a refusal of this unit or of hbone_context.h; nullopt for OK and for
// statuses that are not peer refusals (such as a malformed argument).
std::optional<PeerRejection> peerRejectionOf(const absl::Status& status);

// A refusal for `reason`: UnauthenticatedError when the peer's identity could not be established,
// PermissionDeniedError when it was but is not acceptable (kWrongTrustDomain, kWrongIdentity).
absl::Status peerRefusal(PeerRejection reason, const std::string& message);

// The refusal for an X509_V_ERR_* code of a failed chain verification (kExpired, kNotYetValid or
// kUntrustedChain).
absl::Status chainVerificationError(int x509_error);

// Verifies `presented_chain` (the leaf first, then whatever intermediates the peer sent) up to a
// root of `bundle` as of `now`, then applies checkPeerLeaf. Each refusal is a peerRefusal naming
// the reason; a `trust_domain` that is not one is an InvalidArgumentError and carries none.
absl::StatusOr<SpiffeId> verifyPeer(const std::vector<X509*>& presented_chain,
                                    const TrustBundle& bundle, const std::string& trust_domain,
                                    const std::optional<SpiffeId>& expected, std::time_t now);
// The same over an OpenSSL stack, leaf first (as SSL_get_peer_cert_chain returns on a client).
absl::StatusOr<SpiffeId> verifyPeer(const STACK_OF(X509) * presented_chain,
                                    const TrustBundle& bundle, const std::string& trust_domain,
                                    const std::optional<SpiffeId>& expected, std::time_t now);

// The checks on a leaf whose chain has already been verified: not a CA (basicConstraints CA:FALSE
// or absent), exactly one URI SAN, a SPIFFE ID in `trust_domain`, equal to `expected` if given.
absl::StatusOr<SpiffeId> checkPeerLeaf(X509* leaf, const std::string& trust_domain,
                                       const std::optional<SpiffeId>& expected);

}  // namespace ambit::tls
