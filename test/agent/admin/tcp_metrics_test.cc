// Istio's TCP metrics: names, help texts and labels as Prometheus text, series reuse, the bound on
// label sets and the per-thread cache.
#include "agent/admin/tcp_metrics.h"

#include <thread>
#include <vector>

#include <catch2/catch.hpp>

namespace ambit::agent {
namespace {

namespace wl = istio::workload;

wl::Workload workload(const std::string& ns, const std::string& name) {
  wl::Workload w;
  w.set_uid("Kubernetes//Pod/" + ns + "/" + name + "-5d8f9-abcde");
  w.set_name(name + "-5d8f9-abcde");
  w.set_namespace_(ns);
  w.set_workload_name(name);
  w.set_canonical_name(name);
  w.set_canonical_revision("v1");
  w.set_service_account(name);
  w.set_trust_domain("cluster.local");
  w.set_cluster_id("Kubernetes");
  return w;
}

// A client in demo calling the echo service through a tunnel, seen by the client's agent.
TcpLabels outboundLabels() {
  TcpLabels labels;
  labels.reporter = Reporter::kSource;
  setSourceWorkload(labels, workload("demo", "client"));
  labels.source_principal = "spiffe://cluster.local/ns/demo/sa/client";
  setDestinationWorkload(labels, workload("demo", "echo"));
  wl::Service service;
  service.set_name("echo");
  service.set_namespace_("demo");
  service.set_hostname("echo.demo.svc.cluster.local");
  setDestinationService(labels, service);
  labels.security_policy = SecurityPolicy::kMutualTls;
  return labels;
}

// Only the istio_tcp_connections_opened_total lines of a render.
std::vector<std::string> openedLines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    if (line.rfind("istio_tcp_connections_opened_total{", 0) == 0) out.push_back(line);
    start = end + 1;
  }
  return out;
}

TEST_CASE("the istio_tcp_* families render with Istio's names, help texts and labels", "[tcp]") {
  metrics::Registry registry;
  TcpMetrics tcp(registry);
  const TcpLabels labels = outboundLabels();
  TcpSeries series = tcp.connection(labels);
  series.opened->inc();
  series.received_bytes->inc(120);
  series.sent_bytes->inc(4096);
  series.closed->inc();

  const std::string l =
      "{connection_security_policy=\"mutual_tls\",destination_app=\"echo\","
      "destination_canonical_revision=\"v1\",destination_canonical_service=\"echo\","
      "destination_cluster=\"Kubernetes\","
      "destination_principal=\"spiffe://cluster.local/ns/demo/sa/echo\","
      "destination_service=\"echo.demo.svc.cluster.local\",destination_service_name=\"echo\","
      "destination_service_namespace=\"demo\",destination_version=\"v1\","
      "destination_workload=\"echo\",destination_workload_namespace=\"demo\","
      "reporter=\"source\",request_protocol=\"tcp\",response_flags=\"-\",source_app=\"client\","
      "source_canonical_revision=\"v1\",source_canonical_service=\"client\","
      "source_cluster=\"Kubernetes\",source_principal=\"spiffe://cluster.local/ns/demo/sa/client\","
      "source_version=\"v1\",source_workload=\"client\",source_workload_namespace=\"demo\"}";
  CHECK(registry.render() ==
        "# HELP ambit_agent_tcp_metrics_overflow_total Connections counted in the overflow series "
        "of the istio_tcp_* metrics (labels \"unknown\") because the bound on label sets was "
        "reached\n"
        "# TYPE ambit_agent_tcp_metrics_overflow_total counter\n"
        "ambit_agent_tcp_metrics_overflow_total 0\n"
        "# HELP istio_tcp_connections_closed_total The total number of TCP connections closed\n"
        "# TYPE istio_tcp_connections_closed_total counter\n"
        "istio_tcp_connections_closed_total" +
            l +
            " 1\n"
            "# HELP istio_tcp_connections_opened_total The total number of TCP connections opened\n"
            "# TYPE istio_tcp_connections_opened_total counter\n"
            "istio_tcp_connections_opened_total" +
            l +
            " 1\n"
            "# HELP istio_tcp_received_bytes_total The size of total bytes received during "
            "request in case of a TCP connection\n"
            "# TYPE istio_tcp_received_bytes_total counter\n"
            "istio_tcp_received_bytes_total" +
            l +
            " 120\n"
            "# HELP istio_tcp_sent_bytes_total The size of total bytes sent during response in "
            "case of a TCP connection\n"
            "# TYPE istio_tcp_sent_bytes_total counter\n"
            "istio_tcp_sent_bytes_total" +
            l + " 4096\n");
}

