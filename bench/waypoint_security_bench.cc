// Per-request cost of the waypoint's L7 security, in process: checkRequestSecurity (path
// normalization, RequestAuthentication with an ES256 token, an ALLOW AuthorizationPolicy of 10
// rules) on a realistic HTTP request, its config compiled by SecurityConfig::build as the
// waypoint compiles what the control plane sends. Four cases in the same run (no filter, authz
// only, jwt only, both), then what the JWT verification alone costs. Each call is timed with
// steady_clock on a fresh copy of the request (the copy is not timed). Prints a Markdown table;
// --json FILE also writes the figures as JSON.
#include <absl/strings/ascii.h>
#include <absl/strings/escaping.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>
#include <absl/strings/str_join.h>
#include <google/protobuf/util/json_util.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/metrics/registry.h"
#include "core/tls/openssl_util.h"
#include "waypoint/config/config_store.h"
#include "waypoint/config/jwks_cache.h"
#include "waypoint/config/security_config.h"
#include "waypoint/jwt/jwks.h"
#include "waypoint/jwt/jwt.h"
#include "waypoint/proxy/request_security.h"
#include "waypoint/route/text.h"
#include "waypoint/telemetry/security_metrics.h"

namespace ambit::waypoint {
namespace {

using Clock = std::chrono::steady_clock;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kAudience = "reviews.bookstore";
constexpr std::string_view kKid = "auth-example-2026-12";
constexpr std::string_view kServiceHost = "reviews.bookstore.svc.cluster.local";
constexpr std::string_view kTarget = "/api/v1/books/1234/reviews?page=2&limit=20";

struct Options {
  int iterations = 20000;
  int warmup = 1000;
  std::string json;
};

[[noreturn]] void fail(std::string_view what) {
  std::cerr << "waypoint_security_bench: " << what << "\n";
  std::exit(1);
}

using KeyPtr = tls::EvpPkeyPtr;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, tls::OpensslDeleter<EVP_MD_CTX_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, tls::OpensslDeleter<BN_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, tls::OpensslDeleter<ECDSA_SIG_free>>;

std::string base64Url(std::string_view bytes) { return absl::WebSafeBase64Escape(av(bytes)); }

// A P-256 number as JWS and JWK write it: big-endian, padded to the 32 bytes of the curve.
std::string fixedWidth(const BIGNUM* number) {
  std::string out(32, '\0');
  if (BN_bn2binpad(number, reinterpret_cast<unsigned char*>(out.data()), 32) != 32) {
    fail("a P-256 number does not fit in 32 bytes");
  }
  return out;
}

// The issuer's side of ES256: a P-256 key pair made for the run, its public half as a JWK, and
// tokens it signs.
class Es256Issuer {
 public:
  Es256Issuer() : key_(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")) {
    if (key_ == nullptr) fail("cannot generate a P-256 key");
  }

  std::string jwk() const {
    return absl::StrCat(R"({"kty":"EC","crv":"P-256","use":"sig","alg":"ES256","kid":")", av(kKid),
                        R"(","x":")", base64Url(coordinate(OSSL_PKEY_PARAM_EC_PUB_X)), R"(","y":")",
                        base64Url(coordinate(OSSL_PKEY_PARAM_EC_PUB_Y)), R"("})");
  }

  std::string token(std::string_view payload_json) const {
    const std::string header =
        absl::StrCat(R"({"alg":"ES256","typ":"JWT","kid":")", av(kKid), R"("})");
    const std::string input = absl::StrCat(base64Url(header), ".", base64Url(payload_json));
    return absl::StrCat(input, ".", base64Url(sign(input)));
  }

