#include "control/ca/signer.h"

#include <algorithm>
#include <ctime>

#include <openssl/err.h>

#include "core/config/validate/common.h"
#include "core/tls/spiffe_id.h"

namespace ambit::control::ca {
namespace {

absl::Status pushName(GENERAL_NAMES* names, int type, const std::string& value) {
  GENERAL_NAME* name = GENERAL_NAME_new();
  ASN1_IA5STRING* text = ASN1_IA5STRING_new();
  if (name == nullptr || text == nullptr ||
      ASN1_STRING_set(text, value.data(), static_cast<int>(value.size())) != 1) {
    GENERAL_NAME_free(name);
    ASN1_IA5STRING_free(text);
    return absl::InternalError(absl::StrCat("subjectAltName entry: ", tls::opensslErrors()));
  }
  GENERAL_NAME_set0_value(name, type, text);
  if (sk_GENERAL_NAME_push(names, name) <= 0) {
    GENERAL_NAME_free(name);
    return absl::InternalError("sk_GENERAL_NAME_push failed");
  }
  return absl::OkStatus();
}

absl::Status pushIp(GENERAL_NAMES* names, const std::string& ip) {
  ASN1_OCTET_STRING* octets = a2i_IPADDRESS(ip.c_str());
  if (octets == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat("\"", ip, "\" is not an IP address"));
  }
  GENERAL_NAME* name = GENERAL_NAME_new();
  if (name == nullptr) {
    ASN1_OCTET_STRING_free(octets);
    return absl::InternalError("GENERAL_NAME_new failed");
  }
  GENERAL_NAME_set0_value(name, GEN_IPADD, octets);
  if (sk_GENERAL_NAME_push(names, name) <= 0) {
    GENERAL_NAME_free(name);
    return absl::InternalError("sk_GENERAL_NAME_push failed");
  }
  return absl::OkStatus();
}

// EdDSA signs the message itself and takes no separate digest.
const EVP_MD* digestFor(EVP_PKEY* key) {
  const int id = EVP_PKEY_get_base_id(key);
  return id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448 ? nullptr : EVP_sha256();
}

}  // namespace

absl::StatusOr<std::unique_ptr<CertificateSigner>> CertificateSigner::create(
    std::shared_ptr<const RootCa> ca, SignerOptions options) {
  if (ca == nullptr) return absl::InvalidArgumentError("signer needs a CA");
  if (options.default_ttl.count() <= 0 || options.max_ttl.count() <= 0) {
    return absl::InvalidArgumentError("certificate TTLs must be positive");
  }
  if (options.default_ttl > options.max_ttl) {
    return absl::InvalidArgumentError(
        absl::StrCat("default certificate TTL (", options.default_ttl.count(),
                     "s) exceeds the maximum (", options.max_ttl.count(), "s)"));
  }
  return std::unique_ptr<CertificateSigner>(new CertificateSigner(std::move(ca), options));
}

std::chrono::seconds CertificateSigner::effectiveTtl(std::chrono::seconds requested) const {
  if (requested.count() <= 0) return options_.default_ttl;
  return std::min(requested, options_.max_ttl);
}

absl::StatusOr<std::vector<std::string>> CertificateSigner::sign(const std::string& csr_pem,
                                                                 const std::string& spiffe_id,
                                                                 std::chrono::seconds ttl) const {
  AMBIT_ASSIGN_OR_RETURN(Csr csr, Csr::parse(csr_pem));
  return sign(csr, spiffe_id, ttl);
}

absl::StatusOr<std::vector<std::string>> CertificateSigner::sign(const Csr& csr,
                                                                 const std::string& spiffe_id,
                                                                 std::chrono::seconds ttl) const {
  AMBIT_ASSIGN_OR_RETURN(tls::SpiffeId id, tls::SpiffeId::parse(spiffe_id));
  tls::GeneralNamesPtr sans(sk_GENERAL_NAME_new_null());
  if (!sans) return absl::InternalError("sk_GENERAL_NAME_new_null failed");
  AMBIT_RETURN_IF_ERROR(pushName(sans.get(), GEN_URI, id.toString()));
  // The subject stays empty (the identity is the SAN), so RFC 5280 wants the SAN critical.
  AMBIT_ASSIGN_OR_RETURN(tls::X509Ptr leaf, issueLeaf(csr.publicKey(), "", sans.get(), true,
                                                      "serverAuth,clientAuth", ttl));
  return withChain(leaf.get());
}

