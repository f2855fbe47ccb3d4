// Tables for PeerAuthentication: the converted DENY policy of a workload policy with port-level
// modes (given its namespace and mesh policies), and which policies a workload references.
#include <catch2/catch.hpp>

#include "control/translate/peer_authentication.h"
#include "test/control/translate/test_objects.h"

namespace ambit::control::translate {
namespace {

namespace sec = istio::security;
using testing::load;
using testing::parseText;
using testing::textOf;

// A PeerAuthentication document: `selector` empty for a namespace-wide policy.
std::string policy(const std::string& ns, const std::string& name, const std::string& mode,
                   const std::string& ports, bool selector = true) {
  std::string out = "---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\n";
  out += "metadata: {name: " + name + ", namespace: " + ns + "}\n";
  std::string spec;
  if (selector) spec += "  selector: {matchLabels: {app: a}}\n";
  if (!mode.empty()) spec += "  mtls: {mode: " + mode + "}\n";
  if (!ports.empty()) spec += "  portLevelMtls: " + ports + "\n";
  return out + (spec.empty() ? "spec: {}\n" : "spec:\n" + spec);
}

constexpr const char* kDenyPlaintext = "matches { not_principals { presence {} } }";

TEST_CASE("converted PeerAuthentication with port-level modes", "[peer-authn]") {
  struct Case {
    const char* name;
    std::string workload;   // mode and ports of the workload policy
    std::string ns_mode;    // "" for no namespace policy, "UNSET" for one without a mode
    std::string root_mode;  // likewise for the mesh policy
    std::string expected;   // groups of the converted policy; "" for none
  };
  const std::string strict_port_9090 =
      "groups { rules { matches { not_principals { presence {} } destination_ports: 9090 } } }";
  const Case cases[] = {
      {"PERMISSIVE with a STRICT port", "PERMISSIVE|{9090: {mode: STRICT}}", "", "",
       strict_port_9090},
      {"UNSET with a STRICT port", "|{9090: {mode: STRICT}}", "", "", strict_port_9090},
      {"UNSET with a STRICT port under a STRICT namespace", "|{9090: {mode: STRICT}}", "STRICT", "",
       ""},
      {"UNSET with a STRICT port under a STRICT mesh", "|{9090: {mode: STRICT}}", "", "STRICT", ""},
      {"STRICT with STRICT ports only", "STRICT|{9090: {mode: STRICT}}", "", "", ""},
      {"STRICT with a DISABLE port", "STRICT|{9090: {mode: DISABLE}}", "", "",
       std::string("groups { rules { ") + kDenyPlaintext +
           " } rules { matches { not_destination_ports: 9090 } } }"},
      {"STRICT with STRICT and PERMISSIVE ports",
       "STRICT|{9090: {mode: STRICT}, 8080: {mode: PERMISSIVE}}", "", "",
       std::string("groups { rules { ") + kDenyPlaintext +
           " } rules { matches { not_destination_ports: 8080 } } }"},
      {"PERMISSIVE with a PERMISSIVE port", "PERMISSIVE|{9090: {mode: PERMISSIVE}}", "", "", ""},
      {"UNSET with a PERMISSIVE port, no parents", "|{9090: {mode: PERMISSIVE}}", "", "", ""},
      {"UNSET with a PERMISSIVE port under a STRICT namespace: merged",
       "|{9090: {mode: PERMISSIVE}}", "STRICT", "",
       std::string("groups { rules { matches { not_destination_ports: 9090 } } rules { ") +
           kDenyPlaintext + " } }"},
      {"UNSET with a PERMISSIVE port under a STRICT mesh: merged", "|{9090: {mode: PERMISSIVE}}",
       "", "STRICT",
       std::string("groups { rules { matches { not_destination_ports: 9090 } } rules { ") +
           kDenyPlaintext + " } }"},
      {"UNSET with a PERMISSIVE port, PERMISSIVE namespace over STRICT mesh",
       "|{9090: {mode: PERMISSIVE}}", "PERMISSIVE", "STRICT", ""},
      {"UNSET namespace policy hides a STRICT mesh for PERMISSIVE ports (as istiod)",
       "|{9090: {mode: PERMISSIVE}}", "UNSET", "STRICT", ""},
      {"STRICT port under a STRICT mesh with a PERMISSIVE workload: left to the mesh (as istiod)",
       "PERMISSIVE|{9090: {mode: STRICT}}", "", "STRICT", ""},
      {"ports in ascending order, one group per STRICT port",
       "DISABLE|{9443: {mode: STRICT}, 8443: {mode: STRICT}, 80: {mode: DISABLE}}", "", "",
       "groups { rules { matches { not_principals { presence {} } destination_ports: 8443 } } } "
       "groups { rules { matches { not_principals { presence {} } destination_ports: 9443 } } }"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const size_t bar = c.workload.find('|');
    std::string yaml = policy("app", "wl", c.workload.substr(0, bar), c.workload.substr(bar + 1));
    if (!c.ns_mode.empty()) {
      yaml += policy("app", "ns", c.ns_mode == "UNSET" ? "" : c.ns_mode, "", false);
    }
    if (!c.root_mode.empty()) yaml += policy("istio-system", "mesh", c.root_mode, "", false);
    const auto objects = load(yaml);
    REQUIRE(objects.size() >= 1);
    const config::Object* ns = c.ns_mode.empty() ? nullptr : &objects[1];
    const config::Object* root = c.root_mode.empty() ? nullptr : &objects.back();
    std::optional<sec::Authorization> got =
        convertPeerAuthentication(objects[0], ns, root, Options{});
    if (c.expected.empty()) {
      CHECK_FALSE(got.has_value());
      continue;
    }
    REQUIRE(got.has_value());
    const auto expected = parseText<sec::Authorization>(
        "name: 'converted_peer_authentication_wl' namespace: 'app' scope: WORKLOAD_SELECTOR "
        "action: DENY " +
        c.expected);
    CHECK(textOf(*got) == textOf(expected));
  }
}

TEST_CASE("root-namespace, selector-less and port-less policies are not converted",
          "[peer-authn]") {
  const auto objects = load(policy("istio-system", "root", "STRICT", "{80: {mode: DISABLE}}") +
                            policy("app", "wide", "STRICT", "{80: {mode: DISABLE}}", false) +
                            policy("app", "noports", "PERMISSIVE", ""));
  for (const config::Object& o : objects) {
    INFO(o.name());
    CHECK_FALSE(convertPeerAuthentication(o, nullptr, nullptr, Options{}).has_value());
  }
}

TEST_CASE("static STRICT policy", "[peer-authn]") {
  Options options;
  options.root_namespace = "mesh-root";
  CHECK(textOf(staticStrictPolicy(options)) ==
        textOf(parseText<sec::Authorization>(
            "name: 'istio_converted_static_strict' namespace: 'mesh-root' "
            "scope: WORKLOAD_SELECTOR action: DENY "
            "groups { rules { matches { not_principals { presence {} } } } }")));
}

TEST_CASE("policies a workload references", "[peer-authn]") {
  const std::string kStatic = "istio-system/istio_converted_static_strict";
  struct Case {
    const char* name;
    std::string yaml;
    std::vector<std::string> expected;
  };
  const Case cases[] = {
      {"no policies", "", {}},
      {"STRICT mesh", policy("istio-system", "m", "STRICT", "", false), {kStatic}},
      {"STRICT mesh, PERMISSIVE namespace",
       policy("istio-system", "m", "STRICT", "", false) +
           policy("app", "n", "PERMISSIVE", "", false),
       {}},
      {"STRICT mesh, UNSET namespace inherits",
       policy("istio-system", "m", "STRICT", "", false) + policy("app", "n", "", "", false),
       {kStatic}},
      {"PERMISSIVE namespace, STRICT workload",
       policy("app", "n", "PERMISSIVE", "", false) + policy("app", "w", "STRICT", ""),
       {kStatic}},
      {"STRICT workload with a PERMISSIVE port",
       policy("app", "w", "STRICT", "{80: {mode: PERMISSIVE}}"),
       {"app/converted_peer_authentication_w"}},
      {"PERMISSIVE workload with a STRICT port",
       policy("app", "w", "PERMISSIVE", "{80: {mode: STRICT}}"),
       {"app/converted_peer_authentication_w"}},
      {"STRICT namespace, UNSET workload with a PERMISSIVE port",
       policy("app", "n", "STRICT", "", false) + policy("app", "w", "", "{80: {mode: PERMISSIVE}}"),
       {"app/converted_peer_authentication_w"}},
      {"STRICT namespace, UNSET workload with a STRICT port",
       policy("app", "n", "STRICT", "", false) + policy("app", "w", "", "{80: {mode: STRICT}}"),
       {kStatic}},
      {"PERMISSIVE namespace, UNSET workload with a STRICT port",
       policy("app", "n", "PERMISSIVE", "", false) + policy("app", "w", "", "{80: {mode: STRICT}}"),
       {"app/converted_peer_authentication_w"}},
      {"other namespaces do not apply", policy("other", "n", "STRICT", "", false), {}},
      {"a root policy with a selector does not apply",
       policy("istio-system", "m", "STRICT", ""),
       {}},
      {"a selector that does not match",
       "---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\n"
       "metadata: {name: w, namespace: app}\n"
       "spec: {selector: {matchLabels: {app: b}}, mtls: {mode: STRICT}}\n",
       {}},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const auto objects = load(c.yaml);
    const MeshObjects mesh(objects);
    const PeerAuthentications index(mesh, Options{});
    Labels labels;
    labels["app"] = "a";
    CHECK(index.keysFor("app", labels) == c.expected);
  }
}

}  // namespace
}  // namespace ambit::control::translate
