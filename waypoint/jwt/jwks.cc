// JWKS parsing: the document through protobuf's JSON parser, each key built with
// EVP_PKEY_fromdata from its JWK parameters and checked with EVP_PKEY_public_check.
#include "waypoint/jwt/jwks.h"

#include <array>
#include <optional>

#include <absl/strings/escaping.h>
#include <absl/strings/str_cat.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <openssl/core_names.h>
#include <openssl/err.h>

#include "waypoint/jwt/openssl_handles.h"
#include "waypoint/route/text.h"

namespace ambit::waypoint {

void PublicKeyFree::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }

namespace {

using google::protobuf::Struct;
using google::protobuf::Value;
using jwt_internal::BignumPtr;
using jwt_internal::ParamBuildPtr;
using jwt_internal::ParamsPtr;
using jwt_internal::PkeyCtxPtr;

struct Curve {
  std::string_view jwk_name;  // "P-256"
  const char* openssl_name;   // OpenSSL's group name
  size_t coordinate_bytes;    // the size of x and y
  std::string_view jws_alg;   // the one JWS algorithm that uses the curve
};
constexpr std::array<Curve, 3> kCurves{{
    {"P-256", "prime256v1", 32, "ES256"},
    {"P-384", "secp384r1", 48, "ES384"},
    {"P-521", "secp521r1", 66, "ES512"},
}};
constexpr size_t kEd25519KeyBytes = 32;

const Curve* curveNamed(std::string_view jwk_name) {
  for (const Curve& curve : kCurves) {
    if (curve.jwk_name == jwk_name) return &curve;
  }
  return nullptr;
}

const Curve* curveOfAlg(std::string_view alg) {
  for (const Curve& curve : kCurves) {
    if (curve.jws_alg == alg) return &curve;
  }
  return nullptr;
}

// A member that must be a string when present: nullopt when absent, an error when of another type.
absl::StatusOr<std::optional<std::string>> optionalString(const Struct& object,
                                                          const std::string& name) {
  const auto it = object.fields().find(name);
  if (it == object.fields().end()) return std::nullopt;
  if (it->second.kind_case() != Value::kStringValue) {
    return absl::InvalidArgumentError(absl::StrCat("[", name, "] is not a string"));
  }
  return it->second.string_value();
}

// A required base64url member (JWK parameters are unpadded base64url; a padded one is accepted).
absl::StatusOr<std::string> base64UrlMember(const Struct& object, const std::string& name) {
  AMBIT_ASSIGN_OR_RETURN(std::optional<std::string> text, optionalString(object, name));
  if (!text) return absl::InvalidArgumentError(absl::StrCat("[", name, "] is missing"));
  std::string bytes;
  if (!absl::WebSafeBase64Unescape(*text, &bytes) || bytes.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("[", name, "] is not valid base64url"));
  }
  return bytes;
}

absl::Status opensslError(std::string_view what) {
  ERR_clear_error();  // the queue would otherwise leak into unrelated callers on this thread
  return absl::InvalidArgumentError(std::string(what));
}

// Builds a public key of OpenSSL's `type` from `params`, then checks it as OpenSSL can (an EC
// point on its curve, an RSA modulus and exponent that are plausible).
absl::StatusOr<PublicKeyPtr> publicKeyFromParams(const char* type, OSSL_PARAM_BLD* build) {
  ParamsPtr params(OSSL_PARAM_BLD_to_param(build));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
    return opensslError("the key cannot be built");
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1 ||
      raw == nullptr) {
    return opensslError("the key parameters are invalid");
  }
  PublicKeyPtr key(raw);
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    return opensslError("the public key does not pass OpenSSL's check");
  }
  return key;
}

