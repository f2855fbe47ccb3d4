#include "core/tls/hbone_context.h"

#include <cstdint>
#include <cstring>
#include <string>

#include <openssl/err.h>

#include "core/tls/tls_path.h"

namespace ambit::tls {
namespace {

// What the verify callback needs from the context.
struct ContextData {
  std::string trust_domain;
  bool server = false;
};

// Per connection: whom the peer must be, and this side's refusal once it happened.
struct ConnectionData {
  std::optional<SpiffeId> expected;
  absl::Status refusal;
};

// Ex-data slots of our own: Asio keeps its verify callback in the app-data slot (index 0) of both
// SSL_CTX and SSL and deletes whatever it finds there.
void freeContextData(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<ContextData*>(ptr);
}
void freeConnectionData(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<ConnectionData*>(ptr);
}
// SSL_dup copies ex-data pointers; give the copy its own object so each is freed once.
int dupConnectionData(CRYPTO_EX_DATA*, const CRYPTO_EX_DATA*, void** from_d, int, long, void*) {
  auto** slot = reinterpret_cast<ConnectionData**>(from_d);
  if (*slot != nullptr) *slot = new ConnectionData(**slot);
  return 1;
}

int contextIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, freeContextData);
  return index;
}
int connectionIndex() {
  static const int index =
      SSL_get_ex_new_index(0, nullptr, nullptr, dupConnectionData, freeConnectionData);
  return index;
}

const ContextData* contextData(const SSL* ssl) {
  return static_cast<const ContextData*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), contextIndex()));
}

ConnectionData* connectionData(SSL* ssl, bool create) {
  auto* data = static_cast<ConnectionData*>(SSL_get_ex_data(ssl, connectionIndex()));
  if (data == nullptr && create) {
    data = new ConnectionData;
    if (SSL_set_ex_data(ssl, connectionIndex(), data) != 1) {
      delete data;
      return nullptr;
    }
  }
  return data;
}

// The first refusal wins: OpenSSL may call back again for the same chain after a failure.
void recordRefusal(SSL* ssl, absl::Status refusal) {
  ConnectionData* data = connectionData(ssl, true);
  if (data != nullptr && data->refusal.ok()) data->refusal = std::move(refusal);
}

absl::StatusOr<SpiffeId> checkLeafFor(SSL* ssl, X509* leaf) {
  const ContextData* context = contextData(ssl);
  if (context == nullptr) {
    return absl::FailedPreconditionError("SSL does not come from an HBONE context");
  }
  const ConnectionData* connection = connectionData(ssl, false);
  const std::optional<SpiffeId> expected =
      connection != nullptr ? connection->expected : std::nullopt;
  if (!context->server && !expected.has_value()) {
    // A client that names no destination identity would accept any workload of the mesh.
    return absl::FailedPreconditionError(
        "no expected server identity was set on this connection (prepareHboneConnection)");
  }
  return checkPeerLeaf(leaf, context->trust_domain, expected);
}

// OpenSSL calls this for each certificate of the chain, root first; the leaf (depth 0) last, once
// the chain has verified.
int verifyCallback(int preverify_ok, X509_STORE_CTX* store_ctx) {
  auto* ssl = static_cast<SSL*>(
      X509_STORE_CTX_get_ex_data(store_ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
  if (ssl == nullptr) return 0;
  if (preverify_ok != 1) {
    recordRefusal(ssl, chainVerificationError(X509_STORE_CTX_get_error(store_ctx)));
    return 0;
  }
  if (X509_STORE_CTX_get_error_depth(store_ctx) != 0) return 1;
  absl::StatusOr<SpiffeId> id = checkLeafFor(ssl, X509_STORE_CTX_get_current_cert(store_ctx));
  if (!id.ok()) {
    recordRefusal(ssl, id.status());
    X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0;
  }
  return 1;
}

// The ALPN select callback only runs when the client sent ALPN at all; a hello without it is
// refused here.
int clientHelloCallback(SSL* ssl, int* alert, void*) {
  const unsigned char* ext = nullptr;
  size_t len = 0;
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &ext,
                                &len) != 1) {
    *alert = SSL_AD_NO_APPLICATION_PROTOCOL;
    return SSL_CLIENT_HELLO_ERROR;
  }
  return SSL_CLIENT_HELLO_SUCCESS;
}

