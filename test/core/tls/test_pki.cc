#include "test/core/tls/test_pki.h"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include <openssl/pem.h>
#include <openssl/rsa.h>

namespace ambit::tls::testing {
namespace {

void check(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error(what + ": " + opensslErrors());
}

std::string bioString(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

const EVP_MD* digestFor(EVP_PKEY* key) {
  return EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
}

void addExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  check(ext != nullptr && X509_add_ext(cert, ext.get(), -1) == 1, "extension");
}

}  // namespace

EvpPkeyPtr makeKey(const std::string& kind) {
  EvpPkeyPtr key;
  if (kind == "P-256" || kind == "P-384") {
    key.reset(EVP_EC_gen(kind.c_str()));
  } else if (kind == "RSA-2048") {
    key.reset(EVP_RSA_gen(2048));
  } else if (kind == "Ed25519") {
    key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  }
  check(key != nullptr, "generate " + kind);
  return key;
}

std::string makeCsr(EVP_PKEY* key, const std::vector<std::string>& san_list,
                    const std::string& cn) {
  X509ReqPtr req(X509_REQ_new());
  check(req != nullptr && X509_REQ_set_version(req.get(), 0) == 1, "X509_REQ_new");
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                   0) == 1,
        "CSR subject");
  check(X509_REQ_set_pubkey(req.get(), key) == 1, "CSR key");
  if (!san_list.empty()) {
    std::string joined;
    for (const std::string& san : san_list) joined += (joined.empty() ? "" : ",") + san;
    STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
    X509_EXTENSION* ext =
        X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, joined.c_str());
    check(ext != nullptr, "CSR SAN");
    sk_X509_EXTENSION_push(exts, ext);
    check(X509_REQ_add_extensions(req.get(), exts) == 1, "CSR extensions");
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  }
  check(X509_REQ_sign(req.get(), key, digestFor(key)) > 0, "CSR sign");
  BioPtr bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_X509_REQ(bio.get(), req.get()) == 1, "CSR PEM");
  return bioString(bio.get());
}

