// Metadata of every kind, the light checks of Kubernetes kinds, and validateAll's diagnostics.
#include "core/config/codes.h"
#include "test/core/config/validate/validate_test_util.h"

namespace ambit::config::validate::testing {
namespace {

using Lines = std::vector<std::string>;

std::string object(const std::string& api_version, const std::string& kind,
                   const std::string& metadata, const std::string& rest = "") {
  return "apiVersion: " + api_version + "\nkind: " + kind + "\nmetadata: " + metadata + "\n" + rest;
}

TEST_CASE("metadata names, namespaces and labels", "[validate][metadata]") {
  const std::string vs = "spec: {hosts: [a], http: [{route: [{destination: {host: a}}]}]}\n";
  CHECK(issuesOf(object("networking.istio.io/v1", "VirtualService", "{name: my.routes}", vs))
            .empty());
  CHECK(issuesOf(object("networking.istio.io/v1", "VirtualService", "{name: My_Routes}", vs)) ==
        Lines{"error metadata.name: name \"My_Routes\" is invalid: it must be a DNS subdomain "
              "(lowercase letters, digits, '-' and '.', at most 253 characters)"});
  CHECK(issuesOf(object("networking.istio.io/v1", "VirtualService",
                        "{name: r, namespace: Shop, labels: {app: \"-x\"}}", vs)) ==
        Lines{"error metadata.namespace: namespace \"Shop\" is not a DNS label (at most 63 "
              "lowercase letters, digits and '-')",
              "error metadata.labels.app: label value \"-x\" is invalid: it must consist of "
              "letters, digits, '-', '_' or '.', starting and ending with a letter or digit"});
  CHECK(issuesOf(object("networking.istio.io/v1", "Gateway", "{name: my.gateway}",
                        "spec: {servers: [{port: {number: 80, name: http, protocol: HTTP}, "
                        "hosts: [a.example.com]}]}\n")) ==
        Lines{"error metadata.name: name \"my.gateway\" is invalid: it must be a DNS label (at "
              "most 63 lowercase letters, digits and '-', starting and ending with a letter or "
              "digit)"});
  CHECK(issuesOf(object("v1", "Namespace", "{name: shop.prod}")) ==
        Lines{"error metadata.name: name \"shop.prod\" is invalid: it must be a DNS label (at "
              "most 63 lowercase letters, digits and '-', starting and ending with a letter or "
              "digit)"});
  CHECK(issuesOf(object("v1", "Service", "{name: 1reviews}")) ==
        Lines{"error metadata.name: name \"1reviews\" is invalid: a service name must be a DNS "
              "label starting with a letter (at most 63 lowercase letters, digits and '-')"});
  CHECK(issuesOf(object("v1", "ServiceAccount", "{name: my.sa, namespace: shop}")).empty());
  CHECK(issuesOf(object("apps/v1", "Deployment", "{name: web, labels: {\"a/b/c\": x}}")) ==
        Lines{"error metadata.labels[\"a/b/c\"]: label key \"a/b/c\" is invalid: it must consist "
              "of letters, digits, '-', '_' or '.', starting and ending with a letter or digit"});
  CHECK(issuesOf("apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec: {}\n").empty());
  CHECK(issuesOf(object("networking.istio.io/v1", "VirtualService",
                        "{name: r, annotations: {istio.io/dry-run: \"true\"}}", vs)) ==
        Lines{"error metadata.annotations[\"istio.io/dry-run\"]: annotation istio.io/dry-run is "
              "supported only on authorization policies"});
}

TEST_CASE("kubernetes services", "[validate][kubernetes]") {
  const auto service = [](const std::string& spec) {
    return object("v1", "Service", "{name: reviews, namespace: shop}", "spec:\n" + spec);
  };
  CHECK(issuesOf(service("  selector: {app: reviews}\n  ports:\n  - {name: http, port: 9080, "
                         "targetPort: http-web}\n  - {name: grpc, port: 9090, targetPort: 9090, "
                         "protocol: TCP}\n"))
            .empty());
  CHECK(issuesOf(service("  ports: [{port: 80, targetPort: 0}]\n")).empty());
  CHECK(issuesOf(service("  ports: [{port: 0}, {name: b, port: 70000}]\n")) ==
        Lines{"error spec.ports[0].name: name is required when a service has several ports",
              "error spec.ports[0].port: port must be between 1 and 65535, got 0",
              "error spec.ports[1].port: port must be between 1 and 65535, got 70000"});
  CHECK(issuesOf(service("  ports: [{name: a, port: 80, targetPort: 70000}, {name: a, port: 81, "
                         "targetPort: http_web}]\n")) ==
        Lines{"error spec.ports[0].targetPort: targetPort must be between 1 and 65535, got 70000",
              "error spec.ports[1].name: port name \"a\" is already used by another port",
              "error spec.ports[1].targetPort: targetPort \"http_web\" is not a port number or a "
              "port name (at most 15 lowercase letters, digits and '-', with at least one "
              "letter)"});
  CHECK(issuesOf(service("  ports: [{name: Web, port: 80, nodePort: 99999, protocol: HTTP}]\n")) ==
        Lines{"error spec.ports[0].name: port name \"Web\" is not a DNS label",
              "error spec.ports[0].nodePort: nodePort must be between 1 and 65535, got 99999",
              "error spec.ports[0].protocol: protocol must be TCP, UDP or SCTP, got \"HTTP\""});
  CHECK(issuesOf(service("  selector: {\"app name\": x}\n  ports: [{port: 80}]\n")) ==
        Lines{"error spec.selector[\"app name\"]: label key \"app name\" is invalid: it must "
              "consist of letters, digits, '-', '_' or '.', starting and ending with a letter or "
              "digit"});
}

TEST_CASE("validateAll reports AMB0100 diagnostics with field lines", "[validate]") {
  const std::string yaml = R"yaml(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
      weight: 90
    - destination: {host: reviews, subset: v2}
      weight: 20
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: t, namespace: shop}
spec:
  metrics:
  - overrides:
    - tagOverrides:
        response_code: {operation: UPSERT}
)yaml";
  LoadResult result;
  Loader().loadText(yaml, "mesh.yaml", result);
  REQUIRE(result.diagnostics.empty());
  REQUIRE(result.objects.size() == 3);
  std::vector<Diagnostic> diagnostics;
  const std::vector<bool> valid = validateAll(result.objects, diagnostics);
  CHECK(valid == std::vector<bool>{false, true, true});
  REQUIRE(diagnostics.size() == 2);
  CHECK(diagnostics[0].code == codes::kInvalidValue);
  CHECK(diagnostics[0].severity == Severity::kError);
  CHECK(diagnostics[0].object.display() == "VirtualService shop/reviews");
  CHECK(diagnostics[0].origin.file == "mesh.yaml");
  CHECK(diagnostics[0].origin.line == 7);  // spec.http[0].route
  CHECK(diagnostics[0].field == "spec.http[0].route");
  CHECK(diagnostics[0].message == "weights must sum to 100, got 110");
  CHECK(diagnostics[1].severity == Severity::kWarning);
  CHECK(diagnostics[1].object.display() == "Telemetry shop/t");
  CHECK(diagnostics[1].origin.line == 26);
  CHECK(diagnostics[1].field == "spec.metrics[0].overrides[0].tagOverrides.response_code");
}

}  // namespace
}  // namespace ambit::config::validate::testing
