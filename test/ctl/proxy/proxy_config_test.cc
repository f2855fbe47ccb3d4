// `ambitctl proxy-config` over the real /config_dump bodies of an agent and a waypoint: the
// tables of each kind, -o json and yaml, the filters, and the errors.
#include "ctl/proxy/proxy_config.h"

#include <absl/strings/str_join.h>
#include <catch2/catch.hpp>

#include "ctl/analyze/analyze_command.h"
#include "ctl/proxy/config_tables.h"
#include "ctl/proxy/json_value.h"
#include "test/ctl/proxy/proxy_test_support.h"
#include "waypoint/admin/config_dump.h"

namespace ambit::ctl::testing {
namespace {

// An agent's admin server as the agent serves it: /config_dump with its certificates, and
// /debug/certificates.
class AgentAdmin : public FixedServer {
 public:
  AgentAdmin()
      : FixedServer({{"/config_dump", agentDump() + "\n"},
                     {"/debug/certificates", std::string(kCertificates) + "\n"}}) {}
};

// A waypoint's: its dump (without certificates, so `all` reads /debug/certificates).
class WaypointAdmin : public FixedServer {
 public:
  WaypointAdmin()
      : FixedServer({{"/config_dump", waypoint::waypointConfigDump(waypointSnapshot()) + "\n"},
                     {"/debug/certificates", std::string(kCertificates) + "\n"}}) {}
};

// The cells of each line of a table: the text between runs of two or more spaces.
std::vector<std::vector<std::string>> tableCells(const std::string& table) {
  std::vector<std::vector<std::string>> rows;
  size_t start = 0;
  while (start < table.size()) {
    const size_t end = table.find('\n', start);
    const std::string line = table.substr(start, end - start);
    std::vector<std::string> cells;
    size_t cell = 0;
    while (cell < line.size()) {
      const size_t gap = line.find("  ", cell);
      cells.push_back(line.substr(cell, gap - cell));
      if (gap == std::string::npos) break;
      cell = line.find_first_not_of(' ', gap);
    }
    rows.push_back(std::move(cells));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return rows;
}

Run proxyConfig(const FixedServer& target, std::vector<std::string> args) {
  args.insert(args.end(), {"--admin", target.address()});
  return run(runProxyConfig, args);
}

constexpr const char* kWorkloads =
    "NAMESPACE   NAME       IP           NODE    PROTOCOL   STATUS\n"
    "demo        echo-1     10.244.1.5   node1   HBONE      HEALTHY\n"
    "demo        echo-2     10.244.2.6   node2   HBONE      UNHEALTHY\n"
    "legacy      client-1   10.244.1.7   node1   NONE       HEALTHY\n";

constexpr const char* kServices =
    "NAMESPACE   NAME   VIPS         PORTS             ENDPOINTS\n"
    "demo        echo   10.96.0.10   80->8080/HTTP11   1/2\n";

constexpr const char* kPolicies =
    "NAMESPACE   NAME           ACTION   SCOPE               RULES   DRY-RUN\n"
    "demo        allow-client   ALLOW    WORKLOAD_SELECTOR   2       false\n";

constexpr const char* kCertificateTable =
    "IDENTITY                                     STATE     TYPE   SERIAL   "
    "NOT-BEFORE             NOT-AFTER              RENEW-AT               "
    "NEXT-ATTEMPT           LAST-ERROR\n"
    "spiffe://cluster.local/ns/demo/sa/echo       valid     Leaf   0a1b     "
    "2025-01-01T00:00:00Z   2025-01-02T00:00:00Z   2025-01-01T12:00:00Z   "
    "2025-01-01T12:00:00Z   -\n"
    "spiffe://cluster.local/ns/legacy/sa/client   failing   Leaf   -        "
    "-                      -                      -                      "
    "2025-01-01T00:00:08Z   control plane unavailable\n"
    "ROOTCA                                       1 root    CA     -        "
    "-                      -                      -                      "
    "-                      -\n";

TEST_CASE("proxy-config shows an agent's workloads, services, policies and certificates",
          "[proxy-config]") {
  AgentAdmin agent;
  const std::pair<std::string, std::string> cases[] = {
      {"workloads", kWorkloads},
      {"services", kServices},
      {"policies", kPolicies},
      {"certificates", kCertificateTable},
  };
  for (const auto& [kind, table] : cases) {
    INFO(kind);
    const Run r = proxyConfig(agent, {kind});
    INFO(r.err);
    CHECK(r.exit == kExitOk);
    CHECK(r.err.empty());
    CHECK(r.out == table);
  }
  const Run all = proxyConfig(agent, {"all"});
  CHECK(all.exit == kExitOk);
  CHECK(all.out ==
        std::string(kWorkloads) + "\n" + kServices + "\n" + kPolicies + "\n" + kCertificateTable);
}

TEST_CASE("proxy-config filters by namespace and name", "[proxy-config]") {
  AgentAdmin agent;
  struct Case {
    std::vector<std::string> args;
    std::vector<std::string> names;  // the rows' NAME or IDENTITY column, in order
  };
  const Case cases[] = {
      {{"workloads", "-n", "demo"}, {"echo-1", "echo-2"}},
      {{"workloads", "--namespace=legacy"}, {"client-1"}},
      {{"workloads", "--name", "echo-2"}, {"echo-2"}},
      {{"workloads", "--name", "echo"}, {"echo-1", "echo-2"}},  // the workload name
      {{"workloads", "-n", "legacy", "--name", "echo"}, {}},
      {{"services", "--name", "echo.demo.svc.cluster.local"}, {"echo"}},
      {{"services", "-n", "legacy"}, {}},
      {{"policies", "--name", "allow-client"}, {"allow-client"}},
      {{"certificates", "-n", "legacy"}, {"spiffe://cluster.local/ns/legacy/sa/client", "ROOTCA"}},
      {{"certificates", "--name", "echo"}, {"spiffe://cluster.local/ns/demo/sa/echo", "ROOTCA"}},
  };
  for (const Case& c : cases) {
    INFO(absl::StrJoin(c.args, " "));
    const Run r = proxyConfig(agent, c.args);
    REQUIRE(r.exit == kExitOk);
    std::vector<std::string> names;
    const std::vector<std::vector<std::string>> rows = tableCells(r.out);
    const size_t column = c.args[0] == "certificates" ? 0 : 1;
    for (size_t i = 1; i < rows.size(); ++i) names.push_back(rows[i].at(column));
    CHECK(names == c.names);
  }
}

TEST_CASE("proxy-config -o json and yaml give the section's entries", "[proxy-config]") {
  AgentAdmin agent;
  const Run policies = proxyConfig(agent, {"policies", "-o", "json"});
  CHECK(policies.exit == kExitOk);
  CHECK(policies.out ==
        R"([{"action": "ALLOW", "dry_run": false, "groups": 2, "name": "allow-client", )"
        R"("namespace": "demo", "scope": "WORKLOAD_SELECTOR"}])"
        "\n");

  const Run services = proxyConfig(agent, {"services", "-o", "yaml"});
  CHECK(services.exit == kExitOk);
  CHECK(services.out ==
        "- hostname: echo.demo.svc.cluster.local\n"
        "  name: echo\n"
        "  namespace: demo\n"
        "  ports:\n"
        "    - app_protocol: HTTP11\n"
        "      service_port: 80\n"
        "      target_port: 8080\n"
        "  vips:\n"
        "    - 10.96.0.10\n");

  const Run certificates = proxyConfig(agent, {"certificates", "-o", "json", "-n", "demo"});
  const auto parsed = proxy::parseJson(certificates.out);
  REQUIRE(parsed.ok());
  CHECK(proxy::text(*parsed, "trust_bundle_roots") == "1");
  CHECK(proxy::elements(proxy::member(*parsed, "certificates")).size() == 1);

  const Run all = proxyConfig(agent, {"all", "-o", "json", "--name", "echo-1"});
  const auto everything = proxy::parseJson(all.out);
  REQUIRE(everything.ok());
  CHECK(proxy::text(*everything, "version") == "3");
  CHECK(proxy::elements(proxy::member(*everything, "workloads")).size() == 1);
  CHECK(proxy::elements(proxy::member(*everything, "services")).empty());
  CHECK(proxy::member(*everything, "routes") == nullptr);
  CHECK(proxy::member(*everything, "certificates") != nullptr);
}

TEST_CASE("proxy-config shows a waypoint's routes and its view of the mesh", "[proxy-config]") {
  WaypointAdmin waypoint;
  const Run routes = proxyConfig(waypoint, {"routes"});
  INFO(routes.err);
  CHECK(routes.exit == kExitOk);
  CHECK(routes.out ==
        "SERVICE                                VIRTUALSERVICE       ROUTE            "
        "MATCH                                                                         "
        "DESTINATIONS\n"
        "my-service.default.svc.cluster.local   default/my-service   http[0]:legacy   "
        "uri prefix \"/old\"                                                             "
        "redirect 301\n"
        "my-service.default.svc.cluster.local   default/my-service   http[1]          "
        "header x-user-type exact \"beta\" || uri prefix \"/beta\" && method exact \"GET\"   "
        "my-service.default.svc.cluster.local/v2\n"
        "my-service.default.svc.cluster.local   default/my-service   http[2]          "
        "*                                                                             "
        "my-service.default.svc.cluster.local/v1 90%, my-service.default.svc.cluster.local/v2 10%\n"
        "my-service.default.svc.cluster.local   default/my-service   tcp[0]           "
        "port 9000                                                                     "
        "my-service.default.svc.cluster.local:9000\n"
        "plain.default.svc.cluster.local        -                    default          "
        "*                                                                             "
        "plain.default.svc.cluster.local\n");

  const Run plain = proxyConfig(waypoint, {"routes", "--name", "plain"});
  CHECK(plain.exit == kExitOk);
  CHECK(has(plain.out, "\nplain.default.svc.cluster.local   -                default   *   "));
  CHECK_FALSE(has(plain.out, "my-service"));

  // The mesh sections have the agent's shape, so the same tables.
  const Run workloads = proxyConfig(waypoint, {"workloads"});
  CHECK(workloads.exit == kExitOk);
  CHECK(workloads.out == kWorkloads);

  // `all` finds the certificates at /debug/certificates when the dump has none.
  const Run all = proxyConfig(waypoint, {"all"});
  CHECK(all.exit == kExitOk);
  CHECK(has(all.out, kCertificateTable));
  CHECK(has(all.out, "\nSERVICE "));
}

TEST_CASE("a WAYPOINT column appears when the dump's entries carry one", "[proxy-config]") {
  FixedServer target({{"/config_dump",
                       R"({"version": 1, "workloads": [
      {"name": "a", "namespace": "ns", "addresses": ["10.0.0.1"], "node": "n",
       "tunnel_protocol": "HBONE", "status": "HEALTHY", "waypoint": "ns/waypoint"},
      {"name": "b", "namespace": "ns", "addresses": [], "tunnel_protocol": "NONE",
       "status": "HEALTHY"}],
      "services": [{"name": "s", "namespace": "ns", "hostname": "s.ns.svc.cluster.local",
       "vips": ["10.96.0.1", "10.96.0.2"], "ports": [{"service_port": 9000, "target_port": 9000,
       "app_protocol": "UNKNOWN"}], "waypoint": "ns/waypoint"}]})"}});
  const Run workloads = proxyConfig(target, {"workloads"});
  CHECK(workloads.out ==
        "NAMESPACE   NAME   IP         NODE   WAYPOINT      PROTOCOL   STATUS\n"
        "ns          a      10.0.0.1   n      ns/waypoint   HBONE      HEALTHY\n"
        "ns          b      -          -      -             NONE       HEALTHY\n");
  const Run services = proxyConfig(target, {"services"});
  CHECK(services.out ==
        "NAMESPACE   NAME   VIPS                  PORTS   ENDPOINTS   WAYPOINT\n"
        "ns          s      10.96.0.1,10.96.0.2   9000    0/0         ns/waypoint\n");
}

TEST_CASE("ports and destinations are written compactly", "[proxy-config]") {
  struct PortCase {
    std::string json;
    std::string text;
  };
  const PortCase ports[] = {
      {R"({"service_port": 80, "target_port": 8080, "app_protocol": "HTTP11"})", "80->8080/HTTP11"},
      {R"({"service_port": 80, "target_port": 80, "app_protocol": "UNKNOWN"})", "80"},
      {R"({"service_port": 9000, "target_port": 0, "app_protocol": "TCP"})", "9000/TCP"},
  };
  for (const PortCase& c : ports) {
    const auto value = proxy::parseJson(c.json);
    REQUIRE(value.ok());
    CHECK(proxy::portText(*value) == c.text);
  }
  const PortCase destinations[] = {
      {R"([{"host": "a", "subset": "", "port": 0, "weight": 100}])", "a"},
      {R"([{"host": "a", "subset": "v1", "port": 0, "weight": 1},
           {"host": "a", "subset": "v2", "port": 8080, "weight": 2}])",
       "a/v1 33.3%, a/v2:8080 66.7%"},
      {"[]", ""},
  };
  for (const PortCase& c : destinations) {
    const auto value = proxy::parseJson(c.json);
    REQUIRE(value.ok());
    CHECK(proxy::destinationsText(*value) == c.text);
  }
}

TEST_CASE("proxy-config says what the target lacks or what went wrong", "[proxy-config]") {
  AgentAdmin agent;
  Run r = proxyConfig(agent, {"routes"});
  CHECK(r.exit == kExitFindings);
  CHECK(r.out.empty());
  CHECK(r.err == "ambitctl proxy-config: " + agent.address() +
                     " has no routes: its /config_dump has no \"routes\" list (only a waypoint "
                     "has routes)\n");

  FixedServer control({{"/debug/syncz", "[]"}});
  r = proxyConfig(control, {"workloads"});
  CHECK(r.exit == kExitFindings);
  CHECK(r.err == "ambitctl proxy-config: http://" + control.address() +
                     "/config_dump: 404 Not Found (is " + control.address() +
                     " the admin server of an ambit-agent or ambit-waypoint, port 15000 by "
                     "default?)\n");
  r = proxyConfig(control, {"certificates"});
  CHECK(r.exit == kExitFindings);
  CHECK(has(r.err, "/debug/certificates: 404 Not Found"));

  FixedServer garbled({{"/config_dump", "{\"workloads\": [}"}});
  r = proxyConfig(garbled, {"workloads"});
  CHECK(r.exit == kExitFindings);
  CHECK(has(r.err,
            "ambitctl proxy-config: http://" + garbled.address() + "/config_dump is not JSON: "));

  FixedServer list({{"/config_dump", "[]"}});
  r = proxyConfig(list, {"all"});
  CHECK(r.exit == kExitFindings);
  CHECK(r.err ==
        "ambitctl proxy-config: http://" + list.address() + "/config_dump is not a JSON object\n");

  const std::string closed = closedAddress();
  r = run(runProxyConfig, {"workloads", "--admin", closed});
  CHECK(r.exit == kExitFindings);
  CHECK(r.err == "ambitctl proxy-config: cannot connect to " + closed + ": Connection refused\n");
}

TEST_CASE("proxy-config refuses malformed arguments", "[proxy-config]") {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const Case cases[] = {
      {{}, "which kind? workloads, services, policies, certificates, routes or all"},
      {{"clusters"},
       "unknown kind \"clusters\": expected workloads, services, policies, certificates, routes "
       "or all"},
      {{"workloads", "services"}, "unexpected argument services"},
      {{"workloads", "-o", "wide"}, "-o must be table, json or yaml"},
      {{"workloads", "--admin", "node1"}, "address \"node1\": no port (expected HOST:PORT)"},
      {{"workloads", "--admin"}, "--admin needs HOST:PORT"},
      {{"workloads", "-n"}, "-n needs a namespace"},
      {{"workloads", "--name="}, "--name needs a name"},
      {{"workloads", "--pod", "x"}, "unknown option --pod"},
  };
  for (const Case& c : cases) {
    INFO(c.message);
    const Run r = run(runProxyConfig, c.args);
    CHECK(r.exit == kExitUsage);
    CHECK(r.err ==
          "ambitctl proxy-config: " + c.message + "\n(see 'ambitctl proxy-config --help')\n");
  }
  const Run help = run(runProxyConfig, {"-h"});
  CHECK(help.exit == kExitOk);
  CHECK(help.out.rfind("Usage: ambitctl proxy-config workloads|services|policies|certificates|"
                       "routes|all",
                       0) == 0);
  CHECK(std::string(kDefaultAdmin) == "127.0.0.1:15000");
}

}  // namespace
}  // namespace ambit::ctl::testing
