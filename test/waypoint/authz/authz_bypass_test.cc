// Known ways to reach /admin past path-based policies: each target is normalized first (as the
// waypoint does before authorization), then decided. With MERGE_SLASHES and
// DECODE_AND_MERGE_SLASHES no target may reach an /admin path allowed: it is refused (400), or
// both an ALLOW list of /public/* and a DENY of /admin* deny it.
#include <catch2/catch.hpp>

#include "test/waypoint/authz/authz_test_support.h"
#include "waypoint/authz/path_normalization.h"

namespace ambit::waypoint::testing {
namespace {

using Mode = PathNormalization;

const char* const kBypassTargets[] = {
    "/admin",
    "/admin/users",
    "//admin",
    "///admin//users",
    "/./admin",
    "/public/../admin",
    "/public/./../admin",
    "/public/a/../../admin",
    "/a/b/../../admin",
    "/../admin",
    "/%2e%2e/admin",
    "/%2E%2E/admin",
    "/public/%2e%2E/admin",
    "/public/.%2e/admin",
    "/public/%2e./admin",
    "/%61dmin",
    "/ad%6Din/users",
    "/%2fadmin",
    "/public%2F..%2Fadmin",
    "/public%2f..%2fadmin",
    "/public/..%2Fadmin",
    "/public%5C..%5Cadmin",
    "/public%5c..%5cadmin",
    "/\\admin",
    "/public\\..\\admin",
    "/public/..\\admin",
    "/admin;jsessionid=1",
    "/admin?to=/public/x",
    "/admin/?x=../public",
    "/public/..//admin/",
};

struct Policies2 {
  Policies allow_public = {policy("demo/allow-public", R"({"rules": [
      {"to": [{"operation": {"paths": ["/public/*"]}}]}]})")};
  Policies deny_admin = {policy("demo/deny-admin", R"({"action": "DENY", "rules": [
      {"to": [{"operation": {"paths": ["/admin*"]}}]}]})")};
};

L7AuthorizationDecision decideOn(const Policies& policies, const std::string& target) {
  TestRequest request;
  request.path = target;
  return decide(policies, request);
}

TEST_CASE("no bypass reaches /admin under MERGE_SLASHES and DECODE_AND_MERGE_SLASHES") {
  const Policies2 p;
  for (const Mode mode : {Mode::kMergeSlashes, Mode::kDecodeAndMergeSlashes}) {
    int refused = 0, denied = 0;
    for (const char* target : kBypassTargets) {
      INFO(pathNormalizationName(mode) << " \"" << target << "\"");
      const absl::StatusOr<std::string> normalized = normalizeRequestPath(target, mode);
      if (!normalized.ok()) {
        ++refused;
        continue;
      }
      INFO("normalized \"" << *normalized << "\"");
      // Each target of the corpus does name an admin resource once normalized.
      CHECK(normalized->starts_with("/admin"));
      const L7AuthorizationDecision allow_list = decideOn(p.allow_public, *normalized);
      CHECK_FALSE(allow_list.allowed);
      CHECK(allow_list.reason == Reason::kDeniedNoAllowMatch);
      const L7AuthorizationDecision deny = decideOn(p.deny_admin, *normalized);
      CHECK_FALSE(deny.allowed);
      CHECK(deny.reason == Reason::kDeniedByPolicy);
      ++denied;
    }
    INFO(pathNormalizationName(mode));
    CHECK(refused + denied == static_cast<int>(std::size(kBypassTargets)));
    // Encoded slashes are refused, not decoded, by MERGE_SLASHES only.
    CHECK((refused > 0) == (mode == Mode::kMergeSlashes));
  }
}

TEST_CASE("dot segments resolve before slashes merge, as Envoy does") {
  // "/public//../admin" names /public/admin: the empty segment is the one ".." removes. The
  // endpoint receives the normalized target, so it sees what the policies saw.
  for (const Mode mode : {Mode::kMergeSlashes, Mode::kDecodeAndMergeSlashes}) {
    const absl::StatusOr<std::string> normalized = normalizeRequestPath("/public//../admin", mode);
    REQUIRE(normalized.ok());
    CHECK(*normalized == "/public/admin");
  }
}

TEST_CASE("under BASE the ALLOW list still denies every bypass target") {
  const Policies2 p;
  for (const char* target : kBypassTargets) {
    INFO("\"" << target << "\"");
    const absl::StatusOr<std::string> normalized = normalizeRequestPath(target, Mode::kBase);
    if (!normalized.ok()) continue;
    CHECK_FALSE(decideOn(p.allow_public, *normalized).allowed);
  }
}

TEST_CASE("without normalization the same policies are bypassed") {
  // What NONE gives up (CVE-2021-31920): the reason the waypoint normalizes by default.
  const Policies2 p;
  const absl::StatusOr<std::string> target = normalizeRequestPath("/public/../admin", Mode::kNone);
  REQUIRE(target.ok());
  CHECK(decideOn(p.allow_public, *target).allowed);
  const absl::StatusOr<std::string> slashes = normalizeRequestPath("//admin", Mode::kBase);
  REQUIRE(slashes.ok());
  CHECK(decideOn(p.deny_admin, *slashes).allowed);
}

}  // namespace
}  // namespace ambit::waypoint::testing
