// Enrollment decisions of the PodManager, with a fake capture: pods live in this test's own
// network namespace (so no root is needed) and their listeners take ephemeral ports.
#include "agent/pod/pod_manager.h"

#include <catch2/catch.hpp>

namespace ambit::agent {
namespace {

namespace wl = istio::workload;
using namespace std::chrono_literals;

class FakeRedirector : public Redirector {
 public:
  std::string name() const override { return "fake"; }
  std::string debugJson() const override { return "{}"; }
  absl::Status install(const Netns&, const CaptureConfig&, const CaptureTarget&) override {
    if (fail) return absl::UnavailableError("nft: cannot enter the pod");
    ++installs;
    return absl::OkStatus();
  }
  absl::Status remove(const Netns&) override {
    ++removes;
    return absl::OkStatus();
  }
  absl::StatusOr<bool> installed(const Netns&) override { return installs > removes; }

  bool fail = false;
  int installs = 0;
  int removes = 0;
};

std::string ip4(uint8_t last) {
  return std::string({10, static_cast<char>(244), 1, static_cast<char>(last)});
}

std::shared_ptr<const wl::Address> workload(const std::string& name, uint8_t last, bool ambient) {
  auto address = std::make_shared<wl::Address>();
  wl::Workload& w = *address->mutable_workload();
  w.set_uid("Kubernetes//Pod/demo/" + name);
  w.set_name(name);
  w.set_namespace_("demo");
  w.set_node("node1");
  w.add_addresses(ip4(last));
  if (ambient) w.set_tunnel_protocol(wl::HBONE);
  return address;
}

ambit::cni::v1::PodInfo pod(const std::string& name, uint8_t last,
                            const std::string& container = "c1") {
  ambit::cni::v1::PodInfo info;
  info.set_uid("uid-" + name);
  info.set_namespace_("demo");
  info.set_name(name);
  info.add_ips("10.244.1." + std::to_string(last));
  info.set_container_id(container);
  return info;
}

struct Harness {
  Harness() {
    PodManagerOptions options;
    options.node = "node1";
    options.proxy.outbound_port = 0;  // ephemeral: many pods share this test's netns
    options.proxy.inbound_plaintext_port = 0;
    options.proxy.hbone_port = 0;
    options.retry_interval = 50ms;
    manager = std::make_unique<PodManager>(io, std::vector<Worker*>{&worker}, options, redirector,
                                           store, metrics, credentials);
    store.subscribe([this](const auto&) { manager->snapshotChanged(); });
  }
  ~Harness() {
    manager->shutdown();
    io.run_for(100ms);
  }

  void add(const ambit::cni::v1::PodInfo& info) {
    auto netns = Netns::current();
    REQUIRE(netns.ok());
    manager->addPod(info, std::make_shared<const Netns>(std::move(*netns)));
  }
  // Runs the io_context until `condition` holds, for at most two seconds.
  template <typename Condition>
  bool runUntil(Condition condition) {
    for (int i = 0; i < 200 && !condition(); ++i) {
      io.restart();
      io.run_for(10ms);
    }
    return condition();
  }
  void settle() {
    io.restart();
    io.run_for(100ms);
  }
  int64_t enrolled() const { return metrics.enrolled_pods.value(); }

