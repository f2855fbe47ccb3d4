// /config_dump's JSON and the /logging endpoint.
#include "agent/admin/config_dump.h"

#include <catch2/catch.hpp>

#include "core/log.h"

namespace ambit::agent {
namespace {

namespace wl = istio::workload;
namespace sec = istio::security;

std::string ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return std::string(
      {static_cast<char>(a), static_cast<char>(b), static_cast<char>(c), static_cast<char>(d)});
}

std::shared_ptr<const Snapshot> mesh() {
  auto pod = std::make_shared<wl::Address>();
  wl::Workload& w = *pod->mutable_workload();
  w.set_uid("Kubernetes//Pod/demo/echo-1");
  w.set_name("echo-1");
  w.set_namespace_("demo");
  w.set_workload_name("echo");
  w.add_addresses(ip4(10, 244, 1, 5));
  w.set_service_account("echo");
  w.set_trust_domain("cluster.local");
  w.set_node("node1");
  w.set_tunnel_protocol(wl::HBONE);
  wl::Port& port = *(*w.mutable_services())["demo/echo.demo.svc.cluster.local"].add_ports();
  port.set_service_port(80);
  port.set_target_port(8080);
  w.add_authorization_policies("demo/allow-client");

  auto svc = std::make_shared<wl::Address>();
  wl::Service& s = *svc->mutable_service();
  s.set_name("echo");
  s.set_namespace_("demo");
  s.set_hostname("echo.demo.svc.cluster.local");
  wl::NetworkAddress& vip = *s.add_addresses();
  vip.set_address(ip4(10, 96, 0, 10));
  wl::Port& service_port = *s.add_ports();
  service_port.set_service_port(80);
  service_port.set_target_port(8080);
  service_port.set_app_protocol(wl::HTTP11);

  auto policy = std::make_shared<sec::Authorization>();
  policy->set_name("allow-client");
  policy->set_namespace_("demo");
  policy->set_scope(sec::WORKLOAD_SELECTOR);
  policy->set_action(sec::ALLOW);
  policy->add_groups()->add_rules();
  policy->add_groups();
  policy->set_dry_run(true);

  return Snapshot::build({{"pod", pod}, {"svc", svc}}, {{"demo/allow-client", policy}}, 3);
}

// What WorkloadCertificates::debugJson() gives for one identity.
const char* const kCertificates =
    "{\"trust_bundle_roots\": 1, \"certificates\": [{\"identity\": "
    "\"spiffe://cluster.local/ns/demo/sa/echo\", \"state\": \"valid\", \"serial\": \"0a1b\", "
    "\"not_before\": \"2025-01-01T00:00:00Z\", \"not_after\": \"2025-01-02T00:00:00Z\", "
    "\"renew_at\": \"2025-01-01T12:00:00Z\", \"next_attempt\": \"2025-01-01T12:00:00Z\"}]}";

TEST_CASE("config_dump lists workloads, services, policies and certificates", "[config_dump]") {
  CHECK(configDumpJson(*mesh(), kCertificates) ==
        std::string("{\"version\": 3, "
                    "\"workloads\": [{\"uid\": \"Kubernetes//Pod/demo/echo-1\", \"name\": "
                    "\"echo-1\", \"namespace\": \"demo\", \"workload_name\": \"echo\", "
                    "\"addresses\": [\"10.244.1.5\"], \"service_account\": \"echo\", "
                    "\"trust_domain\": \"cluster.local\", \"node\": \"node1\", "
                    "\"tunnel_protocol\": \"HBONE\", \"status\": \"HEALTHY\", "
                    "\"services\": [{\"service\": \"demo/echo.demo.svc.cluster.local\", "
                    "\"ports\": [{\"service_port\": 80, \"target_port\": 8080, "
                    "\"app_protocol\": \"UNKNOWN\"}]}], "
                    "\"authorization_policies\": [\"demo/allow-client\"]}], "
                    "\"services\": [{\"hostname\": \"echo.demo.svc.cluster.local\", \"name\": "
                    "\"echo\", \"namespace\": \"demo\", \"vips\": [\"10.96.0.10\"], "
                    "\"ports\": [{\"service_port\": 80, \"target_port\": 8080, "
                    "\"app_protocol\": \"HTTP11\"}]}], "
                    "\"policies\": [{\"name\": \"allow-client\", \"namespace\": \"demo\", "
                    "\"scope\": \"WORKLOAD_SELECTOR\", \"action\": \"ALLOW\", \"groups\": 2, "
                    "\"dry_run\": true}], "
                    "\"certificates\": ") +
            kCertificates + "}");
}

TEST_CASE("config_dump holds no key material and survives an empty snapshot", "[config_dump]") {
  struct Case {
    std::shared_ptr<const Snapshot> snapshot;
    std::string certificates;
    std::string expected;
  };
  const Case cases[] = {
      {Snapshot::empty(), "",
       "{\"version\": 0, \"workloads\": [], \"services\": [], \"policies\": [], "
       "\"certificates\": null}"},
      {Snapshot::empty(), "{\"trust_bundle_roots\": 0, \"certificates\": []}",
       "{\"version\": 0, \"workloads\": [], \"services\": [], \"policies\": [], "
       "\"certificates\": {\"trust_bundle_roots\": 0, \"certificates\": []}}"},
  };
  for (const Case& c : cases) {
    CHECK(configDumpJson(*c.snapshot, c.certificates) == c.expected);
  }
  const std::string dump = configDumpJson(*mesh(), kCertificates);
  for (const char* secret : {"PRIVATE KEY", "-----BEGIN", "private", "\"key\""}) {
    INFO(secret);
    CHECK(dump.find(secret) == std::string::npos);
  }
}

TEST_CASE("an address of the wrong length is shown by its length", "[config_dump]") {
  auto pod = std::make_shared<wl::Address>();
  wl::Workload& w = *pod->mutable_workload();
  w.set_uid("u");
  w.add_addresses(std::string("\x0a\x00\x00", 3));
  std::string v6(16, '\0');
  v6[15] = 1;
  w.add_addresses(v6);
  const std::string dump = configDumpJson(*Snapshot::build({{"pod", pod}}, 1), "");
  CHECK(dump.find("\"addresses\": [\"<3 bytes>\", \"::1\"]") != std::string::npos);
}

http::Response call(const std::string& method, const std::string& query) {
  return loggingEndpoint(http::Request{method, "/logging", query});
}

TEST_CASE("/logging lists the loggers and changes their levels", "[logging]") {
  // Loggers exist once a component has used one.
  log::get("proxy");
  log::get("access");
  REQUIRE(log::setLevel("info").ok());

  struct Case {
    std::string method;
    std::string query;
    int status;
    spdlog::level::level_enum proxy;   // the level afterwards
    spdlog::level::level_enum access;  // likewise
    std::string body_has;
  };
  using spdlog::level::debug;
  using spdlog::level::info;
  using spdlog::level::off;
  using spdlog::level::trace;
  using spdlog::level::warn;
  const Case cases[] = {
      {"GET", "", 200, info, info, "active loggers:\n"},
      {"GET", "", 200, info, info, "  proxy: info\n"},
      {"POST", "level=debug", 200, debug, debug, "  access: debug\n"},
      {"GET", "level=info", 200, info, info, "  proxy: info\n"},
      {"POST", "proxy=trace", 200, trace, info, "  proxy: trace\n"},
      {"GET", "access=off&level=warn", 200, warn, off, "  access: off\n"},
      {"GET", "level=warning", 200, warn, warn, "  proxy: warning\n"},
      {"HEAD", "level=debug", 200, warn, warn, "active loggers:\n"},
      {"GET", "level=loud", 400, warn, warn, "log level \"loud\": expected"},
      {"POST", "proxy=debug&access=verbose", 400, warn, warn, "\"verbose\""},
      {"GET", "nosuchlogger=debug", 400, warn, warn, "no logger \"nosuchlogger\" (loggers: "},
      {"GET", "level", 400, warn, warn, "expected level=<level> or <logger>=<level>"},
      {"GET", "proxy=", 400, warn, warn, "expected level=<level> or <logger>=<level>"},
      {"GET", "=debug", 400, warn, warn, "expected level=<level> or <logger>=<level>"},
  };
  for (const Case& c : cases) {
    INFO(c.method << " ?" << c.query);
    const http::Response response = call(c.method, c.query);
    CHECK(response.status == c.status);
    CHECK(response.body.find(c.body_has) != std::string::npos);
    CHECK(log::get("proxy")->level() == c.proxy);
    CHECK(log::get("access")->level() == c.access);
  }
  // A logger created after a global change starts at that level.
  REQUIRE(call("GET", "level=error").status == 200);
  CHECK(log::get("created_later_for_test")->level() == spdlog::level::err);
  REQUIRE(log::setLevel("info").ok());
}

}  // namespace
}  // namespace ambit::agent