std::string tamperCsr(const std::string& csr_pem) {
  BioPtr in(BIO_new_mem_buf(csr_pem.data(), static_cast<int>(csr_pem.size())));
  X509ReqPtr req(PEM_read_bio_X509_REQ(in.get(), nullptr, nullptr, nullptr));
  check(req != nullptr, "parse CSR to tamper");
  unsigned char* der = nullptr;
  const int len = i2d_X509_REQ(req.get(), &der);
  check(len > 0, "CSR DER");
  std::string bytes(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  const size_t at = bytes.find("tamper-me");
  if (at == std::string::npos) throw std::runtime_error("CSR subject must contain tamper-me");
  bytes[at] = 'T';
  // Base64 of the changed DER in 64-column lines, as PEM wants.
  std::string b64(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  b64.resize(static_cast<size_t>(n));
  std::string pem = "-----BEGIN CERTIFICATE REQUEST-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
  return pem + "-----END CERTIFICATE REQUEST-----\n";
}

TestCa makeCa(const std::string& cn, const TestCa* issuer) {
  TestCa ca;
  ca.key = makeKey("P-256");
  ca.cert.reset(X509_new());
  X509* cert = ca.cert.get();
  check(X509_set_version(cert, X509_VERSION_3) == 1, "version");
  check(setRandomSerial(cert).ok(), "serial");
  check(X509_gmtime_adj(X509_getm_notBefore(cert), -3600) != nullptr, "notBefore");
  check(X509_gmtime_adj(X509_getm_notAfter(cert), 365L * 24 * 3600) != nullptr, "notAfter");
  X509_NAME* name = X509_get_subject_name(cert);
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                   0) == 1,
        "CA subject");
  X509* issuer_cert = issuer != nullptr ? issuer->cert.get() : cert;
  EVP_PKEY* issuer_key = issuer != nullptr ? issuer->key.get() : ca.key.get();
  check(X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert)) == 1, "issuer");
  check(X509_set_pubkey(cert, ca.key.get()) == 1, "CA key");
  addExt(cert, issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
  addExt(cert, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  addExt(cert, issuer_cert, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) addExt(cert, issuer_cert, NID_authority_key_identifier, "keyid:always");
  check(X509_sign(cert, issuer_key, EVP_sha256()) > 0, "CA sign");
  ca.cert_pem = *certToPem(cert);
  ca.key_pem = *privateKeyToPem(ca.key.get());
  return ca;
}

TestCa makeLeaf(const TestCa& issuer, const LeafSpec& spec) {
  TestCa leaf;
  leaf.key = makeKey(spec.key_kind);
  leaf.cert.reset(X509_new());
  X509* cert = leaf.cert.get();
  check(X509_set_version(cert, X509_VERSION_3) == 1, "version");
  check(setRandomSerial(cert).ok(), "serial");
  check(X509_gmtime_adj(X509_getm_notBefore(cert), spec.not_before) != nullptr, "notBefore");
  check(X509_gmtime_adj(X509_getm_notAfter(cert), spec.not_after) != nullptr, "notAfter");
  check(X509_set_issuer_name(cert, X509_get_subject_name(issuer.cert.get())) == 1, "issuer");
  check(X509_set_pubkey(cert, leaf.key.get()) == 1, "leaf key");
  X509* issuer_cert = issuer.cert.get();
  addExt(cert, issuer_cert, NID_basic_constraints,
         spec.ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  addExt(cert, issuer_cert, NID_key_usage,
         spec.ca ? "critical,digitalSignature,keyCertSign" : "critical,digitalSignature");
  addExt(cert, issuer_cert, NID_ext_key_usage, "serverAuth,clientAuth");
  addExt(cert, issuer_cert, NID_authority_key_identifier, "keyid:always");
  if (!spec.sans.empty()) {
    std::string joined;
    for (const std::string& san : spec.sans) joined += (joined.empty() ? "" : ",") + san;
    addExt(cert, issuer_cert, NID_subject_alt_name, ("critical," + joined).c_str());
  }
  check(X509_sign(cert, issuer.key.get(), EVP_sha256()) > 0, "leaf sign");
  leaf.cert_pem = *certToPem(cert);
  leaf.key_pem = *privateKeyToPem(leaf.key.get());
  return leaf;
}

X509Ptr parse(const std::string& pem) {
  absl::StatusOr<X509Ptr> cert = parseCertPem(pem, "test certificate");
  if (!cert.ok()) throw std::runtime_error(std::string(cert.status().message()));
  return std::move(*cert);
}

std::vector<std::string> sans(X509* cert) {
  std::vector<std::string> out;
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = gn->d.iPAddress;
      std::string value;
      for (int b = 0; b < ASN1_STRING_length(ip); ++b) {
        value += (b == 0 ? "" : ".") + std::to_string(ASN1_STRING_get0_data(ip)[b]);
      }
      out.push_back("IP:" + value);
      continue;
    }
    const char* prefix = gn->type == GEN_URI ? "URI:" : gn->type == GEN_DNS ? "DNS:" : "OTHER:";
    const ASN1_IA5STRING* s = gn->type == GEN_URI || gn->type == GEN_DNS ? gn->d.ia5 : nullptr;
    out.push_back(std::string(prefix) +
                  (s != nullptr
                       ? std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                     static_cast<size_t>(ASN1_STRING_length(s)))
                       : ""));
  }
  return out;
}

long validitySeconds(X509* cert) {
  int days = 0;
  int secs = 0;
  check(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert), X509_get0_notAfter(cert)) == 1,
        "ASN1_TIME_diff");
  return static_cast<long>(days) * 86400 + secs;
}

bool extensionCritical(X509* cert, int nid) {
  const int at = X509_get_ext_by_NID(cert, nid, -1);
  return at >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert, at)) == 1;
}

int verifyChain(const std::vector<std::string>& chain, const std::string& root_pem, int purpose) {
  X509StorePtr store(X509_STORE_new());
  absl::StatusOr<std::vector<X509Ptr>> roots = parseCertsPem(root_pem, "root");
  if (!roots.ok()) throw std::runtime_error(std::string(roots.status().message()));
  for (const X509Ptr& root : *roots) X509_STORE_add_cert(store.get(), root.get());
  std::vector<X509Ptr> certs;
  certs.reserve(chain.size());
  for (const std::string& pem : chain) certs.push_back(parse(pem));
  X509StackPtr untrusted(sk_X509_new_null());
  for (size_t i = 1; i < certs.size(); ++i) sk_X509_push(untrusted.get(), certs[i].get());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  check(X509_STORE_CTX_init(ctx.get(), store.get(), certs.front().get(), untrusted.get()) == 1,
        "store init");
  if (purpose != 0) X509_STORE_CTX_set_purpose(ctx.get(), purpose);
  if (X509_verify_cert(ctx.get()) == 1) return X509_V_OK;
  const int error = X509_STORE_CTX_get_error(ctx.get());
  return error == X509_V_OK ? X509_V_ERR_UNSPECIFIED : error;
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "ambit-ca-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void writeText(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("write " + path.string());
}

}  // namespace ambit::tls::testing
