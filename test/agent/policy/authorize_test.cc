// Tables for authorize(): Istio's DENY-then-ALLOW order, each Match field, the nesting of groups,
// rules and matches, PeerAuthentication as the control plane encodes it, dry-run policies and
// what fails closed. Policies are written in the text format of istio.security.Authorization.
#include "agent/policy/authorize.h"

#include <arpa/inet.h>

#include <set>

#include <google/protobuf/text_format.h>
#include <catch2/catch.hpp>

namespace ambit::agent {
namespace {

namespace sec = istio::security;
using Reason = AuthorizationDecision::Reason;

IpBytes ip(const std::string& text) {
  unsigned char bytes[16] = {};
  if (inet_pton(AF_INET, text.c_str(), bytes) == 1) return IpBytes(bytes, bytes + 4);
  REQUIRE(inet_pton(AF_INET6, text.c_str(), bytes) == 1);
  return IpBytes(bytes, bytes + 16);
}

// A policy "test/<name>" from the text format of its other fields.
Snapshot::PolicyPtr policy(const std::string& name, const std::string& text) {
  auto out = std::make_shared<sec::Authorization>();
  INFO(text);
  REQUIRE(google::protobuf::TextFormat::ParseFromString(text, out.get()));
  out->set_namespace_("test");
  out->set_name(name);
  return out;
}

// A connection from `principal` ("<td>/ns/<ns>/sa/<sa>", or "" for plaintext).
ConnectionAttributes connection(const std::string& principal,
                                const std::string& source = "10.0.1.5", uint16_t port = 8080,
                                const std::string& destination = "10.0.2.7") {
  ConnectionAttributes out;
  if (!principal.empty()) {
    out.source_principal = principal;
    const size_t ns = principal.find("/ns/");
    const size_t sa = principal.find("/sa/");
    REQUIRE(ns != std::string::npos);
    REQUIRE(sa != std::string::npos);
    out.source_namespace = principal.substr(ns + 4, sa - ns - 4);
    out.source_service_account = principal.substr(sa + 4);
  }
  out.source_ip = ip(source);
  out.destination_ip = ip(destination);
  out.destination_port = port;
  return out;
}

const std::string kFrontend = "cluster.local/ns/shop/sa/frontend";
const std::string kAdmin = "cluster.local/ns/ops/sa/admin";

// What istiod sends for a PeerAuthentication: the static STRICT policy...
const char* kStrict =
    R"(action: DENY groups { rules { matches { not_principals { presence {} } } } })";
// ...and a STRICT workload policy with a PERMISSIVE port 8080: plaintext denied on any other port.
const char* kStrictButPermissive8080 = R"(
  action: DENY
  groups {
    rules { matches { not_principals { presence {} } } }
    rules { matches { not_destination_ports: 8080 } }
  })";
// ...and a PERMISSIVE workload policy with a STRICT port 9090: plaintext denied on that port.
const char* kPermissiveButStrict9090 = R"(
  action: DENY
  groups { rules { matches { not_principals { presence {} } destination_ports: 9090 } } })";

