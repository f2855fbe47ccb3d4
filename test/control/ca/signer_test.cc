// CertificateSigner: what a workload leaf contains, its lifetime, its chain, and which CSRs are
// refused with which message.
#include <catch2/catch.hpp>

#include <openssl/bn.h>

#include "control/ca/signer.h"
#include "test/core/tls/test_pki.h"

namespace ambit::control::ca {
namespace {

namespace testing = tls::testing;

using testing::makeCsr;
using testing::makeKey;

constexpr const char* kId = "spiffe://cluster.local/ns/shop/sa/cart";

struct SignerFixture {
  testing::TempDir dir;
  std::shared_ptr<const RootCa> ca;
  std::unique_ptr<CertificateSigner> signer;

  explicit SignerFixture(SignerOptions options = {}) {
    absl::StatusOr<RootCa> root = RootCa::loadOrCreate(dir.path(), "cluster.local");
    REQUIRE(root.ok());
    ca = std::make_shared<const RootCa>(std::move(*root));
    absl::StatusOr<std::unique_ptr<CertificateSigner>> created =
        CertificateSigner::create(ca, options);
    REQUIRE(created.ok());
    signer = std::move(*created);
  }
};

std::vector<std::string> signOk(const CertificateSigner& signer, const std::string& csr,
                                std::chrono::seconds ttl = std::chrono::seconds(0)) {
  absl::StatusOr<std::vector<std::string>> chain = signer.sign(csr, kId, ttl);
  INFO(chain.status().ToString());
  REQUIRE(chain.ok());
  return *chain;
}

absl::Status signError(const CertificateSigner& signer, const std::string& csr) {
  absl::StatusOr<std::vector<std::string>> chain = signer.sign(csr, kId, std::chrono::seconds(0));
  REQUIRE_FALSE(chain.ok());
  return chain.status();
}

TEST_CASE("leaf holds exactly the authorized SPIFFE ID and workload key usages") {
  SignerFixture f;
  tls::EvpPkeyPtr key = makeKey("P-256");
  // The CSR asks for another identity, a DNS name and a subject: all of it is ignored.
  const std::string csr =
      makeCsr(key.get(), {"URI:spiffe://evil/ns/x/sa/y", "DNS:bank.example"}, "admin");
  const std::vector<std::string> chain = signOk(*f.signer, csr);
  REQUIRE(chain.size() == 2);
  CHECK(chain[1] == f.ca->rootPem());

  tls::X509Ptr leaf = testing::parse(chain[0]);
  CHECK(testing::sans(leaf.get()) == std::vector<std::string>{std::string("URI:") + kId});
  CHECK(testing::extensionCritical(leaf.get(), NID_subject_alt_name));
  CHECK(X509_NAME_entry_count(X509_get_subject_name(leaf.get())) == 0);
  CHECK(X509_check_ca(leaf.get()) == 0);
  CHECK(testing::extensionCritical(leaf.get(), NID_basic_constraints));
  CHECK(X509_get_key_usage(leaf.get()) == KU_DIGITAL_SIGNATURE);
  CHECK(testing::extensionCritical(leaf.get(), NID_key_usage));
  CHECK(X509_get_extended_key_usage(leaf.get()) == (XKU_SSL_SERVER | XKU_SSL_CLIENT));
  CHECK(EVP_PKEY_eq(X509_get0_pubkey(leaf.get()), key.get()) == 1);

  const ASN1_OCTET_STRING* akid = X509_get0_authority_key_id(leaf.get());
  const ASN1_OCTET_STRING* skid = X509_get0_subject_key_id(f.ca->signingCert());
  REQUIRE(akid != nullptr);
  REQUIRE(skid != nullptr);
  CHECK(ASN1_OCTET_STRING_cmp(akid, skid) == 0);
  CHECK(X509_NAME_cmp(X509_get_issuer_name(leaf.get()),
                      X509_get_subject_name(f.ca->signingCert())) == 0);
}

TEST_CASE("leaf chain verifies against the root for client and server use") {
  SignerFixture f;
  tls::EvpPkeyPtr key = makeKey("P-256");
  const std::vector<std::string> chain = signOk(*f.signer, makeCsr(key.get()));
  CHECK(testing::verifyChain(chain, f.ca->rootPem(), X509_PURPOSE_SSL_CLIENT) == X509_V_OK);
  CHECK(testing::verifyChain(chain, f.ca->rootPem(), X509_PURPOSE_SSL_SERVER) == X509_V_OK);

  // Against another root it must not verify.
  testing::TempDir other_dir;
  absl::StatusOr<RootCa> other = RootCa::loadOrCreate(other_dir.path(), "cluster.local");
  REQUIRE(other.ok());
  CHECK(testing::verifyChain(chain, other->rootPem(), 0) == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN);
  CHECK(testing::verifyChain({chain[0]}, other->rootPem(), 0) ==
        X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
}

TEST_CASE("serial numbers are random, positive and at most 128 bits") {
  SignerFixture f;
  tls::EvpPkeyPtr key = makeKey("P-256");
  const std::string csr = makeCsr(key.get());
  tls::X509Ptr a = testing::parse(signOk(*f.signer, csr)[0]);
  tls::X509Ptr b = testing::parse(signOk(*f.signer, csr)[0]);
  std::unique_ptr<BIGNUM, tls::OpensslDeleter<BN_free>> sa(
      ASN1_INTEGER_to_BN(X509_get0_serialNumber(a.get()), nullptr));
  std::unique_ptr<BIGNUM, tls::OpensslDeleter<BN_free>> sb(
      ASN1_INTEGER_to_BN(X509_get0_serialNumber(b.get()), nullptr));
  CHECK(BN_cmp(sa.get(), sb.get()) != 0);
  CHECK(BN_is_negative(sa.get()) == 0);
  CHECK(BN_is_zero(sa.get()) == 0);
  CHECK(BN_num_bits(sa.get()) <= 128);
}

TEST_CASE("lifetime: default 24 h, requested, clamped to the maximum, backdated one minute") {
  SignerOptions options;
  options.default_ttl = std::chrono::hours(24);
  options.max_ttl = std::chrono::hours(48);
  SignerFixture f(options);
  tls::EvpPkeyPtr key = makeKey("P-256");
  const std::string csr = makeCsr(key.get());
  constexpr long kSkew = 60;
  auto lifetime = [&](long requested) {
    return testing::validitySeconds(
        testing::parse(signOk(*f.signer, csr, std::chrono::seconds(requested))[0]).get());
  };
  CHECK(lifetime(0) == 24 * 3600 + kSkew);
  CHECK(lifetime(-5) == 24 * 3600 + kSkew);
  CHECK(lifetime(3600) == 3600 + kSkew);
  CHECK(lifetime(1000 * 3600) == 48 * 3600 + kSkew);

  tls::X509Ptr leaf = testing::parse(signOk(*f.signer, csr)[0]);
  CHECK(X509_cmp_time(X509_get0_notBefore(leaf.get()), nullptr) < 0);
  CHECK(X509_cmp_current_time(X509_get0_notAfter(leaf.get())) > 0);
}

TEST_CASE("signer options must be consistent") {
  testing::TempDir dir;
  absl::StatusOr<RootCa> root = RootCa::loadOrCreate(dir.path(), "cluster.local");
  REQUIRE(root.ok());
  auto ca = std::make_shared<const RootCa>(std::move(*root));
  SignerOptions options;
  options.default_ttl = std::chrono::hours(48);
  options.max_ttl = std::chrono::hours(24);
  absl::StatusOr<std::unique_ptr<CertificateSigner>> signer =
      CertificateSigner::create(ca, options);
  REQUIRE_FALSE(signer.ok());
  CHECK(signer.status().message() ==
        "default certificate TTL (172800s) exceeds the maximum (86400s)");
}

TEST_CASE("bad CSRs are refused with a clear InvalidArgument") {
  SignerFixture f;
  struct Case {
    std::string name;
    std::string csr;
    std::string message;
  };
  tls::EvpPkeyPtr p256 = makeKey("P-256");
  tls::EvpPkeyPtr p384 = makeKey("P-384");
  tls::EvpPkeyPtr rsa = makeKey("RSA-2048");
  tls::EvpPkeyPtr ed = makeKey("Ed25519");
  const std::string good = makeCsr(p256.get());
  const std::vector<Case> cases = {
      {"garbage", "hello, CA", "CSR is not a PEM certificate request"},
      {"empty", "", "CSR is not a PEM certificate request"},
      {"certificate instead of CSR", f.ca->rootPem(), "CSR is not a PEM certificate request"},
      {"huge", good + std::string(Csr::kMaxBytes + 1 - good.size(), '\n'),
       "CSR is 65537 bytes; the limit is 65536"},
      {"RSA key", makeCsr(rsa.get()), "CSR key must be ECDSA P-256, got RSA-2048"},
      {"P-384 key", makeCsr(p384.get()), "CSR key must be ECDSA P-256, got ECDSA P-384"},
      {"Ed25519 key", makeCsr(ed.get()), "CSR key must be ECDSA P-256, got Ed25519"},
      {"tampered", testing::tamperCsr(makeCsr(p256.get(), {}, "tamper-me")),
       "CSR signature does not verify with its own key"},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      absl::Status status = signError(*f.signer, c.csr);
      CHECK(status.code() == absl::StatusCode::kInvalidArgument);
      CHECK(status.message() == c.message);
    }
  }
}

TEST_CASE("a CSR of exactly 64 KiB is accepted") {
  SignerFixture f;
  tls::EvpPkeyPtr key = makeKey("P-256");
  const std::string csr = makeCsr(key.get());
  const std::string padded = csr + std::string(Csr::kMaxBytes - csr.size(), '\n');
  REQUIRE(padded.size() == Csr::kMaxBytes);
  CHECK(signOk(*f.signer, padded).size() == 2);
}

TEST_CASE("the identity to sign must be a well-formed SPIFFE ID") {
  SignerFixture f;
  tls::EvpPkeyPtr key = makeKey("P-256");
  absl::StatusOr<std::vector<std::string>> chain = f.signer->sign(
      makeCsr(key.get()), "spiffe://cluster.local/ns/a,URI:x/sa/b", std::chrono::seconds(0));
  REQUIRE_FALSE(chain.ok());
  CHECK(chain.status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("serving certificate: own key, DNS and IP SANs, serverAuth only") {
  SignerFixture f;
  absl::StatusOr<ServingCertificate> serving = f.signer->issueServing(
      {"ambit-control.ambit-system.svc", "localhost"}, {"127.0.0.1"}, std::chrono::hours(1));
  REQUIRE(serving.ok());
  REQUIRE(serving->cert_chain.size() == 2);
  CHECK(serving->cert_chain_pem == serving->cert_chain[0] + serving->cert_chain[1]);
  tls::X509Ptr leaf = testing::parse(serving->cert_chain[0]);
  CHECK(testing::sans(leaf.get()) == std::vector<std::string>{"DNS:ambit-control.ambit-system.svc",
                                                              "DNS:localhost", "IP:127.0.0.1"});
  CHECK(X509_get_extended_key_usage(leaf.get()) == XKU_SSL_SERVER);
  CHECK(X509_check_ca(leaf.get()) == 0);
  CHECK(testing::validitySeconds(leaf.get()) == 3600 + 60);
  absl::StatusOr<tls::EvpPkeyPtr> key = tls::parsePrivateKeyPem(serving->key_pem, "serving key");
  REQUIRE(key.ok());
  CHECK(X509_check_private_key(leaf.get(), key->get()) == 1);
  CHECK(testing::verifyChain(serving->cert_chain, f.ca->rootPem(), X509_PURPOSE_SSL_SERVER) ==
        X509_V_OK);
  CHECK(testing::verifyChain(serving->cert_chain, f.ca->rootPem(), X509_PURPOSE_SSL_CLIENT) ==
        X509_V_ERR_INVALID_PURPOSE);
}

TEST_CASE("serving certificate refuses bad names") {
  SignerFixture f;
  auto bad = [&](const std::vector<std::string>& dns, const std::vector<std::string>& ips) {
    absl::StatusOr<ServingCertificate> s = f.signer->issueServing(dns, ips, std::chrono::hours(1));
    REQUIRE_FALSE(s.ok());
    return std::string(s.status().message());
  };
  CHECK(bad({}, {}) == "a serving certificate needs a DNS name or IP address");
  CHECK(bad({"Not_A_Name"}, {}) == "\"Not_A_Name\" is not a DNS name");
  CHECK(bad({"localhost"}, {"300.1.1.1"}) == "\"300.1.1.1\" is not an IP address");
}

}  // namespace
}  // namespace ambit::control::ca
