// JWT parsing and verification. JSON goes through protobuf's parser into a Struct, base64url
// through absl, signatures through OpenSSL's EVP_DigestVerify.
#include "waypoint/jwt/jwt.h"

#include <algorithm>
#include <array>
#include <limits>

#include <absl/strings/escaping.h>
#include <google/protobuf/util/json_util.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "waypoint/jwt/openssl_handles.h"
#include "waypoint/route/text.h"

namespace ambit::waypoint {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;
using jwt_internal::EcdsaSigPtr;
using jwt_internal::MdCtxPtr;

enum class KeyKind { kRsa, kEc, kOkp };

struct Algorithm {
  std::string_view name;
  KeyKind kind;
  const EVP_MD* (*digest)();  // null for EdDSA, which hashes internally
  bool pss;                   // RSASSA-PSS rather than PKCS #1 v1.5
  std::string_view crv;       // the JWK curve an EC or OKP key must have
  size_t coordinate_bytes;    // ECDSA: r and s are each this long in a JWS signature
};
constexpr std::array<Algorithm, 10> kAlgorithms{{
    {"RS256", KeyKind::kRsa, EVP_sha256, false, "", 0},
    {"RS384", KeyKind::kRsa, EVP_sha384, false, "", 0},
    {"RS512", KeyKind::kRsa, EVP_sha512, false, "", 0},
    {"PS256", KeyKind::kRsa, EVP_sha256, true, "", 0},
    {"PS384", KeyKind::kRsa, EVP_sha384, true, "", 0},
    {"PS512", KeyKind::kRsa, EVP_sha512, true, "", 0},
    {"ES256", KeyKind::kEc, EVP_sha256, false, "P-256", 32},
    {"ES384", KeyKind::kEc, EVP_sha384, false, "P-384", 48},
    {"ES512", KeyKind::kEc, EVP_sha512, false, "P-521", 66},
    {"EdDSA", KeyKind::kOkp, nullptr, false, "Ed25519", 0},
}};

const Algorithm* algorithmNamed(std::string_view name) {
  for (const Algorithm& alg : kAlgorithms) {
    if (alg.name == name) return &alg;
  }
  return nullptr;
}

// Claims larger than this are clamped, so that adding a clock skew never overflows; the value
// is still billions of years away.
constexpr int64_t kLatestTime = int64_t{1} << 62;

absl::Status malformed(std::string_view reason) {
  return absl::InvalidArgumentError(std::string(reason));
}
absl::Status refused(std::string_view reason) {
  return absl::UnauthenticatedError(std::string(reason));
}

bool isBase64UrlChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// Strict base64url: the URL-safe alphabet only, no padding, and the one canonical encoding of the
// bytes (no stray bits), so that a token has exactly one spelling.
std::optional<std::string> decodeBase64Url(std::string_view text) {
  if (text.empty() || text.size() % 4 == 1 ||
      !std::all_of(text.begin(), text.end(), isBase64UrlChar)) {
    return std::nullopt;
  }
  std::string bytes;
  if (!absl::WebSafeBase64Unescape(av(text), &bytes) || absl::WebSafeBase64Escape(bytes) != text) {
    return std::nullopt;
  }
  return bytes;
}

std::optional<Struct> parseObject(const std::string& json) {
  Struct object;
  if (!google::protobuf::util::JsonStringToMessage(json, &object).ok()) return std::nullopt;
  return object;
}

const Value* member(const Struct& object, const std::string& name) {
  const auto it = object.fields().find(name);
  return it == object.fields().end() ? nullptr : &it->second;
}

// A string member: true when absent or a string (copied into `out`), false for another type.
bool readString(const Struct& object, const std::string& name, std::string& out) {
  const Value* value = member(object, name);
  if (value == nullptr) return true;
  if (value->kind_case() != Value::kStringValue) return false;
  out = value->string_value();
  return true;
}

// A NumericDate member (`exp`, `nbf`, `iat`): a non-negative number, fractions dropped.
absl::Status readTime(const Struct& object, const std::string& name, std::optional<int64_t>& out) {
  const Value* value = member(object, name);
  if (value == nullptr) return absl::OkStatus();
  if (value->kind_case() != Value::kNumberValue) {
    return malformed(absl::StrCat("Jwt payload [", name, "] field is not an integer"));
  }
  const double number = value->number_value();
  if (!(number >= 0) || number >= static_cast<double>(std::numeric_limits<uint64_t>::max())) {
    return malformed(
        absl::StrCat("Jwt payload [", name, "] field is not a positive 64 bit integer"));
  }
  out = number >= static_cast<double>(kLatestTime) ? kLatestTime : static_cast<int64_t>(number);
  return absl::OkStatus();
}

absl::Status readAudiences(const Struct& object, std::vector<std::string>& out) {
  const Value* value = member(object, "aud");
  if (value == nullptr) return absl::OkStatus();
  if (value->kind_case() == Value::kStringValue) {
    out.push_back(value->string_value());
    return absl::OkStatus();
  }
  if (value->kind_case() == Value::kListValue) {
    for (const Value& item : value->list_value().values()) {
      if (item.kind_case() != Value::kStringValue) break;
      out.push_back(item.string_value());
    }
    if (out.size() == static_cast<size_t>(value->list_value().values_size())) {
      return absl::OkStatus();
    }
  }
  return malformed("Jwt payload [aud] field is not a string or string list");
}

absl::Status parseHeader(std::string_view part, ParsedJwt& jwt) {
  const std::optional<std::string> json = decodeBase64Url(part);
  if (!json) return malformed("Jwt header is an invalid Base64url encoded");
  const std::optional<Struct> header = parseObject(*json);
  if (!header) return malformed("Jwt header is an invalid JSON");
  const Value* alg = member(*header, "alg");
  if (alg == nullptr || alg->kind_case() != Value::kStringValue) {
    return malformed("Jwt header [alg] field is required and must be a string");
  }
  // "none", HMAC and anything unknown alike.
  if (algorithmNamed(alg->string_value()) == nullptr) {
    return malformed("Jwt header [alg] is not supported");
  }
  jwt.alg = alg->string_value();
  if (!readString(*header, "kid", jwt.kid))
    return malformed("Jwt header [kid] field is not a string");
  // RFC 7515 4.1.11: extensions the recipient does not understand must be refused, and none is.
  if (member(*header, "crit") != nullptr) return malformed("Jwt header [crit] is not supported");
  return absl::OkStatus();
}

absl::Status parsePayload(std::string_view part, ParsedJwt& jwt) {
  std::optional<std::string> json = decodeBase64Url(part);
  if (!json) return malformed("Jwt payload is an invalid Base64url encoded");
  std::optional<Struct> payload = parseObject(*json);
  if (!payload) return malformed("Jwt payload is an invalid JSON");
  if (!readString(*payload, "iss", jwt.issuer)) {
    return malformed("Jwt payload [iss] field is not a string");
  }
  if (!readString(*payload, "sub", jwt.subject)) {
    return malformed("Jwt payload [sub] field is not a string");
  }
  std::optional<int64_t> issued_at;
  AMBIT_RETURN_IF_ERROR(readTime(*payload, "iat", issued_at));
  AMBIT_RETURN_IF_ERROR(readTime(*payload, "nbf", jwt.not_before));
  AMBIT_RETURN_IF_ERROR(readTime(*payload, "exp", jwt.expires));
  std::string jti;
  if (!readString(*payload, "jti", jti)) {
    return malformed("Jwt payload [jti] field is not a string");
  }
  AMBIT_RETURN_IF_ERROR(readAudiences(*payload, jwt.audiences));
  if (const Value* azp = member(*payload, "azp");
      azp != nullptr && azp->kind_case() == Value::kStringValue) {
    jwt.presenter = azp->string_value();
  }
  jwt.payload_base64url = std::string(part);
  jwt.payload_json = *std::move(json);
  jwt.payload = *std::move(payload);
  return absl::OkStatus();
}

// Envoy compares audiences without the URL scheme and a trailing '/'.
std::string_view normalizeAudience(std::string_view aud) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (aud.starts_with(scheme)) {
      aud.remove_prefix(scheme.size());
      break;
    }
  }
  if (!aud.empty() && aud.back() == '/') aud.remove_suffix(1);
  return aud;
}