absl::StatusOr<PublicKeyPtr> rsaKey(const Struct& jwk, std::string_view alg) {
  if (!alg.empty() && !alg.starts_with("RS") && !alg.starts_with("PS")) {
    return absl::InvalidArgumentError(
        absl::StrCat("[alg] \"", av(alg), "\" does not fit an RSA key"));
  }
  AMBIT_ASSIGN_OR_RETURN(const std::string n, base64UrlMember(jwk, "n"));
  AMBIT_ASSIGN_OR_RETURN(const std::string e, base64UrlMember(jwk, "e"));
  BignumPtr n_bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()),
                           static_cast<int>(n.size()), nullptr));
  BignumPtr e_bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()),
                           static_cast<int>(e.size()), nullptr));
  ParamBuildPtr build(OSSL_PARAM_BLD_new());
  if (!n_bn || !e_bn || !build ||
      OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_N, n_bn.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_E, e_bn.get()) != 1) {
    return opensslError("the RSA parameters cannot be built");
  }
  return publicKeyFromParams("RSA", build.get());
}

// A coordinate left-padded to the curve's size (some encoders drop leading zero bytes).
absl::StatusOr<std::string> coordinate(const Struct& jwk, const std::string& name,
                                       const Curve& curve) {
  AMBIT_ASSIGN_OR_RETURN(std::string bytes, base64UrlMember(jwk, name));
  if (bytes.size() > curve.coordinate_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("[", name, "] is longer than a ", av(curve.jwk_name), " coordinate"));
  }
  return std::string(curve.coordinate_bytes - bytes.size(), '\0') + bytes;
}

