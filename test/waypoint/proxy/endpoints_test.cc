// Endpoint choice (subsets by labels, retries away from tried endpoints, outlier ejection) and
// the retry conditions, over a ConfigStore fed as the control plane would feed it.
#include "waypoint/proxy/endpoints.h"

#include <catch2/catch.hpp>

#include "core/xds/workload_labels.h"
#include "waypoint/proxy/retry.h"
#include "waypoint/route/protocol.h"

namespace ambit::waypoint {
namespace {

namespace wl = istio::workload;
using Clock = std::chrono::steady_clock;

std::string ip(const std::string& text) {
  return agent::toIpBytes(boost::asio::ip::make_address(text));
}

const std::string kHost = "web.demo.svc.cluster.local";

// The mesh: service web (VIP 10.96.0.10, port 80 -> 8080) bound to waypoint demo/waypoint, and
// endpoints a, b (version v1) and c (version v2, its own target port 9090).
agent::Snapshot::Addresses mesh() {
  agent::Snapshot::Addresses out;
  auto service = std::make_shared<wl::Address>();
  wl::Service& s = *service->mutable_service();
  s.set_name("web");
  s.set_namespace_("demo");
  s.set_hostname(kHost);
  s.add_addresses()->set_address(ip("10.96.0.10"));
  wl::Port& port = *s.add_ports();
  port.set_service_port(80);
  port.set_target_port(8080);
  s.mutable_waypoint()->mutable_hostname()->set_namespace_("demo");
  s.mutable_waypoint()->mutable_hostname()->set_hostname("waypoint.demo.svc.cluster.local");
  out["svc"] = service;
  for (const auto& [name, address, version] : {std::tuple{"a", "10.244.1.5", "v1"},
                                               {"b", "10.244.2.5", "v1"},
                                               {"c", "10.244.2.6", "v2"}}) {
    auto w = std::make_shared<wl::Address>();
    wl::Workload& workload = *w->mutable_workload();
    workload.set_uid(std::string("uid-") + name);
    workload.set_name(name);
    workload.set_namespace_("demo");
    workload.add_addresses(ip(address));
    workload.set_status(wl::HEALTHY);
    wl::Port& p = *(*workload.mutable_services())["demo/" + kHost].add_ports();
    p.set_service_port(80);
    if (std::string(version) == "v2") p.set_target_port(9090);
    xds::setWorkloadLabels({{"app", "web"}, {"version", version}}, workload);
    out[name] = w;
  }
  return out;
}

std::vector<DestinationRuleEntry> subsets() {
  DestinationRuleEntry rule;
  rule.namespace_ = "demo";
  rule.name = "web";
  rule.spec.set_host("web");
  for (const char* version : {"v1", "v2"}) {
    auto* subset = rule.spec.add_subsets();
    subset->set_name(version);
    (*subset->mutable_labels())["version"] = version;
  }
  return {rule};
}

std::shared_ptr<const WaypointSnapshot> snapshot() {
  static ConfigStore store("demo", "waypoint");
  store.replaceDestinationRules(subsets());
  store.replaceAddresses(mesh());
  return store.current();
}

TEST_CASE("a subset's endpoints are chosen in turn, with their own target ports") {
  auto s = snapshot();
  REQUIRE(s->routes != nullptr);
  agent::EndpointPicker picker;
  std::vector<std::string> picked;
  for (int i = 0; i < 4; ++i) {
    auto e = chooseEndpoint(*s, {kHost, "v1", 0}, 80, {}, Balance::kRoundRobin, 0, picker);
    REQUIRE(e.ok());
    CHECK(e->address.port() == 8080);
    CHECK(e->version == "v1");
    CHECK(e->cluster == kHost + "|v1");
    CHECK(e->cluster_size == 2);
    picked.push_back(e->workload->name());
  }
  CHECK(picked == std::vector<std::string>{"a", "b", "a", "b"});
  auto v2 = chooseEndpoint(*s, {kHost, "v2", 0}, 80, {}, Balance::kRoundRobin, 0, picker);
  REQUIRE(v2.ok());
  CHECK(v2->workload->name() == "c");
  CHECK(v2->address.port() == 9090);
  CHECK(v2->address.address().to_string() == "10.244.2.6");
}

TEST_CASE("retries go to endpoints not tried yet, and to a tried one when none is left") {
  auto s = snapshot();
  agent::EndpointPicker picker;
  auto e = chooseEndpoint(*s, {kHost, "v1", 0}, 80, {"uid-a"}, Balance::kRoundRobin, 0, picker);
  REQUIRE(e.ok());
  CHECK(e->workload->name() == "b");
  e = chooseEndpoint(*s, {kHost, "v1", 0}, 80, {"uid-a", "uid-b"}, Balance::kRoundRobin, 0, picker);
  REQUIRE(e.ok());
  CHECK((e->workload->name() == "a" || e->workload->name() == "b"));
}

TEST_CASE("unknown hosts and ports, and empty subsets, are errors naming them") {
  auto s = snapshot();
  agent::EndpointPicker picker;
  auto e = chooseEndpoint(*s, {"nope.demo.svc.cluster.local", "", 0}, 80, {}, Balance::kRoundRobin,
                          0, picker);
  CHECK(absl::IsNotFound(e.status()));
  e = chooseEndpoint(*s, {kHost, "", 81}, 80, {}, Balance::kRoundRobin, 0, picker);
  CHECK(absl::IsNotFound(e.status()));
  e = chooseEndpoint(*s, {kHost, "v3", 0}, 80, {}, Balance::kRoundRobin, 0, picker);
  REQUIRE(absl::IsUnavailable(e.status()));
  CHECK(e.status().message() == "no healthy endpoint of " + kHost + " in subset v3");
}

TEST_CASE("random balance picks by the random number given") {
  auto s = snapshot();
  agent::EndpointPicker picker;
  auto e = chooseEndpoint(*s, {kHost, "", 0}, 80, {}, Balance::kRandom, 2, picker);
  REQUIRE(e.ok());
  CHECK(e->workload->name() == "c");
  e = chooseEndpoint(*s, {kHost, "", 0}, 80, {}, Balance::kRandom, 4, picker);
  REQUIRE(e.ok());
  CHECK(e->workload->name() == "b");
}

TEST_CASE("an endpoint outlier detection ejected is not chosen") {
  auto s = snapshot();
  agent::EndpointPicker picker;
  istio::networking::v1alpha3::OutlierDetection proto;
  proto.mutable_consecutive_5xx_errors()->set_value(2);
  proto.set_max_ejection_percent(100);
  const OutlierSettings settings = OutlierSettings::fromProto(&proto);
  OutlierDetector detector;
  const Clock::time_point now = Clock::now();
  for (int i = 0; i < 2; ++i) {
    detector.record(kHost + "|v1", "uid-a", OutlierDetector::Outcome::k5xx, now, settings, 2);
  }
  const OutlierFilter filter{&detector, &settings, now};
  for (int i = 0; i < 3; ++i) {
    auto e = chooseEndpoint(*s, {kHost, "v1", 0}, 80, {}, Balance::kRoundRobin, 0, picker, &filter);
    REQUIRE(e.ok());
    CHECK(e->workload->name() == "b");
  }
  detector.record(kHost + "|v1", "uid-b", OutlierDetector::Outcome::k5xx, now, settings, 2);
  detector.record(kHost + "|v1", "uid-b", OutlierDetector::Outcome::k5xx, now, settings, 2);
  auto none =
      chooseEndpoint(*s, {kHost, "v1", 0}, 80, {}, Balance::kRoundRobin, 0, picker, &filter);
  REQUIRE(absl::IsUnavailable(none.status()));
  CHECK(none.status().message() ==
        "no healthy endpoint of " + kHost + " in subset v1 (outlier detection ejected them)");
}

AttemptResult response(int status) {
  AttemptResult out;
  out.outcome = AttemptResult::Outcome::kResponse;
  out.response.status = status;
  return out;
}

AttemptResult failure(AttemptResult::Outcome outcome) {
  AttemptResult out;
  out.outcome = outcome;
  return out;
}

TEST_CASE("retry conditions, as Envoy reads retryOn") {
  using O = AttemptResult::Outcome;
  struct Row {
    std::string retry_on;
    std::vector<uint32_t> codes;
    AttemptResult attempt;
    bool retried;
  };
  const std::vector<Row> rows = {
      {"5xx", {}, response(500), true},
      {"5xx", {}, response(404), false},
      {"5xx", {}, failure(O::kConnectFailure), true},
      {"5xx", {}, failure(O::kTimeout), true},
      {"gateway-error", {}, response(500), false},
      {"gateway-error", {}, response(503), true},
      {"gateway-error", {}, response(504), true},
      {"gateway-error", {}, failure(O::kReset), true},
      {"connect-failure", {}, failure(O::kConnectFailure), true},
      {"connect-failure", {}, failure(O::kReset), false},
      {"connect-failure", {}, response(503), false},
      {"reset", {}, failure(O::kReset), true},
      {"reset", {}, response(503), false},
      {"retriable-4xx", {}, response(409), true},
      {"retriable-4xx", {}, response(404), false},
      {"retriable-status-codes", {418}, response(418), true},
      {"retriable-status-codes", {418}, response(503), false},
      {"refused-stream,connect-failure", {}, failure(O::kConnectFailure), true},
      {"", {}, response(503), false},
  };
  for (const Row& row : rows) {
    RetryPolicy policy;
    policy.attempts = 2;
    policy.retry_on = row.retry_on;
    policy.retriable_status_codes = row.codes;
    INFO(row.retry_on << " status " << row.attempt.response.status << " outcome "
                      << static_cast<int>(row.attempt.outcome));
    CHECK(shouldRetry(policy, row.attempt) == row.retried);
  }
  RetryPolicy none;
  none.retry_on = "5xx";
  CHECK_FALSE(shouldRetry(none, response(500)));  // attempts 0: never
}

TEST_CASE("failed attempts are answered with Envoy's status and flag") {
  CHECK(failureReply(AttemptResult::Outcome::kConnectFailure).status == 503);
  CHECK(failureReply(AttemptResult::Outcome::kConnectFailure).flag == "UF");
  CHECK(failureReply(AttemptResult::Outcome::kTimeout).status == 504);
  CHECK(failureReply(AttemptResult::Outcome::kTimeout).flag == "UT");
  CHECK(failureReply(AttemptResult::Outcome::kReset).flag == "UC");
}

}  // namespace
}  // namespace ambit::waypoint

