// verifyPeer: which presented chains are accepted as which identity, and the reason, status code
// and message of each refusal, over certificates made here with OpenSSL.
#include <catch2/catch.hpp>

#include <ctime>
#include <optional>
#include <set>

#include "core/tls/peer_verify.h"
#include "test/core/tls/test_pki.h"

namespace ambit::tls {
namespace {

constexpr const char* kCart = "spiffe://cluster.local/ns/shop/sa/cart";
constexpr long kDay = 24 * 3600;

SpiffeId id(const std::string& uri) { return *SpiffeId::parse(uri); }

// One mesh root with an intermediate, and a stranger root, shared by the cases.
struct Pki {
  testing::TestCa root = testing::makeCa("Mesh root", nullptr);
  testing::TestCa intermediate = testing::makeCa("Mesh intermediate", &root);
  testing::TestCa stranger = testing::makeCa("Stranger root", nullptr);
  TrustBundle bundle = *TrustBundle::fromPem(root.cert_pem);
};

Pki& pki() {
  static Pki shared;
  return shared;
}

enum class Issuer { kRoot, kIntermediate, kStranger };

struct Case {
  const char* name;
  testing::LeafSpec leaf;
  Issuer issuer = Issuer::kRoot;
  bool send_intermediate = false;
  std::optional<std::string> expected = std::nullopt;
  long now_offset = 0;
  std::optional<PeerRejection> rejection =
      std::nullopt;  // nullopt: accepted as the leaf's identity
  absl::StatusCode code = absl::StatusCode::kOk;
  const char* message = "";
};

testing::LeafSpec withSans(std::vector<std::string> sans) {
  testing::LeafSpec spec;
  spec.sans = std::move(sans);
  return spec;
}

TEST_CASE("verifyPeer accepts mesh workloads and names the reason for every refusal") {
  const std::string uri_cart = std::string("URI:") + kCart;
  testing::LeafSpec expired = withSans({uri_cart});
  expired.not_before = -2 * kDay;
  expired.not_after = -kDay;
  testing::LeafSpec future = withSans({uri_cart});
  future.not_before = kDay;
  future.not_after = 2 * kDay;
  testing::LeafSpec ca_leaf = withSans({uri_cart});
  ca_leaf.ca = true;

  const std::vector<Case> cases = {
      {.name = "a good leaf", .leaf = withSans({uri_cart})},
      {.name = "a good leaf that is the expected one",
       .leaf = withSans({uri_cart}),
       .expected = kCart},
      {.name = "a leaf of an intermediate, sent with the intermediate",
       .leaf = withSans({uri_cart}),
       .issuer = Issuer::kIntermediate,
       .send_intermediate = true},
      {.name = "a leaf of an intermediate, sent without it",
       .leaf = withSans({uri_cart}),
       .issuer = Issuer::kIntermediate,
       .rejection = PeerRejection::kUntrustedChain,
       .code = absl::StatusCode::kUnauthenticated,
       .message = "peer certificate chain does not verify to the mesh roots: unable to get local "
                  "issuer certificate"},
      {.name = "a leaf signed by another root",
       .leaf = withSans({uri_cart}),
       .issuer = Issuer::kStranger,
       .rejection = PeerRejection::kUntrustedChain,
       .code = absl::StatusCode::kUnauthenticated,
       .message = "peer certificate chain does not verify to the mesh roots: unable to get local "
                  "issuer certificate"},
      {.name = "another trust domain",
       .leaf = withSans({"URI:spiffe://other.local/ns/shop/sa/cart"}),
       .rejection = PeerRejection::kWrongTrustDomain,
       .code = absl::StatusCode::kPermissionDenied,
       .message = "peer spiffe://other.local/ns/shop/sa/cart is not in trust domain cluster.local"},
      {.name = "another workload than the expected one",
       .leaf = withSans({uri_cart}),
       .expected = "spiffe://cluster.local/ns/shop/sa/db",
       .rejection = PeerRejection::kWrongIdentity,
       .code = absl::StatusCode::kPermissionDenied,
       .message = "peer is spiffe://cluster.local/ns/shop/sa/cart, expected "
                  "spiffe://cluster.local/ns/shop/sa/db"},
      {.name = "an expired leaf",
       .leaf = expired,
       .rejection = PeerRejection::kExpired,
       .code = absl::StatusCode::kUnauthenticated,
       .message = "peer certificate chain: certificate has expired"},
      {.name = "a good leaf checked after it expires",
       .leaf = withSans({uri_cart}),
       .now_offset = 2 * kDay,
       .rejection = PeerRejection::kExpired,
       .code = absl::StatusCode::kUnauthenticated,
       .message = "peer certificate chain: certificate has expired"},
      {.name = "a leaf not yet valid",
       .leaf = future,
       .rejection = PeerRejection::kNotYetValid,
       .code = absl::StatusCode::kUnauthenticated,
       .message = "peer certificate chain: certificate is not yet valid"},
      {.name = "two URI SANs",
       .leaf = withSans({uri_cart, "URI:spiffe://cluster.local/ns/shop/sa/db"}),
       .rejection = PeerRejection::kMultipleUriSans,
       .code = absl::StatusCode::kUnauthenticated,
       .message = "peer certificate has 2 URI SANs; a workload certificate holds exactly one"},
      {.name = "a DNS SAN only",
       .leaf = withSans({"DNS:cart.shop.svc"}),
       .rejection = PeerRejection::kNoUriSan,
       .code = absl::StatusCode::kUnauthenticated,
       .message = "peer certificate has no URI SAN"},
      {.name = "no SAN at all",
       .leaf = withSans({}),
       .rejection = PeerRejection::kNoUriSan,
       .code = absl::StatusCode::kUnauthenticated,
       .message = "peer certificate has no URI SAN"},
      {.name = "a URI SAN that is no SPIFFE ID",
       .leaf = withSans({"URI:https://cart.shop.svc/"}),
       .rejection = PeerRejection::kBadSpiffeId,
       .code = absl::StatusCode::kUnauthenticated,
       .message = "peer SPIFFE ID \"https://cart.shop.svc/\": must start with spiffe://"},
      {.name = "a CA certificate used as a leaf",
       .leaf = ca_leaf,
       .rejection = PeerRejection::kNotALeaf,
       .code = absl::StatusCode::kUnauthenticated,
       .message = "peer certificate is a CA certificate, not a workload certificate"},
  };

  for (const Case& c : cases) {
    SECTION(c.name) {
      const testing::TestCa& issuer = c.issuer == Issuer::kRoot           ? pki().root
                                      : c.issuer == Issuer::kIntermediate ? pki().intermediate
                                                                          : pki().stranger;
      testing::TestCa leaf = testing::makeLeaf(issuer, c.leaf);
      std::vector<X509*> chain = {leaf.cert.get()};
      if (c.send_intermediate) chain.push_back(pki().intermediate.cert.get());
      std::optional<SpiffeId> expected;
      if (c.expected) expected = id(*c.expected);

      absl::StatusOr<SpiffeId> got = verifyPeer(chain, pki().bundle, "cluster.local", expected,
                                                std::time(nullptr) + c.now_offset);
      if (!c.rejection) {
        INFO(got.status().message());
        REQUIRE(got.ok());
        CHECK(got->toString() == kCart);
        CHECK(peerRejectionOf(got.status()) == std::nullopt);
      } else {
        REQUIRE_FALSE(got.ok());
        CHECK(peerRejectionOf(got.status()) == c.rejection);
        CHECK(got.status().code() == c.code);
        CHECK(got.status().message() == c.message);
      }
    }
  }
}

TEST_CASE("verifyPeer refuses an empty chain and a malformed trust domain") {
  absl::StatusOr<SpiffeId> none = verifyPeer(std::vector<X509*>{}, pki().bundle, "cluster.local",
                                             std::nullopt, std::time(nullptr));
  CHECK(peerRejectionOf(none.status()) == PeerRejection::kNoCertificate);
  CHECK(none.status().code() == absl::StatusCode::kUnauthenticated);

  testing::TestCa leaf = testing::makeLeaf(pki().root, withSans({std::string("URI:") + kCart}));
  absl::StatusOr<SpiffeId> bad_domain = verifyPeer({leaf.cert.get()}, pki().bundle, "Cluster.Local",
                                                   std::nullopt, std::time(nullptr));
  CHECK(bad_domain.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(peerRejectionOf(bad_domain.status()) == std::nullopt);
}

TEST_CASE("verifyPeer over an OpenSSL stack, as a client's peer chain comes") {
  testing::TestCa leaf =
      testing::makeLeaf(pki().intermediate, withSans({std::string("URI:") + kCart}));
  X509StackPtr stack(sk_X509_new_null());
  sk_X509_push(stack.get(), leaf.cert.get());
  SECTION("leaf and intermediate") {
    sk_X509_push(stack.get(), pki().intermediate.cert.get());
    absl::StatusOr<SpiffeId> got =
        verifyPeer(stack.get(), pki().bundle, "cluster.local", id(kCart), std::time(nullptr));
    REQUIRE(got.ok());
    CHECK(*got == id(kCart));
  }
  SECTION("leaf alone") {
    CHECK(peerRejectionOf(verifyPeer(stack.get(), pki().bundle, "cluster.local", std::nullopt,
                                     std::time(nullptr))
                              .status()) == PeerRejection::kUntrustedChain);
  }
}

TEST_CASE("each rejection has its own metric label") {
  std::set<std::string> labels;
  for (int i = 0; i < static_cast<int>(PeerRejection::kCount); ++i) {
    const auto reason = static_cast<PeerRejection>(i);
    const std::string label = peerRejectionLabel(reason);
    CHECK(label != "unknown");
    labels.insert(label);
    CHECK(peerRejectionOf(peerRefusal(reason, "x")) == reason);
  }
  CHECK(labels.size() == static_cast<size_t>(PeerRejection::kCount));
  CHECK(std::string(peerRejectionLabel(PeerRejection::kWrongIdentity)) == "wrong_identity");
  CHECK(peerRefusal(PeerRejection::kWrongIdentity, "x").code() ==
        absl::StatusCode::kPermissionDenied);
  CHECK(peerRefusal(PeerRejection::kExpired, "x").code() == absl::StatusCode::kUnauthenticated);
  CHECK(peerRejectionOf(absl::PermissionDeniedError("elsewhere")) == std::nullopt);
}

}  // namespace
}  // namespace ambit::tls