 private:
  std::string coordinate(const char* param) const {
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(key_.get(), param, &raw) != 1) fail("cannot read the public key");
    const BignumPtr number(raw);
    return fixedWidth(number.get());
  }

  // OpenSSL signs ECDSA as a DER SEQUENCE of r and s; JWS wants r || s, each 32 bytes.
  std::string sign(std::string_view input) const {
    const MdCtxPtr ctx(EVP_MD_CTX_new());
    const auto* data = reinterpret_cast<const unsigned char*>(input.data());
    size_t length = 0;
    if (ctx == nullptr ||
        EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &length, data, input.size()) != 1) {
      fail("cannot start an ES256 signature");
    }
    std::string der(length, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &length, data,
                       input.size()) != 1) {
      fail("cannot sign");
    }
    const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
    const EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(length)));
    if (sig == nullptr) fail("cannot decode the DER signature");
    return fixedWidth(ECDSA_SIG_get0_r(sig.get())) + fixedWidth(ECDSA_SIG_get0_s(sig.get()));
  }

  KeyPtr key_;
};

template <typename Message>
Message fromJson(const std::string& json) {
  Message out;
  if (!google::protobuf::util::JsonStringToMessage(json, &out).ok()) {
    fail(absl::StrCat("bad JSON spec: ", json));
  }
  return out;
}

constexpr std::string_view kTargetRefs =
    R"("targetRefs": [{"group": "", "kind": "Service", "name": "reviews"}])";

// An ALLOW policy of 10 rules whose last one matches the benchmark's request, so that every rule
// is evaluated. The first nine fail at different places, as the rules of a real service would:
// on the peer, the method, the path, a header, a port or a JWT claim. With `jwt`, the last rule
// also asks for the token's issuer and a group claim.
AuthorizationPolicyEntry tenRulePolicy(bool jwt) {
  std::vector<std::string> rules = {
      // Metrics scraping.
      R"({"from": [{"source": {"principals": ["cluster.local/ns/monitoring/sa/prometheus"]}}],
          "to": [{"operation": {"methods": ["GET"], "paths": ["/metrics", "/stats/*"]}}]})",
      // Payment callbacks.
      R"({"from": [{"source": {"namespaces": ["payments"]}}],
          "to": [{"operation": {"methods": ["POST"], "paths": ["/api/v1/orders/{*}/pay"]}}]})",
      // The frontend may delete its own drafts.
      R"({"from": [{"source": {"principals": ["cluster.local/ns/bookstore/sa/frontend"]}}],
          "to": [{"operation": {"methods": ["DELETE"], "paths": ["/api/v1/drafts/{*}"]}}]})",
      // The next API version, not open yet to the frontend's GETs.
      R"({"from": [{"source": {"principals": ["cluster.local/ns/bookstore/sa/frontend"]}}],
          "to": [{"operation": {"methods": ["GET"], "paths": ["/api/v2/*"]}}]})",
      // Administration, for admins with a token.
      R"({"from": [{"source": {"requestPrincipals": ["https://auth.example.com/*"]}}],
          "to": [{"operation": {"paths": ["/admin/{**}"]}}],
          "when": [{"key": "request.auth.claims[groups]", "values": ["admins"]}]})",
      // Internal tenants read everything of the namespace.
      R"({"from": [{"source": {"namespaces": ["bookstore"]}}],
          "to": [{"operation": {"methods": ["GET"], "paths": ["/api/v1/books/{*}/reviews"]}}],
          "when": [{"key": "request.headers[x-tenant]", "values": ["internal"]}]})",
      // Editors write reviews.
      R"({"from": [{"source": {"principals": ["cluster.local/ns/bookstore/sa/frontend"]}}],
          "to": [{"operation": {"methods": ["GET", "PUT"], "paths": ["/api/v1/books/{**}"]}}],
          "when": [{"key": "request.auth.claims[groups]", "values": ["editors"]}]})",
      // Batch jobs of the namespace, not the frontend.
      R"({"from": [{"source": {"namespaces": ["bookstore"],
                               "notPrincipals": ["cluster.local/ns/bookstore/sa/frontend"]}}],
          "to": [{"operation": {"methods": ["GET", "POST"], "paths": ["/api/v1/*"]}}]})",
      // The TLS port only, for the partner gateway.
      R"({"to": [{"operation": {"hosts": ["reviews.bookstore.svc.cluster.local*"],
                                 "ports": ["9443"], "methods": ["GET"]}}]})",
  };
  // The rule that matches.
  const std::string source = absl::StrCat(
      R"("principals": ["cluster.local/ns/bookstore/sa/frontend",
                        "cluster.local/ns/bookstore/sa/mobile-bff"],
         "namespaces": ["bookstore"])",
      jwt ? R"(, "requestPrincipals": ["https://auth.example.com/*"])" : "");
  const std::string claims =
      jwt ? R"({"key": "request.auth.claims[groups]", "values": ["readers", "editors"]},)" : "";
  rules.push_back(absl::StrCat(
      R"({"from": [{"source": {)", source, R"(}}],
          "to": [{"operation": {"methods": ["GET", "HEAD"],
                                "paths": ["/api/v1/books/{*}/reviews", "/api/v1/authors/*"]}}],
          "when": [)",
      claims, R"({"key": "request.headers[x-tenant]", "values": ["acme", "globex"]}]})"));
  if (rules.size() != 10) fail("the policy must have 10 rules");

  AuthorizationPolicyEntry entry;
  entry.namespace_ = "bookstore";
  entry.name = "reviews-access";
  entry.spec = fromJson<istio::security::v1beta1::AuthorizationPolicy>(
      absl::StrCat(R"({"action": "ALLOW", )", av(kTargetRefs), R"(, "rules": [)",
                   absl::StrJoin(rules, ","), "]}"));
  return entry;
}

