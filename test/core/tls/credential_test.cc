// WorkloadCredential and TrustBundle: what a usable credential and bundle are, and the message for
// each one refused.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <ctime>

#include <absl/strings/match.h>

#include "core/tls/trust_bundle.h"
#include "core/tls/workload_credential.h"
#include "test/core/tls/test_pki.h"

namespace ambit::tls {
namespace {

constexpr const char* kCart = "spiffe://cluster.local/ns/shop/sa/cart";

testing::LeafSpec withSans(std::vector<std::string> sans) {
  testing::LeafSpec spec;
  spec.sans = std::move(sans);
  return spec;
}

TEST_CASE("a workload credential is parsed with its identity, validity and serial") {
  testing::TestCa root = testing::makeCa("Mesh root", nullptr);
  testing::TestCa intermediate = testing::makeCa("Mesh intermediate", &root);
  testing::LeafSpec spec = withSans({std::string("URI:") + kCart});
  spec.not_before = -60;
  spec.not_after = 3600;
  testing::TestCa leaf = testing::makeLeaf(intermediate, spec);
  const std::string chain = leaf.cert_pem + intermediate.cert_pem + root.cert_pem;

  absl::StatusOr<WorkloadCredential> cred = WorkloadCredential::fromPem(chain, leaf.key_pem);
  INFO(cred.status().message());
  REQUIRE(cred.ok());
  CHECK(cred->identity.toString() == kCart);
  CHECK(cred->chain.size() == 2);
  CHECK(X509_cmp(cred->leaf.get(), leaf.cert.get()) == 0);
  CHECK(cred->not_after - cred->not_before == 3660);
  CHECK(std::abs(cred->not_after - (std::time(nullptr) + 3600)) <= 5);
  CHECK(cred->serial_hex == serialHex(leaf.cert.get()));
  CHECK(cred->serial_hex.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(cred->cert_chain_pem == chain);
  CHECK(cred->key_pem == leaf.key_pem);
}

TEST_CASE("workload credentials that cannot serve as one are refused with the reason") {
  testing::TestCa root = testing::makeCa("Mesh root", nullptr);
  const std::string uri = std::string("URI:") + kCart;
  testing::TestCa good = testing::makeLeaf(root, withSans({uri}));
  testing::TestCa other = testing::makeLeaf(root, withSans({uri}));
  testing::TestCa two =
      testing::makeLeaf(root, withSans({uri, "URI:spiffe://cluster.local/ns/shop/sa/db"}));
  testing::TestCa dns = testing::makeLeaf(root, withSans({"DNS:cart.shop.svc"}));
  testing::TestCa bad_id = testing::makeLeaf(root, withSans({"URI:spiffe://cluster.local/cart"}));
  testing::LeafSpec ca_spec = withSans({uri});
  ca_spec.ca = true;
  testing::TestCa ca = testing::makeLeaf(root, ca_spec);

  struct Case {
    const char* name;
    std::string chain;
    std::string key;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"no certificate", "", good.key_pem, "workload certificate chain: no PEM certificate found"},
      {"no key", good.cert_pem, "", ""},
      {"the key of another certificate", good.cert_pem, other.key_pem,
       "workload key does not match the workload certificate"},
      {"two URI SANs", two.cert_pem, two.key_pem,
       "workload certificate has 2 URI SANs; it must hold exactly one SPIFFE ID"},
      {"no URI SAN", dns.cert_pem, dns.key_pem,
       "workload certificate has 0 URI SANs; it must hold exactly one SPIFFE ID"},
      {"a URI SAN that is no SPIFFE ID of ours", bad_id.cert_pem, bad_id.key_pem,
       "workload certificate: SPIFFE ID \"spiffe://cluster.local/cart\": path must be "
       "/ns/<namespace>/sa/<service-account>"},
      {"a CA certificate", ca.cert_pem, ca.key_pem,
       "workload certificate is a CA certificate, not a leaf"},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      absl::StatusOr<WorkloadCredential> cred = WorkloadCredential::fromPem(c.chain, c.key);
      REQUIRE_FALSE(cred.ok());
      CHECK(cred.status().code() == absl::StatusCode::kInvalidArgument);
      if (std::string(c.message).empty()) {
        CHECK(absl::StartsWith(cred.status().message(), "workload key: not a PEM private key"));
      } else {
        CHECK(cred.status().message() == c.message);
      }
    }
  }
}

TEST_CASE("a trust bundle holds CA certificates only") {
  testing::TestCa root = testing::makeCa("Mesh root", nullptr);
  testing::TestCa next = testing::makeCa("Next root", nullptr);
  testing::TestCa leaf = testing::makeLeaf(root, withSans({std::string("URI:") + kCart}));

  absl::StatusOr<TrustBundle> both = TrustBundle::fromPem(root.cert_pem + next.cert_pem);
  REQUIRE(both.ok());
  CHECK(both->roots().size() == 2);
  CHECK(both->pem() == root.cert_pem + next.cert_pem);

  absl::StatusOr<TrustBundle> with_leaf = TrustBundle::fromPem(root.cert_pem + leaf.cert_pem);
  CHECK(with_leaf.status().message() == "trust bundle: certificate 2 is not a CA certificate");
  CHECK(TrustBundle::fromPem("").status().message() == "trust bundle: no PEM certificate found");
}

}  // namespace
}  // namespace ambit::tls