namespace ambit::waypoint {
namespace {

TEST_CASE("the protocol of a port: declared, or sniffed from the first bytes") {
  CHECK(protocolOf(istio::workload::HTTP11) == StreamProtocol::kHttp1);
  CHECK(protocolOf(istio::workload::TCP) == StreamProtocol::kTcp);
  CHECK(protocolOf(istio::workload::TLS) == StreamProtocol::kTcp);
  CHECK(protocolOf(istio::workload::HTTP2) == StreamProtocol::kHttp2);
  CHECK(protocolOf(istio::workload::GRPC) == StreamProtocol::kTcp);  // trailers need HTTP/2 out
  CHECK(protocolOf(istio::workload::UNKNOWN) == StreamProtocol::kSniff);
  struct Row {
    std::string bytes;
    SniffResult result;
  };
  for (const Row& row : std::vector<Row>{
           {"", SniffResult::kNeedMore},
           {"GE", SniffResult::kNeedMore},
           {"GET", SniffResult::kNeedMore},
           {"GET ", SniffResult::kNeedMore},
           {"GET /", SniffResult::kHttp1},
           {"OPTIONS * HTTP/1.1", SniffResult::kHttp1},
           {"M-SEARCH /x", SniffResult::kHttp1},
           {"POST http://a/ HTTP/1.1", SniffResult::kHttp1},
           {"PRI * HTTP/2.0\r\n", SniffResult::kHttp2},
           {"PRI * HTTP/2", SniffResult::kNeedMore},
           {"hello\n", SniffResult::kOther},
           {"get / HTTP/1.1", SniffResult::kOther},
           {std::string("\x16\x03\x01\x02\x00", 5), SniffResult::kOther},  // a TLS ClientHello
           {"GET  /", SniffResult::kOther},
           {std::string(25, 'A'), SniffResult::kOther},
       }) {
    INFO(row.bytes);
    CHECK(sniffHttp1(row.bytes) == row.result);
  }
}

}  // namespace
}  // namespace ambit::waypoint

