// HBONE contexts in real handshakes between a server and a client over a socket pair, driven by
// Boost.Asio as the agent drives them: what a good handshake negotiates and who sees whom, and
// which side refuses which peer, with the reason.
#include <catch2/catch.hpp>

#include <chrono>
#include <functional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include "core/tls/hbone_context.h"
#include "core/tls/tls_path.h"
#include "test/core/tls/test_pki.h"

namespace ambit::tls {
namespace {

namespace asio = boost::asio;
using Stream = asio::ssl::stream<asio::local::stream_protocol::socket>;

constexpr const char* kServerId = "spiffe://cluster.local/ns/shop/sa/cart";
constexpr const char* kClientId = "spiffe://cluster.local/ns/web/sa/frontend";

SpiffeId id(const std::string& uri) { return *SpiffeId::parse(uri); }

struct Pki {
  testing::TestCa root = testing::makeCa("Mesh root", nullptr);
  testing::TestCa stranger = testing::makeCa("Stranger root", nullptr);
  TrustBundle bundle = *TrustBundle::fromPem(root.cert_pem);

  WorkloadCredential credential(const std::string& uri, const testing::TestCa& issuer) const {
    testing::LeafSpec spec;
    spec.sans = {"URI:" + uri};
    testing::TestCa leaf = testing::makeLeaf(issuer, spec);
    absl::StatusOr<WorkloadCredential> cred =
        WorkloadCredential::fromPem(leaf.cert_pem + issuer.cert_pem, leaf.key_pem);
    REQUIRE(cred.ok());
    return *std::move(cred);
  }
};

Pki& pki() {
  static Pki shared;
  return shared;
}

SslCtxPtr serverContext() {
  absl::StatusOr<SslCtxPtr> ctx =
      makeHboneServerContext(pki().credential(kServerId, pki().root), pki().bundle);
  REQUIRE(ctx.ok());
  return *std::move(ctx);
}

SslCtxPtr clientContext() {
  absl::StatusOr<SslCtxPtr> ctx =
      makeHboneClientContext(pki().credential(kClientId, pki().root), pki().bundle);
  REQUIRE(ctx.ok());
  return *std::move(ctx);
}

struct Side {
  boost::system::error_code handshake;
  absl::Status refusal;  // handshakeRefusal after a failed handshake
  absl::StatusOr<SpiffeId> peer = absl::UnknownError("no handshake");
  bool exchanged = false;  // sent one byte and read the other side's
};

struct Outcome {
  Side server;
  Side client;
  int version = 0;
  std::string cipher;
  int group = 0;
  std::string alpn;
};

unsigned long opensslError(const boost::system::error_code& ec) {
  return ec.category() == asio::error::get_ssl_category() ? static_cast<unsigned long>(ec.value())
                                                          : 0;
}

// One handshake, then one byte each way. `tweak` changes the client's SSL after
// prepareHboneConnection, to make a client that breaks one rule.
Outcome handshake(SslCtxPtr server_ctx, SslCtxPtr client_ctx,
                  const std::optional<SpiffeId>& client_expects,
                  const std::function<void(SSL*)>& tweak = {}) {
  asio::io_context io;
  asio::local::stream_protocol::socket a(io);
  asio::local::stream_protocol::socket b(io);
  asio::local::connect_pair(a, b);
  asio::ssl::context server_tls(server_ctx.release());
  asio::ssl::context client_tls(client_ctx.release());
  Stream server(std::move(a), server_tls);
  Stream client(std::move(b), client_tls);
  REQUIRE(prepareHboneConnection(server.native_handle(), std::nullopt).ok());
  REQUIRE(prepareHboneConnection(client.native_handle(), client_expects).ok());
  if (tweak) tweak(client.native_handle());

  Outcome out;
  char server_got = 0;
  char client_got = 0;
  server.async_handshake(Stream::server, [&](const boost::system::error_code& ec) {
    out.server.handshake = ec;
    if (ec) {
      out.server.refusal = handshakeRefusal(server.native_handle(), opensslError(ec));
      server.lowest_layer().close();
      return;
    }
    out.server.peer = verifyHandshakePeer(server.native_handle());
    asio::async_read(server, asio::buffer(&server_got, 1),
                     [&](const boost::system::error_code& read_ec, size_t) {
                       if (read_ec) return server.lowest_layer().close();
                       asio::async_write(server, asio::buffer("s", 1),
                                         [&](const boost::system::error_code& write_ec, size_t) {
                                           out.server.exchanged = !write_ec && server_got == 'c';
                                         });
                     });
  });
  client.async_handshake(Stream::client, [&](const boost::system::error_code& ec) {
    out.client.handshake = ec;
    SSL* ssl = client.native_handle();
    if (ec) {
      out.client.refusal = handshakeRefusal(ssl, opensslError(ec));
      client.lowest_layer().close();
      return;
    }
    out.client.peer = verifyHandshakePeer(ssl);
    out.version = SSL_version(ssl);
    out.cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(ssl));
    out.group = static_cast<int>(SSL_get_negotiated_group(ssl));
    const unsigned char* alpn = nullptr;
    unsigned int alpn_len = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
    out.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_len);
    asio::async_write(client, asio::buffer("c", 1),
                      [&](const boost::system::error_code& write_ec, size_t) {
                        if (write_ec) return client.lowest_layer().close();
                        asio::async_read(client, asio::buffer(&client_got, 1),
                                         [&](const boost::system::error_code& read_ec, size_t) {
                                           out.client.exchanged = !read_ec && client_got == 's';
                                         });
                      });
  });
  io.run_for(std::chrono::seconds(10));
  return out;
}

