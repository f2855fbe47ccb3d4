#include "control/xds/client_state.h"

#include <catch2/catch.hpp>

#include "test/control/xds/ads_harness.h"

namespace ambit::control::xds::testing {
namespace {

using Names = std::vector<std::string>;

struct Request {
  Names subscribe = {};
  Names unsubscribe = {};
  std::map<std::string, std::string> initial = {};
  std::string nonce = {};
  std::optional<std::string> error = {};
};

// Drives a ClientState without a network, numbering nonces "n1", "n2", ...
class Driver {
 public:
  explicit Driver(ClientLimits limits = {}) : state_(limits) {}

  absl::Status request(const Request& r, const std::string& type_url = kTestType) {
    discovery::DeltaDiscoveryRequest request;
    request.set_type_url(type_url);
    for (const auto& name : r.subscribe) request.add_resource_names_subscribe(name);
    for (const auto& name : r.unsubscribe) request.add_resource_names_unsubscribe(name);
    for (const auto& [name, version] : r.initial) {
      (*request.mutable_initial_resource_versions())[name] = version;
    }
    request.set_response_nonce(r.nonce);
    if (r.error) request.mutable_error_detail()->set_message(*r.error);
    events_ = {};
    return state_.onRequest(request, true, WallTime(), events_);
  }

  std::vector<discovery::DeltaDiscoveryResponse> respond(const SnapshotPtr& snapshot,
                                                         const ClientState::Visible& visible = {}) {
    return state_.respond(
        *snapshot, "v", visible, [this] { return "n" + std::to_string(++nonce_); }, WallTime());
  }

  ClientState& state() { return state_; }
  const RequestEvents& events() const { return events_; }

