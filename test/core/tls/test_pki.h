// Test-side PKI: keys of several types, CSRs, small CA hierarchies and certificate inspection,
// built with OpenSSL directly so the tests do not trust the code they test.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/tls/openssl_util.h"

namespace ambit::tls::testing {

// "P-256", "P-384", "RSA-2048", "Ed25519".
EvpPkeyPtr makeKey(const std::string& kind);

// A signed PEM CSR with subject CN=`cn` and SANs given in OpenSSL syntax ("URI:spiffe://...").
std::string makeCsr(EVP_PKEY* key, const std::vector<std::string>& sans = {},
                    const std::string& cn = "workload");

// The CSR with one byte of its subject changed after signing, so its signature no longer holds.
std::string tamperCsr(const std::string& csr_pem);

struct TestCa {
  X509Ptr cert;
  EvpPkeyPtr key;
  std::string cert_pem;
  std::string key_pem;
};
// A CA certificate named `cn`, self-signed when `issuer` is null.
TestCa makeCa(const std::string& cn, const TestCa* issuer);

// What a test leaf holds; the defaults make a workload certificate as the mesh CA issues one.
struct LeafSpec {
  std::vector<std::string> sans;  // OpenSSL syntax: "URI:spiffe://...", "DNS:..."
  bool ca = false;                // basicConstraints CA:TRUE (and keyCertSign) instead of CA:FALSE
  long not_before = -3600;        // seconds from now
  long not_after = 24 * 3600;     // seconds from now
  std::string key_kind = "P-256";
};
// A leaf signed by `issuer`; its cert_pem is the leaf alone.
TestCa makeLeaf(const TestCa& issuer, const LeafSpec& spec);

X509Ptr parse(const std::string& pem);
// "URI:...", "DNS:...", "IP:..." for each subjectAltName entry, in order.
std::vector<std::string> sans(X509* cert);
long validitySeconds(X509* cert);
bool extensionCritical(X509* cert, int nid);

// X509_V_OK when `chain` (leaf first) verifies against `root_pem` for `purpose`
// (X509_PURPOSE_SSL_CLIENT, X509_PURPOSE_SSL_SERVER, or 0 for none); else the OpenSSL error.
int verifyChain(const std::vector<std::string>& chain, const std::string& root_pem, int purpose);

// A fresh directory under the system temp directory, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

void writeText(const std::filesystem::path& path, const std::string& text);

}  // namespace ambit::tls::testing
