// Spec parsing and counter reading for the waypoint config tests.
#include "test/waypoint/config/config_test_support.h"

#include <sstream>

#include <google/protobuf/util/json_util.h>
#include <catch2/catch.hpp>

namespace ambit::waypoint::testing {
namespace {

template <typename Spec>
Spec specFromJson(const std::string& json) {
  Spec spec;
  const auto parsed = google::protobuf::util::JsonStringToMessage(json, &spec);
  INFO(json);
  INFO(parsed.ToString());
  REQUIRE(parsed.ok());
  return spec;
}

}  // namespace

AuthorizationPolicyEntry authorizationPolicy(const std::string& namespace_, const std::string& name,
                                             const std::string& spec_json) {
  return AuthorizationPolicyEntry{
      namespace_, name, specFromJson<istio::security::v1beta1::AuthorizationPolicy>(spec_json)};
}

RequestAuthnEntry requestAuthentication(const std::string& namespace_, const std::string& name,
                                        const std::string& spec_json) {
  return RequestAuthnEntry{
      namespace_, name, specFromJson<istio::security::v1beta1::RequestAuthentication>(spec_json)};
}

SecurityTarget servedService(const std::string& namespace_, const std::string& name) {
  return SecurityTarget{namespace_, name, name + "." + namespace_ + ".svc.cluster.local"};
}

std::optional<uint64_t> counterValue(const metrics::Registry& registry, std::string_view series) {
  std::istringstream text(registry.render());
  const std::string prefix = std::string(series) + " ";
  for (std::string line; std::getline(text, line);) {
    if (line.rfind(prefix, 0) == 0) return std::stoull(line.substr(prefix.size()));
  }
  return std::nullopt;
}

}  // namespace ambit::waypoint::testing
