// The config store's snapshots carry the security config built from the policies it was given,
// for the services bound to its waypoint, and the key sets it was given, kept across rebuilds.
#include "waypoint/config/config_store.h"

#include <tuple>

#include <boost/asio/ip/address.hpp>
#include <catch2/catch.hpp>

#include "agent/relay/outbound.h"
#include "test/waypoint/config/config_test_support.h"
#include "test/waypoint/jwt/jwt_test_support.h"

namespace ambit::waypoint::testing {
namespace {

namespace wl = istio::workload;

std::string ip(const std::string& text) {
  return agent::toIpBytes(boost::asio::ip::make_address(text));
}

const SecurityTarget kWeb = servedService("default", "web");
const SecurityTarget kApi = servedService("default", "api");
constexpr const char* kUri = "https://issuer.example/jwks.json";

// Services web (bound to the waypoint default/waypoint) and api (bound to another one).
agent::Snapshot::Addresses mesh() {
  agent::Snapshot::Addresses out;
  for (const auto& [target, vip, waypoint] :
       {std::tuple{kWeb, "10.96.0.10", "waypoint"}, {kApi, "10.96.0.11", "other-waypoint"}}) {
    auto address = std::make_shared<wl::Address>();
    wl::Service& s = *address->mutable_service();
    s.set_name(target.name);
    s.set_namespace_(target.namespace_);
    s.set_hostname(target.hostname);
    s.add_addresses()->set_address(ip(vip));
    s.add_ports()->set_service_port(80);
    s.mutable_waypoint()->mutable_hostname()->set_namespace_("default");
    s.mutable_waypoint()->mutable_hostname()->set_hostname(std::string(waypoint) +
                                                           ".default.svc.cluster.local");
    out["svc-" + target.name] = address;
  }
  return out;
}

// One policy and one RequestAuthentication naming each service.
std::vector<AuthorizationPolicyEntry> policies() {
  return {authorizationPolicy("default", "api",
                              R"({"targetRefs":[{"kind":"Service","name":"api"}], "rules":[{}]})"),
          authorizationPolicy("default", "web",
                              R"({"targetRefs":[{"kind":"Service","name":"web"}], "rules":[{}]})")};
}
std::vector<RequestAuthnEntry> authns() {
  return {requestAuthentication("default", "api", R"({"targetRefs":[{"kind":"Service",
              "name":"api"}], "jwtRules":[{"issuer":"https://a","jwksUri":"https://a/jwks"}]})"),
          requestAuthentication("default", "web", R"({"targetRefs":[{"kind":"Service",
              "name":"web"}], "jwtRules":[{"issuer":"https://issuer.example",
              "jwksUri":"https://issuer.example/jwks.json"}]})")};
}

std::shared_ptr<const JwksSet> keysFor(const std::string& uri) {
  return std::make_shared<const JwksSet>(
      std::map<std::string, std::shared_ptr<const Jwks>, std::less<>>{
          {uri, jwksOf({TestKey::p256().jwk("a")})}});
}

std::vector<std::string> policyNames(const WaypointSnapshot& snapshot, const std::string& host) {
  std::vector<std::string> out;
  for (const auto& policy : snapshot.security->forHost(host).policies) out.push_back(policy->name);
  return out;
}

TEST_CASE("config store: no security config before any, never a null key set") {
  ConfigStore store("default", "waypoint");
  CHECK(store.current()->security == nullptr);
  REQUIRE(store.current()->jwks != nullptr);
  CHECK(store.current()->jwks->keys().empty());
  // Policies before addresses: a config that serves nothing yet.
  store.replaceAuthorizationPolicies(policies());
  const auto snapshot = store.current();
  CHECK(snapshot->version == 0);
  REQUIRE(snapshot->security != nullptr);
  CHECK(snapshot->security->forHost(kWeb.hostname).policies.empty());
}

TEST_CASE("config store: policies apply to the services bound to this waypoint") {
  ConfigStore store("default", "waypoint", "cluster.local", nullptr,
                    PathNormalization::kDecodeAndMergeSlashes);
  store.replaceAuthorizationPolicies(policies());
  store.replaceRequestAuthentications(authns());
  store.replaceAddresses(mesh());
  auto snapshot = store.current();
  REQUIRE(snapshot->security != nullptr);
  CHECK(snapshot->security->normalization() == PathNormalization::kDecodeAndMergeSlashes);
  CHECK(snapshot->security->policyCount() == 2);
  CHECK(snapshot->security->authnCount() == 2);
  CHECK(policyNames(*snapshot, kWeb.hostname) == std::vector<std::string>{"default/web"});
  CHECK(snapshot->security->forHost(kWeb.hostname).authn != nullptr);
  // api is another waypoint's: what names it does not apply here, nor is its key set fetched.
  CHECK(policyNames(*snapshot, kApi.hostname).empty());
  CHECK(snapshot->security->forHost(kApi.hostname).authn == nullptr);
  CHECK(snapshot->security->jwksUris() == std::set<std::string>{kUri});

  // Replacing the lists replaces what applies, in a new snapshot.
  const uint64_t version = snapshot->version;
  store.replaceAuthorizationPolicies({});
  snapshot = store.current();
  CHECK(snapshot->version > version);
  CHECK(policyNames(*snapshot, kWeb.hostname).empty());
  CHECK(snapshot->security->policyCount() == 0);
  CHECK(snapshot->security->forHost(kWeb.hostname).authn != nullptr);
  store.replaceRequestAuthentications({});
  snapshot = store.current();
  CHECK(snapshot->security->forHost(kWeb.hostname).authn == nullptr);
  CHECK(snapshot->security->jwksUris().empty());
  CHECK(snapshot->security->authnCount() == 0);
}

TEST_CASE("config store: new key sets are published alone and kept by later rebuilds") {
  ConfigStore store("default", "waypoint");
  // Key sets given before any addresses stay.
  store.replaceJwks(keysFor("https://early.example/jwks"));
  store.replaceRequestAuthentications(authns());
  store.replaceAddresses(mesh());
  auto snapshot = store.current();
  CHECK(snapshot->jwks->find("https://early.example/jwks") != nullptr);

  const std::shared_ptr<const JwksSet> keys = keysFor(kUri);
  store.replaceJwks(keys);
  const auto with_keys = store.current();
  CHECK(with_keys->jwks == keys);
  CHECK(with_keys->jwks->find(kUri) != nullptr);
  CHECK(with_keys->jwks->find("https://early.example/jwks") == nullptr);
  // The rest of the snapshot is the one before.
  CHECK(with_keys->version == snapshot->version);
  CHECK(with_keys->security == snapshot->security);
  CHECK(with_keys->routes == snapshot->routes);
  CHECK(with_keys->mesh == snapshot->mesh);
  // The snapshot a request started with keeps its own key set.
  CHECK(snapshot->jwks->find(kUri) == nullptr);

  // Rebuilt for other reasons: the key set stays.
  store.replaceAuthorizationPolicies(policies());
  store.replaceAddresses(mesh());
  const auto rebuilt = store.current();
  CHECK(rebuilt->version > with_keys->version);
  CHECK(rebuilt->jwks == keys);
  CHECK(policyNames(*rebuilt, kWeb.hostname) == std::vector<std::string>{"default/web"});
}

}  // namespace
}  // namespace ambit::waypoint::testing
