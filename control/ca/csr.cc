#include "control/ca/csr.h"

#include <openssl/err.h>
#include <openssl/pem.h>

namespace ambit::control::ca {
namespace {

void freeExtensions(STACK_OF(X509_EXTENSION) * exts) {
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
}
using ExtensionsPtr =
    std::unique_ptr<STACK_OF(X509_EXTENSION), tls::OpensslDeleter<freeExtensions>>;

absl::StatusOr<std::vector<std::string>> readUriSans(X509_REQ* req) {
  std::vector<std::string> uris;
  ExtensionsPtr exts(X509_REQ_get_extensions(req));
  if (!exts) return uris;
  int critical = 0;
  tls::GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509V3_get_d2i(exts.get(), NID_subject_alt_name, &critical, nullptr)));
  if (!names) {
    // -1: no such extension; -2: more than one; otherwise the extension did not decode.
    if (critical == -1) return uris;
    return absl::InvalidArgumentError("CSR has a malformed or repeated subjectAltName extension");
  }
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    uris.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                      static_cast<size_t>(ASN1_STRING_length(uri)));
  }
  return uris;
}

}  // namespace

absl::StatusOr<Csr> Csr::parse(const std::string& pem) {
  if (pem.size() > kMaxBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("CSR is ", pem.size(), " bytes; the limit is ", kMaxBytes));
  }
  ERR_clear_error();
  tls::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return absl::InternalError("BIO_new_mem_buf failed");
  Csr csr;
  csr.req_.reset(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!csr.req_) {
    ERR_clear_error();
    return absl::InvalidArgumentError("CSR is not a PEM certificate request");
  }
  EVP_PKEY* key = csr.publicKey();
  if (key == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError("CSR has no usable public key");
  }
  if (!tls::isP256(key)) {
    return absl::InvalidArgumentError(
        absl::StrCat("CSR key must be ECDSA P-256, got ", tls::describeKey(key)));
  }
  if (X509_REQ_verify(csr.req_.get(), key) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("CSR signature does not verify with its own key");
  }
  AMBIT_ASSIGN_OR_RETURN(csr.uri_sans_, readUriSans(csr.req_.get()));
  return csr;
}

}  // namespace ambit::control::ca