TEST_CASE("authorize: DENY policies first, then ALLOW policies, as Istio orders them") {
  struct Case {
    const char* name;
    std::vector<std::pair<const char*, const char*>> policies;  // name, text
    ConnectionAttributes connection;
    Reason reason;
    const char* policy;
    int group;
    std::vector<std::string> unmatched_allow;
  };
  const char* allow_frontend =
      R"(action: ALLOW groups { rules { matches { principals { exact: "cluster.local/ns/shop/sa/frontend" } } } })";
  const char* deny_ops =
      R"(action: DENY groups { rules { matches { namespaces { exact: "ops" } } } })";
  const Case cases[] = {
      {"no policy allows", {}, connection(kFrontend), Reason::kAllowedNoPolicy, "", -1, {}},
      {"no policy allows plaintext", {}, connection(""), Reason::kAllowedNoPolicy, "", -1, {}},
      // istiod sends `spec: {}` as an ALLOW policy without groups: it allows nothing.
      {"deny-all denies",
       {{"deny-all", "action: ALLOW"}},
       connection(kFrontend),
       Reason::kDeniedNoAllowMatch,
       "",
       -1,
       {"test/deny-all"}},
      {"deny-all denies plaintext",
       {{"deny-all", ""}},
       connection(""),
       Reason::kDeniedNoAllowMatch,
       "",
       -1,
       {"test/deny-all"}},
      {"deny-all next to a matching ALLOW allows",
       {{"allow-frontend", allow_frontend}, {"deny-all", "action: ALLOW"}},
       connection(kFrontend),
       Reason::kAllowedByPolicy,
       "test/allow-frontend",
       0,
       {}},
      {"deny-all next to an ALLOW that does not match",
       {{"allow-frontend", allow_frontend}, {"deny-all", "action: ALLOW"}},
       connection(kAdmin),
       Reason::kDeniedNoAllowMatch,
       "",
       -1,
       {"test/allow-frontend", "test/deny-all"}},
      {"a DENY policy without groups denies nothing",
       {{"deny-nothing", "action: DENY"}},
       connection(""),
       Reason::kAllowedNoAllowPolicy,
       "",
       -1,
       {}},
      {"an ALLOW match allows",
       {{"allow-frontend", allow_frontend}},
       connection(kFrontend),
       Reason::kAllowedByPolicy,
       "test/allow-frontend",
       0,
       {}},
      {"no ALLOW match denies",
       {{"allow-frontend", allow_frontend}},
       connection(kAdmin),
       Reason::kDeniedNoAllowMatch,
       "",
       -1,
       {"test/allow-frontend"}},
      {"a DENY that does not match leaves ALLOW to decide",
       {{"allow-frontend", allow_frontend}, {"deny-ops", deny_ops}},
       connection(kFrontend),
       Reason::kAllowedByPolicy,
       "test/allow-frontend",
       0,
       {}},
      {"only a DENY that does not match allows",
       {{"deny-ops", deny_ops}},
       connection(kFrontend),
       Reason::kAllowedNoAllowPolicy,
       "",
       -1,
       {}},
      {"DENY beats ALLOW",
       {{"allow-all", "action: ALLOW groups {}"}, {"deny-ops", deny_ops}},
       connection(kAdmin),
       Reason::kDeniedByPolicy,
       "test/deny-ops",
       0,
       {}},
      {"the first matching DENY names the reason",
       {{"deny-a", deny_ops}, {"deny-b", "action: DENY groups {}"}},
       connection(kAdmin),
       Reason::kDeniedByPolicy,
       "test/deny-a",
       0,
       {}},
      {"the matching group is named",
       {{"allow-two", R"(groups { rules { matches { namespaces { exact: "shop" } } } }
                         groups { rules { matches { namespaces { exact: "ops" } } } })"}},
       connection(kAdmin),
       Reason::kAllowedByPolicy,
       "test/allow-two",
       1,
       {}},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    std::vector<Snapshot::PolicyPtr> policies;
    for (const auto& [name, text] : c.policies) policies.push_back(policy(name, text));
    const AuthorizationDecision d = authorize(policies, c.connection);
    INFO(d.describe());
    CHECK(d.reason == c.reason);
    CHECK(d.allowed == isAllowedReason(c.reason));
    CHECK(d.policy == c.policy);
    CHECK(d.group == c.group);
    CHECK(d.rule == -1);
    CHECK(d.unmatched_allow == c.unmatched_allow);
    CHECK_FALSE(d.dry_run_reason.has_value());
  }
}

TEST_CASE("authorize: each Match field, its values OR-ed and its not_ form") {
  struct Case {
    const char* match;  // the text of one Match of an ALLOW policy
    ConnectionAttributes connection;
    bool allowed;
  };
  const Case cases[] = {
      // Principals compare Istio's form, without "spiffe://".
      {R"(principals { exact: "cluster.local/ns/shop/sa/frontend" })", connection(kFrontend), true},
      {R"(principals { exact: "cluster.local/ns/shop/sa/frontend" })", connection(kAdmin), false},
      {R"(principals { exact: "cluster.local/ns/shop/sa/frontend" })", connection(""), false},
      // istiod passes a "spiffe://" value on as written; ztunnel and Envoy never match it.
      {R"(principals { exact: "spiffe://cluster.local/ns/shop/sa/frontend" })",
       connection(kFrontend), false},
      {R"(principals { prefix: "cluster.local/ns/shop/" })", connection(kFrontend), true},
      {R"(principals { prefix: "cluster.local/ns/shop/" })", connection(kAdmin), false},
      {R"(principals { suffix: "/sa/admin" })", connection(kAdmin), true},
      {R"(principals { suffix: "/sa/admin" })", connection(kFrontend), false},
      {R"(principals { presence {} })", connection(kFrontend), true},
      {R"(principals { presence {} })", connection(""), false},
      {R"(principals { exact: "x" } principals { suffix: "/sa/admin" })", connection(kAdmin), true},
      {R"(not_principals { exact: "cluster.local/ns/ops/sa/admin" })", connection(kAdmin), false},
      {R"(not_principals { exact: "cluster.local/ns/ops/sa/admin" })", connection(kFrontend), true},
      {R"(not_principals { exact: "cluster.local/ns/ops/sa/admin" })", connection(""), true},
      // Namespaces.
      {R"(namespaces { exact: "shop" })", connection(kFrontend), true},
      {R"(namespaces { exact: "shop" })", connection(kAdmin), false},
      {R"(namespaces { exact: "shop" })", connection(""), false},
      {R"(namespaces { prefix: "sh" } namespaces { exact: "ops" })", connection(kAdmin), true},
      {R"(namespaces { presence {} })", connection(""), false},
      {R"(not_namespaces { exact: "ops" })", connection(kAdmin), false},
      {R"(not_namespaces { exact: "ops" })", connection(kFrontend), true},
      // Plaintext has no namespace, so it is in none of the excluded ones.
      {R"(not_namespaces { exact: "ops" })", connection(""), true},
      // Service accounts.
      {R"(service_accounts { namespace: "shop" serviceAccount: "frontend" })",
       connection(kFrontend), true},
      {R"(service_accounts { namespace: "ops" serviceAccount: "frontend" })", connection(kFrontend),
       false},
      {R"(service_accounts { namespace: "shop" serviceAccount: "admin" })", connection(kFrontend),
       false},
      {R"(service_accounts { namespace: "" serviceAccount: "" })", connection(""), false},
      {R"(not_service_accounts { namespace: "ops" serviceAccount: "admin" })", connection(kAdmin),
       false},
      {R"(not_service_accounts { namespace: "ops" serviceAccount: "admin" })",
       connection(kFrontend), true},
      // Source addresses: CIDR ranges, v4 and v6, the base sent unmasked as istiod sends it.
      {R"(source_ips { address: "\n\000\001\000" length: 24 })", connection("", "10.0.1.5"), true},
      {R"(source_ips { address: "\n\000\001\000" length: 24 })", connection("", "10.0.2.5"), false},
      {R"(source_ips { address: "\n\000\001\377" length: 24 })", connection("", "10.0.1.5"), true},
      {R"(source_ips { address: "\n\000\001\005" length: 32 })", connection("", "10.0.1.5"), true},
      {R"(source_ips { address: "\n\000\001\005" length: 32 })", connection("", "10.0.1.6"), false},
      {R"(source_ips { address: "\n\000\001\000" length: 23 })", connection("", "10.0.0.9"), true},
      {R"(source_ips { address: "\n\000\001\000" length: 23 })", connection("", "10.0.2.9"), false},
      // Length 0 is the whole address family ("0.0.0.0/0"), not a single address.
      {R"(source_ips { address: "\000\000\000\000" length: 0 })", connection("", "192.0.2.1"),
       true},
      {R"(source_ips { address: "\000\000\000\000" length: 0 })", connection("", "fd00::1"), false},
      {R"(source_ips { address: "\375\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000" length: 8 })",
       connection("", "fd00:1::5"), true},
      {R"(source_ips { address: "\375\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000" length: 8 })",
       connection("", "fe80::5"), false},
      {R"(source_ips { address: "\375\000\000\001\000\000\000\000\000\000\000\000\000\000\000\000" length: 64 })",
       connection("", "fd00:1::9"), true},
      {R"(source_ips { address: "\375\000\000\001\000\000\000\000\000\000\000\000\000\000\000\000" length: 64 })",
       connection("", "fd00:2::9"), false},
      {R"(source_ips { address: "\375\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000" length: 8 })",
       connection("", "10.0.1.5"), false},
      {R"(not_source_ips { address: "\n\000\001\000" length: 24 })", connection("", "10.0.1.5"),
       false},
      {R"(not_source_ips { address: "\n\000\001\000" length: 24 })", connection("", "10.0.3.5"),
       true},
      // Destination addresses and ports.
      {R"(destination_ips { address: "\n\000\002\007" length: 32 })",
       connection("", "10.0.1.5", 80, "10.0.2.7"), true},
      {R"(destination_ips { address: "\n\000\002\007" length: 32 })",
       connection("", "10.0.1.5", 80, "10.0.2.8"), false},
      {R"(not_destination_ips { address: "\n\000\002\000" length: 24 })",
       connection("", "10.0.1.5", 80, "10.0.2.8"), false},
      {R"(destination_ports: 80 destination_ports: 8080)", connection("", "10.0.1.5", 8080), true},
      {R"(destination_ports: 80)", connection("", "10.0.1.5", 8080), false},
      // A port above 65535 is never a destination port (ztunnel would truncate it).
      {R"(destination_ports: 73616)", connection("", "10.0.1.5", 8080), false},
      {R"(not_destination_ports: 8080)", connection("", "10.0.1.5", 8080), false},
      {R"(not_destination_ports: 8080)", connection("", "10.0.1.5", 80), true},
      // Fields are AND-ed.
      {R"(namespaces { exact: "shop" } destination_ports: 8080)", connection(kFrontend), true},
      {R"(namespaces { exact: "shop" } destination_ports: 80)", connection(kFrontend), false},
      {R"(namespaces { exact: "shop" } not_principals { exact: "cluster.local/ns/shop/sa/frontend" })",
       connection(kFrontend), false},
  };
  for (const Case& c : cases) {
    INFO(c.match);
    INFO("from " << c.connection.source_principal.value_or("plaintext") << " port "
                 << c.connection.destination_port);
    const auto allow = policy(
        "allow", std::string("action: ALLOW groups { rules { matches { ") + c.match + " } } }");
    const AuthorizationDecision d = authorize({allow}, c.connection);
    CHECK(d.allowed == c.allowed);
    CHECK(d.reason == (c.allowed ? Reason::kAllowedByPolicy : Reason::kDeniedNoAllowMatch));
    // The same Match in a DENY policy denies exactly what it allowed.
    const auto deny = policy(
        "deny", std::string("action: DENY groups { rules { matches { ") + c.match + " } } }");
    CHECK(authorize({deny}, c.connection).allowed == !c.allowed);
  }
}

TEST_CASE("authorize: groups are OR-ed, the rules of a group AND-ed, the matches of a rule OR-ed") {
  struct Case {
    const char* name;
    const char* groups;  // the groups of an ALLOW policy
    ConnectionAttributes connection;
    bool allowed;
    int group;
  };
  // Istio's rule {from: [shop, ops], to: [port 8080]}: one group, two rules.
  const char* from_and_to = R"(
    groups {
      rules { matches { destination_ports: 8080 } }
      rules { matches { namespaces { exact: "shop" } } matches { namespaces { exact: "ops" } } }
    })";
  const char* two_rules = R"(
    groups { rules { matches { namespaces { exact: "shop" } } } }
    groups { rules { matches { destination_ports: 9090 } } })";
  const Case cases[] = {
      {"from and to both match", from_and_to, connection(kFrontend, "10.0.1.5", 8080), true, 0},
      {"either source matches", from_and_to, connection(kAdmin, "10.0.1.5", 8080), true, 0},
      {"the port does not match", from_and_to, connection(kFrontend, "10.0.1.5", 80), false, -1},
      {"the source does not match", from_and_to,
       connection("cluster.local/ns/dev/sa/x", "10.0.1.5", 8080), false, -1},
      {"the first rule matches", two_rules, connection(kFrontend, "10.0.1.5", 80), true, 0},
      {"the second rule matches", two_rules, connection(kAdmin, "10.0.1.5", 9090), true, 1},
      {"neither rule matches", two_rules, connection(kAdmin, "10.0.1.5", 80), false, -1},
      // Istio's rule `{}`: a group without rules matches every connection.
      {"a group without rules matches", "groups {}", connection(""), true, 0},
      // As in ztunnel, a rule without matches constrains nothing.
      {"a rule without matches matches", "groups { rules {} }", connection(""), true, 0},
      // The empty match istiod puts in place of HTTP-only parts matches nothing...
      {"an empty match matches nothing", "groups { rules { matches {} } }", connection(kFrontend),
       false, -1},
      // ...but another match of the same rule still can.
      {"an empty match next to a matching one",
       R"(groups { rules { matches {} matches { namespaces { exact: "shop" } } } })",
       connection(kFrontend), true, 0},
      {"an empty rule in a group fails the group",
       R"(groups { rules { matches {} } rules { matches { namespaces { exact: "shop" } } } })",
       connection(kFrontend), false, -1},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const AuthorizationDecision d =
        authorize({policy("p", std::string("action: ALLOW ") + c.groups)}, c.connection);
    INFO(d.describe());
    CHECK(d.allowed == c.allowed);
    CHECK(d.group == c.group);
  }
}

