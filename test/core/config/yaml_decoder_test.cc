#include "core/config/yaml_decoder.h"

#include <catch2/catch.hpp>

#include "istio/networking/v1alpha3/destination_rule.pb.h"
#include "istio/networking/v1alpha3/envoy_filter.pb.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"
#include "k8s/core.pb.h"

namespace ambit::config {
namespace {

namespace net = istio::networking::v1alpha3;

struct Decoded {
  std::vector<DecodeError> errors;
  FieldLines lines;
};

template <class T>
Decoded decodeInto(const std::string& yaml, T& message, bool lenient = false) {
  Decoded out;
  DecodeOptions options;
  options.ignore_unknown_fields = lenient;
  YamlDecoder decoder(options, &out.lines, &out.errors);
  decoder.decode(YAML::Load(yaml), message, "spec");
  return out;
}

TEST_CASE("decoder fills typed messages through the JSON mapping", "[decoder]") {
  net::VirtualService vs;
  const auto d = decodeInto(R"(
hosts: [reviews]
http:
- match:
  - headers:
      user-agent: {prefix: Mozilla}
    uri: {regex: "^/api/.*"}
  route:
  - destination: {host: reviews, subset: v1, port: {number: 9080}}
    weight: 90
  - destination: {host: reviews, subset: v2}
    weight: 10
  timeout: 1.5s
  retries: {attempts: 3, perTryTimeout: 100ms, retryOn: "5xx"}
  fault:
    delay: {percentage: {value: 0.5}, fixedDelay: 1m}
  mirrorPercentage: {value: 50}
  mirror_percent: 20
)",
                            vs);
  REQUIRE(d.errors.empty());
  REQUIRE(vs.http_size() == 1);
  const auto& route = vs.http(0);
  CHECK(route.match(0).headers().at("user-agent").prefix() == "Mozilla");
  CHECK(route.match(0).uri().regex() == "^/api/.*");
  CHECK(route.route(0).destination().port().number() == 9080);
  CHECK(route.route(1).weight() == 10);
  CHECK(route.timeout().seconds() == 1);
  CHECK(route.timeout().nanos() == 500000000);
  CHECK(route.retries().per_try_timeout().nanos() == 100000000);
  CHECK(route.fault().delay().fixed_delay().seconds() == 60);
  CHECK(route.fault().delay().percentage().value() == Approx(0.5));
  CHECK(route.mirror_percentage().value() == Approx(50));
  // The original proto field name is accepted too; mirror_percent is a deprecated UInt32Value.
  const auto* field = net::HTTPRoute::descriptor()->FindFieldByName("mirror_percent");
  const auto& percent = route.GetReflection()->GetMessage(route, field);
  CHECK(static_cast<const google::protobuf::UInt32Value&>(percent).value() == 20);
}

TEST_CASE("decoder records the line of every field path", "[decoder]") {
  net::VirtualService vs;
  const auto d = decodeInto(
      "hosts:\n- a\nhttp:\n- route:\n  - destination:\n      host: a\n    weight: 100\n", vs);
  REQUIRE(d.errors.empty());
  CHECK(d.lines.at("spec.hosts") == 1);
  CHECK(d.lines.at("spec.http[0].route[0].destination.host") == 6);
  CHECK(d.lines.at("spec.http[0].route[0].weight") == 7);
}

TEST_CASE("decoder reports each strictness violation with path, line and reason", "[decoder]") {
  struct Case {
    const char* yaml;
    const char* path;
    int line;
    const char* message;
  };
  const Case cases[] = {
      {"hosts: [a]\nhttp:\n- timout: 1s\n", "spec.http[0].timout", 3,
       "unknown field \"timout\"; did you mean \"timeout\"?"},
      {"hosts: [a]\nhttp:\n- route:\n  - weight: ten\n", "spec.http[0].route[0].weight", 4,
       "expected an integer, got a string (\"ten\")"},
      {"hosts: [a]\nhttp:\n- route:\n  - weight: 5000000000\n", "spec.http[0].route[0].weight", 4,
       "value 5000000000 is out of range for int32"},
      {"hosts: [a]\nhttp:\n- route:\n  - destination: {port: {number: -1}}\n",
       "spec.http[0].route[0].destination.port.number", 4,
       "value -1 is out of range for uint32 (it cannot be negative)"},
      {"hosts: [a]\nhttp:\n- timeout: 10 s\n", "spec.http[0].timeout", 3,
       "bad duration \"10 s\": unknown unit (expected e.g. 10s, 1.5s, 100ms, 1m30s)"},
      {"hosts: a\n", "spec.hosts", 1, "expected a list, got a string (\"a\")"},
      {"hosts: [1]\n", "spec.hosts[0]", 1,
       "expected a string (quote the value), got an integer (\"1\")"},
      {"hosts: [a]\nhttp:\n- match:\n  - uri: {exact: /a, prefix: /b}\n",
       "spec.http[0].match[0].uri.prefix", 4,
       "\"prefix\" and \"exact\" cannot both be set (only one of them is allowed)"},
      {"hosts: [a]\nhosts: [b]\n", "spec.hosts", 2, "field is set more than once"},
      {"http: [7]\n", "spec.http[0]", 1, "expected an object, got an integer (\"7\")"},
      {"hosts: [a]\nhttp:\n- match:\n  - ignoreUriCase: yes\n",
       "spec.http[0].match[0].ignoreUriCase", 4, "expected true or false, got a string (\"yes\")"},
      {"hosts: [~]\n", "spec.hosts[0]", 1, "list items cannot be null"},
  };
  for (const Case& c : cases) {
    INFO(c.yaml);
    net::VirtualService vs;
    const auto d = decodeInto(c.yaml, vs);
    REQUIRE(d.errors.size() == 1);
    CHECK(d.errors[0].path == c.path);
    CHECK(d.errors[0].line == c.line);
    CHECK(d.errors[0].message == c.message);
  }
}

TEST_CASE("decoder names the allowed enum values", "[decoder]") {
  net::DestinationRule dr;
  const auto d = decodeInto("host: a\ntrafficPolicy:\n  loadBalancer:\n    simple: FASTEST\n", dr);
  REQUIRE(d.errors.size() == 1);
  CHECK(d.errors[0].path == "spec.trafficPolicy.loadBalancer.simple");
  CHECK(d.errors[0].message ==
        "unknown value \"FASTEST\" for SimpleLB; expected one of UNSPECIFIED, LEAST_CONN, RANDOM, "
        "PASSTHROUGH, ROUND_ROBIN, LEAST_REQUEST");
}

TEST_CASE("decoder reads free-form Struct values", "[decoder]") {
  net::EnvoyFilter filter;
  const auto d = decodeInto(R"(
configPatches:
- applyTo: HTTP_FILTER
  patch:
    operation: INSERT_BEFORE
    value:
      name: envoy.filters.http.local_ratelimit
      typed_config:
        value: {token_bucket: {max_tokens: 100, fill_interval: 60s}, enabled: true, tags: [a, 1]}
)",
                            filter);
  REQUIRE(d.errors.empty());
  const auto& value = filter.config_patches(0).patch().value();
  CHECK(value.fields().at("name").string_value() == "envoy.filters.http.local_ratelimit");
  const auto& inner =
      value.fields().at("typed_config").struct_value().fields().at("value").struct_value();
  CHECK(inner.fields().at("token_bucket").struct_value().fields().at("max_tokens").number_value() ==
        100);
  CHECK(inner.fields().at("enabled").bool_value());
  CHECK(inner.fields().at("tags").list_value().values(1).number_value() == 1);
}

