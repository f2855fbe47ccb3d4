// Fuzzes what a client controls of JWT authentication: the token (verified against a fixed key
// set, and found in a request by the compiled rules) and a key set document (what a jwksUri
// returns). Nothing may crash, whatever the bytes.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "waypoint/jwt/jwks.h"
#include "waypoint/jwt/jwt.h"
#include "waypoint/jwt/request_authn.h"

namespace {

using ambit::waypoint::authenticateRequest;
using ambit::waypoint::CompiledRequestAuthn;
using ambit::waypoint::Jwks;
using ambit::waypoint::JwksLookup;
using ambit::waypoint::JwtCheckOptions;
using ambit::waypoint::parseJwks;
using ambit::waypoint::RequestAuthnEntry;
using ambit::waypoint::verifyJwt;

// An EC P-256 key and an RSA-2048 key, generated once; their private halves were discarded.
constexpr const char* kJwks =
    R"({"keys":[)"
    R"({"kty":"EC","crv":"P-256","kid":"ec",)"
    R"("x":"joXH0PYs3JyIpu4NmehSvwx8NbbLtSsl37eevRUuTt4",)"
    R"("y":"HxY6-GD1F6WGQpERSPdSTN2r9B4pq06-_ypOLWpWisM"},)"
    R"({"kty":"RSA","kid":"rsa","alg":"RS256","e":"AQAB","n":")"
    "gaLxbDtevYLCVKgXPd2T-Fxiz-opLmi6i7xtsYx2NOFtQlp_ki5JX7tUqNdjinZ7Sn15e3L0"
    "KmI1cmusTd2Is1QpY_8AXQiWOr-S5HdotfxC9sXhMqzXuNptcnukMeVEbeUe7rhWPsonPzpJ"
    "rwkjuPdcAIiuXPvLBmpUByMyohhB2SWPPWqhEFuaCtz_WnWh0y4YdAbNMxD_WF5Luxo0wQsj"
    "7CmQ8Dvqr0zFnrB3UyJOb3VOr1mH_MvscqGGItmUnMSQohLVcVumbEEWOQFclwRz2BkoQWd6"
    "fTszGFNS2OYQ-lqcTsiPDnrRa-NtN2ZqsR44RZLQxmjt0gMgaFYczQ"
    R"("}]})";

constexpr int64_t kNow = 1'700'000'000;

class NoFetchedKeys final : public JwksLookup {
 public:
  const Jwks* find(std::string_view) const override { return nullptr; }
};

struct Fixture {
  std::shared_ptr<const Jwks> keys;
  std::shared_ptr<const CompiledRequestAuthn> authn;
};

const Fixture& fixture() {
  static const Fixture fixture = [] {
    Fixture out;
    out.keys = *parseJwks(kJwks);
    RequestAuthnEntry entry{"default", "fuzz", {}};
    auto* inline_rule = entry.spec.add_jwt_rules();
    inline_rule->set_issuer("https://issuer.example");
    inline_rule->set_jwks(kJwks);
    inline_rule->set_output_payload_to_header("x-jwt-payload");
    auto* claim = inline_rule->add_output_claim_to_headers();
    claim->set_header("x-group");
    claim->set_claim("realm.group");
    auto* uri_rule = entry.spec.add_jwt_rules();
    uri_rule->set_issuer("https://other.example");
    uri_rule->set_jwks_uri("https://other.example/jwks.json");
    uri_rule->add_from_cookies("session");
    out.authn = CompiledRequestAuthn::compile({entry});
    return out;
  }();
  return fixture;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const Fixture& f = fixture();

  JwtCheckOptions options;
  options.audiences = {"my-service"};
  (void)verifyJwt(input, *f.keys, options, kNow);
  (void)verifyJwt(input, *f.keys, JwtCheckOptions{}, kNow);

  (void)parseJwks(input);

  const std::string text(input);
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"authorization", "Bearer " + text}, {"cookie", "session=" + text}};
  (void)authenticateRequest(*f.authn, headers, "/?access_token=" + text, NoFetchedKeys{}, kNow);
  return 0;
}
