// Which identities a node's pods need certificates for, read from a snapshot.
#include <catch2/catch.hpp>

#include "agent/identity/identities_on_node.h"

namespace ambit::agent {
namespace {

namespace wl = istio::workload;

struct Pod {
  std::string name;
  std::string node;
  std::string ns;
  std::string service_account;
  std::string trust_domain;
  wl::TunnelProtocol tunnel = wl::HBONE;
};

std::shared_ptr<const Snapshot> snapshotOf(const std::vector<Pod>& pods) {
  Snapshot::Addresses addresses;
  uint8_t last = 1;
  for (const Pod& pod : pods) {
    auto address = std::make_shared<wl::Address>();
    wl::Workload& w = *address->mutable_workload();
    w.set_uid("Kubernetes//Pod/" + pod.ns + "/" + pod.name);
    w.set_name(pod.name);
    w.set_namespace_(pod.ns);
    w.set_node(pod.node);
    w.set_service_account(pod.service_account);
    w.set_trust_domain(pod.trust_domain);
    w.set_tunnel_protocol(pod.tunnel);
    w.add_addresses(std::string({10, 0, 0, static_cast<char>(last++)}));
    addresses[w.uid()] = address;
  }
  return Snapshot::build(addresses, 1);
}

TEST_CASE("identitiesOnNode table") {
  const auto snapshot = snapshotOf({
      {"cart-1", "n1", "shop", "cart", ""},
      {"cart-2", "n1", "shop", "cart", ""},  // a second replica: one identity
      {"pay-1", "n1", "shop", "payments", "corp.example"},
      {"legacy-1", "n1", "shop", "legacy", "", wl::NONE},
      {"sidecar-1", "n1", "shop", "sidecar", "", wl::LEGACY_ISTIO_MTLS},
      {"plain-1", "n1", "web", "", ""},  // no service account: Kubernetes' "default"
      {"bad-1", "n1", "Bad_NS", "x", ""},
      {"cart-3", "n2", "shop", "cart", ""},
      {"ads-1", "n2", "ads", "ads", ""},
  });
  struct Case {
    std::string node;
    std::string default_trust_domain;
    std::set<std::string> want;
  };
  const std::vector<Case> cases = {
      {"n1",
       "cluster.local",
       {"spiffe://cluster.local/ns/shop/sa/cart", "spiffe://corp.example/ns/shop/sa/payments",
        "spiffe://cluster.local/ns/web/sa/default"}},
      {"n1",
       "mesh.example",
       {"spiffe://mesh.example/ns/shop/sa/cart", "spiffe://corp.example/ns/shop/sa/payments",
        "spiffe://mesh.example/ns/web/sa/default"}},
      {"n2",
       "cluster.local",
       {"spiffe://cluster.local/ns/shop/sa/cart", "spiffe://cluster.local/ns/ads/sa/ads"}},
      {"n3", "cluster.local", {}},
  };
  for (const Case& c : cases) {
    SECTION(c.node + " in " + c.default_trust_domain) {
      CHECK(identitiesOnNode(*snapshot, c.node, c.default_trust_domain) == c.want);
    }
  }
}

TEST_CASE("an empty snapshot needs no identities") {
  CHECK(identitiesOnNode(*Snapshot::empty(), "n1", kDefaultTrustDomain).empty());
}

}  // namespace
}  // namespace ambit::agent