 private:
  ClientState state_;
  RequestEvents events_;
  int nonce_ = 0;
};

// One response per call is the rule in these tests; this fetches it.
discovery::DeltaDiscoveryResponse only(std::vector<discovery::DeltaDiscoveryResponse> responses) {
  REQUIRE(responses.size() == 1);
  return responses[0];
}

TEST_CASE("subscription modes follow Envoy's delta rules", "[xds][client_state]") {
  auto snapshot = snapshotOf({{"a", "1"}, {"b", "2"}});
  struct Case {
    const char* what;
    Request first;
    Names resources;
    Names removed;
  };
  const std::vector<Case> cases = {
      {"no names in the first request: wildcard", {}, {"a", "b"}, {}},
      {"explicit '*': wildcard", {.subscribe = {"*"}}, {"a", "b"}, {}},
      {"named: only those, missing ones removed", {.subscribe = {"b", "x"}}, {"b"}, {"x"}},
      {"'*' subscribed and unsubscribed: nothing (ztunnel on-demand)",
       {.subscribe = {"*"}, .unsubscribe = {"*"}},
       {},
       {}},
      {"wildcard plus a name: everything once", {.subscribe = {"*", "a"}}, {"a", "b"}, {}},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    Driver driver;
    REQUIRE(driver.request(c.first).ok());
    CHECK(driver.state().needsDiff());
    auto response = only(driver.respond(snapshot));
    CHECK(namesOf(response) == c.resources);
    CHECK(removedOf(response) == c.removed);
    CHECK(response.nonce() == "n1");
    CHECK_FALSE(driver.state().needsDiff());
    CHECK(driver.respond(snapshot).empty());
  }
}

TEST_CASE("subscribing again to a held name sends it again", "[xds][client_state]") {
  auto snapshot = snapshotOf({{"a", "1"}, {"b", "2"}});
  Driver driver;
  REQUIRE(driver.request({.subscribe = {"a"}}).ok());
  CHECK(namesOf(only(driver.respond(snapshot))) == Names{"a"});
  // Envoy may drop a resource and ask for it again before its unsubscribe reached the server.
  REQUIRE(driver.request({.subscribe = {"a", "b"}}).ok());
  CHECK(namesOf(only(driver.respond(snapshot))) == Names{"a", "b"});
}

TEST_CASE("ending a wildcard subscription keeps only the named resources", "[xds][client_state]") {
  Driver driver;
  REQUIRE(driver.request({.subscribe = {"*", "a"}}).ok());
  driver.respond(snapshotOf({{"a", "1"}, {"b", "2"}}));
  REQUIRE(driver.request({.unsubscribe = {"*"}}).ok());
  auto status = driver.state().status();
  REQUIRE(status.size() == 1);
  CHECK_FALSE(status[0].wildcard);
  CHECK(status[0].resources_held == 1);
  // b changes but is no longer of interest; a is removed from the snapshot.
  auto response = only(driver.respond(snapshotOf({{"b", "3"}})));
  CHECK(response.resources_size() == 0);
  CHECK(removedOf(response) == Names{"a"});
}

TEST_CASE("ACKs settle pending nonces and unknown nonces are ignored", "[xds][client_state]") {
  Driver driver;
  REQUIRE(driver.request({}).ok());
  driver.respond(snapshotOf({{"a", "1"}}));
  driver.respond(snapshotOf({{"a", "2"}}));
  CHECK(driver.state().status()[0].pending_nonce == "n2");

  REQUIRE(driver.request({.nonce = "n1"}).ok());
  CHECK(driver.events().ack);
  auto status = driver.state().status()[0];
  CHECK(status.acked_nonce == "n1");
  CHECK(status.pending_nonce == "n2");

  REQUIRE(driver.request({.nonce = "from-an-old-stream"}).ok());
  CHECK(driver.events().stale_nonce);
  CHECK_FALSE(driver.events().ack);
  CHECK(driver.state().status()[0].acked_nonce == "n1");

  REQUIRE(driver.request({.nonce = "n2", .error = "rejected"}).ok());
  REQUIRE(driver.events().nack);
  CHECK(driver.events().nack->message == "rejected");
  status = driver.state().status()[0];
  CHECK(status.acked_nonce == "n1");
  CHECK(status.pending_nonce.empty());
  CHECK(status.nacks == 1);
}

TEST_CASE("initial versions: only differences, and silence when none", "[xds][client_state]") {
  auto snapshot = snapshotOf({{"a", "1"}, {"b", "2"}});
  const std::string a = snapshot->types.at(kTestType).at("a")->version;
  const std::string b = snapshot->types.at(kTestType).at("b")->version;

  Driver same;
  REQUIRE(same.request({.initial = {{"a", a}, {"b", b}}}).ok());
  CHECK(same.respond(snapshot).empty());

  Driver stale;
  REQUIRE(stale.request({.initial = {{"a", a}, {"b", "old"}, {"gone", "x"}}}).ok());
  auto response = only(stale.respond(snapshot));
  CHECK(namesOf(response) == Names{"b"});
  CHECK(removedOf(response) == Names{"gone"});

  // Named: a name the client declared is not forced; one it did not declare is answered.
  Driver named;
  REQUIRE(named.request({.subscribe = {"a", "c"}, .initial = {{"a", a}}}).ok());
  response = only(named.respond(snapshot));
  CHECK(response.resources_size() == 0);
  CHECK(removedOf(response) == Names{"c"});
}

TEST_CASE("resources a client may not see are withheld and removed", "[xds][client_state]") {
  auto snapshot = snapshotOf({{"a", "1"}, {"b", "2"}});
  bool show_b = true;
  ClientState::Visible visible = [&](const std::string&, const Resource& resource) {
    return resource.name != "b" || show_b;
  };
  Driver driver;
  REQUIRE(driver.request({}).ok());
  CHECK(namesOf(only(driver.respond(snapshot, visible))) == Names{"a", "b"});
  show_b = false;
  auto response = only(driver.respond(snapshotOf({{"a", "1"}, {"b", "3"}}), visible));
  CHECK(response.resources_size() == 0);
  CHECK(removedOf(response) == Names{"b"});
}

TEST_CASE("requests beyond the limits are invalid", "[xds][client_state]") {
  ClientLimits limits;
  limits.max_types = 2;
  limits.max_names_per_type = 3;
  Driver driver(limits);
  CHECK(driver.request({}, "t1").ok());
  CHECK(driver.request({}, "t2").ok());
  absl::Status status = driver.request({}, "t3");
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(status.message() == "type URL \"t3\": more than 2 type URLs on one stream");

  status = driver.request({.subscribe = {"a", "b", "c", "d"}}, "t1");
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(status.message() == "type URL \"t1\": more than 3 subscribed resource names");

  Driver initial(limits);
  status = initial.request({.initial = {{"a", "1"}, {"b", "1"}, {"c", "1"}, {"d", "1"}}});
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);

  Driver untyped;
  status = untyped.request({}, "");
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ambit::control::xds::testing
