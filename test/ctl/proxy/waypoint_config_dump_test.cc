// The waypoint's /config_dump: the agent's sections for its mesh, its version, and the routes
// compiled for each service it serves.
#include "waypoint/admin/config_dump.h"

#include <catch2/catch.hpp>

#include "agent/admin/config_dump.h"
#include "ctl/proxy/json_value.h"
#include "test/ctl/proxy/proxy_test_support.h"

namespace ambit::ctl::testing {
namespace {

constexpr const char* kMyServiceRoutes =
    R"({"hostname": "my-service.default.svc.cluster.local", "namespace": "default", )"
    R"("vips": ["10.96.0.20"], "ports": [80, 9000], "virtual_services": ["default/my-service"], )"
    R"("http": [)"
    R"({"virtual_service": "default/my-service", "index": 0, "name": "legacy", )"
    R"("match": ["uri prefix \"/old\""], "action": "redirect", "status": 301, "destinations": []}, )"
    R"({"virtual_service": "default/my-service", "index": 1, "name": "", )"
    R"("match": ["header x-user-type exact \"beta\"", "uri prefix \"/beta\" && method exact \"GET\""], )"
    R"("action": "forward", "destinations": [{"host": "my-service.default.svc.cluster.local", )"
    R"("subset": "v2", "port": 0, "weight": 100}]}, )"
    R"({"virtual_service": "default/my-service", "index": 2, "name": "", "match": [], )"
    R"("action": "forward", "destinations": [)"
    R"({"host": "my-service.default.svc.cluster.local", "subset": "v1", "port": 0, "weight": 90}, )"
    R"({"host": "my-service.default.svc.cluster.local", "subset": "v2", "port": 0, "weight": 10}]}], )"
    R"("tcp": [{"virtual_service": "default/my-service", "index": 0, "match": ["port 9000"], )"
    R"("destinations": [{"host": "my-service.default.svc.cluster.local", "subset": "", )"
    R"("port": 9000, "weight": 100}]}]})";

constexpr const char* kPlainRoutes =
    R"({"hostname": "plain.default.svc.cluster.local", "namespace": "default", )"
    R"("vips": ["10.96.0.21"], "ports": [80], "virtual_services": [], "http": [], "tcp": []})";

TEST_CASE("the waypoint's dump holds the agent's sections and its routes", "[config_dump]") {
  const waypoint::WaypointSnapshot snapshot = waypointSnapshot();
  const std::string dump = waypoint::waypointConfigDump(snapshot, kCertificates);
  INFO(dump);

  // The mesh sections are the agent's, byte for byte, behind the waypoint's own version.
  const std::string agent = agent::configDumpJson(*snapshot.mesh, kCertificates);
  const std::string agent_prefix = "{\"version\": 3, ";
  REQUIRE(agent.rfind(agent_prefix, 0) == 0);
  const std::string sections =
      agent.substr(agent_prefix.size(), agent.size() - agent_prefix.size() - 1);
  CHECK(dump.rfind("{\"version\": 7, \"workloads\": [{\"uid\": \"Kubernetes//Pod/demo/echo-1\"",
                   0) == 0);
  CHECK(dump.rfind("{\"version\": 7, " + sections + ", ", 0) == 0);

  CHECK(dump.substr(("{\"version\": 7, " + sections).size()) ==
        std::string(", \"routes\": [") + kMyServiceRoutes + ", " + kPlainRoutes +
            "], \"notes\": []}");

  // It is one JSON document.
  const auto parsed = proxy::parseJson(dump);
  REQUIRE(parsed.ok());
  CHECK(proxy::text(*parsed, "version") == "7");
  CHECK(proxy::elements(proxy::member(*parsed, "routes")).size() == 2);
  CHECK(proxy::elements(proxy::member(*proxy::member(*parsed, "certificates"), "certificates"))
            .size() == 2);
}

TEST_CASE("a waypoint without config dumps empty sections", "[config_dump]") {
  const waypoint::WaypointSnapshot empty;
  CHECK(waypoint::waypointConfigDump(empty) ==
        "{\"version\": 0, \"workloads\": [], \"services\": [], \"policies\": [], "
        "\"certificates\": null, \"routes\": [], \"notes\": []}");
}

TEST_CASE("compile problems and routes that never apply are in the dump", "[config_dump]") {
  waypoint::RouteConfigInput input;
  waypoint::VirtualServiceEntry entry{"default", "broken", {}};
  entry.spec.add_hosts("my-service");
  auto* route = entry.spec.add_http();
  route->add_match()->mutable_uri()->set_regex("(");
  route->add_route()->mutable_destination()->set_host("my-service");
  input.virtual_services.push_back(std::move(entry));
  input.services = {{"default", "my-service.default.svc.cluster.local", {"10.96.0.20"}, {80}}};
  auto routes = waypoint::RouteConfig::build(std::move(input));
  REQUIRE(routes.ok());
  waypoint::WaypointSnapshot snapshot;
  snapshot.version = 2;
  snapshot.routes = *routes;
  const std::string dump = waypoint::waypointConfigDump(snapshot);
  INFO(dump);
  CHECK(has(dump, R"x("match": ["uri regex \"(\" (invalid)"])x"));
  const auto parsed = proxy::parseJson(dump);
  REQUIRE(parsed.ok());
  const proxy::Values& notes = proxy::elements(proxy::member(*parsed, "notes"));
  REQUIRE(notes.size() == 1);
  CHECK(has(notes[0].string_value(), "default/broken"));
}

}  // namespace
}  // namespace ambit::ctl::testing
