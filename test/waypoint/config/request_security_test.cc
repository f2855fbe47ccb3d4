// The L7 security a request meets at the waypoint, over a snapshot built from specs: path
// normalization (400), RequestAuthentication (401, header changes in both views of the request),
// AuthorizationPolicy (403 with Envoy's details), and the counters of each outcome.
#include "waypoint/proxy/request_security.h"

#include <algorithm>
#include <tuple>

#include <absl/strings/str_cat.h>
#include <catch2/catch.hpp>

#include "test/waypoint/config/config_test_support.h"
#include "test/waypoint/jwt/jwt_test_support.h"
#include "waypoint/route/text.h"

namespace ambit::waypoint::testing {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr const char* kIssuerA = "https://a.example";  // keys inline (P-256, kid "a")
constexpr const char* kIssuerB = "https://b.example";  // keys fetched from kUriB (P-256, kid "b")
constexpr const char* kUriB = "https://b.example/jwks.json";
const SecurityTarget kWeb = servedService("default", "web");
constexpr const char* kAuthority = "web.default:8080";

// For default/web: admin paths denied to everyone; the rest needs a token, except /public/*.
// Tokens of A output their payload and subject, tokens of B their group and are forwarded.
std::shared_ptr<const SecurityConfig> webSecurity(PathNormalization mode) {
  const std::string target = R"("targetRefs":[{"kind":"Service","name":"web"}])";
  const std::vector<AuthorizationPolicyEntry> policies = {
      authorizationPolicy("default", "deny-admin", absl::StrCat("{", target, R"(,
          "action":"DENY", "rules":[{"to":[{"operation":{"paths":["/admin*"]}}]}]})")),
      authorizationPolicy("default", "require-jwt", absl::StrCat("{", target, R"(,
          "rules":[{"from":[{"source":{"requestPrincipals":["*"]}}]},
                   {"to":[{"operation":{"paths":["/public/*"]}}]}]})")),
  };
  RequestAuthnEntry authn = requestAuthentication("default", "jwt", absl::StrCat("{", target, R"(,
      "jwtRules":[
        {"issuer":"https://a.example", "outputPayloadToHeader":"x-jwt-payload",
         "outputClaimToHeaders":[{"header":"X-Jwt-Sub","claim":"sub"}]},
        {"issuer":"https://b.example", "jwksUri":"https://b.example/jwks.json",
         "forwardOriginalToken":true,
         "outputClaimToHeaders":[{"header":"x-jwt-group","claim":"group"}]}]})"));
  authn.spec.mutable_jwt_rules(0)->set_jwks(jwksJson({TestKey::p256().jwk("a")}));
  std::vector<std::string> notes;
  auto config = SecurityConfig::build(policies, {authn}, {kWeb}, mode, notes);
  INFO(::Catch::Detail::stringify(notes));
  REQUIRE(notes.empty());
  return config;
}

std::shared_ptr<const JwksSet> fetchedB() {
  return std::make_shared<const JwksSet>(
      std::map<std::string, std::shared_ptr<const Jwks>, std::less<>>{
          {kUriB, jwksOf({TestKey::p256().jwk("b")})}});
}

std::string claims(std::string_view issuer, int64_t exp = kNow + 600) {
  return absl::StrCat(R"({"iss":")", av(issuer), R"(","sub":"alice","group":"admins","exp":)", exp,
                      "}");
}
// Each signed once: ECDSA signatures differ at each signing.
const std::string& tokenA() {
  static const std::string token = makeToken(TestKey::p256(), "ES256", claims(kIssuerA), "a");
  return token;
}
const std::string& tokenB() {
  static const std::string token = makeToken(TestKey::p256(), "ES256", claims(kIssuerB), "b");
  return token;
}
const std::string& expiredA() {
  static const std::string token =
      makeToken(TestKey::p256(), "ES256", claims(kIssuerA, kNow - 3600), "a");
  return token;
}

// The snapshot, counters and peer of the tests: a mesh client calling web.
struct Fixture {
  explicit Fixture(PathNormalization mode = PathNormalization::kBase) {
    snapshot.security = webSecurity(mode);
    snapshot.jwks = fetchedB();
  }
  WaypointSnapshot snapshot;
  metrics::Registry registry;
  SecurityMetrics metrics{registry};
  SecurityPeer peer{"cluster.local/ns/frontend/sa/client",
                    "frontend",
                    "10.0.0.5",
                    "10.96.0.10",
                    8080,
                    kWeb.hostname};
};

struct Checked {
  SecurityOutcome outcome;
  HttpRequest request;
  Headers headers;  // the lower-case view, after the check
};

// Checks "GET <target>" with Host kAuthority and `fields` (names in any case).
Checked check(Fixture& f, const std::string& target, const Headers& fields = {}) {
  Checked out;
  out.request.method = "GET";
  out.request.target = target;
  out.request.headers.add("Host", kAuthority);
  for (const auto& [name, value] : fields) out.request.headers.add(name, value);
  for (const HttpHeader& h : out.request.headers)
    out.headers.emplace_back(toLower(h.name), h.value);
  out.outcome = checkRequestSecurity(f.snapshot, f.peer, out.request, out.headers, f.metrics, kNow);
  return out;
}

// The two views of the request hold the same fields.
void checkInStep(const Checked& c) {
  std::vector<std::pair<std::string, std::string>> request_view;
  for (const HttpHeader& h : c.request.headers) request_view.emplace_back(toLower(h.name), h.value);
  std::vector<std::pair<std::string, std::string>> lower_view = c.headers;
  std::sort(request_view.begin(), request_view.end());
  std::sort(lower_view.begin(), lower_view.end());
  CHECK(request_view == lower_view);
}

struct OutcomeCase {
  std::string what;
  std::string target;
  Headers fields;
  int status;              // 0: passes
  std::string detail;      // the detail's start (the 403 detail goes on with an explanation)
  std::string normalized;  // the target afterwards
};

std::string bearer(const std::string& token) { return "Bearer " + token; }

std::vector<OutcomeCase> outcomeCases() {
  const std::string none = "rbac_access_denied_matched_policy[none]";
  const std::string admin =
      "rbac_access_denied_matched_policy[ns[default]-policy[deny-admin]-rule[0]]";
  return {
      {"public without token", "/public/page", {}, 0, "", "/public/page"},
      {"dot segments", "/public/./a/../page", {}, 0, "", "/public/page"},
      {"private without token", "/private", {}, 403, none, "/private"},
      {"private with A", "/private", {{"Authorization", bearer(tokenA())}}, 0, "", "/private"},
      {"private with B", "/private", {{"authorization", bearer(tokenB())}}, 0, "", "/private"},
      {"token in the query",
       "/private?access_token=" + tokenA(),
       {},
       0,
       "",
       "/private?access_token=" + tokenA()},
      {"admin with a token", "/admin", {{"Authorization", bearer(tokenA())}}, 403, admin, "/admin"},
      {"admin behind dots", "/public/../admin", {}, 403, admin, "/admin"},
      {"admin behind encoded dots", "/public/%2e%2e/admin/x", {}, 403, admin, "/admin/x"},
      {"encoded slash", "/public/a%2Fb", {}, 400, "path_normalization_failed: ", "/public/a%2Fb"},
      {"not origin-form",
       "http://web/public/x",
       {},
       400,
       "path_normalization_failed: ",
       "http://web/public/x"},
      {"expired",
       "/private",
       {{"Authorization", bearer(expiredA())}},
       401,
       "jwt_authn_access_denied{Jwt is expired}",
       "/private"},
      // A bad token is refused even where none is needed.
      {"garbage token",
       "/public/page",
       {{"Authorization", "Bearer abc"}},
       401,
       "jwt_authn_access_denied{Jwt is not in the form of Header.Payload.Signature with two dots "
       "and 3 sections}",
       "/public/page"},
      {"unknown issuer",
       "/private",
       {{"Authorization", bearer(makeToken(TestKey::p256(), "ES256", claims("https://c"), "a"))}},
       401,
       "jwt_authn_access_denied{Jwt issuer is not configured}",
       "/private"},
      {"signed by another key",
       "/private",
       {{"Authorization", bearer(makeToken(TestKey::p384(), "ES384", claims(kIssuerA), "a"))}},
       401,
       "jwt_authn_access_denied{",
       "/private"},
  };
}

TEST_CASE("request security: each request's outcome") {
  for (const OutcomeCase& c : outcomeCases()) {
    Fixture f;
    INFO(c.what << ": " << c.target);
    const Checked checked = check(f, c.target, c.fields);
    const SecurityOutcome& out = checked.outcome;
    INFO(out.detail);
    CHECK(out.pass == (c.status == 0));
    CHECK(out.status == c.status);
    CHECK(out.detail.rfind(c.detail, 0) == 0);
    CHECK(checked.request.target == c.normalized);
    switch (c.status) {
      case 0:
        CHECK(out.detail.empty());
        CHECK(out.response_headers.empty());
        break;
      case 400:
        CHECK(out.body == "Bad Request");
        CHECK(out.detail.size() > c.detail.size());
        break;
      case 401:
        CHECK(out.detail == absl::StrCat("jwt_authn_access_denied{", out.body, "}"));
        REQUIRE(out.response_headers.size() == 1);
        CHECK(out.response_headers[0].first == "www-authenticate");
        break;
      case 403:
        CHECK(out.body == "RBAC: access denied");
        CHECK(out.detail.rfind(c.detail + " (", 0) == 0);
        CHECK(out.response_headers.empty());
        break;
    }
    checkInStep(checked);
  }
}

TEST_CASE("request security: a 401 names the realm, the request's URI without its query") {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"/private", expiredA(), "http://web.default:8080/private"},
      {"/private/x?y=1", expiredA(), "http://web.default:8080/private/x"},
      // The normalized path, whatever is wrong with the token.
      {"/private/./x/../y?y=1", "x.y.z", "http://web.default:8080/private/y"},
  };
  for (const auto& [target, token, realm] : cases) {
    Fixture f;
    INFO(target);
    const Checked checked = check(f, target, {{"Authorization", bearer(token)}});
    REQUIRE(checked.outcome.status == 401);
    CHECK(checked.outcome.response_headers ==
          Headers{{"www-authenticate",
                   absl::StrCat("Bearer realm=\"", realm, "\", error=\"invalid_token\"")}});
  }
}

