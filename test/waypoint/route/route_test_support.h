// Helpers for the route tests: configuration from the YAML users write (through Ambit's loader)
// or from the text format of the specs, services, and requests.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "waypoint/route/route_config.h"
#include "waypoint/route/route_decision.h"

namespace ambit::waypoint::testing {

// The VirtualServices and DestinationRules of a YAML stream, loaded and validated as ambitctl
// does (the test fails on any error); namespace "default" when the documents set none.
struct Objects {
  std::vector<VirtualServiceEntry> virtual_services;
  std::vector<DestinationRuleEntry> destination_rules;
};
Objects loadYaml(const std::string& yaml);

// A VirtualService or DestinationRule from the text format of its spec.
VirtualServiceEntry virtualService(const std::string& namespace_, const std::string& name,
                                   const std::string& spec);
DestinationRuleEntry destinationRule(const std::string& namespace_, const std::string& name,
                                     const std::string& spec);

// Service <name>.<namespace>.svc.cluster.local with one VIP and port 80.
ServiceInfo service(const std::string& namespace_, const std::string& name,
                    const std::string& vip = "10.96.0.10");

std::shared_ptr<const RouteConfig> build(Objects objects, std::vector<ServiceInfo> services);

// The text of one of Istio's examples as users write them, samples/istio/<file>.
std::string exampleYaml(const std::string& file);
// The text of example 02-destinationrule-pool-lb-subsets.yaml: DestinationRule my-service with
// subsets v1 and v2.
const std::string& example02Yaml();
// A snapshot of one example's YAML with example 02, for service my-service.default.
std::shared_ptr<const RouteConfig> withExample02(const std::string& yaml);

// A request that owns what its view points to.
struct Request {
  std::string method = "GET";
  std::string scheme = "http";
  std::string authority = "my-service";
  std::string path = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  uint16_t port = 80;
  std::string source_namespace = "default";
  std::map<std::string, std::string> source_labels;

  Request& header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  Request& at(std::string target) {
    path = std::move(target);
    return *this;
  }
  RequestView view() const;
};

// The first random number at or above the point `numerator / denominator` (below 1) of the range:
// i / n for i in [0, n) are n evenly spread draws.
uint32_t randomAt(uint64_t numerator, uint64_t denominator);

}  // namespace ambit::waypoint::testing
