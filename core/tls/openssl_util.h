// RAII handles and small helpers over OpenSSL for the CA and for TLS: PEM in and out, key
// generation, serials, extensions, validity times and SANs, each failure turned into an
// absl::Status with OpenSSL's reason.
#pragma once

#include <chrono>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/status.h"

namespace ambit::tls {

template <auto fn>
struct OpensslDeleter {
  template <typename T>
  void operator()(T* p) const {
    fn(p);
  }
};

using X509Ptr = std::unique_ptr<X509, OpensslDeleter<X509_free>>;
using X509ReqPtr = std::unique_ptr<X509_REQ, OpensslDeleter<X509_REQ_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpensslDeleter<EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, OpensslDeleter<BIO_free_all>>;
using X509ExtPtr = std::unique_ptr<X509_EXTENSION, OpensslDeleter<X509_EXTENSION_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, OpensslDeleter<GENERAL_NAMES_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, OpensslDeleter<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OpensslDeleter<X509_STORE_CTX_free>>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, OpensslDeleter<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, OpensslDeleter<SSL_free>>;
// sk_X509_free is a macro; a stack built here borrows its certificates, so only the stack is freed.
inline void freeX509Stack(STACK_OF(X509) * stack) { sk_X509_free(stack); }
using X509StackPtr = std::unique_ptr<STACK_OF(X509), OpensslDeleter<freeX509Stack>>;

// Drains OpenSSL's error queue into one line ("error:...; error:..."), or "unknown error".
std::string opensslErrors();

// Every certificate in `pem`, in order; an error names `what` if there is none or one is malformed.
absl::StatusOr<std::vector<X509Ptr>> parseCertsPem(const std::string& pem, const std::string& what);
// Exactly one certificate.
absl::StatusOr<X509Ptr> parseCertPem(const std::string& pem, const std::string& what);
absl::StatusOr<EvpPkeyPtr> parsePrivateKeyPem(const std::string& pem, const std::string& what);

absl::StatusOr<std::string> certToPem(X509* cert);
absl::StatusOr<std::string> privateKeyToPem(EVP_PKEY* key);  // PKCS#8, unencrypted

absl::StatusOr<EvpPkeyPtr> generateP256Key();

// "ECDSA P-256", "ECDSA P-384", "RSA-2048", "ED25519": how a key is named in messages.
std::string describeKey(EVP_PKEY* key);
bool isP256(EVP_PKEY* key);

// A random positive 128-bit serial number.
absl::Status setRandomSerial(X509* cert);
absl::Status setValidity(X509* cert, std::time_t not_before, std::time_t not_after);
absl::StatusOr<std::time_t> notBefore(const X509* cert);
absl::StatusOr<std::time_t> notAfter(const X509* cert);
// The serial number in lowercase hex without leading zeros ("1f03..."), as logs print it.
std::string serialHex(const X509* cert);
// Every URI subjectAltName entry, in order. A second subjectAltName extension makes the
// certificate ambiguous and is an InvalidArgumentError rather than a silent pick.
absl::StatusOr<std::vector<std::string>> uriSans(const X509* cert);

// Adds an extension from OpenSSL's config syntax; only for fixed values, never for caller input.
absl::Status addExtension(X509* cert, X509V3_CTX* ctx, int nid, const char* value);
// Adds subjectAltName from already-built names, so no caller text is ever parsed as config.
absl::Status addSubjectAltNames(X509* cert, GENERAL_NAMES* names, bool critical);

// Verifies `cert` at the current time up to one of `roots`, through any of `intermediates`, and
// returns the chain that verified as PEMs (`cert` first, the root last). `what` names `cert`.
absl::StatusOr<std::vector<std::string>> verifyChain(X509* cert,
                                                     const std::vector<X509Ptr>& intermediates,
                                                     const std::vector<X509Ptr>& roots,
                                                     const std::string& what);

}  // namespace ambit::tls
