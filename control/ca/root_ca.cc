#include "control/ca/root_ca.h"

#include <chrono>
#include <ctime>
#include <system_error>

#include <openssl/err.h>

#include "control/ca/state_files.h"
#include "core/files.h"
#include "core/log.h"
#include "core/tls/spiffe_id.h"

namespace ambit::control::ca {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxPemBytes = 1 << 20;
constexpr std::chrono::seconds kRootValidity = std::chrono::years(10);
constexpr std::chrono::seconds kClockSkew = std::chrono::minutes(1);

struct KeyPair {
  tls::X509Ptr cert;
  tls::EvpPkeyPtr key;
};

absl::Status setName(X509_NAME* name, const char* field, const std::string& value) {
  if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                 0) != 1) {
    return absl::InternalError(absl::StrCat("subject ", field, ": ", tls::opensslErrors()));
  }
  return absl::OkStatus();
}

absl::StatusOr<KeyPair> generateRoot(const std::string& trust_domain) {
  AMBIT_ASSIGN_OR_RETURN(tls::EvpPkeyPtr key, tls::generateP256Key());
  tls::X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return absl::InternalError(absl::StrCat("X509_new: ", tls::opensslErrors()));
  }
  AMBIT_RETURN_IF_ERROR(tls::setRandomSerial(cert.get()));
  const std::time_t now = std::time(nullptr);
  AMBIT_RETURN_IF_ERROR(
      tls::setValidity(cert.get(), now - kClockSkew.count(), now + kRootValidity.count()));
  X509_NAME* name = X509_get_subject_name(cert.get());
  AMBIT_RETURN_IF_ERROR(setName(name, "O", trust_domain));
  AMBIT_RETURN_IF_ERROR(setName(name, "CN", "Ambit root CA"));
  if (X509_set_issuer_name(cert.get(), name) != 1 || X509_set_pubkey(cert.get(), key.get()) != 1) {
    return absl::InternalError(absl::StrCat("root name or key: ", tls::opensslErrors()));
  }
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  AMBIT_RETURN_IF_ERROR(
      tls::addExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE"));
  AMBIT_RETURN_IF_ERROR(
      tls::addExtension(cert.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign"));
  AMBIT_RETURN_IF_ERROR(tls::addExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) {
    return absl::InternalError(absl::StrCat("sign root: ", tls::opensslErrors()));
  }
  return KeyPair{std::move(cert), std::move(key)};
}

// The checks every signing certificate passes, whoever made it.
absl::Status checkSigningPair(X509* cert, EVP_PKEY* key, const std::string& what) {
  if (X509_check_private_key(cert, key) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": the private key does not match the certificate"));
  }
  if (X509_check_ca(cert) < 1) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": the certificate is not a CA"));
  }
  if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0) {
    return absl::FailedPreconditionError(absl::StrCat(what, ": the certificate has expired"));
  }
  return absl::OkStatus();
}

absl::StatusOr<KeyPair> readPair(const fs::path& cert_path, const fs::path& key_path) {
  AMBIT_ASSIGN_OR_RETURN(std::string cert_pem, readFile(cert_path, kMaxPemBytes));
  AMBIT_ASSIGN_OR_RETURN(std::string key_pem, readFile(key_path, kMaxPemBytes));
  AMBIT_ASSIGN_OR_RETURN(tls::X509Ptr cert, tls::parseCertPem(cert_pem, cert_path.string()));
  AMBIT_ASSIGN_OR_RETURN(tls::EvpPkeyPtr key, tls::parsePrivateKeyPem(key_pem, key_path.string()));
  AMBIT_RETURN_IF_ERROR(checkSigningPair(cert.get(), key.get(), cert_path.string()));
  return KeyPair{std::move(cert), std::move(key)};
}

bool fileExists(const fs::path& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

}  // namespace

