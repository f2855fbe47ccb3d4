#include "core/tls/peer_verify.h"

#include <array>

#include <absl/strings/cord.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "core/tls/openssl_util.h"

namespace ambit::tls {
namespace {

// The payload key under which a refusal carries its reason, as the label text.
constexpr const char* kRejectionPayload = "type.ambit.dev/ambit.tls.PeerRejection";

constexpr std::array<const char*, static_cast<size_t>(PeerRejection::kCount)> kLabels = {
    "no_certificate", "untrusted_chain",   "expired",       "not_yet_valid",      "not_a_leaf",
    "no_uri_san",     "multiple_uri_sans", "bad_spiffe_id", "wrong_trust_domain", "wrong_identity",
};

}  // namespace

absl::Status peerRefusal(PeerRejection reason, const std::string& message) {
  const bool identified =
      reason == PeerRejection::kWrongTrustDomain || reason == PeerRejection::kWrongIdentity;
  absl::Status status =
      identified ? absl::PermissionDeniedError(message) : absl::UnauthenticatedError(message);
  status.SetPayload(kRejectionPayload, absl::Cord(peerRejectionLabel(reason)));
  return status;
}

const char* peerRejectionLabel(PeerRejection reason) {
  const auto index = static_cast<size_t>(reason);
  return index < kLabels.size() ? kLabels[index] : "unknown";
}

std::optional<PeerRejection> peerRejectionOf(const absl::Status& status) {
  // Debian's Abseil has its own optional, not std::optional.
  auto payload = status.GetPayload(kRejectionPayload);
  if (!payload.has_value()) return std::nullopt;
  for (size_t i = 0; i < kLabels.size(); ++i) {
    if (*payload == kLabels[i]) return static_cast<PeerRejection>(i);
  }
  return std::nullopt;
}

absl::Status chainVerificationError(int x509_error) {
  const std::string why = X509_verify_cert_error_string(x509_error);
  switch (x509_error) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return peerRefusal(PeerRejection::kExpired, absl::StrCat("peer certificate chain: ", why));
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return peerRefusal(PeerRejection::kNotYetValid,
                         absl::StrCat("peer certificate chain: ", why));
    default:
      return peerRefusal(
          PeerRejection::kUntrustedChain,
          absl::StrCat("peer certificate chain does not verify to the mesh roots: ", why));
  }
}

absl::StatusOr<SpiffeId> checkPeerLeaf(X509* leaf, const std::string& trust_domain,
                                       const std::optional<SpiffeId>& expected) {
  if (leaf == nullptr) {
    return peerRefusal(PeerRejection::kNoCertificate, "peer presented no certificate");
  }
  if ((X509_get_extension_flags(leaf) & EXFLAG_CA) != 0) {
    return peerRefusal(PeerRejection::kNotALeaf,
                       "peer certificate is a CA certificate, not a workload certificate");
  }
  absl::StatusOr<std::vector<std::string>> uris = uriSans(leaf);
  if (!uris.ok()) {
    const int first = X509_get_ext_by_NID(leaf, NID_subject_alt_name, -1);
    const bool duplicated =
        first >= 0 && X509_get_ext_by_NID(leaf, NID_subject_alt_name, first) >= 0;
    return peerRefusal(duplicated ? PeerRejection::kMultipleUriSans : PeerRejection::kNoUriSan,
                       absl::StrCat("peer ", std::string(uris.status().message())));
  }
  if (uris->empty()) {
    return peerRefusal(PeerRejection::kNoUriSan, "peer certificate has no URI SAN");
  }
  if (uris->size() > 1) {
    return peerRefusal(PeerRejection::kMultipleUriSans,
                       absl::StrCat("peer certificate has ", uris->size(),
                                    " URI SANs; a workload certificate holds exactly one"));
  }
  absl::StatusOr<SpiffeId> id = SpiffeId::parse(uris->front());
  if (!id.ok()) {
    return peerRefusal(PeerRejection::kBadSpiffeId,
                       absl::StrCat("peer ", std::string(id.status().message())));
  }
  if (id->trust_domain != trust_domain) {
    return peerRefusal(
        PeerRejection::kWrongTrustDomain,
        absl::StrCat("peer ", id->toString(), " is not in trust domain ", trust_domain));
  }
  if (expected.has_value() && *id != *expected) {
    return peerRefusal(
        PeerRejection::kWrongIdentity,
        absl::StrCat("peer is ", id->toString(), ", expected ", expected->toString()));
  }
  return id;
}

absl::StatusOr<SpiffeId> verifyPeer(const std::vector<X509*>& presented_chain,
                                    const TrustBundle& bundle, const std::string& trust_domain,
                                    const std::optional<SpiffeId>& expected, std::time_t now) {
  if (!isTrustDomain(trust_domain)) {
    return absl::InvalidArgumentError(absl::StrCat("\"", trust_domain, "\" is not a trust domain"));
  }
  if (presented_chain.empty() || presented_chain.front() == nullptr) {
    return peerRefusal(PeerRejection::kNoCertificate, "peer presented no certificate");
  }
  X509StackPtr untrusted(sk_X509_new_null());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!untrusted || !ctx) return absl::InternalError("X509 store allocation failed");
  // The stack borrows the certificates from the caller.
  for (size_t i = 1; i < presented_chain.size(); ++i) {
    if (presented_chain[i] != nullptr && sk_X509_push(untrusted.get(), presented_chain[i]) <= 0) {
      return absl::InternalError("sk_X509_push failed");
    }
  }
  if (X509_STORE_CTX_init(ctx.get(), bundle.store(), presented_chain.front(), untrusted.get()) !=
      1) {
    return absl::InternalError(absl::StrCat("X509_STORE_CTX_init: ", opensslErrors()));
  }
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()), now);
  if (X509_verify_cert(ctx.get()) != 1) {
    ERR_clear_error();
    return chainVerificationError(X509_STORE_CTX_get_error(ctx.get()));
  }
  return checkPeerLeaf(presented_chain.front(), trust_domain, expected);
}

absl::StatusOr<SpiffeId> verifyPeer(const STACK_OF(X509) * presented_chain,
                                    const TrustBundle& bundle, const std::string& trust_domain,
                                    const std::optional<SpiffeId>& expected, std::time_t now) {
  std::vector<X509*> certs;
  for (int i = 0; presented_chain != nullptr && i < sk_X509_num(presented_chain); ++i) {
    certs.push_back(sk_X509_value(presented_chain, i));
  }
  return verifyPeer(certs, bundle, trust_domain, expected, now);
}

}  // namespace ambit::tls