namespace ambit::waypoint {
namespace {

TEST_CASE("LEAST_REQUEST takes the less loaded of two random endpoints") {
  ConfigStore store("demo", "waypoint");
  store.replaceAddresses(mesh());
  auto s = store.current();
  agent::EndpointPicker picker;
  istio::networking::v1alpha3::LoadBalancerSettings lb;
  lb.set_simple(istio::networking::v1alpha3::LoadBalancerSettings::LEAST_REQUEST);
  REQUIRE(balanceOf(&lb) == Balance::kLeastRequest);
  lb.set_simple(static_cast<istio::networking::v1alpha3::LoadBalancerSettings::SimpleLB>(1));
  CHECK(balanceOf(&lb) == Balance::kLeastRequest);  // LEAST_CONN, deprecated alias
  lb.set_simple(istio::networking::v1alpha3::LoadBalancerSettings::RANDOM);
  CHECK(balanceOf(&lb) == Balance::kRandom);
  CHECK(balanceOf(nullptr) == Balance::kRoundRobin);
  // Three endpoints a, b, c (indices 0, 1, 2). random = first + 3 * second.
  ActiveRequests active = {{"uid-a", 5}, {"uid-b", 1}};
  auto pick = [&](uint32_t random) {
    auto e = chooseEndpoint(*s, {kHost, "", 0}, 80, {}, Balance::kLeastRequest, random, picker,
                            nullptr, &active);
    REQUIRE(e.ok());
    return e->workload->name();
  };
  CHECK(pick(0 + 3 * 1) == "b");  // a (5) against b (1)
  CHECK(pick(1 + 3 * 0) == "b");  // b (1) against a (5)
  CHECK(pick(1 + 3 * 2) == "c");  // b (1) against c (0)
  CHECK(pick(0 + 3 * 0) == "a");  // the same twice: a
}

}  // namespace
}  // namespace ambit::waypoint