TEST_CASE("authorize: PeerAuthentication as the control plane encodes it") {
  struct Case {
    const char* name;
    const char* policy;
    ConnectionAttributes connection;
    bool allowed;
  };
  const Case cases[] = {
      {"STRICT refuses plaintext", kStrict, connection(""), false},
      {"STRICT takes any identity", kStrict, connection(kFrontend), true},
      {"STRICT takes another trust domain", kStrict, connection("example.org/ns/a/sa/b"), true},
      {"a PERMISSIVE port takes plaintext", kStrictButPermissive8080,
       connection("", "10.0.1.5", 8080), true},
      {"other ports of a STRICT workload refuse plaintext", kStrictButPermissive8080,
       connection("", "10.0.1.5", 9090), false},
      {"other ports of a STRICT workload take mTLS", kStrictButPermissive8080,
       connection(kAdmin, "10.0.1.5", 9090), true},
      {"a STRICT port refuses plaintext", kPermissiveButStrict9090,
       connection("", "10.0.1.5", 9090), false},
      {"a STRICT port takes mTLS", kPermissiveButStrict9090, connection(kAdmin, "10.0.1.5", 9090),
       true},
      {"other ports of a PERMISSIVE workload take plaintext", kPermissiveButStrict9090,
       connection("", "10.0.1.5", 8080), true},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const AuthorizationDecision d = authorize({policy("strict", c.policy)}, c.connection);
    INFO(d.describe());
    CHECK(d.allowed == c.allowed);
    CHECK(d.reason == (c.allowed ? Reason::kAllowedNoAllowPolicy : Reason::kDeniedByPolicy));
  }
}