TEST_CASE("a good handshake: TLS 1.3, X25519, h2, and each side sees the other's identity") {
  Outcome out = handshake(serverContext(), clientContext(), id(kServerId));
  INFO(out.server.handshake.message() << " / " << out.client.handshake.message());
  REQUIRE_FALSE(out.server.handshake);
  REQUIRE_FALSE(out.client.handshake);
  CHECK(out.version == TLS1_3_VERSION);
  CHECK(out.group == NID_X25519);
  CHECK(out.alpn == "h2");
  CHECK(out.cipher ==
        (cpuHasAesInstructions() ? "TLS_AES_128_GCM_SHA256" : "TLS_CHACHA20_POLY1305_SHA256"));
  REQUIRE(out.server.peer.ok());
  CHECK(out.server.peer->toString() == kClientId);
  REQUIRE(out.client.peer.ok());
  CHECK(out.client.peer->toString() == kServerId);
  CHECK(out.server.exchanged);
  CHECK(out.client.exchanged);
}

TEST_CASE("the server's cipher order wins, except for a client that puts ChaCha20 first") {
  struct Case {
    const char* client_suites;
    const char* negotiated;
  };
  const std::vector<Case> cases = {
      {"TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"},
      {"TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384"},
      {"TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256"},
  };
  for (const Case& c : cases) {
    SECTION(c.client_suites) {
      Outcome out = handshake(serverContext(), clientContext(), id(kServerId), [&](SSL* ssl) {
        REQUIRE(SSL_set_ciphersuites(ssl, c.client_suites) == 1);
      });
      REQUIRE_FALSE(out.client.handshake);
      CHECK(out.cipher == c.negotiated);
      CHECK(out.client.exchanged);
    }
  }
}

TEST_CASE("handshakes that break a rule fail, and the refusing side names the reason") {
  struct Case {
    const char* name;
    std::function<SslCtxPtr()> client_ctx;
    std::string client_expects;
    std::function<void(SSL*)> tweak;
    // What this side's handshakeRefusal reports; nullopt: it refused nothing of the peer.
    std::optional<PeerRejection> server_refusal;
    std::optional<PeerRejection> client_refusal;
  };
  auto stranger_client = [] {
    // Trusts the mesh root (so it accepts the server) but holds a certificate of another root.
    TrustBundle both = *TrustBundle::fromPem(pki().root.cert_pem + pki().stranger.cert_pem);
    absl::StatusOr<SslCtxPtr> ctx =
        makeHboneClientContext(pki().credential(kClientId, pki().stranger), both);
    REQUIRE(ctx.ok());
    return *std::move(ctx);
  };
  auto other_domain_client = [] {
    absl::StatusOr<SslCtxPtr> ctx = makeHboneClientContext(
        pki().credential("spiffe://other.local/ns/web/sa/frontend", pki().root), pki().bundle);
    REQUIRE(ctx.ok());
    return *std::move(ctx);
  };
  const std::vector<Case> cases = {
      {"the client offers TLS 1.2 only", clientContext, kServerId,
       [](SSL* ssl) {
         SSL_set_min_proto_version(ssl, TLS1_2_VERSION);
         SSL_set_max_proto_version(ssl, TLS1_2_VERSION);
       },
       std::nullopt, std::nullopt},
      {"the client has no certificate", clientContext, kServerId,
       [](SSL* ssl) { SSL_certs_clear(ssl); }, PeerRejection::kNoCertificate, std::nullopt},
      {"the client's certificate is of another root",
       stranger_client,
       kServerId,
       {},
       PeerRejection::kUntrustedChain,
       std::nullopt},
      {"the client expects another server identity",
       clientContext,
       "spiffe://cluster.local/ns/shop/sa/db",
       {},
       std::nullopt,
       PeerRejection::kWrongIdentity},
      {"the client is of another trust domain (and so refuses the server's)",
       other_domain_client,
       kServerId,
       {},
       std::nullopt,
       PeerRejection::kWrongTrustDomain},
      {"the client offers http/1.1 rather than h2", clientContext, kServerId,
       [](SSL* ssl) {
         static const unsigned char http11[] = "\x08http/1.1";
         REQUIRE(SSL_set_alpn_protos(ssl, http11, sizeof(http11) - 1) == 0);
       },
       std::nullopt, std::nullopt},
      {"the client offers no ALPN", clientContext, kServerId,
       [](SSL* ssl) { REQUIRE(SSL_set_alpn_protos(ssl, nullptr, 0) == 0); }, std::nullopt,
       std::nullopt},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      Outcome out = handshake(serverContext(), c.client_ctx(), id(c.client_expects), c.tweak);
      // In TLS 1.3 the client finishes before the server has checked its certificate; a client
      // the server refuses learns it on its first read.
      CHECK(out.server.handshake);
      CHECK_FALSE(out.server.exchanged);
      CHECK_FALSE(out.client.exchanged);
      CHECK(peerRejectionOf(out.server.refusal) == c.server_refusal);
      CHECK(peerRejectionOf(out.client.refusal) == c.client_refusal);
      if (c.client_refusal) CHECK(out.client.handshake);
    }
  }
}