TEST_CASE("labels left empty are reported as unknown, as ztunnel does", "[tcp]") {
  // A plaintext connection from an address that is no workload, into a pod with no Service.
  metrics::Registry registry;
  TcpMetrics tcp(registry);
  TcpLabels labels;
  labels.reporter = Reporter::kDestination;
  setDestinationWorkload(labels, workload("demo", "echo"));
  tcp.connection(labels).opened->inc();
  const std::vector<std::string> lines = openedLines(registry.render());
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] ==
        "istio_tcp_connections_opened_total{connection_security_policy=\"unknown\","
        "destination_app=\"echo\",destination_canonical_revision=\"v1\","
        "destination_canonical_service=\"echo\",destination_cluster=\"Kubernetes\","
        "destination_principal=\"spiffe://cluster.local/ns/demo/sa/echo\","
        "destination_service=\"unknown\",destination_service_name=\"unknown\","
        "destination_service_namespace=\"unknown\",destination_version=\"v1\","
        "destination_workload=\"echo\",destination_workload_namespace=\"demo\","
        "reporter=\"destination\",request_protocol=\"tcp\",response_flags=\"-\","
        "source_app=\"unknown\",source_canonical_revision=\"unknown\","
        "source_canonical_service=\"unknown\",source_cluster=\"unknown\","
        "source_principal=\"unknown\",source_version=\"unknown\",source_workload=\"unknown\","
        "source_workload_namespace=\"unknown\"} 1");
}

TEST_CASE("a workload's principal defaults its trust domain and service account", "[tcp]") {
  struct Case {
    std::string trust_domain;
    std::string service_account;
    std::string principal;
  };
  const Case cases[] = {
      {"cluster.local", "client", "spiffe://cluster.local/ns/demo/sa/client"},
      {"", "client", "spiffe://cluster.local/ns/demo/sa/client"},
      {"example.org", "", "spiffe://example.org/ns/demo/sa/default"},
      {"", "", "spiffe://cluster.local/ns/demo/sa/default"},
  };
  for (const Case& c : cases) {
    wl::Workload w = workload("demo", "client");
    w.set_trust_domain(c.trust_domain);
    w.set_service_account(c.service_account);
    INFO(c.trust_domain << " " << c.service_account);
    CHECK(workloadPrincipal(w) == c.principal);
  }
}

TEST_CASE("two connections with the same labels share one series", "[tcp]") {
  metrics::Registry registry;
  TcpMetrics tcp(registry);
  const TcpSeries first = tcp.connection(outboundLabels());
  const TcpSeries second = tcp.connection(outboundLabels());
  CHECK(first.opened == second.opened);
  CHECK(first.closed == second.closed);
  CHECK(first.sent_bytes == second.sent_bytes);
  CHECK(first.received_bytes == second.received_bytes);
  first.opened->inc();
  second.opened->inc();
  CHECK(tcp.labelSets() == 1);
  const std::vector<std::string> lines = openedLines(registry.render());
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].substr(lines[0].size() - 2) == " 2");

  // Any label that differs is another series.
  TcpLabels other = outboundLabels();
  other.destination_version = "v2";
  CHECK(tcp.connection(other).opened != first.opened);
  CHECK(tcp.labelSets() == 2);
}

TEST_CASE("each response flag is a series of its own, with ztunnel's value", "[tcp]") {
  struct Case {
    ResponseFlags flags;
    std::string label;
  };
  const Case cases[] = {
      {ResponseFlags::kNone, "-"},
      {ResponseFlags::kDeny, "DENY"},
      {ResponseFlags::kConnectFailure, "CONNECT"},
      {ResponseFlags::kTlsFailure, "TLS_FAILURE"},
      {ResponseFlags::kH2HandshakeFailure, "H2_HANDSHAKE_FAILURE"},
      {ResponseFlags::kIdentityError, "IDENTITY_ERROR"},
  };
  for (const Case& c : cases) {
    INFO(c.label);
    metrics::Registry registry;
    TcpMetrics tcp(registry);
    const TcpSeries open = tcp.connection(outboundLabels());
    open.opened->inc();
    tcp.connection(outboundLabels(), c.flags).closed->inc();
    CHECK(responseFlagsLabel(c.flags) == c.label);
    CHECK(tcp.labelSets() == (c.flags == ResponseFlags::kNone ? 1u : 2u));
    const std::string text = registry.render();
    CHECK(text.find("response_flags=\"" + c.label + "\"") != std::string::npos);
    // The open was counted with "-" whatever the end.
    const std::vector<std::string> opened = openedLines(text);
    REQUIRE(opened.size() == (c.flags == ResponseFlags::kNone ? 1u : 2u));
    for (const std::string& line : opened) {
      const bool dash = line.find("response_flags=\"-\"") != std::string::npos;
      CHECK(line.substr(line.size() - 2) == (dash ? " 1" : " 0"));
    }
  }
}

