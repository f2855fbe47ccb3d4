// Request authentication by compiled RequestAuthentication rules: where tokens are found, how
// each finds its rule, failing closed without keys, the header changes, Istio's example 12.
#include <fstream>
#include <map>
#include <sstream>

#include <absl/strings/escaping.h>
#include <absl/strings/str_cat.h>
#include <catch2/catch.hpp>

#include "core/config/loader.h"
#include "core/config/validate/validate.h"
#include "test/waypoint/jwt/jwt_test_support.h"
#include "waypoint/jwt/request_authn.h"
#include "waypoint/route/text.h"

namespace ambit::waypoint::testing {
namespace {

using Kind = AuthnResult::Kind;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr const char* kIssuerA = "https://a.example";  // signs with P-256, kid "a"
constexpr const char* kIssuerB = "https://b.example";  // signs with RSA, kid "b"
constexpr const char* kUriB = "https://b.example/jwks.json";

class FakeLookup final : public JwksLookup {
 public:
  std::map<std::string, std::shared_ptr<const Jwks>, std::less<>> sets;
  const Jwks* find(std::string_view uri) const override {
    const auto it = sets.find(uri);
    return it == sets.end() ? nullptr : it->second.get();
  }
};

const FakeLookup& fetchedB() {
  static const FakeLookup lookup = [] {
    FakeLookup out;
    out.sets[kUriB] = jwksOf({TestKey::rsa().jwk("b")});
    return out;
  }();
  return lookup;
}

// Issuer A with its keys inline.
security::JWTRule ruleA() {
  security::JWTRule rule;
  rule.set_issuer(kIssuerA);
  rule.set_jwks(jwksJson({TestKey::p256().jwk("a")}));
  return rule;
}

// Issuer B with its keys at a URI.
security::JWTRule ruleB() {
  security::JWTRule rule;
  rule.set_issuer(kIssuerB);
  rule.set_jwks_uri(kUriB);
  return rule;
}

RequestAuthnEntry policy(std::string name, std::vector<security::JWTRule> rules) {
  RequestAuthnEntry entry{"default", std::move(name), {}};
  for (security::JWTRule& rule : rules) *entry.spec.add_jwt_rules() = std::move(rule);
  return entry;
}

std::shared_ptr<const CompiledRequestAuthn> compile(std::vector<security::JWTRule> rules) {
  return CompiledRequestAuthn::compile({policy("jwt", std::move(rules))});
}

std::string claimsOf(std::string_view issuer, std::string_view extra = "") {
  return absl::StrCat(R"({"iss":")", av(issuer), R"(","sub":"alice","exp":)", kNow + 600,
                      extra.empty() ? "" : ",", av(extra), "}");
}
std::string tokenA(std::string_view extra = "") {
  return makeToken(TestKey::p256(), "ES256", claimsOf(kIssuerA, extra), "a");
}
std::string tokenB(std::string_view extra = "") {
  return makeToken(TestKey::rsa(), "RS256", claimsOf(kIssuerB, extra), "b");
}

AuthnResult authenticate(const CompiledRequestAuthn& authn, const Headers& headers,
                         std::string_view target = "/", const JwksLookup& lookup = fetchedB()) {
  return authenticateRequest(authn, headers, target, lookup, kNow);
}

bool removes(const AuthnResult& result, std::string_view header) {
  return std::find(result.remove_headers.begin(), result.remove_headers.end(), header) !=
         result.remove_headers.end();
}

std::optional<std::string> setValue(const AuthnResult& result, std::string_view header) {
  for (const auto& [name, value] : result.set_headers) {
    if (name == header) return value;
  }
  return std::nullopt;
}

void checkValidAs(const AuthnResult& result, std::string_view principal) {
  INFO(result.reason);
  REQUIRE(result.kind == Kind::kValid);
  REQUIRE(result.auth.has_value());
  CHECK(result.auth->principal == principal);
  CHECK(result.reason.empty());
}

void checkInvalid(const AuthnResult& result, std::string_view reason) {
  CHECK(result.kind == Kind::kInvalid);
  CHECK(result.reason == reason);
  CHECK_FALSE(result.auth.has_value());
  CHECK(result.set_headers.empty());
}

TEST_CASE("authn: a request without a token passes without an identity") {
  const auto authn = compile({ruleA()});
  for (const Headers& headers : {Headers{}, Headers{{"authorization", "Basic YWxpY2U6cHc="}},
                                 Headers{{"x-other", tokenA()}}}) {
    const AuthnResult result = authenticate(*authn, headers, "/path?q=1");
    CHECK(result.kind == Kind::kNoToken);
    CHECK_FALSE(result.auth.has_value());
    CHECK(result.set_headers.empty());
    CHECK(result.remove_headers.empty());
  }
}

TEST_CASE("authn: the default locations are the Bearer authorization header and access_token") {
  const auto authn = compile({ruleA()});
  SECTION("header") {
    const AuthnResult result =
        authenticate(*authn, {{"authorization", absl::StrCat("Bearer ", tokenA())}});
    checkValidAs(result, "https://a.example/alice");
    CHECK(removes(result, "authorization"));  // forwardOriginalToken is false
  }
  SECTION("query parameter") {
    const AuthnResult result =
        authenticate(*authn, {}, absl::StrCat("/path?x=1&access_token=", tokenA(), "#frag"));
    checkValidAs(result, "https://a.example/alice");
    CHECK(result.remove_headers.empty());  // only headers are removed
  }
  SECTION("a parameter of another name is not a token") {
    CHECK(authenticate(*authn, {}, absl::StrCat("/?token=", tokenA())).kind == Kind::kNoToken);
  }
  SECTION("an empty token where one is expected is malformed") {
    checkInvalid(authenticate(*authn, {}, "/?access_token="),
                 "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections");
  }
}

TEST_CASE("authn: fromHeaders, fromParams and fromCookies replace the defaults") {
  SECTION("a header with a prefix") {
    security::JWTRule rule = ruleA();
    auto* header = rule.add_from_headers();
    header->set_name("X-Jwt-Assertion");
    header->set_prefix("Token ");
    const auto authn = compile({rule});
    checkValidAs(authenticate(*authn, {{"x-jwt-assertion", absl::StrCat("Token ", tokenA())}}),
                 "https://a.example/alice");
    // Without its prefix the header holds no token; the defaults are not looked at.
    CHECK(authenticate(*authn, {{"x-jwt-assertion", tokenA()}}).kind == Kind::kNoToken);
    CHECK(authenticate(*authn, {{"authorization", absl::StrCat("Bearer ", tokenA())}}).kind ==
          Kind::kNoToken);
    CHECK(authenticate(*authn, {}, absl::StrCat("/?access_token=", tokenA())).kind ==
          Kind::kNoToken);
  }
  SECTION("a header without a prefix holds the token alone") {
    security::JWTRule rule = ruleA();
    rule.add_from_headers()->set_name("x-token");
    const auto authn = compile({rule});
    const AuthnResult result = authenticate(*authn, {{"x-token", tokenA()}});
    checkValidAs(result, "https://a.example/alice");
    CHECK(removes(result, "x-token"));
  }
  SECTION("query parameters") {
    security::JWTRule rule = ruleA();
    rule.add_from_params("jwt");
    rule.add_from_params("token");
    const auto authn = compile({rule});
    checkValidAs(authenticate(*authn, {}, absl::StrCat("/a?b=c&token=", tokenA())),
                 "https://a.example/alice");
    CHECK(authenticate(*authn, {}, absl::StrCat("/a?access_token=", tokenA())).kind ==
          Kind::kNoToken);
  }
  SECTION("cookies") {
    security::JWTRule rule = ruleA();
    rule.add_from_cookies("session");
    const auto authn = compile({rule});
    checkValidAs(
        authenticate(*authn,
                     {{"cookie", absl::StrCat("theme=dark; session=", tokenA(), "; lang=en")}}),
        "https://a.example/alice");
    // HTTP/2 splits cookies into several headers; a quoted value is unquoted.
    checkValidAs(authenticate(*authn, {{"cookie", "theme=dark"},
                                       {"cookie", absl::StrCat("session=\"", tokenA(), "\"")}}),
                 "https://a.example/alice");
    CHECK(authenticate(*authn, {{"cookie", absl::StrCat("sessionx=", tokenA())}}).kind ==
          Kind::kNoToken);
    const AuthnResult result =
        authenticate(*authn, {{"cookie", absl::StrCat("session=", tokenA())}});
    CHECK_FALSE(removes(result, "cookie"));  // the cookie header carries more than the token
  }
}

TEST_CASE("authn: the token's issuer chooses the rule") {
  const auto authn =
      CompiledRequestAuthn::compile({policy("issuer-a", {ruleA()}), policy("issuer-b", {ruleB()})});
  CHECK(authn->jwksUris() == std::set<std::string>{kUriB});
  checkValidAs(authenticate(*authn, {{"authorization", absl::StrCat("Bearer ", tokenA())}}),
               "https://a.example/alice");
  checkValidAs(authenticate(*authn, {{"authorization", absl::StrCat("Bearer ", tokenB())}}),
               "https://b.example/alice");
  SECTION("an issuer no rule names") {
    const std::string token =
        makeToken(TestKey::p256(), "ES256", claimsOf("https://c.example"), "a");
    checkInvalid(authenticate(*authn, {{"authorization", absl::StrCat("Bearer ", token)}}),
                 "Jwt issuer is not configured");
    const std::string no_iss = makeToken(TestKey::p256(), "ES256", R"({"sub":"x"})", "a");
    checkInvalid(authenticate(*authn, {{"authorization", absl::StrCat("Bearer ", no_iss)}}),
                 "Jwt issuer is not configured");
  }
  SECTION("a token signed by another issuer's key") {
    const std::string token = makeToken(TestKey::rsa(), "RS256", claimsOf(kIssuerA), "b");
    checkInvalid(authenticate(*authn, {{"authorization", absl::StrCat("Bearer ", token)}}),
                 "Jwks doesn't have key to match kid or alg from Jwt");
  }
  SECTION("a token found where only another issuer's rule looks") {
    security::JWTRule custom = ruleB();
    custom.add_from_headers()->set_name("x-b-token");
    const auto split = compile({ruleA(), custom});
    checkInvalid(authenticate(*split, {{"x-b-token", tokenA()}}), "Jwt issuer is not configured");
    checkValidAs(authenticate(*split, {{"x-b-token", tokenB()}}), "https://b.example/alice");
  }
}

TEST_CASE("authn: several tokens must all be valid") {
  const auto authn = compile({ruleA(), ruleB()});
  SECTION("two valid tokens: the identity is the first one's") {
    const AuthnResult result =
        authenticate(*authn, {{"authorization", absl::StrCat("Bearer ", tokenA())}},
                     absl::StrCat("/?access_token=", tokenB()));
    checkValidAs(result, "https://a.example/alice");
  }
  SECTION("one invalid token makes the request invalid") {
    const std::string expired = makeToken(
        TestKey::rsa(), "RS256",
        absl::StrCat(R"({"iss":"https://b.example","sub":"x","exp":)", kNow - 3600, "}"), "b");
    checkInvalid(authenticate(*authn, {{"authorization", absl::StrCat("Bearer ", tokenA())}},
                              absl::StrCat("/?access_token=", expired)),
                 "Jwt is expired");
    checkInvalid(authenticate(*authn, {{"authorization", "Bearer not-a-jwt"}},
                              absl::StrCat("/?access_token=", tokenA())),
                 "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections");
  }
}

TEST_CASE("authn: without keys, tokens of the rule are refused (fail closed)") {
  SECTION("a jwksUri not fetched yet, or failing") {
    const auto authn = compile({ruleB()});
    const Headers headers{{"authorization", absl::StrCat("Bearer ", tokenB())}};
    checkInvalid(authenticate(*authn, headers, "/", FakeLookup{}), "Jwks remote fetch is failed");
    checkValidAs(authenticate(*authn, headers, "/", fetchedB()), "https://b.example/alice");
    // Claims are checked before the keys are needed, as Envoy does.
    const std::string expired =
        makeToken(TestKey::rsa(), "RS256",
                  absl::StrCat(R"({"iss":"https://b.example","exp":)", kNow - 3600, "}"), "b");
    checkInvalid(authenticate(*authn, {{"authorization", absl::StrCat("Bearer ", expired)}}, "/",
                              FakeLookup{}),
                 "Jwt is expired");
  }
  SECTION("an inline jwks without a usable key") {
    security::JWTRule rule = ruleA();
    rule.set_jwks(R"({"keys":[{"kty":"oct","k":"c2VjcmV0"}]})");
    const auto authn = compile({rule});
    REQUIRE(authn->notes().size() == 1);
    CHECK_THAT(authn->notes()[0], Catch::Contains("default/jwt jwtRules[0]"));
    CHECK_THAT(authn->notes()[0], Catch::Contains("HMAC"));
    checkInvalid(authenticate(*authn, {{"authorization", absl::StrCat("Bearer ", tokenA())}}),
                 "Jwks doesn't have any valid public key");
  }
  SECTION("neither jwks nor jwksUri: discovery is not done") {
    security::JWTRule rule;
    rule.set_issuer(kIssuerA);
    const auto authn = compile({rule});
    CHECK(authn->jwksUris().empty());
    REQUIRE(authn->notes().size() == 1);
    CHECK_THAT(authn->notes()[0], Catch::Contains("OpenID discovery"));
    checkInvalid(authenticate(*authn, {{"authorization", absl::StrCat("Bearer ", tokenA())}}),
                 "Jwks remote fetch is failed");
  }
}

TEST_CASE("authn: the rule's audiences") {
  security::JWTRule rule = ruleA();
  rule.add_audiences("my-service");
  const auto authn = compile({rule});
  checkValidAs(authenticate(*authn, {{"authorization",
                                      absl::StrCat("Bearer ", tokenA(R"("aud":"my-service")"))}}),
               "https://a.example/alice");
  checkInvalid(
      authenticate(*authn, {{"authorization", absl::StrCat("Bearer ", tokenA(R"("aud":"x")"))}}),
      "Audiences in Jwt are not allowed");
}

TEST_CASE("authn: the token header is removed unless forwardOriginalToken") {
  security::JWTRule rule = ruleA();
  const Headers headers{{"authorization", absl::StrCat("Bearer ", tokenA())}};
  CHECK(removes(authenticate(*compile({rule}), headers), "authorization"));
  rule.set_forward_original_token(true);
  const AuthnResult forwarded = authenticate(*compile({rule}), headers);
  checkValidAs(forwarded, "https://a.example/alice");
  CHECK_FALSE(removes(forwarded, "authorization"));
}

TEST_CASE("authn: outputs to headers, and incoming copies of them removed") {
  security::JWTRule rule = ruleA();
  rule.set_output_payload_to_header("X-Jwt-Payload");
  const std::pair<const char*, const char*> claims[] = {
      {"x-sub", "sub"},     {"x-level", "level"},        {"x-ratio", "ratio"},
      {"x-admin", "admin"}, {"x-team", "org.team"},      {"x-groups", "groups"},
      {"x-none", "absent"}, {"x-deep", "org.unit.name"}, {"x-evil", "evil"},
  };
  for (const auto& [header, claim] : claims) {
    auto* entry = rule.add_output_claim_to_headers();
    entry->set_header(header);
    entry->set_claim(claim);
  }
  const auto authn = compile({rule});
  const std::string extra =
      R"("level":3,"ratio":0.25,"admin":true,"org":{"team":"blue","unit":{"name":"u1"}},)"
      R"("groups":["a","b"],"evil":"a\r\nx-injected: 1")";
  const std::string token = tokenA(extra);

  const AuthnResult result = authenticate(
      *authn, {{"authorization", absl::StrCat("Bearer ", token)}, {"x-jwt-payload", "forged"}});
  checkValidAs(result, "https://a.example/alice");
  const std::optional<std::string> payload = setValue(result, "x-jwt-payload");
  REQUIRE(payload.has_value());
  std::string decoded;
  REQUIRE(absl::WebSafeBase64Unescape(*payload, &decoded));
  CHECK(decoded == claimsOf(kIssuerA, extra));
  CHECK(setValue(result, "x-sub") == "alice");
  CHECK(setValue(result, "x-level") == "3");
  CHECK(setValue(result, "x-ratio") == "0.25");
  CHECK(setValue(result, "x-admin") == "true");
  CHECK(setValue(result, "x-team") == "blue");
  CHECK(setValue(result, "x-deep") == "u1");
  CHECK_FALSE(setValue(result, "x-groups"));  // lists are not copied (Istio: string, int, bool)
  CHECK_FALSE(setValue(result, "x-none"));
  CHECK_FALSE(setValue(result, "x-evil"));  // a header cannot carry CR LF
  for (const char* header : {"x-jwt-payload", "x-sub", "x-team", "x-none", "authorization"}) {
    INFO(header);
    CHECK(removes(result, header));
  }

  // Without a token the outputs are still removed, so that a client cannot forge them.
  const AuthnResult none = authenticate(*authn, {{"x-jwt-payload", "forged"}, {"x-sub", "admin"}});
  CHECK(none.kind == Kind::kNoToken);
  CHECK(none.set_headers.empty());
  CHECK(removes(none, "x-jwt-payload"));
  CHECK(removes(none, "x-sub"));
  CHECK(removes(none, "x-level"));
  CHECK_FALSE(removes(none, "authorization"));
  CHECK(authn->sanitizedHeaders().size() == 10);
}

TEST_CASE("authn: the RequestAuth of a valid token") {
  const auto authn = compile({ruleA()});
  const std::string token =
      tokenA(R"("aud":"svc","azp":"web-app","groups":["admin"],"realm":{"roles":["r1"]})");
  const AuthnResult result =
      authenticate(*authn, {{"authorization", absl::StrCat("Bearer ", token)}});
  checkValidAs(result, "https://a.example/alice");
  const RequestAuth& auth = *result.auth;
  CHECK(auth.audiences == std::vector<std::string>{"svc"});
  CHECK(auth.presenter == "web-app");
  const auto& claims = auth.claims.fields();
  CHECK(claims.at("iss").string_value() == kIssuerA);
  CHECK(claims.at("groups").list_value().values(0).string_value() == "admin");
  CHECK(claims.at("realm")
            .struct_value()
            .fields()
            .at("roles")
            .list_value()
            .values(0)
            .string_value() == "r1");
}

TEST_CASE("authn: a rule without issuer takes tokens of issuers no rule names") {
  security::JWTRule any;
  any.set_jwks(jwksJson({TestKey::ed25519().jwk("")}));
  const auto authn = compile({ruleA(), any});
  const std::string other =
      makeToken(TestKey::ed25519(), "EdDSA", claimsOf("https://other.example"));
  checkValidAs(authenticate(*authn, {{"authorization", absl::StrCat("Bearer ", other)}}),
               "https://other.example/alice");
  // Issuer A's tokens still go to issuer A's rule.
  checkValidAs(authenticate(*authn, {{"authorization", absl::StrCat("Bearer ", tokenA())}}),
               "https://a.example/alice");
}

std::string sampleYaml(const std::string& file) {
  std::ifstream in(std::string(AMBIT_SOURCE_DIR) + "/samples/istio/" + file);
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The RequestAuthentications of a YAML stream, loaded and validated as ambitctl does.
std::vector<RequestAuthnEntry> loadRequestAuthentications(const std::string& yaml) {
  config::LoadResult loaded;
  config::Loader().loadText(yaml, "test.yaml", loaded);
  config::validate::validateAll(loaded.objects, loaded.diagnostics);
  for (const config::Diagnostic& diagnostic : loaded.diagnostics) {
    INFO(diagnostic.format());
    CHECK(diagnostic.severity != config::Severity::kError);
  }
  std::vector<RequestAuthnEntry> out;
  for (const config::Object& object : loaded.objects) {
    if (object.kind->kind == config::Kind::kRequestAuthentication) {
      out.push_back(
          {object.namespace_(), object.name(), object.as<security::RequestAuthentication>()});
    }
  }
  return out;
}

TEST_CASE("example 12: the jwt-auth rule, its keys given inline") {
  std::vector<RequestAuthnEntry> entries = loadRequestAuthentications(sampleYaml("12-jwt.yaml"));
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].name == "jwt-auth");
  REQUIRE(entries[0].spec.jwt_rules_size() == 1);
  security::JWTRule& rule = *entries[0].spec.mutable_jwt_rules(0);
  CHECK(rule.jwks_uri() == "https://auth.example.com/.well-known/jwks.json");

  const auto with_uri = CompiledRequestAuthn::compile(entries);
  CHECK(with_uri->jwksUris() ==
        std::set<std::string>{"https://auth.example.com/.well-known/jwks.json"});

  rule.clear_jwks_uri();
  rule.set_jwks(jwksJson({TestKey::rsa().jwk("auth-1", "RS256")}));
  const auto authn = CompiledRequestAuthn::compile(entries);
  CHECK(authn->jwksUris().empty());
  CHECK(authn->notes().empty());

  const auto token = [](std::string_view aud) {
    return makeToken(TestKey::rsa(), "RS256",
                     absl::StrCat(R"({"iss":"https://auth.example.com","sub":"alice","aud":")",
                                  av(aud), R"(","groups":["admin"],"exp":)", kNow + 300, "}"),
                     "auth-1");
  };
  const Headers headers{{"authorization", absl::StrCat("Bearer ", token("my-service"))}};
  const AuthnResult result = authenticate(*authn, headers);
  checkValidAs(result, "https://auth.example.com/alice");
  CHECK_FALSE(removes(result, "authorization"));  // forwardOriginalToken: true
  CHECK(result.auth->claims.fields().at("groups").list_value().values(0).string_value() == "admin");
  checkInvalid(authenticate(*authn, {{"authorization", absl::StrCat("Bearer ", token("other"))}}),
               "Audiences in Jwt are not allowed");
  CHECK(authenticate(*authn, {}).kind == Kind::kNoToken);

  // The same rule with its jwksUri: refused until the keys are fetched, then valid.
  checkInvalid(authenticate(*with_uri, headers, "/", FakeLookup{}), "Jwks remote fetch is failed");
  FakeLookup fetched;
  fetched.sets["https://auth.example.com/.well-known/jwks.json"] =
      jwksOf({TestKey::rsa().jwk("auth-1", "RS256")});
  checkValidAs(authenticate(*with_uri, headers, "/", fetched), "https://auth.example.com/alice");
}

}  // namespace
}  // namespace ambit::waypoint::testing
