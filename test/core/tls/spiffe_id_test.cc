// SpiffeId: one spelling per identity; every other form refused with the reason.
#include <catch2/catch.hpp>

#include "core/tls/spiffe_id.h"

namespace ambit::tls {
namespace {

TEST_CASE("well-formed SPIFFE IDs parse into their parts") {
  absl::StatusOr<SpiffeId> id = SpiffeId::parse("spiffe://cluster.local/ns/shop/sa/cart.v2");
  REQUIRE(id.ok());
  CHECK(id->trust_domain == "cluster.local");
  CHECK(id->ns == "shop");
  CHECK(id->service_account == "cart.v2");
  CHECK(id->toString() == "spiffe://cluster.local/ns/shop/sa/cart.v2");
  CHECK(SpiffeId::parse("spiffe://td_1/ns/a/sa/b").ok());
}

TEST_CASE("malformed SPIFFE IDs are refused with the reason") {
  const std::string path_error = "path must be /ns/<namespace>/sa/<service-account>";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "must start with spiffe://"},
      {"https://cluster.local/ns/a/sa/b", "must start with spiffe://"},
      {"SPIFFE://cluster.local/ns/a/sa/b", "must start with spiffe://"},
      {"spiffe://cluster.local", "has no path; expected /ns/<namespace>/sa/<name>"},
      {"spiffe:///ns/a/sa/b",
       "trust domain must be 1 to 255 of lowercase letters, digits, '.', '-', '_'"},
      {"spiffe://Cluster.local/ns/a/sa/b",
       "trust domain must be 1 to 255 of lowercase letters, digits, '.', '-', '_'"},
      {"spiffe://cluster.local:8080/ns/a/sa/b",
       "trust domain must be 1 to 255 of lowercase letters, digits, '.', '-', '_'"},
      {"spiffe://cluster.local/ns/a/sa/b/extra", path_error},
      {"spiffe://cluster.local/ns/a/sa/", "service account must be a DNS-1123 subdomain"},
      {"spiffe://cluster.local/ns/a/sa", path_error},
      {"spiffe://cluster.local/sa/b/ns/a", path_error},
      {"spiffe://cluster.local/ns/A/sa/b", "namespace must be a DNS-1123 label"},
      {"spiffe://cluster.local/ns/a.b/sa/b", "namespace must be a DNS-1123 label"},
      {"spiffe://cluster.local/ns/a/sa/b,URI:x", "service account must be a DNS-1123 subdomain"},
      {"spiffe://cluster.local/ns/a/sa/b?x=1", "service account must be a DNS-1123 subdomain"},
  };
  for (const auto& [uri, why] : cases) {
    INFO(uri);
    absl::StatusOr<SpiffeId> id = SpiffeId::parse(uri);
    REQUIRE_FALSE(id.ok());
    CHECK(id.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(id.status().message() == absl::StrCat("SPIFFE ID \"", uri, "\": ", why));
  }
  const std::string long_id = "spiffe://cluster.local/ns/a/sa/" + std::string(2100, 'a');
  CHECK(SpiffeId::parse(long_id).status().message() ==
        "SPIFFE ID is 2131 characters long; the limit is 2048");
}

TEST_CASE("the principal form policies compare drops the scheme") {
  auto id = SpiffeId::parse("spiffe://td_1.example-x/ns/team-1/sa/svc.v1-x");
  REQUIRE(id.ok());
  CHECK(id->principal() == "td_1.example-x/ns/team-1/sa/svc.v1-x");
  CHECK(id->toString() == "spiffe://td_1.example-x/ns/team-1/sa/svc.v1-x");
}

TEST_CASE("trust domains") {
  CHECK(isTrustDomain("cluster.local"));
  CHECK(isTrustDomain("a"));
  CHECK_FALSE(isTrustDomain(""));
  CHECK_FALSE(isTrustDomain("Cluster"));
  CHECK_FALSE(isTrustDomain("a b"));
  CHECK_FALSE(isTrustDomain(std::string(256, 'a')));
}

}  // namespace
}  // namespace ambit::tls
