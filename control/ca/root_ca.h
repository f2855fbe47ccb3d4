// The signing authority of ambit-control: a self-signed root created on first start and kept in
// the state directory, or a plugged-in CA from Istio's `cacerts` files (possibly an intermediate).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/tls/openssl_util.h"

namespace ambit::control::ca {

class RootCa {
 public:
  // State directory files of the self-signed root.
  static constexpr const char* kRootCertFile = "root-cert.pem";
  static constexpr const char* kRootKeyFile = "root-key.pem";
  // Istio's plug-in layout.
  static constexpr const char* kCaCertFile = "ca-cert.pem";
  static constexpr const char* kCaKeyFile = "ca-key.pem";
  static constexpr const char* kPluginRootFile = "root-cert.pem";
  static constexpr const char* kCertChainFile = "cert-chain.pem";

  // Loads the root kept in `state_dir`, or creates, persists and returns a new one (ECDSA P-256,
  // CN "Ambit root CA", O = trust domain, 10 years) when the directory holds none yet.
  static absl::StatusOr<RootCa> loadOrCreate(const std::filesystem::path& state_dir,
                                             const std::string& trust_domain);

  // Loads ca-cert.pem, ca-key.pem, root-cert.pem and (optional) cert-chain.pem. The signing
  // certificate must be a CA, match its key and chain to a certificate of root-cert.pem.
  static absl::StatusOr<RootCa> loadPluggedIn(const std::filesystem::path& cacerts_dir);

  // The plug-in CA when `cacerts_dir` holds ca-cert.pem, otherwise loadOrCreate(state_dir).
  static absl::StatusOr<RootCa> load(const std::filesystem::path& cacerts_dir,
                                     const std::filesystem::path& state_dir,
                                     const std::string& trust_domain);

  // Owned by this object; callers may sign with them but not change them.
  X509* signingCert() const { return signing_cert_.get(); }
  EVP_PKEY* signingKey() const { return signing_key_.get(); }

  // The trust anchors agents and clients verify against (one or more PEM certificates).
  const std::string& rootPem() const { return root_pem_; }
  // What follows a leaf in a chain: the signing certificate, any intermediates, the root.
  const std::vector<std::string>& chainAfterLeaf() const { return chain_; }
  bool pluggedIn() const { return plugged_in_; }

 private:
  RootCa() = default;

  tls::X509Ptr signing_cert_;
  tls::EvpPkeyPtr signing_key_;
  std::string root_pem_;
  std::vector<std::string> chain_;
  bool plugged_in_ = false;
};

}  // namespace ambit::control::ca
