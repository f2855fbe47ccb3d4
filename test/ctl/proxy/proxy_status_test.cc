// `ambitctl proxy-status`: the sync states, the table and data read from /debug/syncz (canned in
// its exact shape, and live from the control plane's own ADS server and debug endpoints), and
// the errors.
#include "ctl/proxy/proxy_status.h"

#include <cstdlib>

#include <catch2/catch.hpp>

#include "control/debug/debug_endpoints.h"
#include "ctl/analyze/analyze_command.h"
#include "test/control/xds/ads_harness.h"
#include "test/ctl/proxy/proxy_test_support.h"

namespace ambit::ctl::testing {
namespace {

using proxy::SyncState;

TEST_CASE("a type's state comes from its nonces", "[proxy-status]") {
  struct Case {
    const char* what;
    std::string sent, acked, nacked;
    SyncState state;
  };
  const Case cases[] = {
      {"nothing sent yet", "", "", "", SyncState::kNotSent},
      {"the last response ACKed", "7", "7", "", SyncState::kSynced},
      {"ACKed after an older NACK", "7", "7", "5", SyncState::kSynced},
      {"awaiting an answer", "8", "7", "", SyncState::kStale},
      {"the last response NACKed", "8", "7", "8", SyncState::kNacked},
      {"NACKed, never ACKed", "1", "", "1", SyncState::kNacked},
      {"a newer response after a NACK", "9", "7", "8", SyncState::kStale},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    CHECK(proxy::syncState(c.sent, c.acked, c.nacked) == c.state);
  }
  CHECK(proxy::syncStateText(SyncState::kSynced, 3) == "SYNCED");
  CHECK(proxy::syncStateText(SyncState::kStale, 3) == "STALE");
  CHECK(proxy::syncStateText(SyncState::kNotSent, 0) == "NOT SENT");
  CHECK(proxy::syncStateText(SyncState::kNacked, 3) == "NACKED (3)");
  CHECK(proxy::syncStateName(SyncState::kNacked) == "NACKED");
}

TEST_CASE("type URLs get short upper-case names", "[proxy-status]") {
  const std::pair<std::string, std::string> cases[] = {
      {"type.googleapis.com/istio.workload.Address", "ADDRESS"},
      {"type.googleapis.com/istio.security.Authorization", "AUTHORIZATION"},
      {"type.googleapis.com/istio.networking.v1alpha3.VirtualService", "VIRTUALSERVICE"},
      {"type.googleapis.com/istio.security.v1beta1.AuthorizationPolicy", "AUTHORIZATIONPOLICY"},
      {"Custom", "CUSTOM"},
  };
  for (const auto& [url, name] : cases) CHECK(proxy::shortTypeName(url) == name);
}

// /debug/syncz as DebugEndpoints::syncz() writes it: an agent with its addresses in sync and its
// last authorization push rejected, a waypoint with one push unanswered and one type not sent
// yet (and a type Ambit does not know), and a client the control plane did not authenticate.
constexpr const char* kSyncz = R"([
{"stream": 1, "node_id": "node1", "caller": "node node1", "peer": "ipv4:10.200.0.11:40000",
 "connected_since": "1735689600", "types": [
  {"type_url": "type.googleapis.com/istio.workload.Address", "known_type": true, "wildcard": true,
   "subscribed": 0, "resources_held": 12, "sent_version": "5", "sent_nonce": "41",
   "acked_version": "5", "acked_nonce": "41", "pending_nonce": "", "nacks": 0},
  {"type_url": "type.googleapis.com/istio.security.Authorization", "known_type": true,
   "wildcard": true, "subscribed": 0, "resources_held": 2, "sent_version": "5", "sent_nonce": "42",
   "acked_version": "4", "acked_nonce": "30", "pending_nonce": "", "nacks": 2,
   "last_nack": {"nonce": "42", "code": 13, "message": "demo/p: unknown action", "time": "1735689700"}}]},
{"stream": 2, "node_id": "waypoint~default/waypoint",
 "caller": "waypoint spiffe://cluster.local/ns/default/sa/waypoint", "peer": "ipv4:10.244.1.9:41000",
 "connected_since": "1735689601", "types": [
  {"type_url": "type.googleapis.com/example.Custom", "known_type": false, "wildcard": true,
   "subscribed": 0, "resources_held": 0, "sent_version": "5", "sent_nonce": "40",
   "acked_version": "5", "acked_nonce": "40", "pending_nonce": "", "nacks": 0},
  {"type_url": "type.googleapis.com/istio.networking.v1alpha3.DestinationRule", "known_type": true,
   "wildcard": true, "subscribed": 0, "resources_held": 1, "sent_version": "", "sent_nonce": "",
   "acked_version": "", "acked_nonce": "", "pending_nonce": "", "nacks": 0},
  {"type_url": "type.googleapis.com/istio.networking.v1alpha3.VirtualService", "known_type": true,
   "wildcard": true, "subscribed": 0, "resources_held": 1, "sent_version": "5", "sent_nonce": "43",
   "acked_version": "4", "acked_nonce": "33", "pending_nonce": "43", "nacks": 0},
  {"type_url": "type.googleapis.com/istio.workload.Address", "known_type": true, "wildcard": true,
   "subscribed": 0, "resources_held": 12, "sent_version": "10", "sent_nonce": "44",
   "acked_version": "10", "acked_nonce": "44", "pending_nonce": "", "nacks": 0}]},
{"stream": 3, "node_id": "node2", "caller": "", "peer": "ipv4:10.200.0.12:40001",
 "connected_since": "1735689602", "types": []}
]
)";

