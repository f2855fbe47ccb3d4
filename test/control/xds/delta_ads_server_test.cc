#include "control/xds/delta_ads_server.h"

#include <catch2/catch.hpp>

#include "test/control/xds/ads_harness.h"

namespace ambit::control::xds::testing {
namespace {

using Names = std::vector<std::string>;

// The status of `type_url` on the only connected client, if there is exactly one.
std::optional<TypeSyncStatus> typeStatus(const DeltaAdsServer& ads, const std::string& type_url) {
  const std::vector<ClientSyncStatus> clients = ads.syncStatus();
  if (clients.size() != 1) return std::nullopt;
  for (const TypeSyncStatus& type : clients[0].types) {
    if (type.type_url == type_url) return type;
  }
  return std::nullopt;
}

TEST_CASE("a wildcard subscription receives the whole snapshot", "[xds]") {
  AdsHarness harness;
  auto snapshot = snapshotOf({{"a", "1"}, {"b", "2"}, {"c", "3"}});
  harness.ads().publish(snapshot);
  AdsClient client(harness);
  REQUIRE(client.subscribe(kTestType));

  auto response = client.next();
  REQUIRE(response);
  CHECK(response->type_url() == kTestType);
  CHECK(namesOf(*response) == Names{"a", "b", "c"});
  CHECK(response->removed_resources_size() == 0);
  CHECK(response->system_version_info() == "1");
  CHECK_FALSE(response->nonce().empty());
  const auto& b = response->resources(1);
  CHECK(b.version() == snapshot->types.at(kTestType).at("b")->version);
  google::protobuf::StringValue value;
  REQUIRE(b.resource().UnpackTo(&value));
  CHECK(value.value() == "2");
  CHECK_FALSE(client.next(150ms));  // nothing more until something changes
}

TEST_CASE("a named subscription receives only those names", "[xds]") {
  AdsHarness harness;
  harness.ads().publish(snapshotOf({{"a", "1"}, {"b", "2"}, {"c", "3"}}));
  AdsClient client(harness);
  REQUIRE(client.subscribe(kTestType, {"c", "a", "missing"}));

  auto response = client.next();
  REQUIRE(response);
  CHECK(namesOf(*response) == Names{"a", "c"});
  // A subscribed name that does not exist is reported removed, so the client stops waiting.
  CHECK(removedOf(*response) == Names{"missing"});
}

TEST_CASE("a new snapshot sends only changed resources and removals", "[xds]") {
  AdsHarness harness;
  harness.ads().publish(snapshotOf({{"a", "1"}, {"b", "2"}, {"c", "3"}}));
  AdsClient client(harness);
  REQUIRE(client.subscribe(kTestType));
  REQUIRE(client.next());

  harness.ads().publish(snapshotOf({{"a", "1"}, {"b", "2-changed"}, {"d", "4"}}));
  auto response = client.next();
  REQUIRE(response);
  CHECK(namesOf(*response) == Names{"b", "d"});
  CHECK(removedOf(*response) == Names{"c"});
  CHECK(response->system_version_info() == "2");

  // Publishing the same content again changes nothing for the client.
  harness.ads().publish(snapshotOf({{"a", "1"}, {"b", "2-changed"}, {"d", "4"}}));
  CHECK_FALSE(client.next(200ms));
  CHECK(harness.ads().counters().pushes == 3);
}

TEST_CASE("an ACK is recorded in the sync status", "[xds]") {
  AdsHarness harness;
  harness.ads().publish(snapshotOf({{"a", "1"}}));
  AdsClient client(harness);
  REQUIRE(client.subscribe(kTestType));
  auto response = client.next();
  REQUIRE(response);

  const auto before = typeStatus(harness.ads(), kTestType);
  REQUIRE(before);
  CHECK(before->pending_nonce == response->nonce());
  CHECK(before->sent_nonce == response->nonce());
  CHECK(before->acked_nonce.empty());

  REQUIRE(client.ack(*response));
  std::optional<TypeSyncStatus> after;
  REQUIRE(eventually([&] {
    after = typeStatus(harness.ads(), kTestType);
    return after && !after->acked_nonce.empty();
  }));
  CHECK(after->acked_nonce == response->nonce());
  CHECK(after->acked_version == "1");
  CHECK(after->pending_nonce.empty());
  CHECK(after->wildcard);
  CHECK(after->resources_held == 1);
  CHECK(after->responses_sent == 1);
  CHECK(after->resources_sent == 1);
  const auto clients = harness.ads().syncStatus();
  REQUIRE(clients.size() == 1);
  CHECK(clients[0].node_id == "test-node");
  CHECK(clients[0].peer.find("127.0.0.1") != std::string::npos);
}

TEST_CASE("a NACK is recorded and the stream keeps serving newer snapshots", "[xds]") {
  AdsHarness harness;
  harness.ads().publish(snapshotOf({{"a", "1"}, {"b", "2"}}));
  AdsClient client(harness);
  REQUIRE(client.subscribe(kTestType));
  REQUIRE(client.next());

  harness.ads().publish(snapshotOf({{"a", "1"}, {"b", "bad"}}));
  auto rejected = client.next();
  REQUIRE(rejected);
  CHECK(namesOf(*rejected) == Names{"b"});
  REQUIRE(client.nack(*rejected, "b: address is not an IP"));
  std::optional<TypeSyncStatus> type;
  REQUIRE(eventually([&] {
    type = typeStatus(harness.ads(), kTestType);
    return type && type->last_nack.has_value();
  }));
  CHECK(type->last_nack->nonce == rejected->nonce());
  CHECK(type->last_nack->message == "b: address is not an IP");
  CHECK(type->last_nack->code == 13);
  CHECK(type->nacks == 1);
  CHECK(type->pending_nonce.empty());
  CHECK(harness.ads().counters().nacks == 1);
  // The rejected version is not sent again by itself.
  CHECK_FALSE(client.next(150ms));

  harness.ads().publish(snapshotOf({{"a", "1"}, {"b", "good"}}));
  auto fixed = client.next();
  REQUIRE(fixed);
  CHECK(namesOf(*fixed) == Names{"b"});
  CHECK(fixed->system_version_info() == "3");
}

TEST_CASE("quick publishes within the debounce window coalesce into one push", "[xds]") {
  auto options = testOptions();
  options.debounce = 150ms;
  AdsHarness harness(options);
  harness.ads().publish(snapshotOf({{"a", "0"}, {"b", "0"}}));
  AdsClient client(harness);
  REQUIRE(client.subscribe(kTestType));
  REQUIRE(client.next());  // the first push is not delayed

  const auto start = std::chrono::steady_clock::now();
  for (int i = 1; i <= 5; ++i) {
    harness.ads().publish(snapshotOf({{"a", "0"}, {"b", std::to_string(i)}}));
  }
  auto response = client.next();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE(response);
  CHECK(elapsed >= 140ms);
  REQUIRE(namesOf(*response) == Names{"b"});
  google::protobuf::StringValue value;
  REQUIRE(response->resources(0).resource().UnpackTo(&value));
  CHECK(value.value() == "5");
  CHECK_FALSE(client.next(250ms));
  const AdsCounters counters = harness.ads().counters();
  CHECK(counters.pushes == 2);
  // Latency runs from the first of the five publishes to the write, so it covers the window.
  // The first push found no client connected, so it is not a latency.
  CHECK(counters.push_latency.count == 1);
  CHECK(counters.push_latency.last_ms >= 140);
  CHECK(counters.push_latency.last_ms < 1000);
}

TEST_CASE("a reconnect with initial_resource_versions gets only the differences", "[xds]") {
  AdsHarness harness;
  harness.ads().publish(snapshotOf({{"a", "1"}, {"b", "2"}, {"c", "3"}}));
  std::map<std::string, std::string> held;
  {
    AdsClient first(harness);
    REQUIRE(first.subscribe(kTestType));
    auto response = first.next();
    REQUIRE(response);
    for (const auto& resource : response->resources()) held[resource.name()] = resource.version();
  }
  REQUIRE(held.size() == 3);
  REQUIRE(eventually([&] { return harness.ads().counters().connected_clients == 0; }));

  harness.ads().publish(snapshotOf({{"a", "1"}, {"b", "2-changed"}}));
  REQUIRE(eventually([&] { return harness.ads().counters().pushes == 2; }));
  {
    AdsClient second(harness);
    REQUIRE(second.subscribe(kTestType, {}, held));
    auto response = second.next();
    REQUIRE(response);
    CHECK(namesOf(*response) == Names{"b"});
    CHECK(removedOf(*response) == Names{"c"});
    held["b"] = response->resources(0).version();
    held.erase("c");
  }
  REQUIRE(eventually([&] { return harness.ads().counters().connected_clients == 0; }));
  AdsClient third(harness);
  REQUIRE(third.subscribe(kTestType, {}, held));
  // Once the server has taken the request in, it stays silent: the client is up to date.
  std::optional<TypeSyncStatus> type;
  REQUIRE(eventually([&] {
    type = typeStatus(harness.ads(), kTestType);
    return type.has_value();
  }));
  CHECK_FALSE(third.next(250ms));
  type = typeStatus(harness.ads(), kTestType);
  REQUIRE(type);
  CHECK(type->resources_held == 2);
  CHECK(type->responses_sent == 0);
}

TEST_CASE("an unsubscribed name gets no more updates", "[xds]") {
  AdsHarness harness;
  harness.ads().publish(snapshotOf({{"a", "1"}, {"b", "2"}}));
  AdsClient client(harness);
  REQUIRE(client.subscribe(kTestType, {"a", "b"}));
  auto first = client.next();
  REQUIRE(first);
  CHECK(namesOf(*first) == Names{"a", "b"});

  discovery::DeltaDiscoveryRequest request;
  request.set_type_url(kTestType);
  request.set_response_nonce(first->nonce());
  request.add_resource_names_unsubscribe("b");
  REQUIRE(client.send(request));
  REQUIRE(eventually([&] {
    const auto type = typeStatus(harness.ads(), kTestType);
    return type && type->names == Names{"a"};
  }));
  harness.ads().publish(snapshotOf({{"a", "1-changed"}, {"b", "2-changed"}}));
  auto response = client.next();
  REQUIRE(response);
  CHECK(namesOf(*response) == Names{"a"});
  CHECK(response->removed_resources_size() == 0);
}

TEST_CASE("an unknown type URL is answered with no resources and counted", "[xds]") {
  AdsHarness harness;
  harness.ads().publish(snapshotOf({{"a", "1"}}));
  AdsClient client(harness);
  const std::string unknown = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
  REQUIRE(client.subscribe(unknown));
  auto response = client.next();
  REQUIRE(response);
  CHECK(response->type_url() == unknown);
  CHECK(response->resources_size() == 0);
  CHECK(response->removed_resources_size() == 0);
  CHECK_FALSE(response->nonce().empty());
  CHECK(harness.ads().counters().unknown_type_requests == 1);
  const auto type = typeStatus(harness.ads(), unknown);
  REQUIRE(type);
  CHECK_FALSE(type->known_type);

  // The stream still serves known types.
  REQUIRE(client.subscribe(kTestType));
  auto known = client.next();
  REQUIRE(known);
  CHECK(namesOf(*known) == Names{"a"});
}

TEST_CASE("a request without a type URL ends the stream with INVALID_ARGUMENT", "[xds]") {
  AdsHarness harness;
  harness.ads().publish(snapshotOf({{"a", "1"}}));
  AdsClient client(harness);
  discovery::DeltaDiscoveryRequest request;
  request.add_resource_names_subscribe("a");
  REQUIRE(client.send(request));
  auto status = client.finish();
  REQUIRE(status);
  CHECK(status->error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status->error_message().find("without type_url") != std::string::npos);
  CHECK(harness.ads().counters().invalid_requests == 1);
}

}  // namespace
}  // namespace ambit::control::xds::testing
