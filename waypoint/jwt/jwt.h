// JSON Web Tokens (RFC 7519) signed as JWS compact serializations (RFC 7515), checked as Envoy's
// jwt_authn checks them for Istio's RequestAuthentication: the format, the claims' types, the
// time window with a clock skew, the audiences, then the signature with a key of the issuer's set.
//
// Algorithms: RS256/384/512, PS256/384/512, ES256/384/512 and EdDSA (Ed25519). HMAC (HS*) and
// "none" are refused, and a key only verifies the algorithms its type and curve are made for, so
// a token cannot choose how its own signature is checked.
//
// Failures carry Envoy's reason text ("Jwt is expired", "Jwt verification fails", ...), short
// enough for an access log and the body of the 401 response: InvalidArgument when the token is
// malformed, Unauthenticated when it is well formed but not acceptable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/struct.pb.h>

#include "core/status.h"
#include "waypoint/authz/request_auth.h"
#include "waypoint/jwt/jwks.h"

namespace ambit::waypoint {

struct JwtCheckOptions {
  size_t max_token_bytes = 8 * 1024;
  int64_t clock_skew_seconds = 60;  // Envoy's default
  // The rule's audiences: the token's `aud` must hold one of them (compared without an http://
  // or https:// prefix and a trailing '/', as Envoy does). Empty: any audience, or none.
  std::vector<std::string> audiences;
};

// A token split, decoded and its claims typed; its signature not yet checked.
struct ParsedJwt {
  std::string signing_input;      // "<header>.<payload>" as received, what the signature covers
  std::string payload_base64url;  // the payload part as received
  std::string payload_json;       // the decoded payload
  std::string signature;          // the decoded signature
  std::string alg;                // a supported algorithm
  std::string kid;                // empty: the header names no key
  google::protobuf::Struct payload;
  std::string issuer;                  // `iss`, empty when absent
  std::string subject;                 // `sub`
  std::string presenter;               // `azp` when it is a string
  std::vector<std::string> audiences;  // `aud`, a string becoming one entry
  std::optional<int64_t> expires;      // `exp`, seconds since the epoch
  std::optional<int64_t> not_before;   // `nbf`
};

// Splits and decodes `token`: exactly three unpadded base64url parts, a header object with a
// supported `alg`, a payload object whose registered claims have their types (`iss`, `sub`,
// `jti` strings; `exp`, `nbf`, `iat` non-negative numbers; `aud` a string or a list of strings).
// Tokens longer than `max_token_bytes` are refused before any decoding.
absl::StatusOr<ParsedJwt> parseJwt(std::string_view token, size_t max_token_bytes);

// The time window (`nbf` and `exp`, each with the clock skew) and the audiences.
absl::Status checkJwtClaims(const ParsedJwt& jwt, const JwtCheckOptions& options,
                            int64_t now_unix_seconds);

// The signature, with the keys of `keys` that may have made it: the token's `kid` (when both
// name one), the key's `alg` (when it has one), and the key's type and curve must all fit.
absl::Status verifyJwtSignature(const ParsedJwt& jwt, const Jwks& keys);

// A token that passed every check.
struct VerifiedJwt {
  std::string issuer;
  std::string subject;
  RequestAuth auth;
  std::string payload_json;       // for logs
  std::string payload_base64url;  // what outputPayloadToHeader forwards
};
VerifiedJwt verifiedJwt(ParsedJwt jwt);

// parseJwt, checkJwtClaims and verifyJwtSignature in that order (Envoy's).
absl::StatusOr<VerifiedJwt> verifyJwt(std::string_view token, const Jwks& keys,
                                      const JwtCheckOptions& options, int64_t now_unix_seconds);

}  // namespace ambit::waypoint
