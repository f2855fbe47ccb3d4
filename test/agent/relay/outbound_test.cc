#include "agent/relay/outbound.h"

#include <catch2/catch.hpp>

namespace ambit::agent {
namespace {

namespace wl = istio::workload;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Addresses = std::map<std::string, std::shared_ptr<const wl::Address>>;

const std::string kKey = "demo/web.demo.svc.cluster.local";

std::string ip(const std::string& text) { return toIpBytes(asio::ip::make_address(text)); }

tcp::endpoint ep(const std::string& text, uint16_t port) {
  return tcp::endpoint(asio::ip::make_address(text), port);
}

// A workload endpoint of kKey (service port 80), optionally with its own target port.
std::shared_ptr<const wl::Address> workload(const std::string& name, const std::string& address,
                                            wl::WorkloadStatus status = wl::HEALTHY,
                                            uint32_t own_target_port = 0) {
  auto out = std::make_shared<wl::Address>();
  wl::Workload& w = *out->mutable_workload();
  w.set_uid("Kubernetes//Pod/demo/" + name);
  w.set_name(name);
  w.set_namespace_("demo");
  w.add_addresses(ip(address));
  w.set_status(status);
  wl::Port& port = *(*w.mutable_services())[kKey].add_ports();
  port.set_service_port(80);
  port.set_target_port(own_target_port);
  return out;
}

std::shared_ptr<const wl::Address> service(uint32_t target_port = 8080) {
  auto out = std::make_shared<wl::Address>();
  wl::Service& s = *out->mutable_service();
  s.set_name("web");
  s.set_namespace_("demo");
  s.set_hostname("web.demo.svc.cluster.local");
  s.add_addresses()->set_address(ip("10.96.0.10"));
  wl::Port& port = *s.add_ports();
  port.set_service_port(80);
  port.set_target_port(target_port);
  return out;
}

TEST_CASE("a service VIP goes to its healthy endpoints in round robin") {
  auto snapshot = Snapshot::build({{"s", service()},
                                   {"a", workload("web-a", "10.244.1.5")},
                                   {"b", workload("web-b", "10.244.2.5")},
                                   {"c", workload("web-c", "10.244.3.5", wl::UNHEALTHY)}},
                                  3);
  EndpointPicker picker;
  std::vector<std::string> picked;
  for (int i = 0; i < 4; ++i) {
    auto target = decideOutbound(*snapshot, ep("10.96.0.10", 80), picker);
    REQUIRE(target.ok());
    CHECK(target->kind == OutboundTarget::Kind::kService);
    REQUIRE(target->service != nullptr);
    CHECK(target->service->hostname() == "web.demo.svc.cluster.local");
    REQUIRE(target->workload != nullptr);
    CHECK(target->endpoint.port() == 8080);  // the service's target port
    CHECK(
        target->endpoint.address() ==
        asio::ip::make_address(target->workload->name() == "web-a" ? "10.244.1.5" : "10.244.2.5"));
    picked.push_back(target->workload->name());
  }
  // web-c is unhealthy and never chosen; the two healthy ones alternate.
  CHECK(picked == std::vector<std::string>{"web-a", "web-b", "web-a", "web-b"});
  auto target = decideOutbound(*snapshot, ep("10.96.0.10", 80), picker);
  REQUIRE(target.ok());
  CHECK(target->describe() ==
        "service demo/web.demo.svc.cluster.local -> workload Kubernetes//Pod/demo/web-a at "
        "10.244.1.5:8080");
}

TEST_CASE("round robin is kept per service") {
  auto other = std::make_shared<wl::Address>(*service());
  auto* s = other->mutable_service();
  s->set_hostname("api.demo.svc.cluster.local");
  s->mutable_addresses(0)->set_address(ip("10.96.0.11"));
  auto api = std::make_shared<wl::Address>(*workload("api-a", "10.244.4.5"));
  auto* services = api->mutable_workload()->mutable_services();
  (*services)["demo/api.demo.svc.cluster.local"] = (*services)[kKey];
  services->erase(kKey);
  auto snapshot = Snapshot::build({{"s", service()},
                                   {"s2", other},
                                   {"a", workload("web-a", "10.244.1.5")},
                                   {"b", workload("web-b", "10.244.2.5")},
                                   {"x", api}},
                                  3);
  EndpointPicker picker;
  CHECK(decideOutbound(*snapshot, ep("10.96.0.10", 80), picker)->workload->name() == "web-a");
  CHECK(decideOutbound(*snapshot, ep("10.96.0.11", 80), picker)->workload->name() == "api-a");
  CHECK(decideOutbound(*snapshot, ep("10.96.0.10", 80), picker)->workload->name() == "web-b");
}

TEST_CASE("a service without healthy endpoints is unavailable") {
  auto snapshot =
      Snapshot::build({{"s", service()}, {"c", workload("web-c", "10.244.3.5", wl::UNHEALTHY)}}, 3);
  EndpointPicker picker;
  auto target = decideOutbound(*snapshot, ep("10.96.0.10", 80), picker);
  REQUIRE_FALSE(target.ok());
  CHECK(target.status().code() == absl::StatusCode::kUnavailable);
  CHECK_THAT(std::string(target.status().message()),
             Catch::Contains("demo/web.demo.svc.cluster.local"));

  auto lonely = Snapshot::build({{"s", service()}}, 3);
  CHECK(decideOutbound(*lonely, ep("10.96.0.10", 80), picker).status().code() ==
        absl::StatusCode::kUnavailable);
}

TEST_CASE("a port the service does not list is an error naming service and port") {
  auto snapshot = Snapshot::build({{"s", service()}, {"a", workload("web-a", "10.244.1.5")}}, 3);
  EndpointPicker picker;
  auto target = decideOutbound(*snapshot, ep("10.96.0.10", 81), picker);
  REQUIRE_FALSE(target.ok());
  CHECK(target.status().code() == absl::StatusCode::kNotFound);
  CHECK_THAT(std::string(target.status().message()),
             Catch::Contains("demo/web.demo.svc.cluster.local") && Catch::Contains("81"));
}

TEST_CASE("target port: the workload's own, else the service's, else the service port") {
  EndpointPicker picker;
  auto own = Snapshot::build(
      {{"s", service(8080)}, {"a", workload("web-a", "10.244.1.5", wl::HEALTHY, 9090)}}, 3);
  CHECK(decideOutbound(*own, ep("10.96.0.10", 80), picker)->endpoint == ep("10.244.1.5", 9090));
  auto from_service =
      Snapshot::build({{"s", service(8080)}, {"a", workload("web-a", "10.244.1.5")}}, 3);
  CHECK(decideOutbound(*from_service, ep("10.96.0.10", 80), picker)->endpoint ==
        ep("10.244.1.5", 8080));
  auto same = Snapshot::build({{"s", service(0)}, {"a", workload("web-a", "10.244.1.5")}}, 3);
  CHECK(decideOutbound(*same, ep("10.96.0.10", 80), picker)->endpoint == ep("10.244.1.5", 80));
}

TEST_CASE("a pod IP goes to that workload on the same port") {
  auto snapshot = Snapshot::build({{"s", service()}, {"a", workload("web-a", "10.244.1.5")}}, 3);
  EndpointPicker picker;
  auto target = decideOutbound(*snapshot, ep("10.244.1.5", 8443), picker);
  REQUIRE(target.ok());
  CHECK(target->kind == OutboundTarget::Kind::kWorkload);
  REQUIRE(target->workload != nullptr);
  CHECK(target->workload->name() == "web-a");
  CHECK(target->service == nullptr);
  CHECK(target->endpoint == ep("10.244.1.5", 8443));
  CHECK(target->describe() == "workload Kubernetes//Pod/demo/web-a at 10.244.1.5:8443");
}

TEST_CASE("an address outside the mesh passes through") {
  auto snapshot = Snapshot::build({{"s", service()}, {"a", workload("web-a", "10.244.1.5")}}, 3);
  EndpointPicker picker;
  auto target = decideOutbound(*snapshot, ep("93.184.216.34", 443), picker);
  REQUIRE(target.ok());
  CHECK(target->kind == OutboundTarget::Kind::kPassthrough);
  CHECK(target->workload == nullptr);
  CHECK(target->service == nullptr);
  CHECK(target->endpoint == ep("93.184.216.34", 443));
  CHECK(target->describe() == "passthrough to 93.184.216.34:443");
  // A v4-mapped IPv6 destination is looked up as IPv4.
  auto mapped = decideOutbound(*snapshot, ep("::ffff:10.244.1.5", 80), picker);
  REQUIRE(mapped.ok());
  CHECK(mapped->kind == OutboundTarget::Kind::kWorkload);
}

TEST_CASE("a loopback original destination is refused, never passed through") {
  auto snapshot = Snapshot::build({{"s", service()}}, 3);
  EndpointPicker picker;
  for (const char* ip : {"127.0.0.1", "127.3.2.1", "::1", "::ffff:127.0.0.1"}) {
    INFO(ip);
    auto target = decideOutbound(*snapshot, ep(ip, 15001), picker);
    REQUIRE_FALSE(target.ok());
    CHECK(target.status().code() == absl::StatusCode::kNotFound);
    CHECK_THAT(std::string(target.status().message()), Catch::Contains("is loopback"));
  }
}

TEST_CASE("before the first sync every captured connection is refused") {
  EndpointPicker picker;
  auto target = decideOutbound(*Snapshot::empty(), ep("93.184.216.34", 443), picker);
  REQUIRE_FALSE(target.ok());
  CHECK(target.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(target.status().message()), Catch::Contains("no config yet"));
}

TEST_CASE("IP bytes round trip") {
  CHECK(toIpBytes(asio::ip::make_address("10.1.2.3")) == std::string("\x0a\x01\x02\x03", 4));
  CHECK(toIpBytes(asio::ip::make_address("fd00::1")).size() == 16);
  CHECK(*fromIpBytes(toIpBytes(asio::ip::make_address("fd00::1"))) ==
        asio::ip::make_address("fd00::1"));
  CHECK_FALSE(fromIpBytes("abc").ok());
}

}  // namespace
}  // namespace ambit::agent