// The value of every field named `name` (lower case) in each view.
std::vector<std::string> valuesIn(const HttpRequest& request, std::string_view name) {
  std::vector<std::string> out;
  for (std::string_view v : request.headers.getAll(name)) out.emplace_back(v);
  return out;
}
std::vector<std::string> valuesIn(const Headers& headers, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [n, v] : headers) {
    if (n == name) out.push_back(v);
  }
  return out;
}

void checkHeader(const Checked& c, std::string_view name, const std::vector<std::string>& values) {
  INFO(name);
  CHECK(valuesIn(c.request, name) == values);
  CHECK(valuesIn(c.headers, name) == values);
}

TEST_CASE("request security: a valid token's header goes, its claims come, forged ones go") {
  Fixture f;
  const std::string& token = tokenA();
  const std::string payload =
      token.substr(token.find('.') + 1, token.rfind('.') - token.find('.') - 1);
  const Checked c = check(f, "/private",
                          {{"Authorization", bearer(token)},
                           {"X-Jwt-Sub", "mallory"},
                           {"x-jwt-sub", "eve"},
                           {"X-JWT-Group", "root"},
                           {"x-jwt-payload", "e30"},
                           {"x-other", "kept"}});
  REQUIRE(c.outcome.pass);
  checkHeader(c, "authorization", {});
  checkHeader(c, "x-jwt-sub", {"alice"});
  checkHeader(c, "x-jwt-payload", {payload});
  checkHeader(c, "x-jwt-group", {});  // B's output, removed: A's token does not set it
  checkHeader(c, "x-other", {"kept"});
  checkHeader(c, "host", {kAuthority});
  checkInStep(c);
}

