#include "core/metrics/registry.h"

#include <catch2/catch.hpp>

namespace ambit::metrics {
namespace {

TEST_CASE("the registry renders the Prometheus text format", "[metrics]") {
  Registry registry;
  registry.counter("ambit_pushes_total", "Pushes sent.", {{"type", "address"}}).inc(3);
  registry.counter("ambit_pushes_total", "ignored", {{"type", "address"}}).inc();
  registry.gauge("ambit_clients", "Connected clients.").set(2);
  auto& h = registry.histogram("ambit_push_seconds", "Push latency.", {0.1, 1});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  CHECK(registry.render() ==
        "# HELP ambit_clients Connected clients.\n"
        "# TYPE ambit_clients gauge\n"
        "ambit_clients 2\n"
        "# HELP ambit_push_seconds Push latency.\n"
        "# TYPE ambit_push_seconds histogram\n"
        "ambit_push_seconds_bucket{le=\"0.1\"} 1\n"
        "ambit_push_seconds_bucket{le=\"1\"} 2\n"
        "ambit_push_seconds_bucket{le=\"+Inf\"} 3\n"
        "ambit_push_seconds_sum 5.55\n"
        "ambit_push_seconds_count 3\n"
        "# HELP ambit_pushes_total Pushes sent.\n"
        "# TYPE ambit_pushes_total counter\n"
        "ambit_pushes_total{type=\"address\"} 4\n");
}

TEST_CASE("label values are escaped", "[metrics]") {
  Registry registry;
  registry.counter("c", "h", {{"reason", "bad \"csr\"\n"}}).inc();
  CHECK(registry.render() == "# HELP c h\n# TYPE c counter\nc{reason=\"bad \\\"csr\\\"\\n\"} 1\n");
}

TEST_CASE("a collected family renders in name order with series kept outside", "[metrics]") {
  Registry registry;
  registry.counter("b_total", "B.").inc();
  uint64_t outside = 7;
  registry.collect("a_total", "A.", "counter", [&outside](std::string& out) {
    out += "a_total" + labelText({{"k", "v \"q\""}}) + " " + std::to_string(outside) + "\n";
  });
  registry.collect("c_total", "C.", "counter", [](std::string&) {});
  outside = 9;
  CHECK(registry.render() ==
        "# HELP a_total A.\n# TYPE a_total counter\na_total{k=\"v \\\"q\\\"\"} 9\n"
        "# HELP b_total B.\n# TYPE b_total counter\nb_total 1\n"
        "# HELP c_total C.\n# TYPE c_total counter\n");
  CHECK(labelText({}).empty());
}

}  // namespace
}  // namespace ambit::metrics