TEST_CASE("authorize: dry-run policies are evaluated but never enforced") {
  struct Case {
    const char* name;
    std::vector<std::pair<const char*, const char*>> policies;
    ConnectionAttributes connection;
    Reason reason;
    std::optional<Reason> dry_run_reason;
    const char* dry_run_policy;
    bool would_deny;
    bool would_allow;
  };
  const char* deny_ops_dry =
      R"(action: DENY dry_run: true groups { rules { matches { namespaces { exact: "ops" } } } })";
  const char* allow_shop_dry =
      R"(action: ALLOW dry_run: true groups { rules { matches { namespaces { exact: "shop" } } } })";
  const char* allow_ops =
      R"(action: ALLOW groups { rules { matches { namespaces { exact: "ops" } } } })";
  const Case cases[] = {
      {"a matching dry-run DENY",
       {{"deny-ops", deny_ops_dry}},
       connection(kAdmin),
       Reason::kAllowedNoPolicy,
       Reason::kDeniedByPolicy,
       "test/deny-ops",
       true,
       false},
      {"a dry-run DENY that does not match",
       {{"deny-ops", deny_ops_dry}},
       connection(kFrontend),
       Reason::kAllowedNoPolicy,
       Reason::kAllowedNoAllowPolicy,
       "",
       false,
       false},
      {"a dry-run ALLOW that does not match",
       {{"allow-shop", allow_shop_dry}},
       connection(kAdmin),
       Reason::kAllowedNoPolicy,
       Reason::kDeniedNoAllowMatch,
       "",
       true,
       false},
      {"a dry-run ALLOW that matches",
       {{"allow-shop", allow_shop_dry}},
       connection(kFrontend),
       Reason::kAllowedNoPolicy,
       Reason::kAllowedByPolicy,
       "test/allow-shop",
       false,
       false},
      {"a dry-run ALLOW next to an enforced one",
       {{"allow-ops", allow_ops}, {"allow-shop", allow_shop_dry}},
       connection(kFrontend),
       Reason::kDeniedNoAllowMatch,
       Reason::kAllowedByPolicy,
       "test/allow-shop",
       false,
       true},
      {"a dry-run DENY does not lift an enforced denial",
       {{"allow-ops", allow_ops}, {"deny-ops", deny_ops_dry}},
       connection(kFrontend),
       Reason::kDeniedNoAllowMatch,
       Reason::kDeniedNoAllowMatch,
       "",
       false,
       false},
      {"no dry-run policy",
       {{"allow-ops", allow_ops}},
       connection(kAdmin),
       Reason::kAllowedByPolicy,
       std::nullopt,
       "",
       false,
       false},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    std::vector<Snapshot::PolicyPtr> policies;
    for (const auto& [name, text] : c.policies) policies.push_back(policy(name, text));
    const AuthorizationDecision d = authorize(policies, c.connection);
    INFO(d.describe());
    CHECK(d.reason == c.reason);
    CHECK(d.dry_run_reason == c.dry_run_reason);
    CHECK(d.dry_run_policy == c.dry_run_policy);
    CHECK(d.dryRunWouldDeny() == c.would_deny);
    CHECK(d.dryRunWouldAllow() == c.would_allow);
  }
}

