// Delta ADS server: authentication, per-caller filtering and slow clients.
#include <catch2/catch.hpp>

#include "control/xds/delta_ads_server.h"
#include "test/control/xds/ads_harness.h"

namespace ambit::control::xds::testing {
namespace {

using Names = std::vector<std::string>;

// Two fixed tokens: one for the agent of node "node-1", one for a waypoint.
class FakeAuthenticator final : public auth::Authenticator {
 public:
  absl::StatusOr<auth::Caller> authenticate(const std::string& authorization) const override {
    auth::Caller caller;
    if (authorization == "Bearer node-token") {
      caller.kind = auth::Caller::Kind::kNodeAgent;
      caller.node = "node-1";
      return caller;
    }
    if (authorization == "Bearer waypoint-token") {
      caller.kind = auth::Caller::Kind::kWaypoint;
      caller.identity = "spiffe://cluster.local/ns/shop/sa/waypoint";
      return caller;
    }
    return absl::UnauthenticatedError("unknown bearer token");
  }
};

TEST_CASE("a stream without valid credentials ends with UNAUTHENTICATED", "[xds]") {
  FakeAuthenticator authenticator;
  AdsHarness harness(testOptions(), &authenticator);
  harness.ads().publish(snapshotOf({{"a", "1"}}));

  AdsClient anonymous(harness);
  auto status = anonymous.finish();
  REQUIRE(status);
  CHECK(status->error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(status->error_message().find("authorization") != std::string::npos);

  AdsClient wrong(harness, "stolen-token");
  status = wrong.finish();
  REQUIRE(status);
  CHECK(status->error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(status->error_message() == "unknown bearer token");
  CHECK(harness.ads().counters().auth_failures == 2);
  CHECK(harness.ads().counters().streams_total == 0);

  AdsClient agent(harness, "node-token");
  REQUIRE(agent.subscribe(kTestType));
  auto response = agent.next();
  REQUIRE(response);
  CHECK(namesOf(*response) == Names{"a"});
  auto clients = harness.ads().syncStatus();
  REQUIRE(clients.size() == 1);
  REQUIRE(clients[0].caller.has_value());
  CHECK(clients[0].caller->kind == auth::Caller::Kind::kNodeAgent);
  CHECK(clients[0].caller->node == "node-1");
}

TEST_CASE("the per-client filter hides resources from callers", "[xds]") {
  FakeAuthenticator authenticator;
  auto options = testOptions();
  // Waypoints see only resources named after their service account; agents see everything.
  options.filter = [](const auth::Caller* caller, const std::string& type_url,
                      const Resource& resource) {
    if (type_url != kTestType || caller == nullptr) return false;
    if (caller->kind == auth::Caller::Kind::kNodeAgent) return true;
    return resource.name.rfind("waypoint/", 0) == 0;
  };
  AdsHarness harness(options, &authenticator);
  harness.ads().publish(snapshotOf({{"a", "1"}, {"waypoint/route", "2"}}));

  AdsClient agent(harness, "node-token");
  AdsClient waypoint(harness, "waypoint-token");
  REQUIRE(agent.subscribe(kTestType));
  REQUIRE(waypoint.subscribe(kTestType, {"a", "waypoint/route"}));
  auto to_agent = agent.next();
  auto to_waypoint = waypoint.next();
  REQUIRE(to_agent);
  REQUIRE(to_waypoint);
  CHECK(namesOf(*to_agent) == Names{"a", "waypoint/route"});
  CHECK(namesOf(*to_waypoint) == Names{"waypoint/route"});
  // To the waypoint a hidden name looks like one that does not exist.
  CHECK(removedOf(*to_waypoint) == Names{"a"});
}

TEST_CASE("a client that never reads is disconnected while others keep receiving", "[xds]") {
  auto options = testOptions();
  options.debounce = 10ms;
  options.write_timeout = 300ms;
  AdsHarness harness(options);
  // Large resources fill the stuck client's flow-control window within a few pushes.
  const std::string big(512 * 1024, 'x');
  auto bigSnapshot = [&](int round) {
    std::vector<std::pair<std::string, std::string>> entries;
    for (int i = 0; i < 6; ++i)
      entries.push_back({"r" + std::to_string(i), big + std::to_string(round)});
    return snapshotOf(entries);
  };
  harness.ads().publish(bigSnapshot(0));

  AdsClient stuck(harness, "", /*read=*/false);
  AdsClient healthy(harness);
  REQUIRE(stuck.subscribe(kTestType));
  REQUIRE(healthy.subscribe(kTestType));
  REQUIRE(healthy.next());

  const auto start = std::chrono::steady_clock::now();
  int round = 1;
  int received = 0;
  // Keep publishing until the stuck client is cut off; at most 40 rounds and 3 s.
  while (harness.ads().counters().write_timeouts == 0 && round <= 40 &&
         std::chrono::steady_clock::now() - start < 3s) {
    harness.ads().publish(bigSnapshot(round++));
    auto response = healthy.next(2s);
    REQUIRE(response);  // the healthy client is never held up by the stuck one
    CHECK(response->resources_size() == 6);
    ++received;
  }
  CHECK(harness.ads().counters().write_timeouts == 1);
  INFO("rounds until the stuck client was cut off: " << round - 1);
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  REQUIRE(eventually([&] { return harness.ads().counters().connected_clients == 1; }));
  auto clients = harness.ads().syncStatus();
  REQUIRE(clients.size() == 1);
  CHECK(clients[0].types.at(0).responses_sent == static_cast<uint64_t>(received) + 1);

  // And it still does after the disconnect.
  harness.ads().publish(bigSnapshot(round));
  auto after = healthy.next();
  REQUIRE(after);
  CHECK(after->resources_size() == 6);
}

}  // namespace
}  // namespace ambit::control::xds::testing
