// JSON Web Key Sets (RFC 7517) as RequestAuthentication uses them: the public keys an issuer signs
// its tokens with, parsed once (inline `jwks` when the config is compiled, a `jwksUri` document
// when it is fetched) into OpenSSL keys ready to verify signatures.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/types.h>

#include "core/status.h"

namespace ambit::waypoint {

struct PublicKeyFree {
  void operator()(EVP_PKEY* key) const;
};
using PublicKeyPtr = std::unique_ptr<EVP_PKEY, PublicKeyFree>;

// One usable public key.
struct Jwk {
  std::string kid;  // empty: the key has none
  std::string kty;  // "RSA", "EC" or "OKP"
  std::string alg;  // empty: any algorithm that fits the key
  std::string crv;  // "P-256", "P-384", "P-521" or "Ed25519"; empty for RSA
  PublicKeyPtr key;
};

struct Jwks {
  std::vector<Jwk> keys;
  // The keys skipped and why ("key 2 (kid \"a\"): [kty] \"oct\" is not supported"), for a log.
  std::vector<std::string> notes;
};

// Parses a JWKS document ({"keys": [...]}). Keys that cannot be used (a key type or curve that is
// not supported, HMAC secrets, encryption keys, bad base64url, a point off its curve) are skipped
// with a note; a set left without any usable key is an InvalidArgument error.
absl::StatusOr<std::shared_ptr<const Jwks>> parseJwks(std::string_view json);

}  // namespace ambit::waypoint