// `in` is the client's list of length-prefixed protocol names.
int selectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  const size_t want = std::strlen(kHboneAlpn);
  for (unsigned int i = 0; i < inlen;) {
    const unsigned int n = in[i];
    if (i + 1 + n > inlen) break;
    if (n == want && std::memcmp(in + i + 1, kHboneAlpn, want) == 0) {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(n);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + n;
  }
  // OpenSSL answers with the no_application_protocol alert.
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

absl::Status sslError(const char* what) {
  return absl::InternalError(absl::StrCat(what, ": ", opensslErrors()));
}

// The ciphersuites a client offers, first choice first: with AES instructions AES-GCM is faster;
// without them ChaCha20 is, and listing it first lets the server pick it.
std::string clientCiphersuites() {
  if (cpuHasAesInstructions()) return kHboneCiphersuites;
  return "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384";
}

// Our own chain must lead to the bundle; time is left out, so a certificate that has just been
// issued to a slightly-ahead clock is not refused at start.
absl::Status checkOwnChain(const WorkloadCredential& credential, const TrustBundle& bundle) {
  X509StackPtr untrusted(sk_X509_new_null());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!untrusted || !ctx) return absl::InternalError("X509 store allocation failed");
  for (const X509Ptr& cert : credential.chain) {
    if (sk_X509_push(untrusted.get(), cert.get()) <= 0) return absl::InternalError("sk_X509_push");
  }
  if (X509_STORE_CTX_init(ctx.get(), bundle.store(), credential.leaf.get(), untrusted.get()) != 1) {
    return sslError("X509_STORE_CTX_init");
  }
  X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx.get()), X509_V_FLAG_NO_CHECK_TIME);
  if (X509_verify_cert(ctx.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat("workload certificate of ", credential.identity.toString(),
                     " does not verify to the trust bundle: ",
                     X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()))));
  }
  return absl::OkStatus();
}

absl::StatusOr<SslCtxPtr> makeContext(const WorkloadCredential& credential,
                                      const TrustBundle& bundle, bool server) {
  if (!credential.leaf || !credential.key) {
    return absl::InvalidArgumentError("workload credential has no certificate or key");
  }
  AMBIT_RETURN_IF_ERROR(checkOwnChain(credential, bundle));
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_method()));
  if (!ctx) return sslError("SSL_CTX_new");
  SSL_CTX* c = ctx.get();

  if (SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION) != 1) {
    return sslError("TLS 1.3 only");
  }
  const std::string suites = server ? kHboneCiphersuites : clientCiphersuites();
  if (SSL_CTX_set_ciphersuites(c, suites.c_str()) != 1) return sslError("ciphersuites");
  if (SSL_CTX_set1_groups_list(c, kHboneGroups) != 1) return sslError("groups");

  uint64_t options = SSL_OP_NO_TICKET;
  if (server) options |= SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA;
  if (kernelOffersKtls()) options |= SSL_OP_ENABLE_KTLS;
  SSL_CTX_set_options(c, options);
  SSL_CTX_clear_mode(c, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  if (SSL_CTX_set_num_tickets(c, 0) != 1) return sslError("session tickets");

  if (SSL_CTX_use_certificate(c, credential.leaf.get()) != 1 ||
      SSL_CTX_use_PrivateKey(c, credential.key.get()) != 1 || SSL_CTX_check_private_key(c) != 1) {
    return sslError("workload certificate and key");
  }
  for (const X509Ptr& cert : credential.chain) {
    // The peer holds the roots already; sending one costs bytes in every handshake.
    if (X509_check_issued(cert.get(), cert.get()) == X509_V_OK) continue;
    if (SSL_CTX_add1_chain_cert(c, cert.get()) != 1) return sslError("certificate chain");
  }
  AMBIT_RETURN_IF_ERROR(bundle.addTo(SSL_CTX_get_cert_store(c)));

  auto* data = new ContextData{credential.identity.trust_domain, server};
  if (SSL_CTX_set_ex_data(c, contextIndex(), data) != 1) {
    delete data;
    return sslError("SSL_CTX_set_ex_data");
  }
  SSL_CTX_set_verify(c,
                     server ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_PEER,
                     verifyCallback);

  if (server) {
    SSL_CTX_set_client_hello_cb(c, clientHelloCallback, nullptr);
    SSL_CTX_set_alpn_select_cb(c, selectAlpn, nullptr);
  } else {
    const std::string wire =
        std::string(1, static_cast<char>(std::strlen(kHboneAlpn))) + kHboneAlpn;
    // SSL_CTX_set_alpn_protos returns 0 on success.
    if (SSL_CTX_set_alpn_protos(c, reinterpret_cast<const unsigned char*>(wire.data()),
                                static_cast<unsigned int>(wire.size())) != 0) {
      return sslError("ALPN");
    }
  }
  return ctx;
}

}  // namespace