namespace ambit::agent {
namespace {

// The waypoint "demo/waypoint" (its Service and one instance), as the control plane sends it.
std::shared_ptr<const wl::Address> waypointService() {
  auto out = std::make_shared<wl::Address>();
  wl::Service& s = *out->mutable_service();
  s.set_name("waypoint");
  s.set_namespace_("demo");
  s.set_hostname("waypoint.demo.svc.cluster.local");
  s.add_addresses()->set_address(ip("10.96.0.99"));
  s.add_ports()->set_service_port(15008);
  return out;
}

std::shared_ptr<const wl::Address> waypointInstance(wl::WorkloadStatus status = wl::HEALTHY) {
  auto out = std::make_shared<wl::Address>();
  wl::Workload& w = *out->mutable_workload();
  w.set_uid("Kubernetes//Pod/demo/waypoint-0");
  w.set_name("waypoint-0");
  w.set_namespace_("demo");
  w.set_service_account("waypoint");
  w.add_addresses(ip("10.244.1.9"));
  w.set_status(status);
  w.set_tunnel_protocol(wl::HBONE);
  (*w.mutable_services())["demo/waypoint.demo.svc.cluster.local"].add_ports()->set_service_port(
      15008);
  return out;
}

wl::GatewayAddress byHostname() {
  wl::GatewayAddress out;
  out.mutable_hostname()->set_namespace_("demo");
  out.mutable_hostname()->set_hostname("waypoint.demo.svc.cluster.local");
  out.set_hbone_mtls_port(15008);
  return out;
}

std::shared_ptr<const wl::Address> withWaypoint(const std::shared_ptr<const wl::Address>& address,
                                                const wl::GatewayAddress& waypoint) {
  auto out = std::make_shared<wl::Address>(*address);
  if (out->has_service()) {
    *out->mutable_service()->mutable_waypoint() = waypoint;
  } else {
    *out->mutable_workload()->mutable_waypoint() = waypoint;
  }
  return out;
}

TEST_CASE("a service with a waypoint goes to the waypoint's instance, naming the VIP") {
  auto snapshot = Snapshot::build({{"s", withWaypoint(service(), byHostname())},
                                   {"a", workload("web-a", "10.244.2.5")},
                                   {"w", waypointService()},
                                   {"wi", waypointInstance()}},
                                  4);
  EndpointPicker picker;
  auto target = decideOutbound(*snapshot, ep("10.96.0.10", 80), picker);
  REQUIRE(target.ok());
  CHECK(target->kind == OutboundTarget::Kind::kWaypoint);
  CHECK(target->endpoint == ep("10.244.1.9", 15008));
  CHECK(target->authority == "10.96.0.10:80");
  REQUIRE(target->workload != nullptr);
  CHECK(target->workload->name() == "waypoint-0");
  REQUIRE(target->service != nullptr);
  CHECK(target->service->name() == "web");
  CHECK(target->describe() ==
        "service demo/web.demo.svc.cluster.local 10.96.0.10:80 via waypoint "
        "Kubernetes//Pod/demo/waypoint-0 at 10.244.1.9:15008");
  // A port the service does not have is still refused before the waypoint is considered.
  CHECK(absl::IsNotFound(decideOutbound(*snapshot, ep("10.96.0.10", 81), picker).status()));
}

TEST_CASE("a service whose waypoint has no healthy instance is refused, never sent around it") {
  auto snapshot = Snapshot::build({{"s", withWaypoint(service(), byHostname())},
                                   {"a", workload("web-a", "10.244.2.5")},
                                   {"w", waypointService()},
                                   {"wi", waypointInstance(wl::UNHEALTHY)}},
                                  4);
  EndpointPicker picker;
  auto target = decideOutbound(*snapshot, ep("10.96.0.10", 80), picker);
  REQUIRE(absl::IsUnavailable(target.status()));
  CHECK(target.status().message() ==
        "service demo/web.demo.svc.cluster.local uses waypoint "
        "demo/waypoint.demo.svc.cluster.local, which has no healthy instance");
}

TEST_CASE("a workload with a waypoint address goes to that instance, naming the workload") {
  wl::GatewayAddress by_address;
  by_address.mutable_address()->set_address(ip("10.244.1.9"));
  by_address.set_hbone_mtls_port(15008);
  auto snapshot = Snapshot::build({{"a", withWaypoint(workload("web-a", "10.244.2.5"), by_address)},
                                   {"wi", waypointInstance()}},
                                  4);
  EndpointPicker picker;
  auto target = decideOutbound(*snapshot, ep("10.244.2.5", 8080), picker);
  REQUIRE(target.ok());
  CHECK(target->kind == OutboundTarget::Kind::kWaypoint);
  CHECK(target->endpoint == ep("10.244.1.9", 15008));
  CHECK(target->authority == "10.244.2.5:8080");
  CHECK(target->service == nullptr);
  // An address that names no known workload is refused.
  by_address.mutable_address()->set_address(ip("10.244.1.10"));
  snapshot = Snapshot::build({{"a", withWaypoint(workload("web-a", "10.244.2.5"), by_address)}}, 5);
  CHECK(absl::IsUnavailable(decideOutbound(*snapshot, ep("10.244.2.5", 8080), picker).status()));
}

}  // namespace
}  // namespace ambit::agent