bool keyFits(const Algorithm& alg, const Jwk& jwk) {
  if (!jwk.key) return false;
  switch (alg.kind) {
    case KeyKind::kRsa:
      return jwk.kty == "RSA" && EVP_PKEY_is_a(jwk.key.get(), "RSA");
    case KeyKind::kEc:
      return jwk.kty == "EC" && jwk.crv == alg.crv && EVP_PKEY_is_a(jwk.key.get(), "EC");
    case KeyKind::kOkp:
      return jwk.kty == "OKP" && jwk.crv == alg.crv && EVP_PKEY_is_a(jwk.key.get(), "ED25519");
  }
  return false;
}

// A JWS ECDSA signature is r || s, each the curve's size; OpenSSL verifies the DER form.
std::optional<std::string> ecdsaSignatureToDer(std::string_view raw, size_t coordinate_bytes) {
  if (raw.size() != 2 * coordinate_bytes) return std::nullopt;
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  const int size = static_cast<int>(coordinate_bytes);
  EcdsaSigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(bytes, size, nullptr);
  BIGNUM* s = BN_bin2bn(bytes + coordinate_bytes, size, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);  // ECDSA_SIG_set0 owns them only when it succeeds
    BN_free(s);
    ERR_clear_error();
    return std::nullopt;
  }
  const int length = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (length <= 0) {
    ERR_clear_error();
    return std::nullopt;
  }
  std::string der(static_cast<size_t>(length), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &out) != length) {
    ERR_clear_error();
    return std::nullopt;
  }
  return der;
}

