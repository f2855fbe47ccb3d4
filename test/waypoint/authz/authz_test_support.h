// Helpers for the waypoint authorization tests: policies from JSON (the spec as a YAML manifest
// writes it), and a request with plain defaults that a case changes where it matters.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "waypoint/authz/l7_policy.h"

namespace ambit::waypoint::testing {

using Policies = std::vector<std::shared_ptr<const CompiledL7Policy>>;
using Reason = L7AuthorizationDecision::Reason;

// Compiles the AuthorizationPolicy spec written as JSON ("{action: DENY, rules: [...]}" in JSON
// syntax) under the name "namespace/name"; the test fails when the JSON does not parse.
std::shared_ptr<const CompiledL7Policy> policy(const std::string& name, const std::string& json);

// A request from the mTLS peer cluster.local/ns/frontend/sa/web (10.0.0.5) to
// echo.demo:8080 (10.0.1.7), "GET /api/items?id=7", without a JWT.
struct TestRequest {
  std::string method = "GET";
  std::string host = "echo.demo:8080";
  std::string path = "/api/items?id=7";
  uint16_t port = 8080;
  std::vector<std::pair<std::string, std::string>> headers = {
      {"user-agent", "curl/8.0"}, {"x-tenant", "a"}, {"x-tenant", "b"}};
  std::optional<std::string> principal = "cluster.local/ns/frontend/sa/web";
  std::string source_namespace = "frontend";
  std::string source_ip = "10.0.0.5";
  std::string remote_ip;  // empty: the source IP
  std::string destination_ip = "10.0.1.7";
  std::string sni;
  std::optional<RequestAuth> auth;
  bool http = true;  // false: a stream carried as TCP

  // Views into this request.
  L7RequestAttributes attributes() const;
};

// The same peer and destination, carried as TCP: no method, path, host, headers or JWT.
TestRequest tcpStream();
// Plaintext: no peer identity.
TestRequest plaintext();
// With a validated JWT: principal "issuer.example.com/alice", audiences ["web", "api"],
// presenter "client-1" and the claims in `claims_json`.
TestRequest withJwt(const std::string& claims_json = "{}");

L7AuthorizationDecision decide(const Policies& policies, const TestRequest& request);

// How one rule (JSON) of an ALLOW policy in namespace "frontend" takes `request`.
enum class Outcome { kMatch, kNoMatch, kUnknown };
Outcome ruleOutcome(const std::string& rule_json, const TestRequest& request);
const char* outcomeName(Outcome outcome);

}  // namespace ambit::waypoint::testing
