// Telemetry rules: each row is a spec and every issue it must produce.
#include "test/core/config/validate/validate_test_util.h"

namespace ambit::config::validate::testing {
namespace {

void check(const std::vector<Case>& cases) {
  checkCases("telemetry.istio.io/v1", "Telemetry", cases);
}

TEST_CASE("valid telemetry has no issues", "[validate][telemetry]") {
  check({
      {R"yaml(selector: {matchLabels: {app: reviews}}
metrics:
- providers: [{name: prometheus}]
  overrides:
  - match: {metric: REQUEST_COUNT, mode: CLIENT}
    tagOverrides:
      request_host: {operation: UPSERT, value: request.host}
      response_flags: {operation: REMOVE}
  - match: {customMetric: my_metric}
    disabled: true
tracing:
- providers: [{name: zipkin}]
  randomSamplingPercentage: 12.5
  customTags:
    env: {environment: {name: ENV, defaultValue: dev}}
    user: {header: {name: x-user}}
    team: {literal: {value: shop}}
accessLogging:
- providers: [{name: envoy}]
  filter: {expression: "response.code >= 400 && request.headers['x-debug'] == \"1\""}
)yaml",
       {}},
  });
}

TEST_CASE("telemetry providers, overrides, tracing and access logs", "[validate][telemetry]") {
  check({
      {"metrics: [{providers: [{}]}]",
       {"error spec.metrics[0].providers[0].name: provider name must not be empty"}},
      {"metrics: [{overrides: [{tagOverrides: {response_code: {operation: REMOVE, value: x}}}]}]",
       {"error spec.metrics[0].overrides[0].tagOverrides.response_code.value: value must not be "
        "set when operation is REMOVE, got \"x\""}},
      {"metrics: [{overrides: [{tagOverrides: {response_code: {}}}]}]",
       {"warning spec.metrics[0].overrides[0].tagOverrides.response_code: tag override "
        "\"response_code\" has operation UPSERT but no value, so it sets nothing; set value to an "
        "expression such as request.host"}},
      {"metrics: [{overrides: [{tagOverrides: {\"\": {operation: REMOVE}}}]}]",
       {"warning spec.metrics[0].overrides[0].tagOverrides[\"\"]: tag name should not be "
        "empty"}},
      {"metrics: [{overrides: [{match: {customMetric: \"\"}}]}]",
       {"error spec.metrics[0].overrides[0].match.customMetric: customMetric must not be "
        "empty"}},
      {"tracing: [{randomSamplingPercentage: 101}]",
       {"error spec.tracing[0].randomSamplingPercentage: randomSamplingPercentage must be between "
        "0 and 100, got 101"}},
      {"tracing: [{providers: [{name: a}, {name: b}]}, {}]",
       {"warning spec.tracing: only one tracing entry is supported; the others are ignored",
        "warning spec.tracing[0].providers: only one tracing provider is supported; the others "
        "are ignored"}},
      {"tracing: [{customTags: {a: {literal: {}}, b: {header: {}}, c: {environment: {}}}}]",
       {"error spec.tracing[0].customTags.a.literal.value: literal value must not be empty",
        "error spec.tracing[0].customTags.b.header.name: header name must not be empty",
        "error spec.tracing[0].customTags.c.environment.name: environment variable name must not "
        "be empty"}},
      {"accessLogging: [{filter: {}}]",
       {"error spec.accessLogging[0].filter.expression: filter expression must not be empty"}},
      {"accessLogging: [{filter: {expression: \"response.code >= (400\"}}]",
       {"error spec.accessLogging[0].filter.expression: filter expression \"response.code >= "
        "(400\" is not a valid CEL expression: unclosed \"(\""}},
      {"accessLogging: [{filter: {expression: \"a == 'b\"}}]",
       {"error spec.accessLogging[0].filter.expression: filter expression \"a == 'b\" is not a "
        "valid CEL expression: unterminated string"}},
      {"accessLogging: [{filter: {expression: \"f(a])\"}}]",
       {"error spec.accessLogging[0].filter.expression: filter expression \"f(a])\" is not a "
        "valid CEL expression: unexpected \"]\""}},
      {"accessLogging: [{providers: [{name: \"\"}]}]",
       {"error spec.accessLogging[0].providers[0].name: provider name must not be empty"}},
      {"selector: {matchLabels: {app: a}}\ntargetRef: {kind: Service, name: a}",
       {"error spec.targetRef: only one of selector, targetRef and targetRefs may be set"}},
  });
}

}  // namespace
}  // namespace ambit::config::validate::testing