TEST_CASE("beyond the bound new label sets count into the overflow series", "[tcp]") {
  metrics::Registry registry;
  TcpMetrics tcp(registry, 2);
  auto labels = [](const std::string& workload_name, SecurityPolicy policy) {
    TcpLabels out = outboundLabels();
    out.source_workload = workload_name;
    out.security_policy = policy;
    return out;
  };
  const TcpSeries a = tcp.connection(labels("a", SecurityPolicy::kMutualTls));
  const TcpSeries b = tcp.connection(labels("b", SecurityPolicy::kMutualTls));
  CHECK(tcp.labelSets() == 2);
  CHECK(tcp.dropped() == 0);

  const TcpSeries c = tcp.connection(labels("c", SecurityPolicy::kMutualTls));
  const TcpSeries d = tcp.connection(labels("d", SecurityPolicy::kMutualTls));
  const TcpSeries e = tcp.connection(labels("e", SecurityPolicy::kUnknown));
  CHECK(c.opened == d.opened);  // one overflow series per reporter and security policy
  CHECK(c.opened != e.opened);
  CHECK(c.opened != a.opened);
  CHECK(tcp.dropped() == 3);
  CHECK(tcp.labelSets() == 4);  // a, b and two overflow series: no more, whatever comes

  for (int i = 0; i < 100; ++i)
    tcp.connection(labels("x" + std::to_string(i), SecurityPolicy::kMutualTls));
  CHECK(tcp.labelSets() == 4);
  CHECK(tcp.dropped() == 103);

  // Label sets seen before the bound keep their series.
  CHECK(tcp.connection(labels("a", SecurityPolicy::kMutualTls)).opened == a.opened);
  CHECK(tcp.connection(labels("b", SecurityPolicy::kMutualTls)).opened == b.opened);
  CHECK(tcp.dropped() == 103);

  c.opened->inc();
  const std::string text = registry.render();
  CHECK(text.find("ambit_agent_tcp_metrics_overflow_total 103\n") != std::string::npos);
  CHECK(text.find("istio_tcp_connections_opened_total{connection_security_policy=\"mutual_tls\","
                  "destination_app=\"unknown\",destination_canonical_revision=\"unknown\","
                  "destination_canonical_service=\"unknown\",destination_cluster=\"unknown\","
                  "destination_principal=\"unknown\",destination_service=\"unknown\","
                  "destination_service_name=\"unknown\",destination_service_namespace=\"unknown\","
                  "destination_version=\"unknown\",destination_workload=\"unknown\","
                  "destination_workload_namespace=\"unknown\",reporter=\"source\","
                  "request_protocol=\"tcp\",response_flags=\"-\",source_app=\"unknown\","
                  "source_canonical_revision=\"unknown\",source_canonical_service=\"unknown\","
                  "source_cluster=\"unknown\",source_principal=\"unknown\","
                  "source_version=\"unknown\",source_workload=\"unknown\","
                  "source_workload_namespace=\"unknown\"} 1\n") != std::string::npos);
  CHECK(openedLines(text).size() == 4);
}

TEST_CASE("threads that meet the same labels share one series", "[tcp]") {
  metrics::Registry registry;
  TcpMetrics tcp(registry);
  constexpr uint64_t kPerThread = 10000;
  std::vector<metrics::Counter*> seen(2, nullptr);
  std::vector<std::thread> threads;
  threads.reserve(2);
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&tcp, &seen, t] {
      for (uint64_t i = 0; i < kPerThread; ++i) {
        const TcpSeries series = tcp.connection(outboundLabels());
        series.opened->inc();
        series.received_bytes->inc(3);
        seen[t] = series.opened;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(seen[0] == seen[1]);
  CHECK(tcp.labelSets() == 1);
  CHECK(seen[0]->value() == kPerThread * 2);
  CHECK(tcp.connection(outboundLabels()).received_bytes->value() == kPerThread * 6);
}

TEST_CASE("a thread's cache never hands out another TcpMetrics' series", "[tcp]") {
  metrics::Registry first_registry;
  metrics::Registry second_registry;
  TcpMetrics first(first_registry);
  TcpMetrics second(second_registry);
  const TcpSeries a = first.connection(outboundLabels());
  const TcpSeries b = second.connection(outboundLabels());
  CHECK(a.opened != b.opened);
  CHECK(first.connection(outboundLabels()).opened == a.opened);
  CHECK(second.connection(outboundLabels()).opened == b.opened);
}

TEST_CASE("the registry renders the series after the TcpMetrics is gone", "[tcp]") {
  metrics::Registry registry;
  {
    TcpMetrics tcp(registry);
    tcp.connection(outboundLabels()).opened->inc(5);
  }
  const std::vector<std::string> lines = openedLines(registry.render());
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].substr(lines[0].size() - 2) == " 5");
}

}  // namespace
}  // namespace ambit::agent