absl::StatusOr<PublicKeyPtr> ecKey(const Struct& jwk, std::string_view alg, std::string& crv) {
  if (!alg.empty() && !curveOfAlg(alg)) {
    return absl::InvalidArgumentError(
        absl::StrCat("[alg] \"", av(alg), "\" does not fit an EC key"));
  }
  // Without [crv], the algorithm names the curve.
  if (crv.empty() && !alg.empty()) crv = std::string(curveOfAlg(alg)->jwk_name);
  const Curve* curve = curveNamed(crv);
  if (curve == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("[crv] \"", crv, "\" is not supported"));
  }
  if (!alg.empty() && curve->jws_alg != alg) {
    return absl::InvalidArgumentError(
        absl::StrCat("[crv] \"", crv, "\" does not fit [alg] \"", av(alg), "\""));
  }
  AMBIT_ASSIGN_OR_RETURN(const std::string x, coordinate(jwk, "x", *curve));
  AMBIT_ASSIGN_OR_RETURN(const std::string y, coordinate(jwk, "y", *curve));
  const std::string point = absl::StrCat("\x04", x, y);  // uncompressed SEC 1 point
  ParamBuildPtr build(OSSL_PARAM_BLD_new());
  if (!build ||
      OSSL_PARAM_BLD_push_utf8_string(build.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve->openssl_name,
                                      0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(build.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return opensslError("the EC parameters cannot be built");
  }
  return publicKeyFromParams("EC", build.get());
}

absl::StatusOr<PublicKeyPtr> okpKey(const Struct& jwk, std::string_view alg,
                                    const std::string& crv) {
  if (!alg.empty() && alg != "EdDSA") {
    return absl::InvalidArgumentError(
        absl::StrCat("[alg] \"", av(alg), "\" does not fit an OKP key"));
  }
  if (crv != "Ed25519") {
    return absl::InvalidArgumentError(absl::StrCat("[crv] \"", crv, "\" is not supported"));
  }
  AMBIT_ASSIGN_OR_RETURN(const std::string x, base64UrlMember(jwk, "x"));
  if (x.size() != kEd25519KeyBytes) {
    return absl::InvalidArgumentError("[x] is not a 32-byte Ed25519 key");
  }
  ParamBuildPtr build(OSSL_PARAM_BLD_new());
  if (!build || OSSL_PARAM_BLD_push_octet_string(build.get(), OSSL_PKEY_PARAM_PUB_KEY, x.data(),
                                                 x.size()) != 1) {
    return opensslError("the Ed25519 parameters cannot be built");
  }
  return publicKeyFromParams("ED25519", build.get());
}

absl::StatusOr<Jwk> parseJwk(const Value& value) {
  if (value.kind_case() != Value::kStructValue) {
    return absl::InvalidArgumentError("the key is not a JSON object");
  }
  const Struct& object = value.struct_value();
  Jwk jwk;
  AMBIT_ASSIGN_OR_RETURN(std::optional<std::string> kty, optionalString(object, "kty"));
  AMBIT_ASSIGN_OR_RETURN(std::optional<std::string> kid, optionalString(object, "kid"));
  AMBIT_ASSIGN_OR_RETURN(std::optional<std::string> alg, optionalString(object, "alg"));
  AMBIT_ASSIGN_OR_RETURN(std::optional<std::string> crv, optionalString(object, "crv"));
  AMBIT_ASSIGN_OR_RETURN(std::optional<std::string> use, optionalString(object, "use"));
  if (!kty) return absl::InvalidArgumentError("[kty] is missing");
  jwk.kty = *kty;
  jwk.kid = kid.value_or("");
  jwk.alg = alg.value_or("");
  jwk.crv = crv.value_or("");
  // A key published for encryption must not verify signatures.
  if (use && *use != "sig") {
    return absl::InvalidArgumentError(absl::StrCat("[use] \"", *use, "\" is not \"sig\""));
  }
  if (jwk.kty == "RSA") {
    AMBIT_ASSIGN_OR_RETURN(jwk.key, rsaKey(object, jwk.alg));
  } else if (jwk.kty == "EC") {
    AMBIT_ASSIGN_OR_RETURN(jwk.key, ecKey(object, jwk.alg, jwk.crv));
  } else if (jwk.kty == "OKP") {
    AMBIT_ASSIGN_OR_RETURN(jwk.key, okpKey(object, jwk.alg, jwk.crv));
  } else if (jwk.kty == "oct") {
    return absl::InvalidArgumentError("[kty] \"oct\": HMAC secrets are not supported");
  } else {
    return absl::InvalidArgumentError(absl::StrCat("[kty] \"", jwk.kty, "\" is not supported"));
  }
  return jwk;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Jwks>> parseJwks(std::string_view json) {
  Struct document;
  if (!google::protobuf::util::JsonStringToMessage(std::string(json), &document).ok()) {
    return absl::InvalidArgumentError("Jwks is an invalid JSON");
  }
  const auto keys = document.fields().find("keys");
  if (keys == document.fields().end()) {
    return absl::InvalidArgumentError("Jwks does not have [keys] field");
  }
  if (keys->second.kind_case() != Value::kListValue) {
    return absl::InvalidArgumentError("[keys] in Jwks is not an array");
  }
  auto jwks = std::make_shared<Jwks>();
  const auto& list = keys->second.list_value().values();
  for (int i = 0; i < list.size(); ++i) {
    absl::StatusOr<Jwk> jwk = parseJwk(list[i]);
    if (jwk.ok()) {
      jwks->keys.push_back(*std::move(jwk));
      continue;
    }
    std::string label = absl::StrCat("key ", i);
    if (list[i].kind_case() == Value::kStructValue) {
      const auto kid = list[i].struct_value().fields().find("kid");
      if (kid != list[i].struct_value().fields().end() &&
          kid->second.kind_case() == Value::kStringValue) {
        absl::StrAppend(&label, " (kid \"", kid->second.string_value(), "\")");
      }
    }
    jwks->notes.push_back(absl::StrCat(label, ": ", jwk.status().message()));
  }
  if (jwks->keys.empty()) {
    std::string message = "Jwks doesn't have any valid public key";
    for (const std::string& note : jwks->notes) absl::StrAppend(&message, "; ", note);
    return absl::InvalidArgumentError(message);
  }
  return std::shared_ptr<const Jwks>(std::move(jwks));
}

}  // namespace ambit::waypoint