TEST_CASE("authorize: what the agent cannot evaluate fails closed") {
  struct Case {
    const char* name;
    std::vector<std::pair<const char*, const char*>> policies;
    ConnectionAttributes connection;
    Reason reason;
    const char* policy;
    int group;
    int rule;
    const char* unsupported;  // a part of the `unsupported` text; "" when none is expected
  };
  const char* allow_shop =
      R"(action: ALLOW groups { rules { matches { namespaces { exact: "shop" } } } })";
  // Istio's rule {to: [port 80], from: [<something with an extension>]}.
  const char* deny_ext_on_80 = R"(
    action: DENY
    groups {
      rules { matches { destination_ports: 80 } }
      rules { matches { extensions { name: "ext.example/geo" } } }
    })";
  const Case cases[] = {
      {"an extension on a DENY policy denies",
       {{"deny-ext", R"(action: DENY extensions { name: "ext.example/x" })"}},
       connection(kFrontend),
       Reason::kDeniedUnsupported,
       "test/deny-ext",
       -1,
       -1,
       "extension \"ext.example/x\" on the policy"},
      {"an extension on an ALLOW policy allows nothing",
       {{"allow-ext", R"(action: ALLOW extensions { name: "ext.example/x" } groups {})"}},
       connection(kFrontend),
       Reason::kDeniedAllowUnsupported,
       "test/allow-ext",
       -1,
       -1,
       "extension \"ext.example/x\""},
      {"an extension on an ALLOW policy does not stop another ALLOW",
       {{"allow-ext", R"(action: ALLOW extensions { name: "ext.example/x" } groups {})"},
        {"allow-shop", allow_shop}},
       connection(kFrontend),
       Reason::kAllowedByPolicy,
       "test/allow-shop",
       0,
       -1,
       ""},
      {"a match extension in a DENY policy counts as matching",
       {{"deny-ext", deny_ext_on_80}},
       connection(kFrontend, "10.0.1.5", 80),
       Reason::kDeniedUnsupported,
       "test/deny-ext",
       0,
       1,
       "ext.example/geo"},
      {"the other rules of that group still have to match",
       {{"deny-ext", deny_ext_on_80}},
       connection(kFrontend, "10.0.1.5", 81),
       Reason::kAllowedNoAllowPolicy,
       "",
       -1,
       -1,
       ""},
      {"a regular match wins over an assumed one",
       {{"deny-ext",
         R"(action: DENY groups { rules { matches { extensions { name: "e" } }
                                         matches { namespaces { exact: "shop" } } } })"}},
       connection(kFrontend),
       Reason::kDeniedByPolicy,
       "test/deny-ext",
       0,
       -1,
       ""},
      {"a match extension in an ALLOW policy counts as not matching",
       {{"allow-ext",
         R"(action: ALLOW groups { rules { matches { extensions { name: "e" } } } })"}},
       connection(kFrontend),
       Reason::kDeniedAllowUnsupported,
       "test/allow-ext",
       0,
       0,
       "extension \"e\""},
      {"an ALLOW whose extension could not have mattered",
       {{"allow-ext", R"(action: ALLOW groups { rules { matches { extensions { name: "e" } } }
                                                rules { matches { destination_ports: 1 } } })"}},
       connection(kFrontend),
       Reason::kDeniedNoAllowMatch,
       "",
       -1,
       -1,
       ""},
      {"a malformed address in a DENY policy",
       {{"deny-bad",
         R"(action: DENY groups { rules { matches { not_source_ips { address: "\001\002\003" length: 24 } } } })"}},
       connection(kFrontend),
       Reason::kDeniedUnsupported,
       "test/deny-bad",
       0,
       0,
       "malformed address in not_source_ips"},
      {"a prefix longer than the address",
       {{"allow-bad",
         R"(action: ALLOW groups { rules { matches { source_ips { address: "\n\000\001\005" length: 33 } } } })"}},
       connection(kFrontend),
       Reason::kDeniedAllowUnsupported,
       "test/allow-bad",
       0,
       0,
       "malformed address in source_ips"},
      {"a string match without a type",
       {{"deny-bad", R"(action: DENY groups { rules { matches { not_principals {} } } })"}},
       connection(kFrontend),
       Reason::kDeniedUnsupported,
       "test/deny-bad",
       0,
       0,
       "without a type in not_principals"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    std::vector<Snapshot::PolicyPtr> policies;
    for (const auto& [name, text] : c.policies) policies.push_back(policy(name, text));
    const AuthorizationDecision d = authorize(policies, c.connection);
    INFO(d.describe());
    CHECK(d.reason == c.reason);
    CHECK(d.allowed == isAllowedReason(c.reason));
    CHECK(d.policy == c.policy);
    CHECK(d.group == c.group);
    CHECK(d.rule == c.rule);
    if (*c.unsupported == '\0') {
      CHECK(d.unsupported.empty());
    } else {
      CHECK_THAT(d.unsupported, Catch::Contains(c.unsupported));
      CHECK_THAT(d.describe(), Catch::Contains(c.unsupported));
    }
  }
}

