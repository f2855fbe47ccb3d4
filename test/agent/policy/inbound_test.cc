// decideInbound(): each verdict in its order, where the peer identity comes from, and the decision
// over what the control plane's translator really sends for Kubernetes and Istio YAML, including
// the users' examples in samples/istio.
#include "agent/policy/inbound.h"

#include <arpa/inet.h>

#include <fstream>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include "control/translate/translator.h"
#include "core/config/loader.h"

namespace ambit::agent {
namespace {

namespace sec = istio::security;
namespace wl = istio::workload;
namespace translate = control::translate;
using Verdict = InboundDecision::Verdict;
using Reason = AuthorizationDecision::Reason;
using Transport = InboundConnection::Transport;

IpBytes ip(const std::string& text) {
  unsigned char bytes[16] = {};
  if (inet_pton(AF_INET, text.c_str(), bytes) == 1) return IpBytes(bytes, bytes + 4);
  REQUIRE(inet_pton(AF_INET6, text.c_str(), bytes) == 1);
  return IpBytes(bytes, bytes + 16);
}

InboundConnection hbone(const std::string& destination, uint16_t port,
                        std::optional<std::string> principal,
                        const std::string& peer = "10.244.9.9") {
  InboundConnection out;
  out.transport = Transport::kHbone;
  out.peer_ip = ip(peer);
  out.destination_ip = ip(destination);
  out.destination_port = port;
  out.peer_principal = std::move(principal);
  return out;
}

InboundConnection plaintext(const std::string& destination, uint16_t port,
                            const std::string& peer = "10.244.9.9") {
  InboundConnection out = hbone(destination, port, std::nullopt, peer);
  out.transport = Transport::kPlaintext;
  return out;
}

// The snapshot the agent would hold after the control plane translated `yaml`.
struct Mesh {
  translate::Translation translation;
  std::shared_ptr<const Snapshot> snapshot;