TEST_CASE("proxy-status shows each client's types as a table", "[proxy-status]") {
  FixedServer control({{"/debug/syncz", kSyncz}});
  const Run r = run(runProxyStatus, {"--control", control.address()});
  INFO(r.err);
  CHECK(r.exit == kExitOk);
  CHECK(r.err.empty());
  const std::string c = control.address();
  CHECK(r.out ==
        "NAME                        KIND       ADDRESS   AUTHORIZATION   VIRTUALSERVICE   "
        "DESTINATIONRULE   CUSTOM   CONTROL" +
            std::string(c.size() - 7 + 3, ' ') +
            "VERSION\n"
            "node1                       agent      SYNCED    NACKED (2)      -                "
            "-                 -        " +
            c +
            "   5\n"
            "waypoint~default/waypoint   waypoint   SYNCED    -               STALE            "
            "NOT SENT          SYNCED   " +
            c +
            "   10\n"
            "node2                       -          -         -               -                "
            "-                 -        " +
            c + "   -\n");
}

TEST_CASE("proxy-status -o json and -o yaml give the data with the states", "[proxy-status]") {
  FixedServer control({{"/debug/syncz", kSyncz}});
  const Run json = run(runProxyStatus, {"--control", control.address(), "-o", "json"});
  REQUIRE(json.exit == kExitOk);
  const auto parsed = proxy::parseJson(json.out);
  REQUIRE(parsed.ok());
  CHECK(proxy::text(*parsed, "control") == control.address());
  const proxy::Values& clients = proxy::elements(proxy::member(*parsed, "clients"));
  REQUIRE(clients.size() == 3);
  CHECK(proxy::text(clients[0], "name") == "node1");
  CHECK(proxy::text(clients[0], "kind") == "agent");
  CHECK(proxy::text(clients[0], "version") == "5");
  CHECK(proxy::text(clients[0], "peer") == "ipv4:10.200.0.11:40000");
  const proxy::Values& types = proxy::elements(proxy::member(clients[0], "types"));
  REQUIRE(types.size() == 2);
  CHECK(proxy::toJson(types[1]) ==
        R"({"acked_nonce": "30", "acked_version": "4", "known_type": true, )"
        R"("last_nack": {"code": 13, "message": "demo/p: unknown action", "nonce": "42", )"
        R"("time": "1735689700"}, "nacks": 2, "pending_nonce": "", "resources_held": 2, )"
        R"("sent_nonce": "42", "sent_version": "5", "status": "NACKED", "subscribed": 0, )"
        R"("type": "AUTHORIZATION", )"
        R"("type_url": "type.googleapis.com/istio.security.Authorization", "wildcard": true})");
  CHECK(proxy::text(clients[2], "kind").empty());

  const Run yaml = run(runProxyStatus, {"--control", control.address(), "--output=yaml"});
  REQUIRE(yaml.exit == kExitOk);
  CHECK(yaml.out.rfind("clients:\n  - caller: node node1\n    connected_since: \"1735689600\"\n",
                       0) == 0);
  CHECK(has(yaml.out, "        status: STALE\n"));
  CHECK(has(yaml.out, "        status: NOT SENT\n"));
  CHECK(has(yaml.out, "\ncontrol: " + control.address() + "\n"));
}

