#include "test/waypoint/authz/authz_test_support.h"

#include <google/protobuf/util/json_util.h>
#include <catch2/catch.hpp>

namespace ambit::waypoint::testing {

std::shared_ptr<const CompiledL7Policy> policy(const std::string& name, const std::string& json) {
  istio::security::v1beta1::AuthorizationPolicy spec;
  const auto parsed = google::protobuf::util::JsonStringToMessage(json, &spec);
  INFO(json);
  REQUIRE(parsed.ok());
  auto compiled = compileL7Policy(name, spec);
  REQUIRE(compiled.ok());
  return *compiled;
}

L7RequestAttributes TestRequest::attributes() const {
  L7RequestAttributes out;
  out.method = method;
  out.host = host;
  out.path = path;
  out.destination_port = port;
  out.headers = &headers;
  if (principal) out.source_principal = *principal;
  out.source_namespace = source_namespace;
  out.source_ip = source_ip;
  out.remote_ip = remote_ip;
  out.destination_ip = destination_ip;
  out.sni = sni;
  out.auth = auth ? &*auth : nullptr;
  out.http = http;
  return out;
}

TestRequest tcpStream() {
  TestRequest out;
  out.method.clear();
  out.host.clear();
  out.path.clear();
  out.headers.clear();
  out.http = false;
  return out;
}

TestRequest plaintext() {
  TestRequest out;
  out.principal.reset();
  return out;
}

TestRequest withJwt(const std::string& claims_json) {
  TestRequest out;
  RequestAuth auth;
  auth.principal = "issuer.example.com/alice";
  auth.audiences = {"web", "api"};
  auth.presenter = "client-1";
  const auto parsed = google::protobuf::util::JsonStringToMessage(claims_json, &auth.claims);
  INFO(claims_json);
  REQUIRE(parsed.ok());
  out.auth = std::move(auth);
  return out;
}

L7AuthorizationDecision decide(const Policies& policies, const TestRequest& request) {
  const L7RequestAttributes attributes = request.attributes();
  return authorizeRequest(policies, attributes);
}

Outcome ruleOutcome(const std::string& rule_json, const TestRequest& request) {
  const auto allow =
      policy("frontend/under-test", R"({"action": "ALLOW", "rules": [)" + rule_json + "]}");
  const L7AuthorizationDecision decision = decide({allow}, request);
  switch (decision.reason) {
    case Reason::kAllowedByPolicy:
      return Outcome::kMatch;
    case Reason::kDeniedNoAllowMatch:
      return Outcome::kNoMatch;
    case Reason::kDeniedUnsupported:
      return Outcome::kUnknown;
    default:
      FAIL("unexpected reason " << l7ReasonLabel(decision.reason));
      return Outcome::kNoMatch;
  }
}

const char* outcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kMatch:
      return "match";
    case Outcome::kNoMatch:
      return "no match";
    case Outcome::kUnknown:
      return "unknown";
  }
  return "?";
}

}  // namespace ambit::waypoint::testing