RequestAuthnEntry requestAuthentication(const std::string& jwks) {
  RequestAuthnEntry entry;
  entry.namespace_ = "bookstore";
  entry.name = "reviews-jwt";
  entry.spec = fromJson<istio::security::v1beta1::RequestAuthentication>(
      absl::StrCat("{", av(kTargetRefs), R"(, "jwtRules": [{"issuer": "https://auth.example.com",
          "audiences": ["reviews.bookstore"],
          "outputClaimToHeaders": [{"header": "x-user-id", "claim": "sub"}]}]})"));
  // Inline keys: the rule needs no fetch, so the snapshot's JwksSet stays empty.
  entry.spec.mutable_jwt_rules(0)->set_jwks(jwks);
  return entry;
}

std::shared_ptr<const WaypointSnapshot> snapshotWith(
    const std::vector<AuthorizationPolicyEntry>& policies,
    const std::vector<RequestAuthnEntry>& authns) {
  const SecurityTarget reviews{"bookstore", "reviews", std::string(kServiceHost)};
  std::vector<std::string> notes;
  auto snapshot = std::make_shared<WaypointSnapshot>();
  snapshot->security =
      SecurityConfig::build(policies, authns, {reviews}, PathNormalization::kBase, notes);
  for (const std::string& note : notes) std::cerr << "config note: " << note << "\n";
  return snapshot;
}

