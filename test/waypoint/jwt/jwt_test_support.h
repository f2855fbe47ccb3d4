// Helpers for the JWT tests: key pairs generated with OpenSSL, their public halves as JWK JSON,
// and tokens signed as an issuer signs them (ECDSA signatures in JWS's raw r || s form).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "waypoint/jwt/jwks.h"
#include "waypoint/jwt/jwt.h"

namespace ambit::waypoint::testing {

// The time every test runs at.
constexpr int64_t kNow = 1'700'000'000;

class TestKey {
 public:
  // Each generated once per test run.
  static const TestKey& rsa();
  static const TestKey& otherRsa();  // a second RSA key, for "signed by the wrong key"
  static const TestKey& p256();
  static const TestKey& p384();
  static const TestKey& p521();
  static const TestKey& ed25519();

  // The public key as a JWK JSON object with `kid` (when not empty) and `alg` (when not empty).
  std::string jwk(std::string_view kid, std::string_view alg = "") const;
  // The JWS signature of `input` with algorithm `alg` (RS*, PS*, ES*, EdDSA).
  std::string sign(std::string_view alg, std::string_view input) const;

  explicit TestKey(EVP_PKEY* key) : key_(key) {}

 private:
  PublicKeyPtr key_;  // the whole key pair
};

// {"keys": [<jwks>...]}
std::string jwksJson(std::initializer_list<std::string> jwks);
// parseJwks, which must succeed.
std::shared_ptr<const Jwks> jwksOf(std::initializer_list<std::string> jwks);

std::string base64Url(std::string_view bytes);

// A compact JWS of `payload_json` with header {"alg": alg, "typ": "JWT", "kid": kid (when not
// empty)}, signed by `key`.
std::string makeToken(const TestKey& key, std::string_view alg, std::string_view payload_json,
                      std::string_view kid = "");
// A compact JWS with the header text given as is.
std::string signToken(const TestKey& key, std::string_view alg, std::string_view header_json,
                      std::string_view payload_json);
// "<header>.<payload>.<signature>" from the texts and signature bytes given.
std::string rawToken(std::string_view header_json, std::string_view payload_json,
                     std::string_view signature);

}  // namespace ambit::waypoint::testing