absl::StatusOr<ServingCertificate> CertificateSigner::issueServing(
    const std::vector<std::string>& dns_names, const std::vector<std::string>& ip_addresses,
    std::chrono::seconds ttl) const {
  if (dns_names.empty() && ip_addresses.empty()) {
    return absl::InvalidArgumentError("a serving certificate needs a DNS name or IP address");
  }
  tls::GeneralNamesPtr sans(sk_GENERAL_NAME_new_null());
  if (!sans) return absl::InternalError("sk_GENERAL_NAME_new_null failed");
  for (const std::string& dns : dns_names) {
    if (!config::validate::isDns1123Subdomain(dns)) {
      return absl::InvalidArgumentError(absl::StrCat("\"", dns, "\" is not a DNS name"));
    }
    AMBIT_RETURN_IF_ERROR(pushName(sans.get(), GEN_DNS, dns));
  }
  for (const std::string& ip : ip_addresses) AMBIT_RETURN_IF_ERROR(pushIp(sans.get(), ip));

  AMBIT_ASSIGN_OR_RETURN(tls::EvpPkeyPtr key, tls::generateP256Key());
  const std::string cn = dns_names.empty() ? ip_addresses.front() : dns_names.front();
  AMBIT_ASSIGN_OR_RETURN(tls::X509Ptr leaf,
                         issueLeaf(key.get(), cn, sans.get(), false, "serverAuth", ttl));
  ServingCertificate out;
  AMBIT_ASSIGN_OR_RETURN(out.cert_chain, withChain(leaf.get()));
  for (const std::string& pem : out.cert_chain) out.cert_chain_pem += pem;
  AMBIT_ASSIGN_OR_RETURN(out.key_pem, tls::privateKeyToPem(key.get()));
  return out;
}

absl::StatusOr<tls::X509Ptr> CertificateSigner::issueLeaf(EVP_PKEY* key,
                                                          const std::string& common_name,
                                                          GENERAL_NAMES* sans, bool san_critical,
                                                          const char* eku,
                                                          std::chrono::seconds ttl) const {
  X509* issuer = ca_->signingCert();
  const std::time_t now = std::time(nullptr);
  AMBIT_ASSIGN_OR_RETURN(const std::time_t issuer_end, tls::notAfter(issuer));
  const std::time_t not_after = std::min<std::time_t>(now + effectiveTtl(ttl).count(), issuer_end);
  if (not_after <= now) {
    return absl::FailedPreconditionError("the signing certificate has expired");
  }

  tls::X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return absl::InternalError(absl::StrCat("X509_new: ", tls::opensslErrors()));
  }
  AMBIT_RETURN_IF_ERROR(tls::setRandomSerial(cert.get()));
  AMBIT_RETURN_IF_ERROR(tls::setValidity(cert.get(), now - kClockSkew.count(), not_after));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer)) != 1 ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return absl::InternalError(absl::StrCat("leaf issuer or key: ", tls::opensslErrors()));
  }
  if (!common_name.empty() &&
      X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0) != 1) {
    return absl::InternalError(absl::StrCat("leaf subject: ", tls::opensslErrors()));
  }

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert.get(), nullptr, nullptr, 0);
  AMBIT_RETURN_IF_ERROR(
      tls::addExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE"));
  AMBIT_RETURN_IF_ERROR(
      tls::addExtension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature"));
  AMBIT_RETURN_IF_ERROR(tls::addExtension(cert.get(), &ctx, NID_ext_key_usage, eku));
  AMBIT_RETURN_IF_ERROR(
      tls::addExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always"));
  AMBIT_RETURN_IF_ERROR(tls::addSubjectAltNames(cert.get(), sans, san_critical));

  EVP_PKEY* signing_key = ca_->signingKey();
  if (X509_sign(cert.get(), signing_key, digestFor(signing_key)) <= 0) {
    return absl::InternalError(absl::StrCat("sign certificate: ", tls::opensslErrors()));
  }
  return cert;
}

absl::StatusOr<std::vector<std::string>> CertificateSigner::withChain(X509* leaf) const {
  std::vector<std::string> chain;
  AMBIT_ASSIGN_OR_RETURN(std::string leaf_pem, tls::certToPem(leaf));
  chain.push_back(std::move(leaf_pem));
  const std::vector<std::string>& rest = ca_->chainAfterLeaf();
  chain.insert(chain.end(), rest.begin(), rest.end());
  return chain;
}

}  // namespace ambit::control::ca