// A browser-like API request through the frontend: 10 header fields, a 42-byte target.
HttpRequest apiRequest(const std::string& token) {
  HttpRequest request;
  request.method = "GET";
  request.target = std::string(kTarget);
  auto& h = request.headers;
  h.add("Host", absl::StrCat(av(kServiceHost), ":9080"));
  h.add("User-Agent",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 "
        "Safari/537.36");
  h.add("Accept", "application/json");
  h.add("Accept-Encoding", "gzip, deflate, br");
  h.add("Accept-Language", "en-US,en;q=0.9");
  if (token.empty()) {
    h.add("If-None-Match", "W/\"5e1-8a3f2c\"");
  } else {
    h.add("Authorization", absl::StrCat("Bearer ", token));
  }
  h.add("X-Request-Id", "7f3c9a2e-4b1d-4e8a-9c6f-2d5b8e1a0c47");
  h.add("X-Tenant", "acme");
  h.add("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  h.add("X-Forwarded-Proto", "https");
  return request;
}

// The routing view the waypoint builds before the security check: lower-case names.
Headers lowerHeaders(const HttpRequest& request) {
  Headers out;
  out.reserve(request.headers.size());
  for (const HttpHeader& h : request.headers) {
    out.emplace_back(absl::AsciiStrToLower(h.name), h.value);
  }
  return out;
}

SecurityPeer frontendPeer() {
  SecurityPeer peer;
  peer.principal = "cluster.local/ns/bookstore/sa/frontend";
  peer.source_namespace = "bookstore";
  peer.source_ip = "10.244.1.17";
  peer.destination_ip = "10.96.14.203";
  peer.destination_port = 9080;
  peer.service_host = kServiceHost;
  return peer;
}

struct Stats {
  std::string name;
  std::string what;
  double p50 = 0, p90 = 0, p99 = 0, max = 0, mean = 0;  // microseconds
};

// Runs `prepare` untimed and `call` timed, `warmup` times then `iterations` times.
Stats timeCalls(std::string name, std::string what, const Options& options,
                const std::function<void()>& prepare, const std::function<void()>& call) {
  for (int i = 0; i < options.warmup; ++i) {
    prepare();
    call();
  }
  std::vector<double> us;
  us.reserve(static_cast<size_t>(options.iterations));
  for (int i = 0; i < options.iterations; ++i) {
    prepare();
    const Clock::time_point start = Clock::now();
    call();
    const Clock::time_point end = Clock::now();
    us.push_back(std::chrono::duration<double, std::micro>(end - start).count());
  }
  std::sort(us.begin(), us.end());
  auto rank = [&](double q) {
    const auto at = static_cast<size_t>(std::ceil(q * static_cast<double>(us.size())));
    return us[std::clamp<size_t>(at, 1, us.size()) - 1];
  };
  Stats out{std::move(name), std::move(what)};
  out.p50 = rank(0.50);
  out.p90 = rank(0.90);
  out.p99 = rank(0.99);
  out.max = us.back();
  double sum = 0;
  for (double v : us) sum += v;
  out.mean = sum / static_cast<double>(us.size());
  return out;
}

// One request through checkRequestSecurity with one config.
class SecurityCase {
 public:
  SecurityCase(std::shared_ptr<const WaypointSnapshot> snapshot, HttpRequest request,
               SecurityMetrics& metrics, int64_t now)
      : snapshot_(std::move(snapshot)),
        original_(std::move(request)),
        original_headers_(lowerHeaders(original_)),
        metrics_(metrics),
        now_(now) {}

  // The outcome for `request` (a variant of the case's request), for the checks before timing.
  SecurityOutcome check(HttpRequest request, HttpRequest* after = nullptr) const {
    Headers headers = lowerHeaders(request);
    SecurityOutcome out = checkRequestSecurity(*snapshot_, peer_, request, headers, metrics_, now_);
    if (after != nullptr) *after = std::move(request);
    return out;
  }

  Stats measure(std::string name, std::string what, const Options& options) {
    return timeCalls(
        std::move(name), std::move(what), options,
        [this] {
          request_ = original_;
          headers_ = original_headers_;
        },
        [this] {
          const SecurityOutcome out =
              checkRequestSecurity(*snapshot_, peer_, request_, headers_, metrics_, now_);
          if (!out.pass) fail(absl::StrCat("a timed request was refused: ", out.detail));
        });
  }

  // As measure, with a token not seen before in each call (`tokens`, one per call): the cost of
  // a client's first request, when the worker's token cache has nothing to reuse.
  Stats measureNewTokens(std::string name, std::string what, const Options& options,
                         const std::vector<std::string>& tokens) {
    size_t next = 0;
    return timeCalls(
        std::move(name), std::move(what), options,
        [this, &next, &tokens] {
          request_ = original_;
          request_.headers.set("authorization", "Bearer " + tokens[next++ % tokens.size()]);
          headers_ = lowerHeaders(request_);
        },
        [this] {
          const SecurityOutcome out =
              checkRequestSecurity(*snapshot_, peer_, request_, headers_, metrics_, now_);
          if (!out.pass) fail(absl::StrCat("a timed request was refused: ", out.detail));
        });
  }

  const HttpRequest& request() const { return original_; }

 private:
  std::shared_ptr<const WaypointSnapshot> snapshot_;
  SecurityPeer peer_ = frontendPeer();
  HttpRequest original_;
  Headers original_headers_;
  HttpRequest request_;
  Headers headers_;
  SecurityMetrics& metrics_;
  int64_t now_;
};

void expect(bool ok, std::string_view what) {
  if (!ok) fail(absl::StrCat("self-check failed: ", av(what)));
}

// Before timing: each case passes its request, and the filters are really at work (the last
// rule is the one that matches, the token is verified and consumed).
void selfCheck(const SecurityCase& none, const SecurityCase& authz, const SecurityCase& jwt,
               const SecurityCase& both, const std::string& forged_token) {
  for (const SecurityCase* c : {&none, &authz, &jwt, &both}) {
    const SecurityOutcome out = c->check(c->request());
    expect(out.pass, absl::StrCat("the case's request must pass: ", out.detail));
  }
  // Without the last rule's header condition no rule matches: the first nine do not.
  for (const SecurityCase* c : {&authz, &both}) {
    HttpRequest other = c->request();
    other.headers.set("X-Tenant", "initech");
    const SecurityOutcome out = c->check(other);
    expect(!out.pass && out.status == 403, "a request for another tenant must be denied");
  }
  for (const SecurityCase* c : {&jwt, &both}) {
    HttpRequest after;
    expect(c->check(c->request(), &after).pass, "the token must be accepted");
    expect(!after.headers.has("authorization") &&
               after.headers.get("x-user-id") == std::optional<std::string_view>("user-4821"),
           "a verified token is consumed and its subject forwarded");
    HttpRequest forged = c->request();
    forged.headers.set("Authorization", absl::StrCat("Bearer ", forged_token));
    const SecurityOutcome out = c->check(forged);
    expect(!out.pass && out.status == 401, "a token signed by another key must be refused");
  }
}

std::string micros(double us) { return absl::StrFormat("%.2f µs", us); }

void printTable(const std::vector<Stats>& rows) {
  std::printf("| case | what runs | p50 | p90 | p99 | max | mean |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (const Stats& s : rows) {
    std::printf("| %s | %s | %s | %s | %s | %s | %s |\n", s.name.c_str(), s.what.c_str(),
                micros(s.p50).c_str(), micros(s.p90).c_str(), micros(s.p99).c_str(),
                micros(s.max).c_str(), micros(s.mean).c_str());
  }
}

void writeJson(const std::string& path, const Options& options, const std::vector<Stats>& cases,
               const std::vector<Stats>& breakdown) {
  auto list = [](const std::vector<Stats>& rows) {
    std::vector<std::string> items;
    items.reserve(rows.size());
    for (const Stats& s : rows) {
      items.push_back(absl::StrFormat(
          R"({"name": "%s", "p50_us": %.3f, "p90_us": %.3f, "p99_us": %.3f, "max_us": %.3f, )"
          R"("mean_us": %.3f})",
          s.name, s.p50, s.p90, s.p99, s.max, s.mean));
    }
    return absl::StrCat("[", absl::StrJoin(items, ", "), "]");
  };
  std::ofstream out(path);
  out << absl::StrFormat(R"({"iterations": %d, "warmup": %d, "cases": %s, "jwt_breakdown": %s})",
                         options.iterations, options.warmup, list(cases), list(breakdown))
      << "\n";
  if (!out) fail(absl::StrCat("cannot write ", path));
}

void usage(std::ostream& out) {
  out << "usage: waypoint_security_bench [--iterations N] [--json FILE]\n"
         "  Times checkRequestSecurity per request (N iterations per case, default 20000, after\n"
         "  1000 of warm-up): no filter, a 10-rule AuthorizationPolicy, an ES256 JWT, both.\n";
}

int run(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      usage(std::cout);
      return 0;
    }
    if (i + 1 >= argc) {
      usage(std::cerr);
      return 2;
    }
    const std::string value = argv[++i];
    if (flag == "--iterations") {
      options.iterations = std::atoi(value.c_str());
      if (options.iterations < 1) fail("--iterations must be at least 1");
    } else if (flag == "--json") {
      options.json = value;
    } else {
      usage(std::cerr);
      return 2;
    }
  }

  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const Es256Issuer issuer;
  const std::string jwks = absl::StrCat(R"({"keys":[)", issuer.jwk(), "]}");
  const std::string payload = absl::StrCat(
      R"({"iss":"https://auth.example.com","sub":"user-4821","aud":["reviews.bookstore","web"],)",
      R"("azp":"bookstore-web","iat":)", now - 60, R"(,"exp":)", now + 3600,
      R"(,"email":"reader@example.com","name":"Ada Reader","groups":["readers","beta-testers"],)",
      R"("scope":"openid profile email"})");
  const std::string token = issuer.token(payload);
  const std::string forged_token = Es256Issuer().token(payload);

  metrics::Registry registry;
  SecurityMetrics metrics(registry);
  SecurityCase none(snapshotWith({}, {}), apiRequest(token), metrics, now);
  SecurityCase authz(snapshotWith({tenRulePolicy(false)}, {}), apiRequest(""), metrics, now);
  SecurityCase jwt(snapshotWith({}, {requestAuthentication(jwks)}), apiRequest(token), metrics,
                   now);
  SecurityCase both(snapshotWith({tenRulePolicy(true)}, {requestAuthentication(jwks)}),
                    apiRequest(token), metrics, now);
  selfCheck(none, authz, jwt, both, forged_token);

  std::vector<Stats> cases;
  cases.push_back(none.measure("none", "path normalization only (no policy, no authn)", options));
  cases.push_back(authz.measure("authz", "10-rule ALLOW policy, no token", options));
  cases.push_back(jwt.measure("jwt", "RequestAuthentication, ES256 token", options));
  cases.push_back(both.measure("jwt+authz", "both: token, then the 10 rules", options));
  // Each call a token the worker has not seen (a distinct `jti`): parse and signature every time.
  std::vector<std::string> new_tokens;
  new_tokens.reserve(static_cast<size_t>(options.warmup) + static_cast<size_t>(options.iterations));
  for (int i = 0; i < options.warmup + options.iterations; ++i) {
    std::string unique = payload;
    unique.insert(unique.size() - 1, absl::StrCat(R"(,"jti":"t-)", i, R"(")"));
    new_tokens.push_back(issuer.token(unique));
  }
  cases.push_back(both.measureNewTokens("jwt+authz, new token",
                                        "both, each request with a token not seen before", options,
                                        new_tokens));

  // The JWT verification alone, on the same token and keys.
  absl::StatusOr<std::shared_ptr<const Jwks>> keys = parseJwks(jwks);
  if (!keys.ok()) fail(absl::StrCat("the JWKS does not parse: ", keys.status().message()));
  JwtCheckOptions check;
  check.audiences = {std::string(kAudience)};
  absl::StatusOr<ParsedJwt> parsed = parseJwt(token, check.max_token_bytes);
  if (!parsed.ok()) fail(absl::StrCat("the token does not parse: ", parsed.status().message()));
  std::vector<Stats> breakdown;
  breakdown.push_back(timeCalls(
      "verifyJwt", "parse + claims + ES256 signature", options, [] {},
      [&] {
        if (!verifyJwt(token, **keys, check, now).ok()) fail("verifyJwt refused the token");
      }));
  breakdown.push_back(timeCalls(
      "parseJwt", "base64url + JSON into a Struct", options, [] {},
      [&] {
        if (!parseJwt(token, check.max_token_bytes).ok()) fail("parseJwt refused the token");
      }));
  breakdown.push_back(timeCalls(
      "verifyJwtSignature", "ES256 (P-256 ECDSA) verify alone", options, [] {},
      [&] {
        if (!verifyJwtSignature(*parsed, **keys).ok()) fail("the signature does not verify");
      }));

  std::printf("waypoint_security_bench: %d iterations per case after %d of warm-up, one thread\n\n",
              options.iterations, options.warmup);
  printTable(cases);
  std::printf("\nJWT verification alone (same token and keys):\n\n");
  printTable(breakdown);
  std::printf(
      "\nadded by the filters at p50: authz %+.2f µs, jwt %+.2f µs, jwt+authz %+.2f µs, "
      "jwt+authz with a new token %+.2f µs\n",
      cases[1].p50 - cases[0].p50, cases[2].p50 - cases[0].p50, cases[3].p50 - cases[0].p50,
      cases[4].p50 - cases[0].p50);
  if (!options.json.empty()) writeJson(options.json, options, cases, breakdown);
  return 0;
}

}  // namespace
}  // namespace ambit::waypoint

int main(int argc, char** argv) { return ambit::waypoint::run(argc, argv); }