TEST_CASE("proxy-status says when no client is connected", "[proxy-status]") {
  FixedServer control({{"/debug/syncz", "[]\n"}});
  const Run r = run(runProxyStatus, {"--control", control.address()});
  CHECK(r.exit == kExitOk);
  CHECK(r.out == "No node agent or waypoint is connected to the control plane at " +
                     control.address() + ".\n");
}

// A client of the control plane's ADS server: `node_id` in its requests, `token` for the
// authenticator below.
class Client {
 public:
  Client(const control::xds::testing::AdsHarness& harness, const std::string& token,
         std::string node_id)
      : client_(harness, token), node_id_(std::move(node_id)) {}

  std::optional<control::xds::discovery::DeltaDiscoveryResponse> subscribe(const char* type_url) {
    control::xds::discovery::DeltaDiscoveryRequest request;
    request.mutable_node()->set_id(node_id_);
    request.set_type_url(type_url);
    if (!client_.send(request)) return std::nullopt;
    return client_.next();
  }
  control::xds::testing::AdsClient& stream() { return client_; }

 private:
  control::xds::testing::AdsClient client_;
  std::string node_id_;
};

class TwoTokens final : public control::auth::Authenticator {
 public:
  absl::StatusOr<control::auth::Caller> authenticate(
      const std::string& authorization) const override {
    control::auth::Caller caller;
    if (authorization == "Bearer node") {
      caller.node = "node1";
      return caller;
    }
    if (authorization == "Bearer waypoint") {
      caller.kind = control::auth::Caller::Kind::kWaypoint;
      caller.identity = "spiffe://cluster.local/ns/default/sa/waypoint";
      return caller;
    }
    return absl::UnauthenticatedError("unknown token");
  }
};

TEST_CASE("proxy-status reads a live control plane's /debug/syncz", "[proxy-status]") {
  constexpr const char* kAddress = "type.googleapis.com/istio.workload.Address";
  constexpr const char* kAuthorization = "type.googleapis.com/istio.security.Authorization";
  constexpr const char* kVirtualService =
      "type.googleapis.com/istio.networking.v1alpha3.VirtualService";
  control::xds::DeltaAdsOptions options = control::xds::testing::testOptions();
  options.type_urls = {kAddress, kAuthorization, kVirtualService};
  TwoTokens authenticator;
  control::xds::testing::AdsHarness harness(options, &authenticator);
  auto snapshot = std::make_shared<control::xds::Snapshot>();
  snapshot->types[kAddress]["demo/a"] = control::xds::testing::stringResource("demo/a", "1");
  snapshot->types[kAuthorization]["demo/p"] = control::xds::testing::stringResource("demo/p", "1");
  snapshot->types[kVirtualService]["default/vs"] =
      control::xds::testing::stringResource("default/vs", "1");
  harness.ads().publish(snapshot);

  Client agent(harness, "node", "node1");
  const auto addresses = agent.subscribe(kAddress);
  REQUIRE(addresses);
  REQUIRE(agent.stream().ack(*addresses));
  const auto policies = agent.subscribe(kAuthorization);
  REQUIRE(policies);
  REQUIRE(agent.stream().nack(*policies, "demo/p: unknown action"));
  Client waypoint(harness, "waypoint", "waypoint~default/waypoint");
  REQUIRE(waypoint.subscribe(kVirtualService));  // and never answered

  // The ACK and the NACK are handled on the server's own threads.
  REQUIRE(control::xds::testing::eventually([&] {
    int settled = 0;
    for (const control::xds::ClientSyncStatus& client : harness.ads().syncStatus()) {
      for (const control::xds::TypeSyncStatus& type : client.types) {
        const bool acked = !type.sent_nonce.empty() && type.acked_nonce == type.sent_nonce;
        if (type.type_url == kAddress && acked) ++settled;
        if (type.type_url == kAuthorization && type.last_nack) ++settled;
        if (type.type_url == kVirtualService && !type.pending_nonce.empty()) ++settled;
      }
    }
    return settled == 3;
  }));

  control::ca::CaMetrics ca_metrics;
  control::debug::DebugEndpoints endpoints(harness.ads(), ca_metrics);
  auto server = http::AdminServer::create("127.0.0.1", 0);
  REQUIRE(server.ok());
  endpoints.install(**server);
  (*server)->start();
  const std::string address = "127.0.0.1:" + std::to_string((*server)->port());

  const Run r = run(runProxyStatus, {"--control", address});
  INFO(r.out << r.err);
  CHECK(r.exit == kExitOk);
  // Everything before CONTROL is as wide whatever the port.
  CHECK(r.out.rfind("NAME                        KIND       ADDRESS   AUTHORIZATION   "
                    "VIRTUALSERVICE   CONTROL",
                    0) == 0);
  CHECK(has(r.out,
            "\nnode1                       agent      SYNCED    NACKED (1)      -"
            "                " +
                address + "   1\n"));
  CHECK(has(r.out,
            "\nwaypoint~default/waypoint   waypoint   -         -               STALE"
            "            " +
                address + "   -\n"));
  (*server)->stop();
}