  const wl::Workload& pod(const std::string& ns, const std::string& name) const {
    Snapshot::WorkloadPtr w = snapshot->workloadByUid("Kubernetes//Pod/" + ns + "/" + name);
    REQUIRE(w != nullptr);
    return *w;
  }
  std::vector<std::string> policiesOf(const std::string& ns, const std::string& name) const {
    std::vector<std::string> out;
    for (const auto& p : snapshot->policiesFor(pod(ns, name))) {
      out.push_back(p->namespace_() + "/" + p->name());
    }
    return out;
  }
  bool hasNote(const std::string& object_name, const std::string& reason) const {
    for (const translate::Note& note : translation.notes) {
      if (note.object.name == object_name && note.reason == reason) return true;
    }
    return false;
  }
};

Mesh translated(const std::string& yaml) {
  config::LoadResult loaded;
  config::Loader().loadText(yaml, "test.yaml", loaded);
  for (const config::Diagnostic& d : loaded.diagnostics) {
    INFO(d.format());
    CHECK(d.severity != config::Severity::kError);
  }
  Mesh out;
  out.translation = translate::translate(loaded.objects);
  Snapshot::Addresses addresses;
  Snapshot::Policies policies;
  for (const translate::NamedAddress& a : out.translation.addresses) {
    addresses[a.name] = std::make_shared<wl::Address>(a.address);
  }
  for (const translate::NamedAuthorization& p : out.translation.authorizations) {
    policies[p.name] = std::make_shared<sec::Authorization>(p.authorization);
  }
  out.snapshot = Snapshot::build(addresses, policies, 1);
  return out;
}

std::string sample(const std::string& file) {
  std::ifstream in(std::string(AMBIT_SOURCE_DIR) + "/samples/istio/" + file);
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string podYaml(const std::string& ns, const std::string& name, const std::string& app,
                    const std::string& account, const std::string& address) {
  return "---\napiVersion: v1\nkind: Pod\nmetadata: {name: " + name + ", namespace: " + ns +
         ", labels: {app: " + app + "}}\nspec: {serviceAccountName: " + account +
         ", nodeName: node-1, containers: [{name: app, image: ambit/echo}]}\nstatus: {phase: "
         "Running, podIP: " +
         address + "}\n";
}

std::string spiffe(const std::string& ns, const std::string& account) {
  return "spiffe://cluster.local/ns/" + ns + "/sa/" + account;
}

// The verdict of `connection` into `pod`, with the reason and deciding policy when policies
// decided.
struct Expected {
  Verdict verdict;
  Reason reason;
  const char* policy;
};

void checkDecision(const Mesh& mesh, const wl::Workload& pod, InboundConnection connection,
                   const Expected& expected) {
  connection.pod = &pod;
  const InboundDecision d = decideInbound(*mesh.snapshot, connection);
  INFO(d.describe());
  CHECK(d.verdict == expected.verdict);
  CHECK(d.authz.reason == expected.reason);
  CHECK(d.authz.policy == expected.policy);
}

TEST_CASE("decideInbound: each verdict, checked in order") {
  auto workload = [](const std::string& name, const std::vector<std::string>& ips) {
    auto out = std::make_shared<wl::Address>();
    wl::Workload& w = *out->mutable_workload();
    w.set_uid("Kubernetes//Pod/demo/" + name);
    w.set_name(name);
    w.set_namespace_("demo");
    for (const std::string& a : ips) w.add_addresses(ip(a));
    return out;
  };
  auto allow = std::make_shared<sec::Authorization>();
  allow->set_namespace_("demo");
  allow->set_name("allow-frontend");
  allow->set_scope(sec::NAMESPACE);
  allow->add_groups()->add_rules()->add_matches()->add_principals()->set_exact(
      "cluster.local/ns/demo/sa/frontend");
  const auto snapshot = Snapshot::build({{"a", workload("pod-a", {"10.244.1.5", "fd00::5"})},
                                         {"b", workload("pod-b", {"10.244.1.6"})},
                                         {"f", workload("frontend", {"10.244.1.7"})}},
                                        {{"demo/allow-frontend", allow}}, 3);
  const wl::Workload& pod_a = *snapshot->workloadByUid("Kubernetes//Pod/demo/pod-a");

  struct Case {
    const char* name;
    InboundConnection connection;
    bool with_pod;
    bool synced;
    AgentPorts ports;
    Verdict verdict;
    const char* describe;  // a part of describe()
  };
  const std::string frontend = spiffe("demo", "frontend");
  const Case cases[] = {
      {"no config yet",
       hbone("10.244.1.5", 8080, frontend),
       true,
       false,
       {},
       Verdict::kNoConfig,
       "no config from the control plane yet"},
      {"no config comes before an agent port",
       plaintext("10.244.1.5", 15008),
       true,
       false,
       {},
       Verdict::kNoConfig,
       "no config"},
      {"the HBONE port",
       plaintext("10.244.1.5", 15008),
       true,
       true,
       {},
       Verdict::kAgentPort,
       "the destination port 15008 is an agent port"},
      {"the outbound port",
       hbone("10.244.1.5", 15001, frontend),
       true,
       true,
       {},
       Verdict::kAgentPort,
       "15001"},
      {"the inbound port",
       plaintext("10.244.1.5", 15006),
       true,
       true,
       {},
       Verdict::kAgentPort,
       "15006"},
      {"ports as configured",
       hbone("10.244.1.5", 15008, frontend),
       true,
       true,
       {16001, 16006, 16008},
       Verdict::kAllow,
       "allowed by demo/allow-frontend"},
      {"an agent port comes before an unknown destination",
       plaintext("10.9.9.9", 15006),
       true,
       true,
       {},
       Verdict::kAgentPort,
       "agent port"},
      {"an unknown destination",
       hbone("10.9.9.9", 8080, frontend),
       true,
       true,
       {},
       Verdict::kUnknownDestination,
       "the destination 10.9.9.9 is not a known workload"},
      {"a service VIP is no workload",
       hbone("10.96.0.10", 80, frontend),
       true,
       true,
       {},
       Verdict::kUnknownDestination,
       "10.96.0.10"},
      {"another pod's address",
       hbone("10.244.1.6", 8080, frontend),
       true,
       true,
       {},
       Verdict::kNotThisPod,
       "the destination 10.244.1.6 is workload Kubernetes//Pod/demo/pod-b, not this pod"},
      {"without a pod any workload's address",
       hbone("10.244.1.6", 8080, frontend),
       false,
       true,
       {},
       Verdict::kAllow,
       "allowed"},
      {"the pod's second address",
       hbone("fd00::5", 8080, frontend),
       true,
       true,
       {},
       Verdict::kAllow,
       "allowed by demo/allow-frontend (group 0) [peer cluster.local/ns/demo/sa/frontend]"},
      {"allowed by policy",
       hbone("10.244.1.5", 8080, frontend),
       true,
       true,
       {},
       Verdict::kAllow,
       "allowed by demo/allow-frontend"},
      {"denied by policy",
       hbone("10.244.1.5", 8080, spiffe("demo", "other")),
       true,
       true,
       {},
       Verdict::kDenied,
       "denied: no ALLOW policy matches (demo/allow-frontend) [peer "
       "cluster.local/ns/demo/sa/other]"},
      {"HBONE without a principal",
       hbone("10.244.1.5", 8080, std::nullopt),
       true,
       true,
       {},
       Verdict::kDenied,
       "[no peer identity]"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    InboundConnection connection = c.connection;
    if (c.with_pod) connection.pod = &pod_a;
    const InboundDecision d =
        decideInbound(c.synced ? *snapshot : *Snapshot::empty(), connection, c.ports);
    INFO(d.describe());
    CHECK(d.verdict == c.verdict);
    CHECK(d.allowed() == (c.verdict == Verdict::kAllow));
    CHECK_THAT(d.describe(), Catch::Contains(c.describe));
    if (c.verdict == Verdict::kAllow || c.verdict == Verdict::kDenied) {
      CHECK(d.authz.allowed == d.allowed());
      CHECK(d.attributes.destination_port == connection.destination_port);
    }
  }
}

TEST_CASE("decideInbound: the identity comes only from a well-formed HBONE SPIFFE id") {
  auto workload = [](const std::string& name, const std::string& address) {
    auto out = std::make_shared<wl::Address>();
    wl::Workload& w = *out->mutable_workload();
    w.set_uid("Kubernetes//Pod/demo/" + name);
    w.set_namespace_("demo");
    w.set_service_account(name);
    w.add_addresses(ip(address));
    return out;
  };
  // STRICT, as istiod sends it: DENY without a peer identity.
  auto strict = std::make_shared<sec::Authorization>();
  strict->set_namespace_("demo");
  strict->set_name("strict");
  strict->set_scope(sec::NAMESPACE);
  strict->set_action(sec::DENY);
  strict->add_groups()->add_rules()->add_matches()->add_not_principals()->mutable_presence();
  const auto snapshot = Snapshot::build(
      {{"a", workload("server", "10.244.1.5")}, {"f", workload("frontend", "10.244.1.7")}},
      {{"demo/strict", strict}}, 1);

  struct Case {
    const char* name;
    InboundConnection connection;
    Verdict verdict;
    std::optional<std::string> principal;
    const char* ns;
    const char* account;
    bool malformed;
  };
  const Case cases[] = {
      {"an HBONE peer", hbone("10.244.1.5", 80, spiffe("demo", "frontend"), "10.244.1.7"),
       Verdict::kAllow, "cluster.local/ns/demo/sa/frontend", "demo", "frontend", false},
      {"another trust domain", hbone("10.244.1.5", 80, "spiffe://example.org/ns/x/sa/y"),
       Verdict::kAllow, "example.org/ns/x/sa/y", "x", "y", false},
      // A plaintext peer has no identity, even at a known workload's address with a principal
      // handed in by mistake.
      {"plaintext from a known workload",
       [] {
         InboundConnection c = plaintext("10.244.1.5", 80, "10.244.1.7");
         c.peer_principal = spiffe("demo", "frontend");
         return c;
       }(),
       Verdict::kDenied, std::nullopt, "", "", false},
      {"a malformed principal", hbone("10.244.1.5", 80, "spiffe://cluster.local/ns/demo/sa/a/b"),
       Verdict::kDenied, std::nullopt, "", "", true},
      {"a principal without the scheme", hbone("10.244.1.5", 80, "cluster.local/ns/demo/sa/a"),
       Verdict::kDenied, std::nullopt, "", "", true},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const InboundDecision d = decideInbound(*snapshot, c.connection);
    INFO(d.describe());
    CHECK(d.verdict == c.verdict);
    CHECK(d.attributes.source_principal == c.principal);
    CHECK(d.attributes.source_namespace == c.ns);
    CHECK(d.attributes.source_service_account == c.account);
    CHECK(d.attributes.source_ip == c.connection.peer_ip);
    CHECK(d.malformed_principal == c.malformed);
    if (c.malformed) CHECK_THAT(d.describe(), Catch::Contains("malformed peer identity"));
  }
}

TEST_CASE("verdicts have distinct labels") {
  std::set<std::string> labels;
  for (size_t i = 0; i < kInboundVerdicts; ++i) {
    const std::string label = inboundVerdictLabel(static_cast<Verdict>(i));
    INFO(i);
    CHECK(label != "unknown");
    CHECK(labels.insert(label).second);
  }
}

TEST_CASE("decideInbound on the users' AuthorizationPolicy example: deny-all and allow-frontend") {
  const Mesh mesh =
      translated(sample("11-authorization-policy.yaml") +
                 podYaml("default", "backend-0", "backend", "backend", "10.244.1.10") +
                 podYaml("default", "frontend-0", "frontend", "frontend", "10.244.1.11") +
                 podYaml("prod", "web-0", "web", "web", "10.244.2.10"));
  // allow-frontend's only rule needs HTTP (methods, paths): istiod leaves it out, so the policy
  // allows nothing at the node agent, and says so in its status.
  CHECK(mesh.hasNote("allow-frontend", "UnsupportedValue"));
  CHECK(mesh.policiesOf("default", "backend-0") ==
        std::vector<std::string>{"default/allow-frontend", "default/deny-all"});
  CHECK(mesh.policiesOf("default", "frontend-0") == std::vector<std::string>{"default/deny-all"});
  CHECK(mesh.policiesOf("prod", "web-0").empty());

  const wl::Workload& backend = mesh.pod("default", "backend-0");
  const wl::Workload& frontend = mesh.pod("default", "frontend-0");
  const wl::Workload& web = mesh.pod("prod", "web-0");
  const Expected denied{Verdict::kDenied, Reason::kDeniedNoAllowMatch, ""};
  const Expected no_policy{Verdict::kAllow, Reason::kAllowedNoPolicy, ""};
  checkDecision(mesh, backend, hbone("10.244.1.10", 8080, spiffe("default", "frontend")), denied);
  checkDecision(mesh, backend, plaintext("10.244.1.10", 8080, "10.244.1.11"), denied);
  checkDecision(mesh, frontend, hbone("10.244.1.11", 80, spiffe("default", "backend")), denied);
  checkDecision(mesh, web, hbone("10.244.2.10", 80, spiffe("default", "frontend")), no_policy);
  checkDecision(mesh, web, plaintext("10.244.2.10", 80), no_policy);
}

TEST_CASE("decideInbound on deny-all with allow-frontend at L4") {
  const Mesh mesh = translated(R"(
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: {name: deny-all, namespace: default}
spec: {}
---
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: {name: allow-frontend, namespace: default}
spec:
  selector:
    matchLabels: {app: backend}
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/default/sa/frontend"]
    to:
    - operation:
        ports: ["8080"]
)" + podYaml("default", "backend-0", "backend", "backend", "10.244.1.10"));
  CHECK_FALSE(mesh.hasNote("allow-frontend", "UnsupportedValue"));
  const wl::Workload& backend = mesh.pod("default", "backend-0");
  const Expected allowed{Verdict::kAllow, Reason::kAllowedByPolicy, "default/allow-frontend"};
  const Expected denied{Verdict::kDenied, Reason::kDeniedNoAllowMatch, ""};
  checkDecision(mesh, backend, hbone("10.244.1.10", 8080, spiffe("default", "frontend")), allowed);
  checkDecision(mesh, backend, hbone("10.244.1.10", 9090, spiffe("default", "frontend")), denied);
  checkDecision(mesh, backend, hbone("10.244.1.10", 8080, spiffe("default", "admin")), denied);
  checkDecision(mesh, backend, hbone("10.244.1.10", 8080, spiffe("other", "frontend")), denied);
  checkDecision(mesh, backend, plaintext("10.244.1.10", 8080), denied);
}

TEST_CASE(
    "decideInbound on the users' PeerAuthentication example: mesh STRICT, legacy PERMISSIVE") {
  const Mesh mesh = translated(sample("10-peer-authentication.yaml") +
                               podYaml("default", "app-0", "app", "app", "10.244.1.20") +
                               podYaml("legacy", "old-0", "old", "old", "10.244.1.21"));
  CHECK(mesh.policiesOf("default", "app-0") ==
        std::vector<std::string>{"istio-system/istio_converted_static_strict"});
  CHECK(mesh.policiesOf("legacy", "old-0").empty());
  const wl::Workload& app = mesh.pod("default", "app-0");
  const wl::Workload& old = mesh.pod("legacy", "old-0");
  checkDecision(
      mesh, app, plaintext("10.244.1.20", 8080, "10.244.1.21"),
      {Verdict::kDenied, Reason::kDeniedByPolicy, "istio-system/istio_converted_static_strict"});
  checkDecision(mesh, app, hbone("10.244.1.20", 8080, spiffe("legacy", "old")),
                {Verdict::kAllow, Reason::kAllowedNoAllowPolicy, ""});
  checkDecision(
      mesh, app, hbone("10.244.1.20", 8080, "spiffe://cluster.local/ns/legacy/sa/old/x"),
      {Verdict::kDenied, Reason::kDeniedByPolicy, "istio-system/istio_converted_static_strict"});
  checkDecision(mesh, old, plaintext("10.244.1.21", 8080),
                {Verdict::kAllow, Reason::kAllowedNoPolicy, ""});
}

TEST_CASE("decideInbound on port-level PeerAuthentication modes") {
  const Mesh mesh =
      translated(R"(
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: strict}
spec: {mtls: {mode: STRICT}}
---
# UNSET with a PERMISSIVE port under a STRICT namespace.
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: legacy-port, namespace: strict}
spec:
  selector: {matchLabels: {app: legacy}}
  portLevelMtls: {8080: {mode: PERMISSIVE}}
---
# STRICT with a DISABLE and a PERMISSIVE port.
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: mixed, namespace: strict}
spec:
  selector: {matchLabels: {app: mixed}}
  mtls: {mode: STRICT}
  portLevelMtls: {9090: {mode: DISABLE}, 8443: {mode: PERMISSIVE}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: permissive}
spec: {mtls: {mode: PERMISSIVE}}
---
# PERMISSIVE with one STRICT port.
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: payments-port, namespace: permissive}
spec:
  selector: {matchLabels: {app: payments}}
  mtls: {mode: PERMISSIVE}
  portLevelMtls: {9090: {mode: STRICT}}
)" + podYaml("strict", "legacy-0", "legacy", "legacy", "10.244.1.30") +
                 podYaml("strict", "mixed-0", "mixed", "mixed", "10.244.1.31") +
                 podYaml("permissive", "payments-0", "payments", "payments", "10.244.1.32"));
  CHECK(mesh.policiesOf("strict", "legacy-0") ==
        std::vector<std::string>{"strict/converted_peer_authentication_legacy-port"});
  CHECK(mesh.policiesOf("strict", "mixed-0") ==
        std::vector<std::string>{"strict/converted_peer_authentication_mixed"});
  CHECK(mesh.policiesOf("permissive", "payments-0") ==
        std::vector<std::string>{"permissive/converted_peer_authentication_payments-port"});

  struct Case {
    const char* pod;
    const char* address;
    uint16_t port;
    bool mtls;
    bool allowed;
  };
  const Case cases[] = {
      {"legacy-0", "10.244.1.30", 8080, false, true},
      {"legacy-0", "10.244.1.30", 9090, false, false},
      {"legacy-0", "10.244.1.30", 9090, true, true},
      {"mixed-0", "10.244.1.31", 9090, false, true},
      {"mixed-0", "10.244.1.31", 8443, false, true},
      {"mixed-0", "10.244.1.31", 8080, false, false},
      {"mixed-0", "10.244.1.31", 8080, true, true},
      {"payments-0", "10.244.1.32", 9090, false, false},
      {"payments-0", "10.244.1.32", 9090, true, true},
      {"payments-0", "10.244.1.32", 8080, false, true},
  };
  for (const Case& c : cases) {
    INFO(c.pod << " port " << c.port << (c.mtls ? " mTLS" : " plaintext"));
    const std::string ns = std::string(c.pod) == "payments-0" ? "permissive" : "strict";
    InboundConnection connection = c.mtls
                                       ? hbone(c.address, c.port, spiffe("permissive", "payments"))
                                       : plaintext(c.address, c.port);
    connection.pod = &mesh.pod(ns, c.pod);
    const InboundDecision d = decideInbound(*mesh.snapshot, connection);
    INFO(d.describe());
    CHECK(d.allowed() == c.allowed);
    CHECK(d.authz.reason == (c.allowed ? Reason::kAllowedNoAllowPolicy : Reason::kDeniedByPolicy));
  }
}