  boost::asio::io_context io;
  FakeRedirector redirector;
  Worker worker{0, io};  // the pods' listeners share the test's one io_context
  SnapshotStore store;
  AgentMetrics metrics;
  // Enrollment needs no certificate: tunnels ask for one per connection.
  struct NoCredentials final : CredentialSource {
    std::shared_ptr<const tls::WorkloadCredential> credential(const std::string&) const override {
      return nullptr;
    }
    std::shared_ptr<const tls::TrustBundle> trustBundle() const override { return nullptr; }
  } credentials;
  std::unique_ptr<PodManager> manager;
};

TEST_CASE("pods are enrolled by the snapshot's tunnel protocol and follow its changes") {
  Harness h;
  h.add(pod("a", 5));
  h.add(pod("b", 6));
  h.settle();
  // Without config nothing is touched: no capture installed, none removed.
  CHECK(h.redirector.installs == 0);
  CHECK(h.redirector.removes == 0);
  CHECK(h.metrics.known_pods.value() == 2);

  h.store.replaceAddresses({{"a", workload("a", 5, true)}, {"b", workload("b", 6, false)}});
  REQUIRE(h.runUntil([&] { return h.enrolled() == 1; }));
  CHECK(h.redirector.installs == 1);
  CHECK(h.redirector.removes == 1);  // b: any capture left from before is removed once
  const std::string json = h.manager->debugJson();
  INFO(json);
  CHECK(json.find(R"("name": "a", "ips": ["10.244.1.5"], "netns": "", "enrolled": true)") !=
        std::string::npos);
  CHECK(json.find(R"("name": "b", "ips": ["10.244.1.6"], "netns": "", "enrolled": false)") !=
        std::string::npos);

  // Labelling b's namespace enrolls it; unlabelling a releases it.
  h.store.replaceAddresses({{"a", workload("a", 5, true)}, {"b", workload("b", 6, true)}});
  REQUIRE(h.runUntil([&] { return h.enrolled() == 2; }));
  h.store.replaceAddresses({{"a", workload("a", 5, false)}, {"b", workload("b", 6, true)}});
  REQUIRE(h.runUntil([&] { return h.enrolled() == 1; }));
  CHECK(h.redirector.removes == 2);
  // An unrelated push changes nothing.
  h.store.replaceAddresses({{"a", workload("a", 5, false)}, {"b", workload("b", 6, true)}});
  h.settle();
  CHECK(h.redirector.installs == 2);
  CHECK(h.redirector.removes == 2);
}

TEST_CASE("a pod whose workload names another pod is not enrolled") {
  Harness h;
  h.add(pod("a", 5));
  h.store.replaceAddresses({{"x", workload("someone-else", 5, true)}});
  h.settle();
  CHECK(h.enrolled() == 0);
  CHECK(h.redirector.installs == 0);
}

TEST_CASE("a failed enrollment is retried and does not hold up other pods") {
  Harness h;
  h.redirector.fail = true;
  h.add(pod("a", 5));
  h.store.replaceAddresses({{"a", workload("a", 5, true)}, {"b", workload("b", 6, true)}});
  REQUIRE(h.runUntil([&] { return h.metrics.enrollment_failures.value() >= 1; }));
  CHECK(h.enrolled() == 0);
  CHECK(h.manager->debugJson().find("nft: cannot enter the pod") != std::string::npos);

  h.redirector.fail = false;
  h.add(pod("b", 6));
  REQUIRE(h.runUntil([&] { return h.enrolled() == 2; }));  // b at once, a on its retry
  CHECK(h.manager->debugJson().find("cannot enter") == std::string::npos);
}

TEST_CASE("a DEL of an old sandbox leaves the pod; the right DEL removes it") {
  Harness h;
  h.add(pod("a", 5, "new-sandbox"));
  h.store.replaceAddresses({{"a", workload("a", 5, true)}});
  REQUIRE(h.runUntil([&] { return h.enrolled() == 1; }));

  ambit::cni::v1::DelPod del;
  del.set_uid("uid-a");
  del.set_namespace_("demo");
  del.set_name("a");
  del.set_container_id("old-sandbox");
  h.manager->deletePod(del);
  h.settle();
  CHECK(h.enrolled() == 1);

  del.set_container_id("new-sandbox");
  h.manager->deletePod(del);
  REQUIRE(h.runUntil([&] { return h.metrics.known_pods.value() == 0; }));
  CHECK(h.enrolled() == 0);
}

}  // namespace
}  // namespace ambit::agent