TEST_CASE("request security: forwardOriginalToken keeps the token header") {
  Fixture f;
  const std::string& token = tokenB();
  const Checked c =
      check(f, "/private", {{"Authorization", bearer(token)}, {"X-Jwt-Sub", "mallory"}});
  REQUIRE(c.outcome.pass);
  checkHeader(c, "authorization", {bearer(token)});
  checkHeader(c, "x-jwt-group", {"admins"});
  checkHeader(c, "x-jwt-sub", {});
  checkHeader(c, "x-jwt-payload", {});
  checkInStep(c);
}

TEST_CASE("request security: output headers are removed from requests without a token") {
  Fixture f;
  const Checked c = check(f, "/public/page",
                          {{"X-Jwt-Sub", "mallory"},
                           {"x-jwt-group", "admins"},
                           {"X-Jwt-Payload", "e30"},
                           {"x-other", "kept"}});
  REQUIRE(c.outcome.pass);
  for (const char* name : {"x-jwt-sub", "x-jwt-group", "x-jwt-payload"}) checkHeader(c, name, {});
  checkHeader(c, "x-other", {"kept"});
  checkInStep(c);
}

TEST_CASE("request security: tokens whose keys were not fetched are refused") {
  Fixture f;
  f.snapshot.jwks = std::make_shared<const JwksSet>();
  const Checked b = check(f, "/private", {{"Authorization", bearer(tokenB())}});
  CHECK(b.outcome.status == 401);
  CHECK(b.outcome.detail == "jwt_authn_access_denied{Jwks remote fetch is failed}");
  // Inline keys need no fetch.
  CHECK(check(f, "/private", {{"Authorization", bearer(tokenA())}}).outcome.pass);
}