TEST_CASE("decideInbound on DENY rules that use HTTP attributes") {
  const Mesh mesh = translated(R"(
# Only HTTP attributes in `to`: no rule the node agent can enforce, so no effect.
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-get, namespace: shop}
spec:
  action: DENY
  rules:
  - from: [{source: {namespaces: [ops]}}]
    to: [{operation: {methods: [GET]}}]
---
# A port next to the HTTP attributes: enforced without them, denying every method.
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-post-8080, namespace: shop}
spec:
  action: DENY
  rules:
  - from: [{source: {namespaces: [dev]}}]
    to: [{operation: {methods: [POST], ports: ["8080"]}}]
)" + podYaml("shop", "cart-0", "cart", "cart", "10.244.1.40"));
  CHECK(mesh.hasNote("deny-get", "UnsupportedValue"));
  CHECK(mesh.hasNote("deny-post-8080", "UnsupportedValue"));
  const wl::Workload& cart = mesh.pod("shop", "cart-0");
  checkDecision(mesh, cart, hbone("10.244.1.40", 8080, spiffe("ops", "admin")),
                {Verdict::kAllow, Reason::kAllowedNoAllowPolicy, ""});
  checkDecision(mesh, cart, hbone("10.244.1.40", 8080, spiffe("dev", "tool")),
                {Verdict::kDenied, Reason::kDeniedByPolicy, "shop/deny-post-8080"});
  checkDecision(mesh, cart, hbone("10.244.1.40", 9090, spiffe("dev", "tool")),
                {Verdict::kAllow, Reason::kAllowedNoAllowPolicy, ""});
}

}  // namespace
}  // namespace ambit::agent
