// The agent's CSR as the mesh CA reads it: a fresh P-256 key and exactly one SAN, the SPIFFE URI.
#include <catch2/catch.hpp>

#include <openssl/pem.h>

#include "agent/identity/workload_csr.h"
#include "control/ca/csr.h"

namespace ambit::agent {
namespace {

// Every subjectAltName entry of the CSR as "URI:..." or "OTHER", so a stray DNS name shows.
std::vector<std::string> csrSans(const std::string& pem) {
  tls::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  tls::X509ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  REQUIRE(req != nullptr);
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req.get());
  REQUIRE(exts != nullptr);
  auto* names =
      static_cast<GENERAL_NAMES*>(X509V3_get_d2i(exts, NID_subject_alt_name, nullptr, nullptr));
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  REQUIRE(names != nullptr);
  std::vector<std::string> out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type != GEN_URI) {
      out.emplace_back("OTHER");
      continue;
    }
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    out.push_back("URI:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                                       static_cast<size_t>(ASN1_STRING_length(uri))));
  }
  GENERAL_NAMES_free(names);
  return out;
}

TEST_CASE("a workload CSR carries the SPIFFE ID as its only SAN and a new P-256 key") {
  const tls::SpiffeId id{"cluster.local", "shop", "cart"};
  absl::StatusOr<KeyAndCsr> made = makeWorkloadCsr(id);
  REQUIRE(made.ok());

  absl::StatusOr<control::ca::Csr> csr = control::ca::Csr::parse(made->csr_pem);
  INFO(csr.status().ToString());
  REQUIRE(csr.ok());  // also checks the self-signature and that the key is P-256
  CHECK(csr->uriSans() == std::vector<std::string>{"spiffe://cluster.local/ns/shop/sa/cart"});
  CHECK(csrSans(made->csr_pem) ==
        std::vector<std::string>{"URI:spiffe://cluster.local/ns/shop/sa/cart"});

  absl::StatusOr<tls::EvpPkeyPtr> key = tls::parsePrivateKeyPem(made->key_pem, "key");
  REQUIRE(key.ok());
  CHECK(tls::isP256(key->get()));
  CHECK(EVP_PKEY_eq(key->get(), csr->publicKey()) == 1);
  CHECK(made->csr_pem.find("PRIVATE KEY") == std::string::npos);

  absl::StatusOr<KeyAndCsr> again = makeWorkloadCsr(id);
  REQUIRE(again.ok());
  CHECK(again->key_pem != made->key_pem);
}

}  // namespace
}  // namespace ambit::agent
