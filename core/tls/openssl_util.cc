#include "core/tls/openssl_util.h"

#include <array>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include <absl/strings/ascii.h>

namespace ambit::tls {
namespace {

BioPtr memBio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// OPENSSL_free is a macro.
void freeOpensslString(char* text) { OPENSSL_free(text); }

absl::StatusOr<std::string> bioText(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return absl::InternalError("empty PEM output");
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace

std::string opensslErrors() {
  std::string out;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    std::array<char, 256> buf{};
    ERR_error_string_n(e, buf.data(), buf.size());
    if (!out.empty()) out += "; ";
    out += buf.data();
  }
  return out.empty() ? "unknown error" : out;
}

absl::StatusOr<std::vector<X509Ptr>> parseCertsPem(const std::string& pem,
                                                   const std::string& what) {
  ERR_clear_error();
  BioPtr bio = memBio(pem);
  if (!bio) return absl::InternalError("BIO_new_mem_buf failed");
  std::vector<X509Ptr> certs;
  while (true) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    certs.push_back(std::move(cert));
  }
  const unsigned long last = ERR_peek_last_error();
  // Running out of PEM blocks is the normal end; anything else is a malformed block.
  if (ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE) {
    ERR_clear_error();
  } else if (last != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": malformed PEM certificate: ", opensslErrors()));
  }
  if (certs.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": no PEM certificate found"));
  }
  return certs;
}

absl::StatusOr<X509Ptr> parseCertPem(const std::string& pem, const std::string& what) {
  AMBIT_ASSIGN_OR_RETURN(std::vector<X509Ptr> certs, parseCertsPem(pem, what));
  if (certs.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": expected one certificate, found ", certs.size()));
  }
  return std::move(certs.front());
}

absl::StatusOr<EvpPkeyPtr> parsePrivateKeyPem(const std::string& pem, const std::string& what) {
  ERR_clear_error();
  BioPtr bio = memBio(pem);
  if (!bio) return absl::InternalError("BIO_new_mem_buf failed");
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": not a PEM private key: ", opensslErrors()));
  }
  return key;
}

absl::StatusOr<std::string> certToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return absl::InternalError(absl::StrCat("PEM_write_bio_X509: ", opensslErrors()));
  }
  return bioText(bio.get());
}

absl::StatusOr<std::string> privateKeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return absl::InternalError(absl::StrCat("PEM_write_bio_PrivateKey: ", opensslErrors()));
  }
  return bioText(bio.get());
}

absl::StatusOr<EvpPkeyPtr> generateP256Key() {
  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return absl::InternalError(absl::StrCat("EC key generation: ", opensslErrors()));
  return key;
}

std::string describeKey(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC: {
      std::array<char, 64> group{};
      size_t len = 0;
      if (EVP_PKEY_get_group_name(key, group.data(), group.size(), &len) != 1) {
        return "ECDSA on an unnamed curve";
      }
      const int nid = OBJ_sn2nid(group.data());
      const char* nist = nid == NID_undef ? nullptr : EC_curve_nid2nist(nid);
      return absl::StrCat("ECDSA ", nist != nullptr ? nist : group.data());
    }
    case EVP_PKEY_RSA:
      return absl::StrCat("RSA-", EVP_PKEY_get_bits(key));
    case EVP_PKEY_RSA_PSS:
      return absl::StrCat("RSA-PSS-", EVP_PKEY_get_bits(key));
    case EVP_PKEY_DSA:
      return absl::StrCat("DSA-", EVP_PKEY_get_bits(key));
    case EVP_PKEY_ED25519:
      return "Ed25519";
    case EVP_PKEY_ED448:
      return "Ed448";
    default: {
      const char* name = EVP_PKEY_get0_type_name(key);
      return name != nullptr ? name : "an unknown key type";
    }
  }
}

bool isP256(EVP_PKEY* key) { return describeKey(key) == "ECDSA P-256"; }

