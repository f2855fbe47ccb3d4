#include "control/source/object_set.h"

#include <catch2/catch.hpp>

#include "istio/networking/v1alpha3/virtual_service.pb.h"

namespace ambit::control::source {
namespace {

namespace net = istio::networking::v1alpha3;

config::LoadResult load(const std::string& file, const std::string& text) {
  config::LoadResult r;
  config::Loader().loadText(text, file, r);
  return r;
}

std::string vs(const std::string& name, const std::string& timeout) {
  return "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: " + name +
         ", namespace: shop}\nspec:\n  hosts: [" + name + "]\n  http:\n  - timeout: " + timeout +
         "\n    route:\n    - destination: {host: " + name + "}\n";
}

const ObjectStatus& statusFor(const ConfigState& state, const std::string& key) {
  for (const ObjectStatus& s : state.statuses) {
    if (objectKey(s.object) == key) return s;
  }
  FAIL("no status for " << key);
  return state.statuses.front();
}

int64_t timeoutOf(const ConfigState& state, const std::string& name) {
  for (const config::Object& o : state.objects) {
    if (o.name() == name) return o.as<net::VirtualService>().http(0).timeout().seconds();
  }
  return -1;
}

TEST_CASE("an invalid object is rejected alone and its last good version stays", "[source]") {
  ObjectSet set;
  set.updateFile("a.yaml", load("a.yaml", vs("reviews", "5s") + "---\n" + vs("ratings", "1s")));
  auto state = set.state();
  REQUIRE(state->objects.size() == 2);
  CHECK(timeoutOf(*state, "reviews") == 5);

  // reviews becomes invalid (zero timeout), ratings changes validly.
  set.updateFile("a.yaml", load("a.yaml", vs("reviews", "0s") + "---\n" + vs("ratings", "2s")));
  state = set.state();
  REQUIRE(state->objects.size() == 2);
  CHECK(timeoutOf(*state, "reviews") == 5);
  CHECK(timeoutOf(*state, "ratings") == 2);
  const ObjectStatus& status = statusFor(*state, "VirtualService shop/reviews");
  CHECK_FALSE(status.accepted);
  CHECK(status.previous_in_force);
  REQUIRE(status.findings.size() == 1);
  CHECK(status.findings[0].code == "AMB0100");
  CHECK(statusFor(*state, "VirtualService shop/ratings").accepted);
}

TEST_CASE("a file that no longer parses keeps its objects until fixed", "[source]") {
  ObjectSet set;
  set.updateFile("a.yaml", load("a.yaml", vs("reviews", "5s")));
  set.updateFile("a.yaml", load("a.yaml", "apiVersion: [broken\n"));
  auto state = set.state();
  REQUIRE(state->objects.size() == 1);
  CHECK(timeoutOf(*state, "reviews") == 5);
  CHECK(statusFor(*state, "VirtualService shop/reviews").previous_in_force);

  set.updateFile("a.yaml", load("a.yaml", vs("reviews", "7s")));
  state = set.state();
  CHECK(timeoutOf(*state, "reviews") == 7);
  CHECK(statusFor(*state, "VirtualService shop/reviews").accepted);
  CHECK(state->statuses.size() == 1);
}

TEST_CASE("a new object that is invalid is not in force", "[source]") {
  ObjectSet set;
  set.updateFile("a.yaml", load("a.yaml", vs("reviews", "0s")));
  auto state = set.state();
  CHECK(state->objects.empty());
  CHECK_FALSE(statusFor(*state, "VirtualService shop/reviews").previous_in_force);
}

TEST_CASE("deleting a file removes its objects; duplicates across files are rejected", "[source]") {
  ObjectSet set;
  set.updateFile("a.yaml", load("a.yaml", vs("reviews", "5s")));
  set.updateFile("b.yaml", load("b.yaml", vs("reviews", "9s")));
  auto state = set.state();
  REQUIRE(state->objects.size() == 1);
  CHECK(timeoutOf(*state, "reviews") == 5);  // the first file in name order wins
  bool duplicateReported = false;
  for (const ObjectStatus& s : state->statuses) {
    for (const config::Diagnostic& d : s.findings) {
      duplicateReported |= d.code == "AMB0109" && d.origin.file == "b.yaml";
    }
  }
  CHECK(duplicateReported);

  set.updateFile("a.yaml", std::nullopt);
  state = set.state();
  REQUIRE(state->objects.size() == 1);
  CHECK(timeoutOf(*state, "reviews") == 9);
  set.updateFile("b.yaml", std::nullopt);
  CHECK(set.state()->objects.empty());
  CHECK(set.state()->generation == 4);
}

}  // namespace
}  // namespace ambit::control::source