absl::StatusOr<SslCtxPtr> makeHboneServerContext(const WorkloadCredential& credential,
                                                 const TrustBundle& bundle) {
  return makeContext(credential, bundle, true);
}

absl::StatusOr<SslCtxPtr> makeHboneClientContext(const WorkloadCredential& credential,
                                                 const TrustBundle& bundle) {
  return makeContext(credential, bundle, false);
}

absl::Status prepareHboneConnection(SSL* ssl, const std::optional<SpiffeId>& expected_peer) {
  const ContextData* context = contextData(ssl);
  if (context == nullptr) {
    return absl::InvalidArgumentError("SSL does not come from an HBONE context");
  }
  if (!context->server && !expected_peer.has_value()) {
    return absl::InvalidArgumentError("an HBONE client must name the server identity it expects");
  }
  ConnectionData* data = connectionData(ssl, true);
  if (data == nullptr) return sslError("SSL_set_ex_data");
  data->expected = expected_peer;
  SSL_clear_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
  return absl::OkStatus();
}

absl::StatusOr<SpiffeId> verifyHandshakePeer(SSL* ssl) {
  if (SSL_version(ssl) != TLS1_3_VERSION) {
    return absl::FailedPreconditionError(
        absl::StrCat("HBONE needs TLS 1.3, the connection uses ", SSL_get_version(ssl)));
  }
  const unsigned char* alpn = nullptr;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
  if (std::string(reinterpret_cast<const char*>(alpn), alpn_len) != kHboneAlpn) {
    return absl::FailedPreconditionError("the handshake did not negotiate ALPN h2");
  }
  X509* leaf = SSL_get0_peer_certificate(ssl);
  if (leaf == nullptr) {
    return peerRefusal(PeerRejection::kNoCertificate, "peer presented no certificate");
  }
  const long result = SSL_get_verify_result(ssl);
  if (result != X509_V_OK) return chainVerificationError(static_cast<int>(result));
  STACK_OF(X509)* verified = SSL_get0_verified_chain(ssl);
  if (verified == nullptr || sk_X509_num(verified) == 0) {
    return chainVerificationError(X509_V_ERR_UNSPECIFIED);
  }
  return checkLeafFor(ssl, sk_X509_value(verified, 0));
}

absl::Status handshakeRefusal(SSL* ssl, unsigned long openssl_error) {
  const ConnectionData* data = connectionData(ssl, false);
  if (data != nullptr && !data->refusal.ok()) return data->refusal;
  if (ERR_GET_LIB(openssl_error) == ERR_LIB_SSL &&
      ERR_GET_REASON(openssl_error) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
    return peerRefusal(PeerRejection::kNoCertificate, "peer presented no certificate");
  }
  return absl::OkStatus();
}

}  // namespace ambit::tls