TEST_CASE("proxy-status reports what keeps it from the control plane", "[proxy-status]") {
  const std::string closed = closedAddress();
  Run r = run(runProxyStatus, {"--control", closed});
  CHECK(r.exit == kExitFindings);
  CHECK(r.out.empty());
  CHECK(r.err == "ambitctl proxy-status: cannot connect to " + closed +
                     ": Connection refused (is ambit-control running? name its debug server "
                     "with --control or AMBIT_CONTROL_DEBUG)\n");

  FixedServer wrong({{"/config_dump", "{}"}});
  r = run(runProxyStatus, {"--control", wrong.address()});
  CHECK(r.exit == kExitFindings);
  CHECK(r.err ==
        "ambitctl proxy-status: http://" + wrong.address() + "/debug/syncz: 404 Not Found\n");

  FixedServer garbled({{"/debug/syncz", "[{\"node_id\": "}});
  r = run(runProxyStatus, {"--control", garbled.address()});
  CHECK(r.exit == kExitFindings);
  CHECK(has(r.err,
            "ambitctl proxy-status: http://" + garbled.address() + "/debug/syncz is not JSON: "));

  FixedServer object({{"/debug/syncz", "{\"clients\": []}"}});
  r = run(runProxyStatus, {"--control", object.address()});
  CHECK(r.exit == kExitFindings);
  CHECK(r.err == "ambitctl proxy-status: http://" + object.address() +
                     ": /debug/syncz is not a list of clients\n");
}

TEST_CASE("proxy-status takes its address from --control, the environment or the default",
          "[proxy-status]") {
  FixedServer control({{"/debug/syncz", "[]"}});
  REQUIRE(setenv(kControlDebugEnv, control.address().c_str(), 1) == 0);
  Run r = run(runProxyStatus, {});
  CHECK(r.exit == kExitOk);
  CHECK(has(r.out, control.address()));
  // --control wins over the environment.
  const std::string closed = closedAddress();
  r = run(runProxyStatus, {"--control=" + closed});
  CHECK(r.exit == kExitFindings);
  CHECK(has(r.err, closed));
  REQUIRE(unsetenv(kControlDebugEnv) == 0);
  CHECK(std::string(kDefaultControlDebug) == "127.0.0.1:15014");
}

TEST_CASE("proxy-status refuses malformed arguments", "[proxy-status]") {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const Case cases[] = {
      {{"-o", "xml"}, "-o must be table, json or yaml"},
      {{"--control"}, "--control needs HOST:PORT"},
      {{"--control", "10.200.0.1"}, "address \"10.200.0.1\": no port (expected HOST:PORT)"},
      {{"node1"}, "unexpected argument node1"},
      {{"--bogus"}, "unexpected argument --bogus"},
  };
  for (const Case& c : cases) {
    INFO(c.message);
    const Run r = run(runProxyStatus, c.args);
    CHECK(r.exit == kExitUsage);
    CHECK(r.err ==
          "ambitctl proxy-status: " + c.message + "\n(see 'ambitctl proxy-status --help')\n");
  }
  const Run help = run(runProxyStatus, {"--help"});
  CHECK(help.exit == kExitOk);
  CHECK(help.out.rfind("Usage: ambitctl proxy-status [--control HOST:PORT]", 0) == 0);
  CHECK(has(help.out, "NACKED (n)"));
}

}  // namespace
}  // namespace ambit::ctl::testing