namespace ambit::waypoint {
namespace {

TEST_CASE("a tunnel to the waypoint must name a service or workload bound to it") {
  agent::Snapshot::Addresses addresses = mesh();
  auto bound = std::make_shared<wl::Address>();
  wl::Workload& w = *bound->mutable_workload();
  w.set_uid("uid-d");
  w.set_name("d");
  w.set_namespace_("demo");
  w.add_addresses(ip("10.244.3.7"));
  w.set_status(wl::HEALTHY);
  w.mutable_waypoint()->mutable_hostname()->set_namespace_("demo");
  w.mutable_waypoint()->mutable_hostname()->set_hostname("waypoint.demo.svc.cluster.local");
  addresses["d"] = bound;
  ConfigStore store("demo", "waypoint");
  CHECK(absl::IsFailedPrecondition(servedDestination(*store.current(), "10.96.0.10", 80).status()));
  store.replaceAddresses(addresses);
  auto s = store.current();

  auto service = servedDestination(*s, "10.96.0.10", 80);
  REQUIRE(service.ok());
  CHECK(service->host == kHost);
  CHECK(service->workload == nullptr);
  CHECK(absl::IsNotFound(servedDestination(*s, "10.96.0.10", 81).status()));

  auto workload = servedDestination(*s, "10.244.3.7", 5432);
  REQUIRE(workload.ok());
  REQUIRE(workload->workload != nullptr);
  CHECK(workload->workload->name() == "d");
  CHECK(workload->protocol == wl::TCP);  // carried as TCP: routes are for services

  auto unbound = servedDestination(*s, "10.244.1.5", 8080);  // workload a has no waypoint
  REQUIRE(absl::IsNotFound(unbound.status()));
  CHECK(unbound.status().message() ==
        "10.244.1.5 is not the address of a service or workload that uses this waypoint");
  CHECK(absl::IsInvalidArgument(servedDestination(*s, "not-an-ip", 80).status()));
}

}  // namespace
}  // namespace ambit::waypoint
