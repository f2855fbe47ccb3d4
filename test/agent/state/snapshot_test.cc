#include "agent/state/snapshot.h"

#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

#include "agent/state/address_codec.h"
#include "agent/state/snapshot_store.h"

namespace ambit::agent {
namespace {

namespace wl = istio::workload;

std::string ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return std::string(
      {static_cast<char>(a), static_cast<char>(b), static_cast<char>(c), static_cast<char>(d)});
}

std::shared_ptr<const wl::Address> workload(const std::string& name, const std::string& ip,
                                            const std::string& node,
                                            const std::string& service = "") {
  auto address = std::make_shared<wl::Address>();
  wl::Workload& w = *address->mutable_workload();
  w.set_uid("Kubernetes//Pod/demo/" + name);
  w.set_name(name);
  w.set_namespace_("demo");
  w.set_node(node);
  w.add_addresses(ip);
  if (!service.empty()) (*w.mutable_services())[service].add_ports()->set_service_port(80);
  return address;
}

std::shared_ptr<const wl::Address> service(const std::string& host, const std::string& vip) {
  auto address = std::make_shared<wl::Address>();
  wl::Service& s = *address->mutable_service();
  s.set_name("echo");
  s.set_namespace_("demo");
  s.set_hostname(host);
  s.add_addresses()->set_address(vip);
  wl::Port& port = *s.add_ports();
  port.set_service_port(80);
  port.set_target_port(8080);
  return address;
}

TEST_CASE("a snapshot indexes workloads and services") {
  const std::string key = "demo/echo.demo.svc.cluster.local";
  SnapshotStore::Addresses addresses{
      {"w2", workload("echo-2", ip4(10, 244, 2, 5), "node2", key)},
      {"w1", workload("echo-1", ip4(10, 244, 1, 5), "node1", key)},
      {"c1", workload("client", ip4(10, 244, 1, 6), "node1")},
      {"s", service("echo.demo.svc.cluster.local", ip4(10, 96, 0, 10))},
  };
  auto snapshot = Snapshot::build(addresses, 7);
  CHECK(snapshot->version() == 7);
  CHECK(snapshot->workloadCount() == 3);
  CHECK(snapshot->serviceCount() == 1);
  REQUIRE(snapshot->workloadByIp(ip4(10, 244, 2, 5)) != nullptr);
  CHECK(snapshot->workloadByIp(ip4(10, 244, 2, 5))->name() == "echo-2");
  CHECK(snapshot->workloadByIp(ip4(10, 244, 9, 9)) == nullptr);
  CHECK(snapshot->workloadByUid("Kubernetes//Pod/demo/client")->name() == "client");
  REQUIRE(snapshot->serviceByVip(ip4(10, 96, 0, 10)) != nullptr);
  CHECK(snapshot->serviceByKey(key)->hostname() == "echo.demo.svc.cluster.local");
  CHECK(Snapshot::serviceKey(*snapshot->serviceByVip(ip4(10, 96, 0, 10))) == key);

  const auto& endpoints = snapshot->endpointsOf(key);
  REQUIRE(endpoints.size() == 2);
  CHECK(endpoints[0]->name() == "echo-1");  // uid order
  CHECK(endpoints[1]->name() == "echo-2");
  CHECK(snapshot->endpointsOf("demo/none").empty());
  CHECK(snapshot->workloadsOnNode("node1").size() == 2);
  CHECK(snapshot->workloadsOnNode("node3").empty());
}

std::shared_ptr<const istio::security::Authorization> policy(const std::string& ns,
                                                             const std::string& name,
                                                             istio::security::Scope scope) {
  auto out = std::make_shared<istio::security::Authorization>();
  out->set_namespace_(ns);
  out->set_name(name);
  out->set_scope(scope);
  return out;
}

TEST_CASE("policies apply by scope: global, namespace, or listed by the workload") {
  namespace sec = istio::security;
  auto w = std::make_shared<wl::Address>(*workload("echo-1", ip4(10, 244, 1, 5), "node1"));
  w->mutable_workload()->add_authorization_policies("demo/listed");
  auto snapshot =
      Snapshot::build({{"w", w}},
                      {{"istio-system/global", policy("istio-system", "global", sec::GLOBAL)},
                       {"demo/ns-wide", policy("demo", "ns-wide", sec::NAMESPACE)},
                       {"other/ns-wide", policy("other", "ns-wide", sec::NAMESPACE)},
                       {"demo/listed", policy("demo", "listed", sec::WORKLOAD_SELECTOR)},
                       {"demo/unlisted", policy("demo", "unlisted", sec::WORKLOAD_SELECTOR)}},
                      1);
  std::vector<std::string> names;
  for (const auto& p : snapshot->policiesFor(w->workload())) {
    names.push_back(p->namespace_() + "/" + p->name());
  }
  CHECK(names == std::vector<std::string>{"demo/listed", "demo/ns-wide", "istio-system/global"});
  CHECK(snapshot->policyCount() == 5);
}

TEST_CASE("policies before addresses do not make a config") {
  SnapshotStore store;
  store.replacePolicies({{"demo/p", policy("demo", "p", istio::security::NAMESPACE)}});
  CHECK(store.current()->version() == 0);
  CHECK(store.current()->policyCount() == 1);
  store.replaceAddresses({});
  CHECK(store.current()->version() == 1);
  CHECK(store.current()->policyCount() == 1);
}

TEST_CASE("the empty snapshot finds nothing and has version 0") {
  auto snapshot = Snapshot::empty();
  CHECK(snapshot->version() == 0);
  CHECK(snapshot->workloadByIp(ip4(10, 0, 0, 1)) == nullptr);
  CHECK(snapshot->serviceByVip(ip4(10, 0, 0, 1)) == nullptr);
}

TEST_CASE("the store swaps snapshots and tells subscribers") {
  SnapshotStore store;
  CHECK(store.current()->version() == 0);
  std::vector<uint64_t> seen;
  store.subscribe([&](const std::shared_ptr<const Snapshot>& s) { seen.push_back(s->version()); });
  auto held = store.current();
  store.replaceAddresses({{"c1", workload("client", ip4(10, 244, 1, 6), "node1")}});
  store.replaceAddresses({});
  CHECK(seen == std::vector<uint64_t>{1, 2});
  CHECK(store.current()->workloadCount() == 0);
  CHECK(held->workloadCount() == 0);  // a held snapshot never changes
}

TEST_CASE("each store's readers see its own latest snapshot, also across threads") {
  SnapshotStore a;
  SnapshotStore b;
  a.replaceAddresses({{"c1", workload("client", ip4(10, 244, 1, 6), "node1")}});
  CHECK(a.current()->workloadCount() == 1);
  CHECK(b.current()->version() == 0);  // not a's cached copy
  CHECK(a.current()->workloadCount() == 1);

  std::atomic<bool> done{false};
  std::atomic<bool> went_back{false};
  uint64_t last_seen = 0;
  std::thread reader([&] {
    while (!done.load()) {
      const uint64_t version = a.current()->version();
      if (version < last_seen) went_back = true;
      last_seen = version;
    }
    last_seen = a.current()->version();
  });
  for (int i = 0; i < 2000; ++i) a.replaceAddresses({});
  done = true;
  reader.join();
  CHECK_FALSE(went_back);
  CHECK(last_seen == 2001);
  CHECK(a.current()->version() == 2001);
}

TEST_CASE("address resources are decoded and checked") {
  google::protobuf::Any any;
  any.PackFrom(*workload("client", ip4(10, 244, 1, 6), "node1"));
  auto decoded = decodeAddress(any);
  REQUIRE(decoded.ok());
  CHECK((*decoded)->workload().name() == "client");

  wl::Address bad_ip = *workload("client", "\x0a\x01", "node1");
  any.PackFrom(bad_ip);
  CHECK(decodeAddress(any).status().message() ==
        "workload Kubernetes//Pod/demo/client has a 2-byte address");

  wl::Address no_uid = *workload("client", ip4(10, 0, 0, 1), "node1");
  no_uid.mutable_workload()->clear_uid();
  any.PackFrom(no_uid);
  CHECK(decodeAddress(any).status().message() == "workload has no uid");

  wl::Address bad_port = *service("echo.demo.svc.cluster.local", ip4(10, 96, 0, 1));
  bad_port.mutable_service()->mutable_ports(0)->set_service_port(0);
  any.PackFrom(bad_port);
  CHECK(!decodeAddress(any).ok());

  any.PackFrom(wl::Address());
  CHECK(decodeAddress(any).status().message() == "address is neither a workload nor a service");

  google::protobuf::Any wrong;
  wrong.set_type_url("type.googleapis.com/istio.workload.Address");
  wrong.set_value("\xff\xff\xff");
  CHECK(decodeAddress(wrong).status().message() == "does not decode as istio.workload.Address");
}

}  // namespace
}  // namespace ambit::agent