absl::StatusOr<RootCa> RootCa::loadOrCreate(const fs::path& state_dir,
                                            const std::string& trust_domain) {
  if (!tls::isTrustDomain(trust_domain)) {
    return absl::InvalidArgumentError(absl::StrCat("trust domain \"", trust_domain,
                                                   "\": expected lowercase letters, digits, "
                                                   "'.', '-' or '_'"));
  }
  const fs::path cert_path = state_dir / kRootCertFile;
  const fs::path key_path = state_dir / kRootKeyFile;
  RootCa ca;
  // The certificate is written last, so it marks a complete root: a key without a certificate is
  // the trace of an interrupted first start and is replaced; a certificate without its key is not.
  if (fileExists(cert_path)) {
    if (!fileExists(key_path)) {
      return absl::FailedPreconditionError(
          absl::StrCat(state_dir.string(), " holds ", kRootCertFile, " but not ", kRootKeyFile,
                       ": restore the key, or remove both files to create a new root"));
    }
    AMBIT_RETURN_IF_ERROR(checkOwnerOnly(key_path));
    AMBIT_ASSIGN_OR_RETURN(KeyPair pair, readPair(cert_path, key_path));
    if (X509_check_issued(pair.cert.get(), pair.cert.get()) != X509_V_OK) {
      return absl::InvalidArgumentError(
          absl::StrCat(cert_path.string(), ": not a self-signed root certificate"));
    }
    ca.signing_cert_ = std::move(pair.cert);
    ca.signing_key_ = std::move(pair.key);
    log::get("ca")->info("loaded root CA from {}", state_dir.string());
  } else {
    std::error_code ec;
    fs::create_directories(state_dir, ec);
    if (ec) {
      return absl::InternalError(absl::StrCat("create ", state_dir.string(), ": ", ec.message()));
    }
    AMBIT_ASSIGN_OR_RETURN(KeyPair pair, generateRoot(trust_domain));
    AMBIT_ASSIGN_OR_RETURN(std::string key_pem, tls::privateKeyToPem(pair.key.get()));
    AMBIT_ASSIGN_OR_RETURN(std::string cert_pem, tls::certToPem(pair.cert.get()));
    AMBIT_RETURN_IF_ERROR(writeFileAtomic(key_path, key_pem, 0600));
    AMBIT_RETURN_IF_ERROR(writeFileAtomic(cert_path, cert_pem, 0644));
    ca.signing_cert_ = std::move(pair.cert);
    ca.signing_key_ = std::move(pair.key);
    log::get("ca")->info("created a new root CA for trust domain {} in {}", trust_domain,
                         state_dir.string());
  }
  AMBIT_ASSIGN_OR_RETURN(ca.root_pem_, tls::certToPem(ca.signing_cert_.get()));
  ca.chain_ = {ca.root_pem_};
  return ca;
}

absl::StatusOr<RootCa> RootCa::loadPluggedIn(const fs::path& cacerts_dir) {
  const fs::path root_path = cacerts_dir / kPluginRootFile;
  const fs::path chain_path = cacerts_dir / kCertChainFile;
  AMBIT_ASSIGN_OR_RETURN(KeyPair pair,
                         readPair(cacerts_dir / kCaCertFile, cacerts_dir / kCaKeyFile));
  // Leaves name their issuer by key identifier (authorityKeyIdentifier), which OpenSSL takes from
  // the issuer's subjectKeyIdentifier; without it no certificate could be signed.
  if (X509_get0_subject_key_id(pair.cert.get()) == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat((cacerts_dir / kCaCertFile).string(), ": no subjectKeyIdentifier extension"));
  }
  AMBIT_ASSIGN_OR_RETURN(std::string root_text, readFile(root_path, kMaxPemBytes));
  AMBIT_ASSIGN_OR_RETURN(std::vector<tls::X509Ptr> roots,
                         tls::parseCertsPem(root_text, root_path.string()));
  std::vector<tls::X509Ptr> intermediates;
  if (fileExists(chain_path)) {
    AMBIT_ASSIGN_OR_RETURN(std::string chain_text, readFile(chain_path, kMaxPemBytes));
    AMBIT_ASSIGN_OR_RETURN(intermediates, tls::parseCertsPem(chain_text, chain_path.string()));
  }

  // What verifies is exactly what callers receive after their leaf, so they can verify it too.
  RootCa ca;
  AMBIT_ASSIGN_OR_RETURN(ca.chain_, tls::verifyChain(pair.cert.get(), intermediates, roots,
                                                     (cacerts_dir / kCaCertFile).string()));
  for (const tls::X509Ptr& root : roots) {
    AMBIT_ASSIGN_OR_RETURN(std::string pem, tls::certToPem(root.get()));
    ca.root_pem_ += pem;
  }
  ca.signing_cert_ = std::move(pair.cert);
  ca.signing_key_ = std::move(pair.key);
  ca.plugged_in_ = true;
  log::get("ca")->info("loaded plug-in CA from {} ({} certificates up to the root)",
                       cacerts_dir.string(), ca.chain_.size());
  return ca;
}

absl::StatusOr<RootCa> RootCa::load(const fs::path& cacerts_dir, const fs::path& state_dir,
                                    const std::string& trust_domain) {
  if (!cacerts_dir.empty() && fileExists(cacerts_dir / kCaCertFile)) {
    return loadPluggedIn(cacerts_dir);
  }
  return loadOrCreate(state_dir, trust_domain);
}

}  // namespace ambit::control::ca