TEST_CASE("contexts and connections refuse what would weaken them") {
  SECTION("a credential that does not chain to the bundle") {
    WorkloadCredential stranger = pki().credential(kClientId, pki().stranger);
    absl::StatusOr<SslCtxPtr> client = makeHboneClientContext(stranger, pki().bundle);
    CHECK(client.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(client.status().message() ==
          "workload certificate of spiffe://cluster.local/ns/web/sa/frontend does not verify to "
          "the trust bundle: self-signed certificate in certificate chain");
    CHECK(makeHboneServerContext(stranger, pki().bundle).status().code() ==
          absl::StatusCode::kInvalidArgument);
  }
  SECTION("a client connection that names no server identity") {
    SslCtxPtr ctx = clientContext();
    SslPtr ssl(SSL_new(ctx.get()));
    CHECK(prepareHboneConnection(ssl.get(), std::nullopt).code() ==
          absl::StatusCode::kInvalidArgument);
    CHECK(prepareHboneConnection(ssl.get(), id(kServerId)).ok());
    CHECK((SSL_get_mode(ssl.get()) & SSL_MODE_RELEASE_BUFFERS) == 0);
  }
  SECTION("an SSL of another context") {
    SslCtxPtr plain(SSL_CTX_new(TLS_method()));
    SslPtr ssl(SSL_new(plain.get()));
    CHECK(prepareHboneConnection(ssl.get(), id(kServerId)).code() ==
          absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("the contexts' fixed settings") {
  SslCtxPtr server = serverContext();
  SslCtxPtr client = clientContext();
  for (SSL_CTX* ctx : {server.get(), client.get()}) {
    CHECK(SSL_CTX_get_min_proto_version(ctx) == TLS1_3_VERSION);
    CHECK(SSL_CTX_get_max_proto_version(ctx) == TLS1_3_VERSION);
    CHECK((SSL_CTX_get_options(ctx) & SSL_OP_NO_TICKET) != 0);
    CHECK(((SSL_CTX_get_options(ctx) & SSL_OP_ENABLE_KTLS) != 0) == kernelOffersKtls());
    CHECK(SSL_CTX_get_num_tickets(ctx) == 0);
    CHECK(SSL_CTX_get_session_cache_mode(ctx) == SSL_SESS_CACHE_OFF);
  }
  CHECK(SSL_CTX_get_verify_mode(server.get()) ==
        (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT));
  CHECK(SSL_CTX_get_verify_mode(client.get()) == SSL_VERIFY_PEER);
  CHECK((SSL_CTX_get_options(server.get()) & SSL_OP_CIPHER_SERVER_PREFERENCE) != 0);
  CHECK((SSL_CTX_get_options(server.get()) & SSL_OP_PRIORITIZE_CHACHA) != 0);
}

TEST_CASE("the TLS path line says whether kTLS is on") {
  const std::string line = describeTlsPath();
  CHECK(line.rfind("OpenSSL 3.", 0) == 0);
  CHECK(line.find(kernelOffersKtls() ? "kTLS offered by the kernel" : "kTLS off") !=
        std::string::npos);
  CHECK(line.find(cpuHasAesInstructions() ? "AES-128-GCM first" : "ChaCha20-Poly1305 first") !=
        std::string::npos);
}

}  // namespace
}  // namespace ambit::tls
