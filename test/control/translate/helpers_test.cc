// Table tests of the translation helpers: canonical service and workload names, enrollment,
// pod health, target ports and protocols, IP parsing and waypoint labels.
#include <catch2/catch.hpp>

#include "control/translate/ip.h"
#include "control/translate/mesh_objects.h"
#include "control/translate/ports.h"
#include "control/translate/waypoints.h"
#include "control/translate/workload_builder.h"
#include "control/translate/workload_meta.h"

namespace ambit::control::translate {
namespace {

namespace wl = istio::workload;

Labels labelsOf(std::initializer_list<std::pair<const char*, const char*>> pairs) {
  Labels out;
  for (const auto& [k, v] : pairs) out[k] = v;
  return out;
}

TEST_CASE("canonical service name and revision follow Istio's label precedence", "[helpers]") {
  struct Case {
    Labels labels;
    const char* name;
    const char* revision;
  };
  const Case cases[] = {
      {labelsOf({}), "workload", "latest"},
      {labelsOf({{"app", "a"}, {"version", "v1"}}), "a", "v1"},
      {labelsOf({{"app", "a"}, {"app.kubernetes.io/name", "k"}}), "k", "latest"},
      {labelsOf({{"app", "a"},
                 {"app.kubernetes.io/name", "k"},
                 {"service.istio.io/canonical-name", "c"}}),
       "c", "latest"},
      {labelsOf({{"version", "v1"}, {"app.kubernetes.io/version", "2.0"}}), "workload", "2.0"},
      {labelsOf({{"version", "v1"}, {"service.istio.io/canonical-revision", "r7"}}), "workload",
       "r7"},
      {labelsOf({{"app", ""}}), "", "latest"},  // present but empty still wins
  };
  for (const Case& c : cases) {
    const CanonicalService got = canonicalService(c.labels, "workload");
    CHECK(got.name == c.name);
    CHECK(got.revision == c.revision);
  }
}

TEST_CASE("workload name: label, generated name, selecting Deployment, pod name", "[helpers]") {
  std::vector<config::Object> objects(1);  // a Deployment "api" selecting app=api in "a"
  auto deployment = std::make_shared<k8s::Deployment>();
  (*deployment->mutable_spec()->mutable_selector()->mutable_match_labels())["app"] = "api";
  objects[0].kind = &config::kindInfo(config::Kind::kDeployment);
  objects[0].meta.set_name("api");
  objects[0].meta.set_namespace_("a");
  objects[0].body = deployment;
  const MeshObjects mesh(objects);

  struct Case {
    const char* name;
    const char* generate_name;
    Labels labels;
    const char* expected;
  };
  const Case cases[] = {
      {"web-5d8f-abcde", "web-5d8f-", labelsOf({{"pod-template-hash", "5d8f"}}), "web"},
      {"worker-x7k2p", "worker-", labelsOf({}), "worker"},  // DaemonSet, Job
      {"web-5d8f-abcde", "web-5d8f-", labelsOf({{"pod-template-hash", "zzz"}}), "web-5d8f"},
      {"api-manual", "", labelsOf({{"app", "api"}}), "api"},         // selected by Deployment
      {"apix", "", labelsOf({{"app", "api"}}), "apix"},              // name not "api-..."
      {"api-other", "", labelsOf({{"app", "other"}}), "api-other"},  // not selected
      {"solo", "", labelsOf({}), "solo"},
      {"web-5d8f-abcde", "web-5d8f-",
       labelsOf({{"service.istio.io/workload-name", "named"}, {"pod-template-hash", "5d8f"}}),
       "named"},
  };
  for (const Case& c : cases) {
    k8s::ObjectMeta meta;
    meta.set_name(c.name);
    meta.set_namespace_("a");
    meta.set_generate_name(c.generate_name);
    *meta.mutable_labels() = c.labels;
    CHECK(workloadName(meta, mesh) == c.expected);
  }
}

TEST_CASE("ambient enrollment follows the CNI's default selectors", "[helpers]") {
  struct Case {
    Labels pod;
    Labels ns;
    bool host_network;
    bool sidecar;
    bool expected;
  };
  const Labels ambient = labelsOf({{"istio.io/dataplane-mode", "ambient"}});
  const Labels none = labelsOf({{"istio.io/dataplane-mode", "none"}});
  const Case cases[] = {
      {labelsOf({}), ambient, false, false, true},
      {none, ambient, false, false, false},
      {ambient, labelsOf({}), false, false, true},
      {labelsOf({}), labelsOf({}), false, false, false},
      {labelsOf({}), ambient, true, false, false},
      {ambient, ambient, false, true, false},
      {labelsOf({{"istio.io/dataplane-mode", "other"}}), ambient, false, false, true},
      {labelsOf({}), labelsOf({{"istio.io/dataplane-mode", "none"}}), false, false, false},
  };
  for (const Case& c : cases) {
    k8s::ObjectMeta meta;
    *meta.mutable_labels() = c.pod;
    if (c.sidecar) (*meta.mutable_annotations())["sidecar.istio.io/status"] = "{}";
    k8s::PodSpec spec;
    spec.set_host_network(c.host_network);
    CHECK(ambientEnrolled(meta, spec, c.ns) == c.expected);
  }
  CHECK(supportsHttpTunnel(labelsOf({{"networking.istio.io/tunnel", "http"}})));
  CHECK(supportsHttpTunnel(labelsOf({{"networking.istio.io/tunnel", "tcp,http"}})));
  CHECK_FALSE(supportsHttpTunnel(labelsOf({{"networking.istio.io/tunnel", "https"}})));
  CHECK_FALSE(supportsHttpTunnel(labelsOf({})));
}

TEST_CASE("pod status is HEALTHY only when ready and not being deleted", "[helpers]") {
  struct Case {
    const char* phase;
    const char* ready;  // nullptr: no conditions at all
    bool deleting;
    wl::WorkloadStatus expected;
  };
  const Case cases[] = {
      {"Running", "True", false, wl::HEALTHY},    {"Running", "False", false, wl::UNHEALTHY},
      {"Running", "True", true, wl::UNHEALTHY},   {"Running", nullptr, false, wl::HEALTHY},
      {"Pending", nullptr, false, wl::UNHEALTHY}, {"Pending", "True", false, wl::HEALTHY},
  };
  for (const Case& c : cases) {
    k8s::ObjectMeta meta;
    if (c.deleting) meta.set_deletion_timestamp("2024-01-01T00:00:00Z");
    k8s::PodStatus status;
    status.set_phase(c.phase);
    if (c.ready != nullptr) {
      k8s::PodCondition* scheduled = status.add_conditions();
      scheduled->set_type("PodScheduled");
      scheduled->set_status("True");
      k8s::PodCondition* ready = status.add_conditions();
      ready->set_type("Ready");
      ready->set_status(c.ready);
    }
    CHECK(podStatus(meta, status) == c.expected);
  }
  k8s::PodStatus no_ready;  // conditions, but none is Ready
  no_ready.set_phase("Running");
  no_ready.add_conditions()->set_type("Initialized");
  CHECK(podStatus(k8s::ObjectMeta(), no_ready) == wl::UNHEALTHY);
  CHECK(podUid("Kubernetes", "ns", "p") == "Kubernetes//Pod/ns/p");
}

k8s::ServicePort servicePort(int port, const char* target_name, int target_number,
                             const char* name = "", const char* protocol = "",
                             const char* app_protocol = "") {
  k8s::ServicePort p;
  p.set_port(port);
  p.set_name(name);
  p.set_protocol(protocol);
  p.set_app_protocol(app_protocol);
  if (target_name != nullptr) {
    p.mutable_target_port()->set_type(1);
    p.mutable_target_port()->set_str_val(target_name);
  } else if (target_number >= 0) {
    p.mutable_target_port()->set_int_val(target_number);
  }
  return p;
}

TEST_CASE("target ports: numeric, defaulted, and named resolved per pod", "[helpers]") {
  k8s::PodSpec spec;
  k8s::Container* c = spec.add_containers();
  auto* http = c->add_ports();
  http->set_name("http");
  http->set_container_port(8080);
  auto* dns = c->add_ports();
  dns->set_name("dns");
  dns->set_container_port(5353);
  dns->set_protocol("UDP");
  auto* admin = spec.add_containers()->add_ports();
  admin->set_name("admin");
  admin->set_container_port(9000);
  admin->set_protocol("TCP");

  struct Case {
    k8s::ServicePort port;
    uint32_t numeric;
    std::optional<uint32_t> for_pod;
  };
  const Case cases[] = {
      {servicePort(80, nullptr, 8081), 8081, 8081},
      {servicePort(80, nullptr, -1), 80, 80},  // unset: the service port
      {servicePort(80, nullptr, 0), 80, 80},   // 0: the service port
      {servicePort(80, "http", 0), 0, 8080},
      {servicePort(81, "admin", 0), 0, 9000},        // found in the second container
      {servicePort(53, "dns", 0), 0, std::nullopt},  // UDP container ports never match
      {servicePort(82, "missing", 0), 0, std::nullopt},
  };
  for (const Case& k : cases) {
    CHECK(numericTargetPort(k.port) == k.numeric);
    CHECK(targetPortFor(k.port, spec) == k.for_pod);
  }
  CHECK(findContainerPort(spec, "http") == std::optional<uint32_t>(8080));
  CHECK(findContainerPort(spec, "nope") == std::nullopt);
}

TEST_CASE("app protocol of a service port follows Istio's ConvertProtocol", "[helpers]") {
  struct Case {
    k8s::ServicePort port;
    wl::AppProtocol expected;
  };
  const Case cases[] = {
      {servicePort(80, nullptr, -1, "http"), wl::HTTP11},
      {servicePort(80, nullptr, -1, "http-web"), wl::HTTP11},
      {servicePort(80, nullptr, -1, "HTTP2-x"), wl::HTTP2},
      {servicePort(80, nullptr, -1, "grpc"), wl::GRPC},
      {servicePort(80, nullptr, -1, "grpc-web"), wl::UNKNOWN},
      {servicePort(80, nullptr, -1, "https"), wl::TLS},
      {servicePort(80, nullptr, -1, "tls-x"), wl::TLS},
      {servicePort(80, nullptr, -1, "tcp"), wl::TCP},
      {servicePort(80, nullptr, -1, "web"), wl::UNKNOWN},
      {servicePort(80, nullptr, -1, "mongo"), wl::UNKNOWN},
      {servicePort(53, nullptr, -1, "web"), wl::TCP},  // well-known port
      {servicePort(3306, nullptr, -1, ""), wl::TCP},
      {servicePort(3306, nullptr, -1, "mysql"), wl::UNKNOWN},  // a known, unmapped protocol
      {servicePort(80, nullptr, -1, "http", "UDP"), wl::UNKNOWN},
      {servicePort(80, nullptr, -1, "tcp", "", "http"), wl::HTTP11},  // appProtocol wins
      {servicePort(80, nullptr, -1, "tcp", "", "kubernetes.io/h2c"), wl::HTTP2},
      {servicePort(80, nullptr, -1, "tcp", "", "kubernetes.io/ws"), wl::HTTP11},
      {servicePort(80, nullptr, -1, "tcp", "", "kubernetes.io/wss"), wl::TLS},
  };
  for (const Case& c : cases) {
    INFO(c.port.name() << " " << c.port.app_protocol());
    CHECK(appProtocol(c.port) == c.expected);
  }
}

TEST_CASE("IP addresses and prefixes parse as Go's netip does", "[helpers]") {
  CHECK(parseIp("10.0.0.1") == std::string("\x0a\x00\x00\x01", 4));
  CHECK(parseIp("fd00::1")->size() == 16);
  CHECK(parseIp("fe80::1%eth0")->size() == 16);
  CHECK(parseIp("010.0.0.1") == std::nullopt);
  CHECK(parseIp("10.0.0") == std::nullopt);
  CHECK(parseIp("") == std::nullopt);
  CHECK(parseIp("10.0.0.1 ") == std::nullopt);

  struct Case {
    const char* text;
    std::optional<std::pair<std::string, uint32_t>> expected;
  };
  const Case cases[] = {
      {"1.2.3.4", std::make_pair("1.2.3.4", 32u)},
      {"5.6.7.8/16", std::make_pair("5.6.7.8", 16u)},  // not masked, as istiod sends it
      {"10.0.0.0/0", std::make_pair("10.0.0.0", 0u)},
      {"fd00::/8", std::make_pair("fd00::", 8u)},
      {"::1", std::make_pair("::1", 128u)},
      {"1.2.3.4/33", std::nullopt},
      {"1.2.3.4/08", std::nullopt},
      {"1.2.3.4/", std::nullopt},
      {"1.2.3.4/x", std::nullopt},
      {"fe80::1%eth0/64", std::nullopt},
      {"not-an-ip", std::nullopt},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    std::optional<IpPrefix> got = parseIpOrPrefix(c.text);
    REQUIRE(got.has_value() == c.expected.has_value());
    if (got) {
      CHECK(formatIp(got->address) == c.expected->first);
      CHECK(got->length == c.expected->second);
    }
  }
}

TEST_CASE("istio.io/use-waypoint forms", "[helpers]") {
  struct Case {
    Labels labels;
    bool set;
    bool none;
    const char* ns;
    const char* name;
  };
  const Case cases[] = {
      {labelsOf({}), false, false, "", ""},
      {labelsOf({{"istio.io/use-waypoint", "none"}}), true, true, "", ""},
      {labelsOf({{"istio.io/use-waypoint", "wp"}}), true, false, "home", "wp"},
      {labelsOf({{"istio.io/use-waypoint", "infra/wp"}}), true, false, "infra", "wp"},
      {labelsOf({{"istio.io/use-waypoint", "wp"}, {"istio.io/use-waypoint-namespace", "infra"}}),
       true, false, "infra", "wp"},
  };
  for (const Case& c : cases) {
    const UseWaypoint got = parseUseWaypoint(c.labels, "home");
    CHECK(got.set == c.set);
    CHECK(got.none == c.none);
    CHECK(got.namespace_ == c.ns);
    CHECK(got.name == c.name);
  }
  CHECK(isWaypointClass("istio-waypoint"));
  CHECK(isWaypointClass("ambit-waypoint"));
  CHECK_FALSE(isWaypointClass("istio"));
}

TEST_CASE("selectors and Go booleans", "[helpers]") {
  CHECK(selectorMatches(labelsOf({}), labelsOf({{"a", "1"}})));
  CHECK(selectorMatches(labelsOf({{"a", "1"}}), labelsOf({{"a", "1"}, {"b", "2"}})));
  CHECK_FALSE(selectorMatches(labelsOf({{"a", "1"}}), labelsOf({{"a", "2"}})));
  CHECK_FALSE(selectorMatches(labelsOf({{"a", "1"}}), labelsOf({})));
  CHECK(parseGoBool("True") == std::optional<bool>(true));
  CHECK(parseGoBool("1") == std::optional<bool>(true));
  CHECK(parseGoBool("F") == std::optional<bool>(false));
  CHECK(parseGoBool("yes") == std::nullopt);
}

}  // namespace
}  // namespace ambit::control::translate
