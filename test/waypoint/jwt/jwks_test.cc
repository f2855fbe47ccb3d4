// JWKS parsing: every supported key type, the keys skipped (and noted), the documents refused.
#include <openssl/evp.h>
#include <catch2/catch.hpp>

#include "test/waypoint/jwt/jwt_test_support.h"

namespace ambit::waypoint::testing {
namespace {

TEST_CASE("jwks: RSA, EC and Ed25519 keys are parsed with their kid, alg and curve") {
  const auto jwks = jwksOf({TestKey::rsa().jwk("r1", "RS256"), TestKey::p256().jwk("e1"),
                            TestKey::p384().jwk("e2", "ES384"), TestKey::p521().jwk("e3"),
                            TestKey::ed25519().jwk("o1")});
  REQUIRE(jwks->keys.size() == 5);
  CHECK(jwks->notes.empty());
  struct Expected {
    const char* kid;
    const char* kty;
    const char* alg;
    const char* crv;
    const char* openssl_type;
  };
  const Expected expected[] = {{"r1", "RSA", "RS256", "", "RSA"},
                               {"e1", "EC", "", "P-256", "EC"},
                               {"e2", "EC", "ES384", "P-384", "EC"},
                               {"e3", "EC", "", "P-521", "EC"},
                               {"o1", "OKP", "", "Ed25519", "ED25519"}};
  for (size_t i = 0; i < 5; ++i) {
    const Jwk& key = jwks->keys[i];
    INFO(expected[i].kid);
    CHECK(key.kid == expected[i].kid);
    CHECK(key.kty == expected[i].kty);
    CHECK(key.alg == expected[i].alg);
    CHECK(key.crv == expected[i].crv);
    REQUIRE(key.key != nullptr);
    CHECK(EVP_PKEY_is_a(key.key.get(), expected[i].openssl_type));
  }
}

TEST_CASE("jwks: an EC key without crv takes the curve of its alg") {
  std::string jwk = TestKey::p384().jwk("e", "ES384");
  const std::string crv = R"("crv":"P-384",)";
  REQUIRE(jwk.find(crv) != std::string::npos);
  jwk.erase(jwk.find(crv), crv.size());
  const auto jwks = jwksOf({jwk});
  REQUIRE(jwks->keys.size() == 1);
  CHECK(jwks->keys[0].crv == "P-384");
}

TEST_CASE("jwks: unusable keys are skipped with a note, the usable ones kept") {
  struct Case {
    const char* name;
    std::string jwk;
    const char* note;
  };
  std::string off_curve = TestKey::p256().jwk("bad");
  {
    // Replace y by x: (x, x) is not a point of the curve.
    const size_t x = off_curve.find(R"("x":")") + 5;
    const size_t y = off_curve.find(R"("y":")") + 5;
    const std::string x_value = off_curve.substr(x, off_curve.find('"', x) - x);
    off_curve.replace(y, off_curve.find('"', y) - y, x_value);
  }
  const std::vector<Case> cases = {
      {"unknown kty", R"({"kty":"XYZ","kid":"a"})", "key 0 (kid \"a\"): [kty] \"XYZ\""},
      {"no kty", R"({"kid":"a","n":"AQAB"})", "[kty] is missing"},
      {"HMAC secret", R"({"kty":"oct","k":"c2VjcmV0"})", "HMAC secrets are not supported"},
      {"bad base64 modulus", R"({"kty":"RSA","n":"!!!","e":"AQAB"})", "[n] is not valid base64url"},
      {"missing exponent", R"({"kty":"RSA","n":"AQAB"})", "[e] is missing"},
      {"RSA key with an EC alg", TestKey::rsa().jwk("r", "ES256"), "does not fit an RSA key"},
      {"EC curve and alg disagree", TestKey::p256().jwk("e", "ES384"), "does not fit [alg]"},
      {"unsupported curve", R"({"kty":"EC","crv":"P-192","x":"AQAB","y":"AQAB"})",
       "[crv] \"P-192\" is not supported"},
      {"point off the curve", off_curve, "key 0 (kid \"bad\")"},
      {"Ed448", R"({"kty":"OKP","crv":"Ed448","x":"AQAB"})", "[crv] \"Ed448\""},
      {"short Ed25519 key", R"({"kty":"OKP","crv":"Ed25519","x":"AQAB"})", "32-byte"},
      {"encryption key", R"({"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"})", "[use] \"enc\""},
      {"kid not a string", R"({"kty":"RSA","kid":7,"n":"AQAB","e":"AQAB"})",
       "[kid] is not a string"},
      {"not an object", R"("key")", "not a JSON object"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const std::string json = jwksJson({c.jwk, TestKey::p256().jwk("good")});
    absl::StatusOr<std::shared_ptr<const Jwks>> jwks = parseJwks(json);
    REQUIRE(jwks.ok());
    REQUIRE((*jwks)->keys.size() == 1);
    CHECK((*jwks)->keys[0].kid == "good");
    REQUIRE((*jwks)->notes.size() == 1);
    CHECK_THAT((*jwks)->notes[0], Catch::Contains(c.note));

    // Alone, the key leaves the set empty: an error.
    absl::StatusOr<std::shared_ptr<const Jwks>> alone = parseJwks(jwksJson({c.jwk}));
    REQUIRE_FALSE(alone.ok());
    CHECK_THAT(std::string(alone.status().message()),
               Catch::StartsWith("Jwks doesn't have any valid public key"));
  }
}

TEST_CASE("jwks: documents that are not key sets are refused") {
  const std::pair<const char*, const char*> cases[] = {
      {"not json", "Jwks is an invalid JSON"},
      {"[1,2]", "Jwks is an invalid JSON"},
      {R"({"kty":"RSA"})", "Jwks does not have [keys] field"},
      {R"({"keys":{}})", "[keys] in Jwks is not an array"},
      {R"({"keys":[]})", "Jwks doesn't have any valid public key"},
  };
  for (const auto& [json, message] : cases) {
    INFO(json);
    absl::StatusOr<std::shared_ptr<const Jwks>> jwks = parseJwks(json);
    REQUIRE_FALSE(jwks.ok());
    CHECK(jwks.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(jwks.status().message()) == message);
  }
}

}  // namespace
}  // namespace ambit::waypoint::testing