TEST_CASE("lenient mode ignores unknown fields but still checks types", "[decoder]") {
  k8s::Service svc;
  auto d = decodeInto(
      "metadata: {name: web, managedFields: [x]}\nspec:\n  ports:\n  - port: 80\n    targetPort: "
      "http\n  - port: 81\n    targetPort: 8081\n  sessionAffinity: None\n",
      svc, true);
  REQUIRE(d.errors.empty());
  CHECK(svc.spec().ports(0).target_port().str_val() == "http");
  CHECK(svc.spec().ports(1).target_port().int_val() == 8081);

  k8s::Service bad;
  d = decodeInto("spec:\n  ports:\n  - port: eighty\n", bad, true);
  REQUIRE(d.errors.size() == 1);
  CHECK(d.errors[0].path == "spec.spec.ports[0].port");
}

TEST_CASE("decoder bounds alias expansion", "[decoder][limits]") {
  // Each level references the previous one nine times: 9^11 nodes if expanded naively. The
  // bomb sits in a Struct, the one place where arbitrary nesting is allowed.
  std::string doc = "configPatches:\n- patch:\n    value:\n";
  doc += "      a0: &a0 [x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 12; ++i) {
    const std::string prev = "*a" + std::to_string(i - 1);
    doc += "      a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + prev + ", " + prev +
           ", " + prev + ", " + prev + ", " + prev + ", " + prev + ", " + prev + ", " + prev +
           ", " + prev + "]\n";
  }
  net::EnvoyFilter filter;
  const auto d = decodeInto(doc, filter);
  REQUIRE(d.errors.size() == 1);
  CHECK(d.errors[0].limit);
  CHECK(d.errors[0].message ==
        "document too large: more than 200000 nodes after expanding aliases");
}

}  // namespace
}  // namespace ambit::config