absl::Status setRandomSerial(X509* cert) {
  std::unique_ptr<BIGNUM, OpensslDeleter<BN_free>> bn(BN_new());
  if (!bn || BN_rand(bn.get(), 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1) {
    return absl::InternalError(absl::StrCat("BN_rand: ", opensslErrors()));
  }
  if (BN_is_zero(bn.get())) BN_one(bn.get());  // a serial must be positive
  ASN1_INTEGER* serial = X509_get_serialNumber(cert);
  if (BN_to_ASN1_INTEGER(bn.get(), serial) == nullptr) {
    return absl::InternalError(absl::StrCat("BN_to_ASN1_INTEGER: ", opensslErrors()));
  }
  return absl::OkStatus();
}

absl::Status setValidity(X509* cert, std::time_t not_before, std::time_t not_after) {
  if (ASN1_TIME_set(X509_getm_notBefore(cert), not_before) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert), not_after) == nullptr) {
    return absl::InternalError(absl::StrCat("ASN1_TIME_set: ", opensslErrors()));
  }
  return absl::OkStatus();
}

namespace {

absl::StatusOr<std::time_t> asTimeT(const ASN1_TIME* time) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(time, &tm) != 1) {
    return absl::InternalError(absl::StrCat("ASN1_TIME_to_tm: ", opensslErrors()));
  }
  return timegm(&tm);
}

}  // namespace

absl::StatusOr<std::time_t> notBefore(const X509* cert) {
  return asTimeT(X509_get0_notBefore(cert));
}

absl::StatusOr<std::time_t> notAfter(const X509* cert) { return asTimeT(X509_get0_notAfter(cert)); }

std::string serialHex(const X509* cert) {
  std::unique_ptr<BIGNUM, OpensslDeleter<BN_free>> bn(
      ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (!bn) return "";
  std::unique_ptr<char, OpensslDeleter<freeOpensslString>> hex(BN_bn2hex(bn.get()));
  if (!hex) return "";
  std::string out = absl::AsciiStrToLower(hex.get());
  return out.empty() ? "0" : out;
}

absl::StatusOr<std::vector<std::string>> uriSans(const X509* cert) {
  int critical = 0;
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, &critical, nullptr)));
  std::vector<std::string> out;
  if (!names) {
    // -1: no subjectAltName at all; -2: more than one; anything else: it did not decode.
    if (critical == -1) return out;
    ERR_clear_error();
    return absl::InvalidArgumentError(critical == -2
                                          ? "certificate has more than one subjectAltName extension"
                                          : "certificate has a malformed subjectAltName extension");
  }
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                     static_cast<size_t>(ASN1_STRING_length(uri)));
  }
  return out;
}

absl::Status addExtension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509ExtPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return absl::InternalError(
        absl::StrCat("extension ", OBJ_nid2sn(nid), "=", value, ": ", opensslErrors()));
  }
  return absl::OkStatus();
}

absl::Status addSubjectAltNames(X509* cert, GENERAL_NAMES* names, bool critical) {
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names, critical ? 1 : 0, X509V3_ADD_DEFAULT) !=
      1) {
    return absl::InternalError(absl::StrCat("subjectAltName: ", opensslErrors()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> verifyChain(X509* cert,
                                                     const std::vector<X509Ptr>& intermediates,
                                                     const std::vector<X509Ptr>& roots,
                                                     const std::string& what) {
  X509StorePtr store(X509_STORE_new());
  X509StackPtr untrusted(sk_X509_new_null());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx) return absl::InternalError("X509 store allocation failed");
  for (const X509Ptr& root : roots) {
    if (X509_STORE_add_cert(store.get(), root.get()) != 1) {
      return absl::InternalError(absl::StrCat("add trust anchor: ", opensslErrors()));
    }
  }
  // The stack borrows the certificates; `intermediates` keeps them alive.
  for (const X509Ptr& other : intermediates) {
    if (sk_X509_push(untrusted.get(), other.get()) <= 0) return absl::InternalError("sk_X509_push");
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), cert, untrusted.get()) != 1) {
    return absl::InternalError(absl::StrCat("X509_STORE_CTX_init: ", opensslErrors()));
  }
  if (X509_verify_cert(ctx.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat(what, " does not verify against the root: ",
                     X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()))));
  }
  std::vector<std::string> chain;
  STACK_OF(X509)* built = X509_STORE_CTX_get0_chain(ctx.get());
  for (int i = 0; i < sk_X509_num(built); ++i) {
    AMBIT_ASSIGN_OR_RETURN(std::string pem, certToPem(sk_X509_value(built, i)));
    chain.push_back(std::move(pem));
  }
  return chain;
}

}  // namespace ambit::tls