bool verifyWith(const Algorithm& alg, EVP_PKEY* key, std::string_view input,
                std::string_view signature) {
  std::string der;
  if (alg.kind == KeyKind::kEc) {
    std::optional<std::string> converted = ecdsaSignatureToDer(signature, alg.coordinate_bytes);
    if (!converted) return false;
    der = *std::move(converted);
    signature = der;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* key_ctx = nullptr;  // owned by ctx
  const EVP_MD* md = alg.digest != nullptr ? alg.digest() : nullptr;
  bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), &key_ctx, md, nullptr, key) == 1;
  if (ok && alg.pss) {
    // RFC 7518 3.5: MGF1 with the same hash, a salt as long as the hash.
    ok = EVP_PKEY_CTX_set_rsa_padding(key_ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(key_ctx, md) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(key_ctx, RSA_PSS_SALTLEN_DIGEST) == 1;
  }
  ok =
      ok && EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                             input.size()) == 1;
  if (!ok) ERR_clear_error();
  return ok;
}

}  // namespace

absl::StatusOr<ParsedJwt> parseJwt(std::string_view token, size_t max_token_bytes) {
  if (token.size() > max_token_bytes) return malformed("Jwt exceeds the maximum size");
  const size_t first_dot = token.find('.');
  const size_t second_dot =
      first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos ||
      token.find('.', second_dot + 1) != std::string_view::npos || first_dot == 0 ||
      second_dot == first_dot + 1 || second_dot + 1 == token.size()) {
    return malformed(
        "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections");
  }
  ParsedJwt jwt;
  AMBIT_RETURN_IF_ERROR(parseHeader(token.substr(0, first_dot), jwt));
  AMBIT_RETURN_IF_ERROR(parsePayload(token.substr(first_dot + 1, second_dot - first_dot - 1), jwt));
  std::optional<std::string> signature = decodeBase64Url(token.substr(second_dot + 1));
  if (!signature) return malformed("Jwt signature is an invalid Base64url encoded");
  jwt.signature = *std::move(signature);
  jwt.signing_input = std::string(token.substr(0, second_dot));
  return jwt;
}

absl::Status checkJwtClaims(const ParsedJwt& jwt, const JwtCheckOptions& options,
                            int64_t now_unix_seconds) {
  const int64_t now = std::clamp<int64_t>(now_unix_seconds, 0, kLatestTime);
  const int64_t skew = std::clamp<int64_t>(options.clock_skew_seconds, 0, kLatestTime);
  if (jwt.not_before && now + skew < *jwt.not_before) return refused("Jwt not yet valid");
  if (jwt.expires && now > *jwt.expires + skew) return refused("Jwt is expired");
  if (options.audiences.empty()) return absl::OkStatus();
  for (const std::string& allowed : options.audiences) {
    for (const std::string& aud : jwt.audiences) {
      if (normalizeAudience(allowed) == normalizeAudience(aud)) return absl::OkStatus();
    }
  }
  return refused("Audiences in Jwt are not allowed");
}

absl::Status verifyJwtSignature(const ParsedJwt& jwt, const Jwks& keys) {
  const Algorithm* alg = algorithmNamed(jwt.alg);
  if (alg == nullptr) return malformed("Jwt header [alg] is not supported");
  bool any_candidate = false;
  for (const Jwk& jwk : keys.keys) {
    // As Envoy: a kid on both sides must agree; a key without one may have signed any token.
    if (!jwt.kid.empty() && !jwk.kid.empty() && jwk.kid != jwt.kid) continue;
    if (!jwk.alg.empty() && jwk.alg != jwt.alg) continue;
    if (!keyFits(*alg, jwk)) continue;
    any_candidate = true;
    if (verifyWith(*alg, jwk.key.get(), jwt.signing_input, jwt.signature)) {
      return absl::OkStatus();
    }
  }
  return refused(any_candidate ? "Jwt verification fails"
                               : "Jwks doesn't have key to match kid or alg from Jwt");
}

VerifiedJwt verifiedJwt(ParsedJwt jwt) {
  VerifiedJwt out;
  out.auth.principal = absl::StrCat(jwt.issuer, "/", jwt.subject);
  out.auth.audiences = std::move(jwt.audiences);
  out.auth.presenter = std::move(jwt.presenter);
  out.auth.claims = std::move(jwt.payload);
  out.issuer = std::move(jwt.issuer);
  out.subject = std::move(jwt.subject);
  out.payload_json = std::move(jwt.payload_json);
  out.payload_base64url = std::move(jwt.payload_base64url);
  return out;
}

absl::StatusOr<VerifiedJwt> verifyJwt(std::string_view token, const Jwks& keys,
                                      const JwtCheckOptions& options, int64_t now_unix_seconds) {
  AMBIT_ASSIGN_OR_RETURN(ParsedJwt jwt, parseJwt(token, options.max_token_bytes));
  AMBIT_RETURN_IF_ERROR(checkJwtClaims(jwt, options, now_unix_seconds));
  AMBIT_RETURN_IF_ERROR(verifyJwtSignature(jwt, keys));
  return verifiedJwt(std::move(jwt));
}

}  // namespace ambit::waypoint