TEST_CASE("request security: a host nothing applies to is only normalized") {
  Fixture f;
  for (std::string_view host :
       {std::string_view("api.default.svc.cluster.local"), std::string_view()}) {
    f.peer.service_host = host;
    INFO(host);
    const Checked admin = check(f, "/public/../admin", {{"X-Jwt-Sub", "mallory"}});
    CHECK(admin.outcome.pass);
    CHECK(admin.request.target == "/admin");
    checkHeader(admin, "x-jwt-sub", {"mallory"});  // nothing to sanitize for this destination
    const Checked expired = check(f, "/private", {{"Authorization", bearer(expiredA())}});
    CHECK(expired.outcome.pass);
    checkHeader(expired, "authorization", {bearer(expiredA())});
    CHECK(check(f, "/a%2Fb").outcome.status == 400);
  }
  CHECK(counterValue(f.registry, R"(ambit_waypoint_authentication_total{result="no_token"})") ==
        0u);
  CHECK(counterValue(f.registry, R"(ambit_waypoint_authentication_total{result="invalid"})") == 0u);
  CHECK(counterValue(
            f.registry,
            R"(ambit_waypoint_authorization_total{decision="allow",reason="no_policy"})") == 0u);
  CHECK(counterValue(f.registry, "ambit_waypoint_path_normalization_refused_total") == 2u);
}

TEST_CASE("request security: no config yet is a 503") {
  Fixture f;
  f.snapshot.security = nullptr;
  const Checked c = check(f, "/public/page");
  CHECK_FALSE(c.outcome.pass);
  CHECK(c.outcome.status == 503);
}

TEST_CASE("request security: the configured normalization is the one applied") {
  Fixture base;
  const Checked kept = check(base, "//admin");
  CHECK(kept.request.target == "//admin");  // not an admin path to BASE: the ALLOW rules decide
  CHECK(kept.outcome.detail.rfind("rbac_access_denied_matched_policy[none] (", 0) == 0);
  Fixture merge(PathNormalization::kMergeSlashes);
  const Checked merged = check(merge, "//admin");
  CHECK(merged.request.target == "/admin");
  CHECK(merged.outcome.detail.rfind(
            "rbac_access_denied_matched_policy[ns[default]-policy[deny-admin]-rule[0]] (", 0) == 0);
}

TEST_CASE("request security: each outcome is counted by its reason") {
  Fixture f;
  CHECK(check(f, "/public/page").outcome.pass);                                            // allow
  CHECK(check(f, "/private").outcome.status == 403);                                       // none
  CHECK(check(f, "/private").outcome.status == 403);                                       // none
  CHECK(check(f, "/admin", {{"Authorization", bearer(tokenA())}}).outcome.status == 403);  // deny
  CHECK(check(f, "/private", {{"Authorization", bearer(expiredA())}}).outcome.status == 401);
  CHECK(check(f, "/a%2fb").outcome.status == 400);
  const std::vector<std::pair<std::string, uint64_t>> expected = {
      {R"(ambit_waypoint_authentication_total{result="no_token"})", 3},
      {R"(ambit_waypoint_authentication_total{result="valid"})", 1},
      {R"(ambit_waypoint_authentication_total{result="invalid"})", 1},
      {R"(ambit_waypoint_authorization_total{decision="allow",reason="allow_policy"})", 1},
      {R"(ambit_waypoint_authorization_total{decision="allow",reason="no_policy"})", 0},
      {R"(ambit_waypoint_authorization_total{decision="deny",reason="deny_policy"})", 1},
      {R"(ambit_waypoint_authorization_total{decision="deny",reason="no_allow_match"})", 2},
      {R"(ambit_waypoint_authorization_total{decision="deny",reason="deny_unsupported"})", 0},
      {R"(ambit_waypoint_authorization_total{decision="deny",reason="custom_unsupported"})", 0},
      {"ambit_waypoint_path_normalization_refused_total", 1},
  };
  for (const auto& [series, value] : expected) {
    INFO(series);
    CHECK(counterValue(f.registry, series) == value);
  }
}

TEST_CASE("request security: Envoy's details of a denial") {
  using Reason = L7AuthorizationDecision::Reason;
  struct Case {
    Reason reason;
    std::string policy;
    int rule;
    std::string detail;
  };
  const Case cases[] = {
      {Reason::kDeniedByPolicy, "default/deny-admin", 0,
       "rbac_access_denied_matched_policy[ns[default]-policy[deny-admin]-rule[0]]"},
      {Reason::kDeniedByPolicy, "foo/bar.baz", 12,
       "rbac_access_denied_matched_policy[ns[foo]-policy[bar.baz]-rule[12]]"},
      {Reason::kDeniedNoAllowMatch, "", -1, "rbac_access_denied_matched_policy[none]"},
      {Reason::kDeniedCustom, "default/ext", 0, "ext_authz_error"},
      {Reason::kDeniedUnsupported, "default/odd", 1, "rbac_access_denied_matched_policy[none]"},
  };
  for (const Case& c : cases) {
    L7AuthorizationDecision decision;
    decision.allowed = false;
    decision.reason = c.reason;
    decision.policy = c.policy;
    decision.rule = c.rule;
    CHECK(rbacDetail(decision) == c.detail);
  }
}

}  // namespace
}  // namespace ambit::waypoint::testing
