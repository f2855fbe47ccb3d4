// The CEL subset of tag overrides: which expressions parse to what, which are refused, and the
// label value each gives a request.
#include <catch2/catch.hpp>

#include "waypoint/telemetry/telemetry_policy.h"

namespace ambit::waypoint {
namespace {

using Source = TagValue::Source;

TEST_CASE("parseTagValue reads the supported expressions") {
  struct Case {
    std::string expression;
    Source source;
    std::string text;
  };
  const Case cases[] = {
      {"'canary'", Source::kLiteral, "canary"},
      {"\"canary\"", Source::kLiteral, "canary"},
      {"\"it's\"", Source::kLiteral, "it's"},
      {"''", Source::kLiteral, ""},
      {"request.host", Source::kRequestHost, ""},
      {"request.method", Source::kRequestMethod, ""},
      {"request.url_path", Source::kRequestUrlPath, ""},
      {"request.path", Source::kRequestPath, ""},
      {"request.scheme", Source::kRequestScheme, ""},
      {"request.protocol", Source::kRequestProtocol, ""},
      {"request.headers['x-user-type']", Source::kRequestHeader, "x-user-type"},
      {"request.headers[\"X-User-Type\"]", Source::kRequestHeader, "x-user-type"},
      {"request.headers[ 'x-a' ]", Source::kRequestHeader, "x-a"},
      {"source.principal", Source::kSourcePrincipal, ""},
      {"destination.port", Source::kDestinationPort, ""},
      {"string(destination.port)", Source::kDestinationPort, ""},
      {"response.code", Source::kResponseCode, ""},
      {"string(response.code)", Source::kResponseCode, ""},
      {"  request.host  ", Source::kRequestHost, ""},
  };
  for (const Case& c : cases) {
    INFO(c.expression);
    const absl::StatusOr<TagValue> value = parseTagValue(c.expression);
    REQUIRE(value.ok());
    CHECK(value->source == c.source);
    CHECK(value->text == c.text);
  }
}

TEST_CASE("parseTagValue refuses what it does not evaluate, saying so") {
  const std::string refused[] = {
      "",
      "   ",
      "request.headers['x-custom'] || 'none'",
      "response.code >= 500 ? 'error' : 'ok'",
      "source.namespace",
      "request.headers[x-user]",
      "request.headers['']",
      "request.headers['a b']",
      "'unterminated",
      "'a\\'b'",
      "'a'b'",
      "string(source.namespace)",
      "node.metadata['NAME']",
      "request.host.size()",
  };
  for (const std::string& expression : refused) {
    INFO(expression);
    const absl::StatusOr<TagValue> value = parseTagValue(expression);
    CHECK_FALSE(value.ok());
  }
  const absl::StatusOr<TagValue> value = parseTagValue("source.namespace");
  CHECK(std::string(value.status().message()).find("\"source.namespace\" is not an expression") !=
        std::string::npos);
}

TEST_CASE("evaluateTagValue reads the request's facts") {
  HttpHeaders headers;
  headers.add("X-User-Type", "beta");
  headers.add("x-multi", "a");
  headers.add("X-Multi", "b");
  RequestFacts facts;
  facts.host = "my-service.default:80";
  facts.method = "POST";
  facts.path = "/api/items?page=2";
  facts.protocol = "HTTP/2";
  facts.headers = &headers;
  facts.source_principal = "spiffe://cluster.local/ns/default/sa/client";
  facts.destination_port = 8080;
  facts.response_code = 503;
  struct Case {
    std::string expression;
    std::string expected;
  };
  const Case cases[] = {
      {"'canary'", "canary"},
      {"request.host", "my-service.default:80"},
      {"request.method", "POST"},
      {"request.url_path", "/api/items"},
      {"request.path", "/api/items?page=2"},
      {"request.scheme", "http"},
      {"request.protocol", "HTTP/2"},
      {"request.headers['x-user-type']", "beta"},
      {"request.headers['x-multi']", "a,b"},
      {"request.headers['x-absent']", "unknown"},
      {"source.principal", "spiffe://cluster.local/ns/default/sa/client"},
      {"destination.port", "8080"},
      {"string(response.code)", "503"},
  };
  for (const Case& c : cases) {
    INFO(c.expression);
    const absl::StatusOr<TagValue> value = parseTagValue(c.expression);
    REQUIRE(value.ok());
    CHECK(evaluateTagValue(*value, facts) == c.expected);
  }
}

TEST_CASE("evaluateTagValue says unknown for what the request lacks") {
  const RequestFacts none;
  CHECK(evaluateTagValue(TagValue{Source::kRequestHost, ""}, none) == "unknown");
  CHECK(evaluateTagValue(TagValue{Source::kRequestHeader, "x-a"}, none) == "unknown");
  CHECK(evaluateTagValue(TagValue{Source::kSourcePrincipal, ""}, none) == "unknown");
  CHECK(evaluateTagValue(TagValue{Source::kDestinationPort, ""}, none) == "unknown");
  CHECK(evaluateTagValue(TagValue{Source::kRequestScheme, ""}, none) == "http");
  CHECK(evaluateTagValue(TagValue{Source::kLiteral, "x"}, none) == "x");
}

}  // namespace
}  // namespace ambit::waypoint
