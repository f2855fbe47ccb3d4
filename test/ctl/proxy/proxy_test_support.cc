#include "test/ctl/proxy/proxy_test_support.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sstream>

#include <google/protobuf/text_format.h>
#include <catch2/catch.hpp>

#include "agent/admin/config_dump.h"

namespace ambit::ctl::testing {
namespace {

namespace wl = istio::workload;
namespace sec = istio::security;

std::string ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return std::string(
      {static_cast<char>(a), static_cast<char>(b), static_cast<char>(c), static_cast<char>(d)});
}

std::shared_ptr<wl::Address> pod(const std::string& ns, const std::string& name,
                                 const std::string& ip, const std::string& node,
                                 wl::TunnelProtocol tunnel, wl::WorkloadStatus status,
                                 const std::string& service) {
  auto address = std::make_shared<wl::Address>();
  wl::Workload& w = *address->mutable_workload();
  w.set_uid("Kubernetes//Pod/" + ns + "/" + name);
  w.set_name(name);
  w.set_namespace_(ns);
  w.set_workload_name(name.substr(0, name.rfind('-')));
  w.add_addresses(ip);
  w.set_service_account(w.workload_name());
  w.set_trust_domain("cluster.local");
  w.set_node(node);
  w.set_tunnel_protocol(tunnel);
  w.set_status(status);
  if (!service.empty()) {
    wl::Port& port = *(*w.mutable_services())[service].add_ports();
    port.set_service_port(80);
    port.set_target_port(8080);
  }
  return address;
}

std::shared_ptr<wl::Address> service(const std::string& ns, const std::string& name,
                                     const std::string& vip, const std::vector<uint32_t>& ports) {
  auto address = std::make_shared<wl::Address>();
  wl::Service& s = *address->mutable_service();
  s.set_name(name);
  s.set_namespace_(ns);
  s.set_hostname(name + "." + ns + ".svc.cluster.local");
  s.add_addresses()->set_address(vip);
  for (const uint32_t number : ports) {
    wl::Port& port = *s.add_ports();
    port.set_service_port(number);
    port.set_target_port(number == 80 ? 8080 : number);
    port.set_app_protocol(number == 80 ? wl::HTTP11 : wl::UNKNOWN);
  }
  return address;
}

template <class Message>
Message parseText(const std::string& text) {
  Message message;
  INFO(text);
  REQUIRE(google::protobuf::TextFormat::ParseFromString(text, &message));
  return message;
}

constexpr const char* kVirtualService = R"(
  hosts: "my-service"
  http {
    name: "legacy"
    match { uri { prefix: "/old" } }
    redirect { uri: "/new" }
  }
  http {
    match { headers { key: "x-user-type" value { exact: "beta" } } }
    match { uri { prefix: "/beta" } method { exact: "GET" } }
    route { destination { host: "my-service" subset: "v2" } }
  }
  http {
    route { destination { host: "my-service" subset: "v1" } weight: 90 }
    route { destination { host: "my-service" subset: "v2" } weight: 10 }
  }
  tcp {
    match { port: 9000 }
    route { destination { host: "my-service" port { number: 9000 } } }
  }
)";

constexpr const char* kDestinationRule = R"(
  host: "my-service"
  subsets { name: "v1" labels { key: "version" value: "v1" } }
  subsets { name: "v2" labels { key: "version" value: "v2" } }
)";

}  // namespace

Run run(Command command, const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  const int exit = command(args, out, err);
  return {exit, out.str(), err.str()};
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

FixedServer::FixedServer(std::initializer_list<std::pair<std::string, std::string>> bodies) {
  auto server = http::AdminServer::create("127.0.0.1", 0);
  REQUIRE(server.ok());
  server_ = std::move(*server);
  for (const auto& [path, body] : bodies) {
    server_->handle(path, [body = body](const http::Request&) {
      return http::Response{200, "application/json", body};
    });
  }
  server_->start();
}

FixedServer::~FixedServer() { server_->stop(); }

std::string FixedServer::address() const { return "127.0.0.1:" + std::to_string(server_->port()); }

std::string closedAddress() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t length = sizeof(addr);
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0);
  close(fd);
  return "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
}

std::shared_ptr<const agent::Snapshot> mesh() {
  const std::string echo = "demo/echo.demo.svc.cluster.local";
  auto policy = std::make_shared<sec::Authorization>();
  policy->set_name("allow-client");
  policy->set_namespace_("demo");
  policy->set_scope(sec::WORKLOAD_SELECTOR);
  policy->set_action(sec::ALLOW);
  policy->add_groups()->add_rules();
  policy->add_groups();
  return agent::Snapshot::build(
      {{"demo/echo-1",
        pod("demo", "echo-1", ip4(10, 244, 1, 5), "node1", wl::HBONE, wl::HEALTHY, echo)},
       {"demo/echo-2",
        pod("demo", "echo-2", ip4(10, 244, 2, 6), "node2", wl::HBONE, wl::UNHEALTHY, echo)},
       {"legacy/client-1",
        pod("legacy", "client-1", ip4(10, 244, 1, 7), "node1", wl::NONE, wl::HEALTHY, "")},
       {"demo/echo", service("demo", "echo", ip4(10, 96, 0, 10), {80})}},
      {{"demo/allow-client", policy}}, 3);
}

const char* const kCertificates =
    "{\"trust_bundle_roots\": 1, \"certificates\": ["
    "{\"identity\": \"spiffe://cluster.local/ns/demo/sa/echo\", \"state\": \"valid\", "
    "\"serial\": \"0a1b\", \"not_before\": \"2025-01-01T00:00:00Z\", "
    "\"not_after\": \"2025-01-02T00:00:00Z\", \"renew_at\": \"2025-01-01T12:00:00Z\", "
    "\"next_attempt\": \"2025-01-01T12:00:00Z\"}, "
    "{\"identity\": \"spiffe://cluster.local/ns/legacy/sa/client\", \"state\": \"failing\", "
    "\"failures\": 2, \"last_error\": \"control plane unavailable\", "
    "\"next_attempt\": \"2025-01-01T00:00:08Z\"}]}";

std::string agentDump() { return agent::configDumpJson(*mesh(), kCertificates); }

waypoint::WaypointSnapshot waypointSnapshot() {
  waypoint::RouteConfigInput input;
  input.virtual_services.push_back(
      {"default", "my-service",
       parseText<istio::networking::v1alpha3::VirtualService>(kVirtualService)});
  input.destination_rules.push_back(
      {"default", "my-service",
       parseText<istio::networking::v1alpha3::DestinationRule>(kDestinationRule)});
  input.services = {{"default", "my-service.default.svc.cluster.local", {"10.96.0.20"}, {80, 9000}},
                    {"default", "plain.default.svc.cluster.local", {"10.96.0.21"}, {80}}};
  auto routes = waypoint::RouteConfig::build(std::move(input));
  REQUIRE(routes.ok());
  waypoint::WaypointSnapshot snapshot;
  snapshot.version = 7;
  snapshot.mesh = mesh();
  snapshot.routes = *routes;
  return snapshot;
}

}  // namespace ambit::ctl::testing
