#include "agent/identity/workload_csr.h"

#include <openssl/pem.h>

#include "core/tls/openssl_util.h"

namespace ambit::agent {
namespace {

void freeExtensions(STACK_OF(X509_EXTENSION) * exts) {
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
}
using ExtensionsPtr =
    std::unique_ptr<STACK_OF(X509_EXTENSION), tls::OpensslDeleter<freeExtensions>>;

// The URI is set as raw IA5 text rather than through OpenSSL's config syntax, so nothing in an
// identity can be read as another SAN or option.
absl::StatusOr<tls::X509ExtPtr> uriSanExtension(const std::string& uri) {
  tls::GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (!names) return absl::InternalError("sk_GENERAL_NAME_new_null failed");
  GENERAL_NAME* name = GENERAL_NAME_new();
  ASN1_IA5STRING* text = ASN1_IA5STRING_new();
  if (name == nullptr || text == nullptr ||
      ASN1_STRING_set(text, uri.data(), static_cast<int>(uri.size())) != 1) {
    GENERAL_NAME_free(name);
    ASN1_IA5STRING_free(text);
    return absl::InternalError(absl::StrCat("CSR subjectAltName: ", tls::opensslErrors()));
  }
  GENERAL_NAME_set0_value(name, GEN_URI, text);
  if (sk_GENERAL_NAME_push(names.get(), name) <= 0) {
    GENERAL_NAME_free(name);
    return absl::InternalError("sk_GENERAL_NAME_push failed");
  }
  tls::X509ExtPtr ext(X509V3_EXT_i2d(NID_subject_alt_name, 1, names.get()));
  if (!ext) return absl::InternalError(absl::StrCat("CSR subjectAltName: ", tls::opensslErrors()));
  return ext;
}

}  // namespace

absl::StatusOr<KeyAndCsr> makeWorkloadCsr(const tls::SpiffeId& id) {
  AMBIT_ASSIGN_OR_RETURN(tls::EvpPkeyPtr key, tls::generateP256Key());
  tls::X509ReqPtr req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), 0) != 1) {
    return absl::InternalError(absl::StrCat("X509_REQ_new: ", tls::opensslErrors()));
  }
  if (X509_REQ_set_pubkey(req.get(), key.get()) != 1) {
    return absl::InternalError(absl::StrCat("CSR public key: ", tls::opensslErrors()));
  }
  AMBIT_ASSIGN_OR_RETURN(tls::X509ExtPtr san, uriSanExtension(id.toString()));
  ExtensionsPtr exts(sk_X509_EXTENSION_new_null());
  if (!exts || sk_X509_EXTENSION_push(exts.get(), san.get()) <= 0) {
    return absl::InternalError("sk_X509_EXTENSION_push failed");
  }
  (void)san.release();  // owned by `exts` now
  if (X509_REQ_add_extensions(req.get(), exts.get()) != 1) {
    return absl::InternalError(absl::StrCat("CSR extensions: ", tls::opensslErrors()));
  }
  if (X509_REQ_sign(req.get(), key.get(), EVP_sha256()) <= 0) {
    return absl::InternalError(absl::StrCat("CSR signature: ", tls::opensslErrors()));
  }
  tls::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_REQ(bio.get(), req.get()) != 1) {
    return absl::InternalError(absl::StrCat("CSR PEM: ", tls::opensslErrors()));
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || data == nullptr) return absl::InternalError("CSR PEM: empty output");

  KeyAndCsr out;
  out.csr_pem.assign(data, static_cast<size_t>(len));
  AMBIT_ASSIGN_OR_RETURN(out.key_pem, tls::privateKeyToPem(key.get()));
  return out;
}

}  // namespace ambit::agent
