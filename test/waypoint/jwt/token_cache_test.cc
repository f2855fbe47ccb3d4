// The verified-token cache changes what a JWT check costs, never its outcome: a token cached as
// valid is refused once it expires or its keys rotate, a token cached as malformed stays refused,
// and the cache stays within its bound.
#include <map>
#include <memory>
#include <string>

#include <absl/strings/str_cat.h>
#include <catch2/catch.hpp>

#include "test/waypoint/jwt/jwt_test_support.h"
#include "waypoint/jwt/request_authn.h"
#include "waypoint/jwt/token_cache.h"

namespace ambit::waypoint::testing {
namespace {

constexpr const char* kIssuer = "https://issuer.cache.test";
constexpr const char* kUri = "https://issuer.cache.test/jwks";

// A lookup that shares its sets, as the waypoint's JwksSet does, so signatures are cached.
class SharingLookup final : public JwksLookup {
 public:
  std::map<std::string, std::shared_ptr<const Jwks>, std::less<>> sets;
  const Jwks* find(std::string_view uri) const override {
    const auto it = sets.find(uri);
    return it == sets.end() ? nullptr : it->second.get();
  }
  std::shared_ptr<const Jwks> findShared(std::string_view uri) const override {
    const auto it = sets.find(uri);
    return it == sets.end() ? nullptr : it->second;
  }
};

std::shared_ptr<const CompiledRequestAuthn> compileUriRule() {
  RequestAuthnEntry entry{"default", "cache", {}};
  auto* rule = entry.spec.add_jwt_rules();
  rule->set_issuer(kIssuer);
  rule->set_jwks_uri(kUri);
  return CompiledRequestAuthn::compile({entry});
}

AuthnResult check(const CompiledRequestAuthn& authn, const JwksLookup& lookup,
                  const std::string& token, int64_t now) {
  return authenticateRequest(authn, {{"authorization", "Bearer " + token}}, "/", lookup, now);
}

TEST_CASE("a cached token is checked again against time and keys") {
  const auto authn = compileUriRule();
  SharingLookup lookup;
  lookup.sets[kUri] = jwksOf({TestKey::p256().jwk("k1")});
  const std::string token = makeToken(
      TestKey::p256(), "ES256",
      absl::StrCat(R"({"iss":")", kIssuer, R"(","sub":"c","exp":)", kNow + 100, "}"), "k1");

  // Valid twice: the second time from the cache.
  CHECK(check(*authn, lookup, token, kNow).kind == AuthnResult::Kind::kValid);
  CHECK(check(*authn, lookup, token, kNow).kind == AuthnResult::Kind::kValid);
  TokenCache::Entry& entry = TokenCache::forThisThread().lookup(token, authn->maxTokenBytes());
  CHECK(entry.verifiedWith(lookup.sets[kUri]));

  // Past exp and the skew: refused although its signature is cached.
  const AuthnResult expired = check(*authn, lookup, token, kNow + 100 + 61);
  CHECK(expired.kind == AuthnResult::Kind::kInvalid);
  CHECK(expired.reason == "Jwt is expired");

  // The keys rotate to another key with the same kid: the cached verification does not count.
  lookup.sets[kUri] = jwksOf({TestKey::otherRsa().jwk("k1")});
  CHECK(check(*authn, lookup, token, kNow).kind == AuthnResult::Kind::kInvalid);
  // The key set is fetched again, unchanged but as a new set: verified again, valid.
  lookup.sets[kUri] = jwksOf({TestKey::p256().jwk("k1")});
  CHECK(check(*authn, lookup, token, kNow).kind == AuthnResult::Kind::kValid);
  // Keys gone (never fetched after a restart of the set): fail closed.
  lookup.sets.clear();
  CHECK(check(*authn, lookup, token, kNow).reason == "Jwks remote fetch is failed");
}

TEST_CASE("a malformed token stays refused, and the cache is bounded") {
  const auto authn = compileUriRule();
  SharingLookup lookup;
  lookup.sets[kUri] = jwksOf({TestKey::p256().jwk("k1")});
  CHECK(check(*authn, lookup, "not.a.token", kNow).kind == AuthnResult::Kind::kInvalid);
  CHECK(check(*authn, lookup, "not.a.token", kNow).kind == AuthnResult::Kind::kInvalid);

  TokenCache cache(8);
  for (int i = 0; i < 20; ++i) {
    cache.lookup(absl::StrCat("garbage-", i), 8192);
    CHECK(cache.size() <= 8);
  }
  // A limit that differs re-parses: an oversized token under a smaller limit is refused.
  const std::string token =
      makeToken(TestKey::p256(), "ES256", absl::StrCat(R"({"iss":")", kIssuer, R"("})"), "k1");
  CHECK(cache.lookup(token, 8192).parsed.ok());
  CHECK_FALSE(cache.lookup(token, 16).parsed.ok());
}

}  // namespace
}  // namespace ambit::waypoint::testing