TEST_CASE("authorize: a policy with an unknown action denies as a DENY it cannot evaluate") {
  auto unknown = std::make_shared<sec::Authorization>();
  unknown->set_namespace_("test");
  unknown->set_name("audit");
  unknown->set_action(static_cast<sec::Action>(7));
  const AuthorizationDecision d = authorize({unknown}, connection(kFrontend));
  CHECK_FALSE(d.allowed);
  CHECK(d.reason == Reason::kDeniedUnsupported);
  CHECK(d.policy == "test/audit");
  CHECK_THAT(d.unsupported, Catch::Contains("unknown action 7"));
}

TEST_CASE("authorize: reasons have distinct labels and descriptions say why") {
  std::set<std::string> labels;
  for (size_t i = 0; i < kAuthorizationReasons; ++i) {
    const std::string label = authorizationReasonLabel(static_cast<Reason>(i));
    INFO(i);
    CHECK(label != "unknown");
    CHECK(labels.insert(label).second);
  }
  CHECK(std::string(authorizationReasonLabel(Reason::kCount)) == "unknown");

  struct Case {
    const char* policy;
    ConnectionAttributes connection;
    const char* describe;
  };
  const Case cases[] = {
      {"", connection(""), "denied: no ALLOW policy matches (test/p)"},
      {R"(groups {} groups { rules { matches { namespaces { exact: "ops" } } } })",
       connection(kAdmin), "allowed by test/p (group 0)"},
      {R"(action: DENY groups { rules { matches { namespaces { exact: "ops" } } } })",
       connection(kAdmin), "denied by test/p (group 0)"},
      {R"(action: DENY groups { rules { matches { namespaces { exact: "ops" } } } })",
       connection(kFrontend), "allowed: no DENY policy matches and no ALLOW policy applies"},
      {R"(action: DENY dry_run: true groups {})", connection(kFrontend),
       "allowed: no policy applies; dry run: would be denied (deny_policy test/p)"},
  };
  for (const Case& c : cases) {
    CHECK(authorize({policy("p", c.policy)}, c.connection).describe() == c.describe);
  }
  CHECK(authorize({}, connection("")).describe() == "allowed: no policy applies");
}

}  // namespace
}  // namespace ambit::agent
