#include "test/waypoint/route/route_test_support.h"

#include <fstream>
#include <sstream>

#include <google/protobuf/text_format.h>
#include <catch2/catch.hpp>

#include "core/config/loader.h"
#include "core/config/validate/validate.h"

namespace ambit::waypoint::testing {

Objects loadYaml(const std::string& yaml) {
  config::LoadResult loaded;
  config::Loader().loadText(yaml, "test.yaml", loaded);
  config::validate::validateAll(loaded.objects, loaded.diagnostics);
  for (const config::Diagnostic& diagnostic : loaded.diagnostics) {
    INFO(diagnostic.format());
    CHECK(diagnostic.severity != config::Severity::kError);
  }
  Objects out;
  for (const config::Object& object : loaded.objects) {
    if (object.kind->kind == config::Kind::kVirtualService) {
      out.virtual_services.push_back(
          {object.namespace_(), object.name(), object.as<networking::VirtualService>()});
    } else if (object.kind->kind == config::Kind::kDestinationRule) {
      out.destination_rules.push_back(
          {object.namespace_(), object.name(), object.as<networking::DestinationRule>()});
    }
  }
  return out;
}

VirtualServiceEntry virtualService(const std::string& namespace_, const std::string& name,
                                   const std::string& spec) {
  VirtualServiceEntry out{namespace_, name, {}};
  INFO(spec);
  REQUIRE(google::protobuf::TextFormat::ParseFromString(spec, &out.spec));
  return out;
}

DestinationRuleEntry destinationRule(const std::string& namespace_, const std::string& name,
                                     const std::string& spec) {
  DestinationRuleEntry out{namespace_, name, {}};
  INFO(spec);
  REQUIRE(google::protobuf::TextFormat::ParseFromString(spec, &out.spec));
  return out;
}

ServiceInfo service(const std::string& namespace_, const std::string& name,
                    const std::string& vip) {
  return ServiceInfo{namespace_, name + "." + namespace_ + ".svc.cluster.local", {vip}, {80}};
}

std::shared_ptr<const RouteConfig> build(Objects objects, std::vector<ServiceInfo> services) {
  RouteConfigInput input;
  input.virtual_services = std::move(objects.virtual_services);
  input.destination_rules = std::move(objects.destination_rules);
  input.services = std::move(services);
  auto config = RouteConfig::build(std::move(input));
  INFO(config.status().ToString());
  REQUIRE(config.ok());
  return *config;
}

std::string exampleYaml(const std::string& file) {
  const std::string path = std::string(AMBIT_SOURCE_DIR) + "/samples/istio/" + file;
  std::ifstream in(path);
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

const std::string& example02Yaml() {
  static const std::string yaml = exampleYaml("02-destinationrule-pool-lb-subsets.yaml");
  return yaml;
}

std::shared_ptr<const RouteConfig> withExample02(const std::string& yaml) {
  return build(loadYaml(yaml + "\n---\n" + example02Yaml()), {service("default", "my-service")});
}

RequestView Request::view() const {
  RequestView out;
  out.method = method;
  out.scheme = scheme;
  out.authority = authority;
  out.path = path;
  out.headers = &headers;
  out.port = port;
  out.source_namespace = source_namespace;
  out.source_labels = &source_labels;
  return out;
}

uint32_t randomAt(uint64_t numerator, uint64_t denominator) {
  return static_cast<uint32_t>(((numerator << 32) + denominator - 1) / denominator);
}

}  // namespace ambit::waypoint::testing
