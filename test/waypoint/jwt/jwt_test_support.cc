// Key generation, JWK export and JWS signing for the JWT tests, with OpenSSL's EVP API.
#include "test/waypoint/jwt/jwt_test_support.h"

#include <vector>

#include <absl/strings/escaping.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_join.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <catch2/catch.hpp>

#include "waypoint/route/text.h"

namespace ambit::waypoint::testing {
namespace {

template <auto free_fn>
struct Free {
  template <typename T>
  void operator()(T* p) const {
    free_fn(p);
  }
};
using Bignum = std::unique_ptr<BIGNUM, Free<BN_free>>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, Free<EVP_MD_CTX_free>>;
using EcdsaSig = std::unique_ptr<ECDSA_SIG, Free<ECDSA_SIG_free>>;

EVP_PKEY* generate(const char* type, const char* curve) {
  EVP_PKEY* key = nullptr;
  if (std::string_view(type) == "RSA") {
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
  } else if (curve != nullptr) {
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve);
  } else {
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, type);
  }
  REQUIRE(key != nullptr);
  return key;
}

std::string bignumParam(EVP_PKEY* key, const char* name, int pad_to = 0) {
  BIGNUM* raw = nullptr;
  REQUIRE(EVP_PKEY_get_bn_param(key, name, &raw) == 1);
  Bignum bn(raw);
  const int size = pad_to > 0 ? pad_to : BN_num_bytes(bn.get());
  std::string out(static_cast<size_t>(size), '\0');
  REQUIRE(BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), size) == size);
  return out;
}

const EVP_MD* digestOf(std::string_view alg) {
  if (alg == "EdDSA") return nullptr;
  if (alg.ends_with("384")) return EVP_sha384();
  if (alg.ends_with("512")) return EVP_sha512();
  return EVP_sha256();
}

int coordinateBytes(EVP_PKEY* key) { return (EVP_PKEY_get_bits(key) + 7) / 8; }

}  // namespace

const TestKey& TestKey::rsa() {
  static const TestKey key(generate("RSA", nullptr));
  return key;
}
const TestKey& TestKey::otherRsa() {
  static const TestKey key(generate("RSA", nullptr));
  return key;
}
const TestKey& TestKey::p256() {
  static const TestKey key(generate("EC", "P-256"));
  return key;
}
const TestKey& TestKey::p384() {
  static const TestKey key(generate("EC", "P-384"));
  return key;
}
const TestKey& TestKey::p521() {
  static const TestKey key(generate("EC", "P-521"));
  return key;
}
const TestKey& TestKey::ed25519() {
  static const TestKey key(generate("ED25519", nullptr));
  return key;
}

std::string TestKey::jwk(std::string_view kid, std::string_view alg) const {
  EVP_PKEY* key = key_.get();
  std::vector<std::string> members;
  if (EVP_PKEY_is_a(key, "RSA")) {
    members.emplace_back(R"("kty":"RSA")");
    members.push_back(
        absl::StrCat(R"("n":")", base64Url(bignumParam(key, OSSL_PKEY_PARAM_RSA_N)), "\""));
    members.push_back(
        absl::StrCat(R"("e":")", base64Url(bignumParam(key, OSSL_PKEY_PARAM_RSA_E)), "\""));
  } else if (EVP_PKEY_is_a(key, "EC")) {
    const int size = coordinateBytes(key);
    const char* crv = size == 32 ? "P-256" : size == 48 ? "P-384" : "P-521";
    members.push_back(absl::StrCat(R"("kty":"EC","crv":")", crv, "\""));
    members.push_back(absl::StrCat(
        R"("x":")", base64Url(bignumParam(key, OSSL_PKEY_PARAM_EC_PUB_X, size)), "\""));
    members.push_back(absl::StrCat(
        R"("y":")", base64Url(bignumParam(key, OSSL_PKEY_PARAM_EC_PUB_Y, size)), "\""));
  } else {
    std::string raw(32, '\0');
    size_t length = raw.size();
    REQUIRE(EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(raw.data()),
                                        &length) == 1);
    raw.resize(length);
    members.emplace_back(R"("kty":"OKP","crv":"Ed25519")");
    members.push_back(absl::StrCat(R"("x":")", base64Url(raw), "\""));
  }
  if (!kid.empty()) members.push_back(absl::StrCat(R"("kid":")", av(kid), "\""));
  if (!alg.empty()) members.push_back(absl::StrCat(R"("alg":")", av(alg), "\""));
  return absl::StrCat("{", absl::StrJoin(members, ","), "}");
}

std::string TestKey::sign(std::string_view alg, std::string_view input) const {
  MdCtx ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* key_ctx = nullptr;
  const EVP_MD* md = digestOf(alg);
  REQUIRE(EVP_DigestSignInit(ctx.get(), &key_ctx, md, nullptr, key_.get()) == 1);
  if (alg.starts_with("PS")) {
    REQUIRE(EVP_PKEY_CTX_set_rsa_padding(key_ctx, RSA_PKCS1_PSS_PADDING) == 1);
    REQUIRE(EVP_PKEY_CTX_set_rsa_mgf1_md(key_ctx, md) == 1);
    REQUIRE(EVP_PKEY_CTX_set_rsa_pss_saltlen(key_ctx, RSA_PSS_SALTLEN_DIGEST) == 1);
  }
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  size_t length = 0;
  REQUIRE(EVP_DigestSign(ctx.get(), nullptr, &length, data, input.size()) == 1);
  std::string signature(length, '\0');
  REQUIRE(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                         data, input.size()) == 1);
  signature.resize(length);
  if (!alg.starts_with("ES")) return signature;
  // DER to JWS's r || s.
  const auto* der = reinterpret_cast<const unsigned char*>(signature.data());
  EcdsaSig sig(d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(signature.size())));
  REQUIRE(sig != nullptr);
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  const int size = coordinateBytes(key_.get());
  std::string raw(static_cast<size_t>(2 * size), '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  REQUIRE(BN_bn2binpad(r, out, size) == size);
  REQUIRE(BN_bn2binpad(s, out + size, size) == size);
  return raw;
}

std::string jwksJson(std::initializer_list<std::string> jwks) {
  return absl::StrCat(R"({"keys":[)", absl::StrJoin(jwks, ","), "]}");
}

std::shared_ptr<const Jwks> jwksOf(std::initializer_list<std::string> jwks) {
  absl::StatusOr<std::shared_ptr<const Jwks>> parsed = parseJwks(jwksJson(jwks));
  INFO(parsed.status().ToString());
  REQUIRE(parsed.ok());
  return *parsed;
}

std::string base64Url(std::string_view bytes) { return absl::WebSafeBase64Escape(av(bytes)); }

std::string makeToken(const TestKey& key, std::string_view alg, std::string_view payload_json,
                      std::string_view kid) {
  std::string header = absl::StrCat(R"({"alg":")", av(alg), R"(","typ":"JWT")");
  if (!kid.empty()) absl::StrAppend(&header, R"(,"kid":")", av(kid), "\"");
  header += "}";
  return signToken(key, alg, header, payload_json);
}

std::string signToken(const TestKey& key, std::string_view alg, std::string_view header_json,
                      std::string_view payload_json) {
  const std::string input = absl::StrCat(base64Url(header_json), ".", base64Url(payload_json));
  return absl::StrCat(input, ".", base64Url(key.sign(alg, input)));
}

std::string rawToken(std::string_view header_json, std::string_view payload_json,
                     std::string_view signature) {
  return absl::StrCat(base64Url(header_json), ".", base64Url(payload_json), ".",
                      base64Url(signature));
}

}  // namespace ambit::waypoint::testing
