// RootCa: the self-signed root created once and kept, and the plug-in CA in Istio's layout.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <set>

#include "control/ca/root_ca.h"
#include "control/ca/signer.h"
#include "test/core/tls/test_pki.h"

namespace ambit::control::ca {
namespace {

namespace fs = std::filesystem;
namespace testing = tls::testing;
using testing::TempDir;
using testing::writeText;

mode_t modeOf(const fs::path& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

std::set<std::string> entries(const fs::path& dir) {
  std::set<std::string> names;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    names.insert(e.path().filename().string());
  }
  return names;
}

std::string subjectField(X509* cert, int nid) {
  X509_NAME* name = X509_get_subject_name(cert);
  const int at = X509_NAME_get_index_by_NID(name, nid, -1);
  if (at < 0) return "";
  const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

TEST_CASE("first start creates a P-256 root with CA extensions") {
  TempDir dir;
  absl::StatusOr<RootCa> ca = RootCa::loadOrCreate(dir.path() / "state", "mesh.example");
  REQUIRE(ca.ok());
  CHECK_FALSE(ca->pluggedIn());
  X509* root = ca->signingCert();
  CHECK(subjectField(root, NID_commonName) == "Ambit root CA");
  CHECK(subjectField(root, NID_organizationName) == "mesh.example");
  CHECK(X509_NAME_cmp(X509_get_subject_name(root), X509_get_issuer_name(root)) == 0);
  CHECK(X509_check_ca(root) == 1);
  CHECK(testing::extensionCritical(root, NID_basic_constraints));
  CHECK(X509_get_key_usage(root) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  CHECK(testing::extensionCritical(root, NID_key_usage));
  CHECK(X509_get0_subject_key_id(root) != nullptr);
  CHECK(tls::describeKey(ca->signingKey()) == "ECDSA P-256");
  // std::chrono::years(10) is 3652.425 days, plus the minute of clock skew.
  CHECK(testing::validitySeconds(root) == 315569520 + 60);
  CHECK(ca->chainAfterLeaf() == std::vector<std::string>{ca->rootPem()});
}

TEST_CASE("root is persisted with a private key file and reloaded identical") {
  TempDir dir;
  absl::StatusOr<RootCa> first = RootCa::loadOrCreate(dir.path(), "cluster.local");
  REQUIRE(first.ok());
  CHECK(entries(dir.path()) == std::set<std::string>{"root-cert.pem", "root-key.pem"});
  CHECK(modeOf(dir.path() / "root-key.pem") == 0600);
  CHECK(modeOf(dir.path() / "root-cert.pem") == 0644);

  absl::StatusOr<RootCa> second = RootCa::loadOrCreate(dir.path(), "cluster.local");
  REQUIRE(second.ok());
  CHECK(second->rootPem() == first->rootPem());
  CHECK(EVP_PKEY_eq(second->signingKey(), first->signingKey()) == 1);
  CHECK(entries(dir.path()) == std::set<std::string>{"root-cert.pem", "root-key.pem"});
}

TEST_CASE("a root key readable by others is refused") {
  TempDir dir;
  REQUIRE(RootCa::loadOrCreate(dir.path(), "cluster.local").ok());
  fs::permissions(dir.path() / "root-key.pem", fs::perms(0644));
  absl::StatusOr<RootCa> ca = RootCa::loadOrCreate(dir.path(), "cluster.local");
  REQUIRE_FALSE(ca.ok());
  CHECK(ca.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(ca.status().message() ==
        (dir.path() / "root-key.pem").string() +
            " has mode 0644: a private key must not be accessible by group or others (chmod 600 "
            "it)");
  fs::permissions(dir.path() / "root-key.pem", fs::perms(0640));
  CHECK(RootCa::loadOrCreate(dir.path(), "cluster.local").status().code() ==
        absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("a root certificate without its key is refused, a key alone is replaced") {
  TempDir dir;
  absl::StatusOr<RootCa> first = RootCa::loadOrCreate(dir.path(), "cluster.local");
  REQUIRE(first.ok());
  SECTION("certificate without key") {
    fs::remove(dir.path() / "root-key.pem");
    absl::StatusOr<RootCa> ca = RootCa::loadOrCreate(dir.path(), "cluster.local");
    REQUIRE_FALSE(ca.ok());
    CHECK(ca.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(ca.status().message() ==
          dir.path().string() +
              " holds root-cert.pem but not root-key.pem: restore the key, or remove both files "
              "to create a new root");
  }
  SECTION("key without certificate: an interrupted first start") {
    fs::remove(dir.path() / "root-cert.pem");
    absl::StatusOr<RootCa> ca = RootCa::loadOrCreate(dir.path(), "cluster.local");
    REQUIRE(ca.ok());
    CHECK(ca->rootPem() != first->rootPem());
    CHECK(EVP_PKEY_eq(ca->signingKey(), first->signingKey()) != 1);
  }
  SECTION("key of another root") {
    TempDir other;
    REQUIRE(RootCa::loadOrCreate(other.path(), "cluster.local").ok());
    fs::copy_file(other.path() / "root-key.pem", dir.path() / "root-key.pem",
                  fs::copy_options::overwrite_existing);
    absl::StatusOr<RootCa> ca = RootCa::loadOrCreate(dir.path(), "cluster.local");
    REQUIRE_FALSE(ca.ok());
    CHECK(ca.status().message() == (dir.path() / "root-cert.pem").string() +
                                       ": the private key does not match the certificate");
  }
}

TEST_CASE("an invalid trust domain is refused before anything is written") {
  TempDir dir;
  absl::StatusOr<RootCa> ca = RootCa::loadOrCreate(dir.path() / "state", "Bad Domain");
  REQUIRE_FALSE(ca.ok());
  CHECK(ca.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_FALSE(fs::exists(dir.path() / "state"));
}

// Istio's cacerts with an intermediate signing CA under a root made here.
struct PluginFixture {
  TempDir dir;
  testing::TestCa root = testing::makeCa("Test root", nullptr);
  testing::TestCa intermediate = testing::makeCa("Test intermediate", &root);

  PluginFixture() {
    writeText(dir.path() / "ca-cert.pem", intermediate.cert_pem);
    writeText(dir.path() / "ca-key.pem", intermediate.key_pem);
    writeText(dir.path() / "root-cert.pem", root.cert_pem);
    writeText(dir.path() / "cert-chain.pem", intermediate.cert_pem + root.cert_pem);
  }
};

TEST_CASE("plug-in CA signs with the intermediate and returns leaf, intermediate, root") {
  PluginFixture f;
  SECTION("with cert-chain.pem") {}
  SECTION("without cert-chain.pem") { fs::remove(f.dir.path() / "cert-chain.pem"); }
  absl::StatusOr<RootCa> ca = RootCa::loadPluggedIn(f.dir.path());
  REQUIRE(ca.ok());
  CHECK(ca->pluggedIn());
  CHECK(ca->rootPem() == f.root.cert_pem);
  CHECK(ca->chainAfterLeaf() == std::vector<std::string>{f.intermediate.cert_pem, f.root.cert_pem});

  auto shared = std::make_shared<const RootCa>(std::move(*ca));
  absl::StatusOr<std::unique_ptr<CertificateSigner>> signer = CertificateSigner::create(shared);
  REQUIRE(signer.ok());
  tls::EvpPkeyPtr key = testing::makeKey("P-256");
  absl::StatusOr<std::vector<std::string>> chain = (*signer)->sign(
      testing::makeCsr(key.get()), "spiffe://cluster.local/ns/a/sa/b", std::chrono::seconds(0));
  REQUIRE(chain.ok());
  REQUIRE(chain->size() == 3);
  CHECK((*chain)[1] == f.intermediate.cert_pem);
  CHECK((*chain)[2] == f.root.cert_pem);
  CHECK(testing::verifyChain(*chain, f.root.cert_pem, X509_PURPOSE_SSL_CLIENT) == X509_V_OK);
  // The leaf alone, without the intermediate, does not reach the root.
  CHECK(testing::verifyChain({(*chain)[0]}, f.root.cert_pem, 0) ==
        X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
}

TEST_CASE("plug-in CA is refused when its files do not fit together") {
  PluginFixture f;
  SECTION("key of another CA") {
    writeText(f.dir.path() / "ca-key.pem", f.root.key_pem);
    absl::StatusOr<RootCa> ca = RootCa::loadPluggedIn(f.dir.path());
    REQUIRE_FALSE(ca.ok());
    CHECK(ca.status().message() == (f.dir.path() / "ca-cert.pem").string() +
                                       ": the private key does not match the certificate");
  }
  SECTION("signing certificate under another root") {
    testing::TestCa stranger = testing::makeCa("Stranger root", nullptr);
    writeText(f.dir.path() / "root-cert.pem", stranger.cert_pem);
    writeText(f.dir.path() / "cert-chain.pem", f.intermediate.cert_pem);
    absl::StatusOr<RootCa> ca = RootCa::loadPluggedIn(f.dir.path());
    REQUIRE_FALSE(ca.ok());
    CHECK(ca.status().message() ==
          (f.dir.path() / "ca-cert.pem").string() +
              " does not verify against the root: unable to get local issuer certificate");
  }
  SECTION("missing root") {
    fs::remove(f.dir.path() / "root-cert.pem");
    absl::StatusOr<RootCa> ca = RootCa::loadPluggedIn(f.dir.path());
    REQUIRE_FALSE(ca.ok());
    CHECK(ca.status().code() == absl::StatusCode::kNotFound);
  }
}

TEST_CASE("load uses the plug-in CA when cacerts are present, else the kept root") {
  PluginFixture f;
  TempDir state;
  absl::StatusOr<RootCa> plugged = RootCa::load(f.dir.path(), state.path(), "cluster.local");
  REQUIRE(plugged.ok());
  CHECK(plugged->pluggedIn());
  CHECK(plugged->rootPem() == f.root.cert_pem);
  CHECK(entries(state.path()).empty());

  TempDir empty_cacerts;
  absl::StatusOr<RootCa> own = RootCa::load(empty_cacerts.path(), state.path(), "cluster.local");
  REQUIRE(own.ok());
  CHECK_FALSE(own->pluggedIn());
  CHECK(entries(state.path()) == std::set<std::string>{"root-cert.pem", "root-key.pem"});
}

}  // namespace
}  // namespace ambit::control::ca
