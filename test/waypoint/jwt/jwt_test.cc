// JWT verification: every algorithm, and each reason a token is refused.
#include <catch2/catch.hpp>

#include <absl/strings/str_cat.h>
#include <openssl/evp.h>

#include "test/waypoint/jwt/jwt_test_support.h"
#include "waypoint/route/text.h"

namespace ambit::waypoint::testing {
namespace {

constexpr const char* kIssuer = "https://issuer.example";

std::string payload(std::string_view extra = "") {
  return absl::StrCat(R"({"iss":"https://issuer.example","sub":"alice")", extra.empty() ? "" : ",",
                      av(extra), "}");
}

// The issuer's keys: one of each type, each with a kid.
std::shared_ptr<const Jwks> issuerKeys() {
  static const std::shared_ptr<const Jwks> keys =
      jwksOf({TestKey::rsa().jwk("rsa"), TestKey::p256().jwk("p256"), TestKey::p384().jwk("p384"),
              TestKey::p521().jwk("p521"), TestKey::ed25519().jwk("ed")});
  return keys;
}

absl::StatusOr<VerifiedJwt> verify(const std::string& token, const JwtCheckOptions& options = {},
                                   const Jwks* keys = nullptr) {
  return verifyJwt(token, keys != nullptr ? *keys : *issuerKeys(), options, kNow);
}

// The token is refused with `reason` and status `code`.
void checkRefused(const std::string& token, std::string_view reason,
                  absl::StatusCode code = absl::StatusCode::kUnauthenticated,
                  const JwtCheckOptions& options = {}, const Jwks* keys = nullptr) {
  absl::StatusOr<VerifiedJwt> verified = verify(token, options, keys);
  REQUIRE_FALSE(verified.ok());
  CHECK(std::string(verified.status().message()) == reason);
  CHECK(verified.status().code() == code);
}

TEST_CASE("jwt: every supported algorithm verifies with the key made for it") {
  struct Case {
    const char* alg;
    const TestKey& key;
    const char* kid;
  };
  const Case cases[] = {
      {"RS256", TestKey::rsa(), "rsa"},   {"RS384", TestKey::rsa(), "rsa"},
      {"RS512", TestKey::rsa(), "rsa"},   {"PS256", TestKey::rsa(), "rsa"},
      {"PS384", TestKey::rsa(), "rsa"},   {"PS512", TestKey::rsa(), "rsa"},
      {"ES256", TestKey::p256(), "p256"}, {"ES384", TestKey::p384(), "p384"},
      {"ES512", TestKey::p521(), "p521"}, {"EdDSA", TestKey::ed25519(), "ed"},
  };
  for (const Case& c : cases) {
    INFO(c.alg);
    for (const bool with_kid : {true, false}) {
      INFO("kid: " << with_kid);
      const std::string token =
          makeToken(c.key, c.alg, payload(R"("aud":"svc","azp":"web")"), with_kid ? c.kid : "");
      absl::StatusOr<VerifiedJwt> verified = verify(token);
      INFO(verified.status().ToString());
      REQUIRE(verified.ok());
      CHECK(verified->issuer == kIssuer);
      CHECK(verified->subject == "alice");
      CHECK(verified->auth.principal == "https://issuer.example/alice");
      CHECK(verified->auth.audiences == std::vector<std::string>{"svc"});
      CHECK(verified->auth.presenter == "web");
      CHECK(verified->payload_json == payload(R"("aud":"svc","azp":"web")"));
      CHECK(verified->payload_base64url == base64Url(verified->payload_json));
    }
  }
}

TEST_CASE("jwt: the claims of a valid token are kept whole, nested ones included") {
  const std::string token = makeToken(
      TestKey::p256(), "ES256",
      payload(R"("aud":["a","b"],"groups":["admin"],"realm":{"roles":["x"],"n":3})"), "p256");
  absl::StatusOr<VerifiedJwt> verified = verify(token);
  REQUIRE(verified.ok());
  CHECK(verified->auth.audiences == std::vector<std::string>{"a", "b"});
  CHECK(verified->auth.presenter.empty());
  const auto& claims = verified->auth.claims.fields();
  CHECK(claims.at("groups").list_value().values(0).string_value() == "admin");
  const auto& realm = claims.at("realm").struct_value().fields();
  CHECK(realm.at("roles").list_value().values(0).string_value() == "x");
  CHECK(realm.at("n").number_value() == 3);
}

TEST_CASE("jwt: algorithms that are not supported are refused, none and HMAC included") {
  const std::string body = payload();
  SECTION("alg none") {
    checkRefused(rawToken(R"({"alg":"none"})", body, "x"), "Jwt header [alg] is not supported",
                 absl::StatusCode::kInvalidArgument);
  }
  SECTION("alg missing or not a string") {
    for (const char* header : {R"({"typ":"JWT"})", R"({"alg":256})"}) {
      checkRefused(rawToken(header, body, "x"),
                   "Jwt header [alg] field is required and must be a string",
                   absl::StatusCode::kInvalidArgument);
    }
  }
  SECTION("unknown alg") {
    checkRefused(rawToken(R"({"alg":"XS256"})", body, "x"), "Jwt header [alg] is not supported",
                 absl::StatusCode::kInvalidArgument);
  }
  SECTION("HS256 keyed with the RSA public key (algorithm confusion)") {
    // The classic attack: an HMAC whose secret is the issuer's public key, which anyone has.
    const std::string secret = TestKey::rsa().jwk("rsa");
    const std::string input =
        absl::StrCat(base64Url(R"({"alg":"HS256","kid":"rsa"})"), ".", base64Url(body));
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t mac_length = 0;
    REQUIRE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
                      reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
                      sizeof(mac), &mac_length) != nullptr);
    const std::string token = absl::StrCat(
        input, ".", base64Url(std::string_view(reinterpret_cast<char*>(mac), mac_length)));
    checkRefused(token, "Jwt header [alg] is not supported", absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("jwt: a key only verifies the algorithms its type and curve are made for") {
  const std::string no_key = "Jwks doesn't have key to match kid or alg from Jwt";
  SECTION("an RSA key does not verify ES256") {
    const auto rsa_only = jwksOf({TestKey::rsa().jwk("k")});
    checkRefused(makeToken(TestKey::p256(), "ES256", payload(), "k"), no_key,
                 absl::StatusCode::kUnauthenticated, {}, rsa_only.get());
  }
  SECTION("a P-384 key does not verify ES256") {
    const auto p384_only = jwksOf({TestKey::p384().jwk("k")});
    checkRefused(makeToken(TestKey::p256(), "ES256", payload(), "k"), no_key,
                 absl::StatusCode::kUnauthenticated, {}, p384_only.get());
  }
  SECTION("an EC key does not verify EdDSA, an Ed25519 key not RS256") {
    const auto keys = jwksOf({TestKey::p256().jwk("k")});
    checkRefused(makeToken(TestKey::ed25519(), "EdDSA", payload(), "k"), no_key,
                 absl::StatusCode::kUnauthenticated, {}, keys.get());
    const auto ed = jwksOf({TestKey::ed25519().jwk("k")});
    checkRefused(makeToken(TestKey::rsa(), "RS256", payload(), "k"), no_key,
                 absl::StatusCode::kUnauthenticated, {}, ed.get());
  }
  SECTION("a key whose alg differs from the token's") {
    const auto rs512 = jwksOf({TestKey::rsa().jwk("rsa", "RS512")});
    checkRefused(makeToken(TestKey::rsa(), "RS256", payload(), "rsa"), no_key,
                 absl::StatusCode::kUnauthenticated, {}, rs512.get());
    // The same key verifies the algorithm it names.
    CHECK(verify(makeToken(TestKey::rsa(), "RS512", payload(), "rsa"), {}, rs512.get()).ok());
  }
  SECTION("a kid that no key has") {
    checkRefused(makeToken(TestKey::rsa(), "RS256", payload(), "other"), no_key);
  }
}

TEST_CASE("jwt: kid chooses among the keys, and without one every fitting key is tried") {
  const auto two_rsa = jwksOf({TestKey::otherRsa().jwk("old"), TestKey::rsa().jwk("new")});
  CHECK(verify(makeToken(TestKey::rsa(), "RS256", payload()), {}, two_rsa.get()).ok());
  CHECK(verify(makeToken(TestKey::rsa(), "RS256", payload(), "new"), {}, two_rsa.get()).ok());
  // Named by kid, the other key is the only one tried.
  checkRefused(makeToken(TestKey::rsa(), "RS256", payload(), "old"), "Jwt verification fails",
               absl::StatusCode::kUnauthenticated, {}, two_rsa.get());
  // A key without kid may have signed a token that names one (Envoy's rule).
  const auto no_kid = jwksOf({TestKey::rsa().jwk("")});
  CHECK(verify(makeToken(TestKey::rsa(), "RS256", payload(), "any"), {}, no_kid.get()).ok());
}

TEST_CASE("jwt: tampering and the wrong key fail verification") {
  const std::string token = makeToken(TestKey::rsa(), "RS256", payload(), "rsa");
  REQUIRE(verify(token).ok());
  const size_t first_dot = token.find('.');
  const size_t second_dot = token.find('.', first_dot + 1);
  SECTION("another payload under the same signature") {
    const std::string forged =
        absl::StrCat(token.substr(0, first_dot), ".", base64Url(payload(R"("admin":true)")),
                     token.substr(second_dot));
    checkRefused(forged, "Jwt verification fails");
  }
  SECTION("a signature changed in one character") {
    std::string forged = token;
    char& c = forged[second_dot + 10];
    c = c == 'A' ? 'B' : 'A';
    checkRefused(forged, "Jwt verification fails");
  }
  SECTION("an ECDSA signature of the wrong length") {
    const std::string input =
        absl::StrCat(base64Url(R"({"alg":"ES256","kid":"p256"})"), ".", base64Url(payload()));
    const std::string signature = TestKey::p256().sign("ES256", input);
    REQUIRE(verify(absl::StrCat(input, ".", base64Url(signature))).ok());
    checkRefused(absl::StrCat(input, ".", base64Url(signature.substr(0, 63))),
                 "Jwt verification fails");
    checkRefused(absl::StrCat(input, ".", base64Url(signature + "x")), "Jwt verification fails");
  }
  SECTION("signed by another key under the issuer's kid") {
    checkRefused(makeToken(TestKey::otherRsa(), "RS256", payload(), "rsa"),
                 "Jwt verification fails");
    checkRefused(makeToken(TestKey::p384(), "ES256", payload(), "p256"), "Jwt verification fails");
  }
}

TEST_CASE("jwt: exp and nbf with the clock skew") {
  const auto at = [](std::string_view claim, int64_t offset) {
    return makeToken(TestKey::p256(), "ES256",
                     payload(absl::StrCat("\"", av(claim), "\":", kNow + offset)), "p256");
  };
  checkRefused(at("exp", -61), "Jwt is expired");
  CHECK(verify(at("exp", -60)).ok());  // within the 60 s skew
  CHECK(verify(at("exp", -1)).ok());
  CHECK(verify(at("exp", 3600)).ok());
  checkRefused(at("nbf", 61), "Jwt not yet valid");
  CHECK(verify(at("nbf", 60)).ok());
  CHECK(verify(at("nbf", -3600)).ok());
  JwtCheckOptions strict;
  strict.clock_skew_seconds = 0;
  checkRefused(at("exp", -1), "Jwt is expired", absl::StatusCode::kUnauthenticated, strict);
  // iat is typed but not compared with the clock.
  CHECK(verify(at("iat", 3600)).ok());
  // A fraction is dropped, as Envoy does.
  CHECK(verify(makeToken(TestKey::p256(), "ES256",
                         payload(absl::StrCat("\"exp\":", kNow + 10, ".5")), "p256"))
            .ok());
}

TEST_CASE("jwt: registered claims of the wrong type make the payload malformed") {
  const std::pair<const char*, const char*> cases[] = {
      {R"("exp":"tomorrow")", "Jwt payload [exp] field is not an integer"},
      {R"("exp":-5)", "Jwt payload [exp] field is not a positive 64 bit integer"},
      {R"("nbf":true)", "Jwt payload [nbf] field is not an integer"},
      {R"("iat":"now")", "Jwt payload [iat] field is not an integer"},
      {R"("aud":5)", "Jwt payload [aud] field is not a string or string list"},
      {R"("aud":["a",5])", "Jwt payload [aud] field is not a string or string list"},
      {R"("jti":1)", "Jwt payload [jti] field is not a string"},
  };
  for (const auto& [extra, reason] : cases) {
    INFO(extra);
    checkRefused(makeToken(TestKey::p256(), "ES256", payload(extra), "p256"), reason,
                 absl::StatusCode::kInvalidArgument);
  }
  checkRefused(makeToken(TestKey::p256(), "ES256", R"({"iss":7,"sub":"a"})", "p256"),
               "Jwt payload [iss] field is not a string", absl::StatusCode::kInvalidArgument);
  checkRefused(makeToken(TestKey::p256(), "ES256", R"({"iss":"a","sub":["a"]})", "p256"),
               "Jwt payload [sub] field is not a string", absl::StatusCode::kInvalidArgument);
}

TEST_CASE("jwt: audiences") {
  JwtCheckOptions options;
  options.audiences = {"my-service", "https://api.example.com/"};
  const auto with_aud = [](std::string_view aud) {
    return makeToken(TestKey::p256(), "ES256", payload(absl::StrCat(R"("aud":)", av(aud))), "p256");
  };
  const std::string not_allowed = "Audiences in Jwt are not allowed";
  CHECK(verify(with_aud(R"("my-service")"), options).ok());
  CHECK(verify(with_aud(R"(["other","my-service"])"), options).ok());
  // Envoy compares without the scheme and a trailing slash.
  CHECK(verify(with_aud(R"("api.example.com")"), options).ok());
  CHECK(verify(with_aud(R"("http://my-service/")"), options).ok());
  checkRefused(with_aud(R"("other")"), not_allowed, absl::StatusCode::kUnauthenticated, options);
  checkRefused(with_aud(R"(["a","b"])"), not_allowed, absl::StatusCode::kUnauthenticated, options);
  checkRefused(with_aud("[]"), not_allowed, absl::StatusCode::kUnauthenticated, options);
  checkRefused(makeToken(TestKey::p256(), "ES256", payload(), "p256"), not_allowed,
               absl::StatusCode::kUnauthenticated, options);
  // No audiences in the rule: any, or none.
  CHECK(verify(with_aud(R"("other")")).ok());
  CHECK(verify(makeToken(TestKey::p256(), "ES256", payload(), "p256")).ok());
}

TEST_CASE("jwt: malformed tokens") {
  const std::string good = makeToken(TestKey::p256(), "ES256", payload(), "p256");
  const size_t first_dot = good.find('.');
  const size_t second_dot = good.find('.', first_dot + 1);
  const std::string header = good.substr(0, first_dot);
  const std::string body = good.substr(first_dot + 1, second_dot - first_dot - 1);
  const std::string signature = good.substr(second_dot + 1);
  const std::string format =
      "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections";
  const auto bad = absl::StatusCode::kInvalidArgument;

  SECTION("not three parts") {
    checkRefused(absl::StrCat(header, ".", body), format, bad);
    checkRefused(absl::StrCat(good, ".", signature), format, bad);
    checkRefused(absl::StrCat(header, ".", body, "."), format, bad);
    checkRefused(absl::StrCat(header, "..", signature), format, bad);
    checkRefused("", format, bad);
    checkRefused("abc", format, bad);
  }
  SECTION("bad base64url") {
    checkRefused(absl::StrCat(header, "=.", body, ".", signature),
                 "Jwt header is an invalid Base64url encoded", bad);
    checkRefused(absl::StrCat("eyJ+", header.substr(4), ".", body, ".", signature),
                 "Jwt header is an invalid Base64url encoded", bad);
    checkRefused(absl::StrCat(header, ".", body, "*.", signature),
                 "Jwt payload is an invalid Base64url encoded", bad);
    checkRefused(absl::StrCat(header, ".", body, ".", signature, "=="),
                 "Jwt signature is an invalid Base64url encoded", bad);
    checkRefused(absl::StrCat(header, ".", body, ".", "A"),
                 "Jwt signature is an invalid Base64url encoded", bad);
    checkRefused(absl::StrCat(header, " .", body, ".", signature),
                 "Jwt header is an invalid Base64url encoded", bad);
  }
  SECTION("a header that is not a JSON object") {
    for (const char* text : {"not json", "[1]", R"("alg")", "{"}) {
      INFO(text);
      checkRefused(rawToken(text, payload(), "sig"), "Jwt header is an invalid JSON", bad);
    }
    checkRefused(rawToken(R"({"alg":"ES256","kid":7})", payload(), "sig"),
                 "Jwt header [kid] field is not a string", bad);
    checkRefused(rawToken(R"({"alg":"ES256","crit":["b64"]})", payload(), "sig"),
                 "Jwt header [crit] is not supported", bad);
  }
  SECTION("a payload that is not a JSON object") {
    for (const char* text : {"not json", "[1,2]", R"("claims")", "42", ""}) {
      INFO(text);
      const std::string token = std::string_view(text).empty()
                                    ? absl::StrCat(header, "..", signature)
                                    : rawToken(R"({"alg":"ES256"})", text, "sig");
      checkRefused(token,
                   std::string_view(text).empty() ? format : "Jwt payload is an invalid JSON", bad);
    }
  }
  SECTION("an oversized token is refused before decoding") {
    const std::string big =
        makeToken(TestKey::p256(), "ES256",
                  payload(absl::StrCat(R"("pad":")", std::string(9000, 'x'), "\"")), "p256");
    checkRefused(big, "Jwt exceeds the maximum size", bad);
    JwtCheckOptions roomy;
    roomy.max_token_bytes = 16 * 1024;
    CHECK(verify(big, roomy).ok());
  }
}

}  // namespace
}  // namespace ambit::waypoint::testing
