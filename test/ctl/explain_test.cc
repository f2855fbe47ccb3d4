// Tests of `ambitctl x explain` on the shipped samples and the cases in explain_cases/: the
// explanation itself (explain.h), its text, and the command's usage and errors.
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/config/loader.h"
#include "ctl/analyze/analyze_command.h"
#include "ctl/explain/explain.h"
#include "ctl/explain/explain_command.h"
#include "ctl/explain/target.h"
#include "ctl/explain/x_command.h"

namespace ambit::ctl {
namespace {

struct Run {
  int exit;
  std::string out;
  std::string err;
};

std::string source(const std::string& path) { return std::string(AMBIT_SOURCE_DIR) + "/" + path; }

const std::string kWaypoint = source("samples/waypoint");
const std::string kSubsets = source("samples/istio/02-destinationrule-pool-lb-subsets.yaml");
const std::string kCanary = source("samples/istio/03-canary-90-10.yaml");
const std::string kAbTesting = source("samples/istio/04-ab-testing.yaml");
const std::string kUndefinedSubset = source("test/ctl/explain_cases/undefined-subset.yaml");
const std::string kNoWaypoint = source("test/ctl/explain_cases/no-waypoint.yaml");
const std::string kPolicies = source("test/ctl/explain_cases/policies.yaml");

Run explainCommand(const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  const int exit = runExplain(args, out, err);
  return {exit, out.str(), err.str()};
}

Run xCommand(const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  const int exit = runExperimental(args, out, err);
  return {exit, out.str(), err.str()};
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<config::Object> load(const std::vector<std::string>& paths) {
  config::LoadResult loaded;
  const config::Loader loader;
  for (const std::string& path : paths) loader.loadPath(path, loaded);
  REQUIRE(loaded.diagnostics.empty());
  return std::move(loaded.objects);
}

TEST_CASE("a beta user goes to v2 by the first route", "[explain]") {
  const Run run =
      explainCommand({"-f", kWaypoint, "-f", kSubsets, "-f", kAbTesting, "--from", "default/client",
                      "GET", "http://my-service/api", "-H", "x-user-type: beta"});
  INFO(run.out << run.err);
  CHECK(run.exit == kExitOk);
  CHECK(run.err.empty());
  CHECK(has(run.out,
            "Service   default/my-service (my-service.default.svc.cluster.local)\n"
            "          my-service: search domain default.svc.cluster.local, the caller's "
            "namespace\n"
            "Port      80 (http): HTTP/1.1\n"));
  CHECK(has(run.out, "Waypoint  default/waypoint (istio.io/use-waypoint on Namespace default)"));
  CHECK(has(run.out, "default/my-service route 0: matched (match 0)"));
  CHECK(has(run.out, "default/my-service route 1: not reached"));
  CHECK(has(run.out, "Decision: forward, by default/my-service route 0"));
  CHECK(has(run.out, "Destination: my-service.default.svc.cluster.local subset v2 port 80"));
  CHECK(has(run.out, "loadBalancer: simple: LEAST_CONN"));
  CHECK(has(run.out, "connectionPool: tcp { max_connections: 100 }"));
  CHECK(has(run.out,
            "Deployment my-service-v2 (1 replica, pods labelled app=my-service, "
            "version=v2), version v2"));
  CHECK_FALSE(has(run.out, "my-service-v1"));
}

TEST_CASE("without the beta header the first route fails on it and v1 serves", "[explain]") {
  const Run run = explainCommand({"-f", kWaypoint, "-f", kSubsets, "-f", kAbTesting, "--from",
                                  "default/client", "GET", "http://my-service/api"});
  INFO(run.out << run.err);
  CHECK(run.exit == kExitOk);
  CHECK(has(run.out,
            "default/my-service route 0: no match\n"
            "      match 0: header x-user-type exact \"beta\" not satisfied"));
  CHECK(has(run.out, "default/my-service route 1: matched (it has no match conditions)"));
  CHECK(has(run.out, "Destination: my-service.default.svc.cluster.local subset v1 port 80"));
  CHECK(has(run.out, "loadBalancer: simple: ROUND_ROBIN"));
  CHECK(has(run.out, "Deployment my-service-v1 (2 replicas"));
  CHECK(has(run.out, "Retries: Istio's default (the route sets none): attempts 2"));
}

TEST_CASE("the explanation names the route, match and destinations", "[explain]") {
  const std::vector<config::Object> objects = load({kWaypoint, kSubsets, kAbTesting});
  explain::Request request;
  request.from_workload = "client";
  request.url = "http://my-service.default/api";
  const absl::StatusOr<explain::Explanation> e = explain::explainRequest(objects, request);
  REQUIRE(e.ok());
  CHECK(e->hostname == "my-service.default.svc.cluster.local");
  REQUIRE(e->source.workload.has_value());
  CHECK(e->source.workload->labels.at("app") == "client");
  REQUIRE(e->steps.size() == 2);
  CHECK(e->steps[0].outcome == explain::RouteStep::Outcome::kNotMatched);
  REQUIRE(e->steps[0].why.size() == 1);
  CHECK(has(e->steps[0].why[0], "x-user-type"));
  CHECK(e->steps[1].outcome == explain::RouteStep::Outcome::kMatched);
  REQUIRE(e->destinations.size() == 1);
  REQUIRE(e->destinations[0].decision.has_value());
  CHECK(e->destinations[0].decision->destination.subset == "v1");
  CHECK(e->destinations[0].policy.destination_rule == "default/my-service");
}

TEST_CASE("a canary shows every destination with its weight", "[explain]") {
  const Run run =
      explainCommand({"-f", kWaypoint, "-f", kSubsets, "-f", kCanary, "GET", "http://my-service/"});
  INFO(run.out << run.err);
  CHECK(run.exit == kExitOk);
  CHECK(has(run.out, "one drawn at random for each request with these weights"));
  CHECK(has(run.out,
            "- my-service.default.svc.cluster.local subset v1 port 80, weight 90 of 100 "
            "(90%)"));
  CHECK(has(run.out,
            "- my-service.default.svc.cluster.local subset v2 port 80, weight 10 of 100 "
            "(10%)"));
  CHECK(has(run.out, "Deployment my-service-v1"));
  CHECK(has(run.out, "Deployment my-service-v2"));
  CHECK(
      has(run.out,
          "From      default/unknown: no Deployment or Pod of that name is loaded, so no labels"));
}

TEST_CASE("a subset no DestinationRule defines gives no route", "[explain]") {
  const Run run = explainCommand(
      {"-f", kWaypoint, "-f", kSubsets, "-f", kUndefinedSubset, "GET", "http://my-service/"});
  INFO(run.out << run.err);
  CHECK(run.exit == kExitOk);
  CHECK(has(run.out, "Decision: no route: status 503, flag NR, by default/my-service route 0"));
  CHECK(has(run.out,
            "Reason: subset v3 of my-service.default.svc.cluster.local is not defined "
            "by any DestinationRule"));
}

TEST_CASE("a host that is no Service is an error", "[explain]") {
  const Run run = explainCommand({"-f", kWaypoint, "GET", "http://nope/"});
  CHECK(run.exit == kExitFindings);
  CHECK(run.out.empty());
  CHECK(has(run.err,
            "host nope is not a Service of the loaded objects (tried "
            "nope.default.svc.cluster.local, nope.svc.cluster.local"));
  const Run port = explainCommand({"-f", kWaypoint, "GET", "http://my-service:1234/"});
  CHECK(port.exit == kExitFindings);
  CHECK(has(port.err, "Service default/my-service has no port 1234 (its ports: 80"));
}

TEST_CASE("a TCP port is carried by the waypoint without HTTP routes", "[explain]") {
  const Run run =
      explainCommand({"-f", kWaypoint, "-f", kAbTesting, "GET", "http://my-service:9000/"});
  INFO(run.out << run.err);
  CHECK(run.exit == kExitOk);
  CHECK(has(run.out, "Port      9000 (tcp-echo): TCP\n"));
  CHECK(has(run.out, "as an opaque TCP stream"));
  CHECK_FALSE(has(run.out, "Decision"));
}

TEST_CASE("a Service without a waypoint is carried at L4 only", "[explain]") {
  const Run run = explainCommand(
      {"-f", kWaypoint, "-f", kNoWaypoint, "--from", "plain/x", "GET", "http://echo:8080/"});
  INFO(run.out << run.err);
  CHECK(run.exit == kExitOk);
  CHECK(has(run.out,
            "Waypoint  none: neither the Service nor its Namespace has an "
            "istio.io/use-waypoint label"));
  CHECK(has(run.out, "the node agent carries the request at L4"));
  CHECK(has(run.out,
            "VirtualService plain/echo names this Service but takes effect only through "
            "a waypoint"));
  CHECK_FALSE(has(run.out, "Decision"));
}

TEST_CASE("a route's rewrite, headers, timeout, retries, faults and mirror", "[explain]") {
  const Run run = explainCommand({"-f", kWaypoint, "-f", kSubsets, "-f", kPolicies, "--from",
                                  "default/client", "GET", "http://my-service/api/items?id=7"});
  INFO(run.out << run.err);
  CHECK(run.exit == kExitOk);
  CHECK(has(run.out, "default/my-service route 0 \"from-client\": matched (match 0)"));
  CHECK(has(run.out, "Request headers: remove x-debug; set x-route: from-client"));
  CHECK(has(run.out, "Response headers: add x-served-by: waypoint"));
  CHECK(has(run.out, "Pod my-service-v1-abc (labels app=my-service, version=v1), version v1"));
  CHECK(has(run.out, "Rewrite: path /api/items?id=7 -> /v2/items?id=7"));
  CHECK(has(run.out, "Timeout: 3s"));
  CHECK(has(run.out, "Retries: attempts 3, perTryTimeout 1s, retryOn 5xx,gateway-error"));
  CHECK(has(run.out, "Fault: delay 2s on 10% of requests"));
  CHECK(has(run.out, "Fault: abort with status 503 on 1.5% of requests"));
  CHECK(has(run.out, "Mirror: my-service.default.svc.cluster.local subset v2, 25% of requests"));

  const Run other = explainCommand(
      {"-f", kWaypoint, "-f", kSubsets, "-f", kPolicies, "GET", "http://my-service/api"});
  CHECK(has(other.out, "match 0: sourceLabels app=\"client\" not satisfied"));
  CHECK(has(other.out,
            "Decision: no route: status 404, flag NR\n"
            "  Reason: no route of default/my-service matches the request"));

  const Run redirect = explainCommand(
      {"-f", kWaypoint, "-f", kSubsets, "-f", kPolicies, "GET", "http://my-service/old?q=1"});
  CHECK(has(redirect.out, "Redirect: 308 to http://my-service/new?q=1"));
  const Run down = explainCommand(
      {"-f", kWaypoint, "-f", kSubsets, "-f", kPolicies, "POST", "http://my-service/down"});
  CHECK(has(down.out, "Response: status 503, body \"down for maintenance\""));
}

TEST_CASE("no VirtualService: the default route to the Service", "[explain]") {
  const Run run = explainCommand({"-f", kWaypoint, "GET", "http://my-service/"});
  INFO(run.out << run.err);
  CHECK(run.exit == kExitOk);
  CHECK(has(run.out, "No VirtualService names my-service.default.svc.cluster.local"));
  CHECK(has(run.out, "Decision: forward, by the default route"));
  CHECK(has(run.out, "Destination: my-service.default.svc.cluster.local port 80"));
  CHECK(has(run.out, "DestinationRule: none"));
  CHECK(has(run.out, "Deployment my-service-v1"));
  CHECK(has(run.out, "Deployment my-service-v2"));
}

TEST_CASE("json output", "[explain]") {
  const Run run = explainCommand({"-f", kWaypoint, "-f", kSubsets, "-f", kAbTesting, "-o", "json",
                                  "GET", "http://my-service/", "-H", "x-user-type: beta"});
  INFO(run.out << run.err);
  CHECK(run.exit == kExitOk);
  CHECK(has(run.out,
            "\"decision\": {\"kind\": \"forward\", \"virtualService\": "
            "\"default/my-service\", \"index\": 0"));
  CHECK(has(run.out, "\"subset\": \"v2\""));
}

TEST_CASE("URLs and hosts as a pod resolves them", "[explain]") {
  const absl::StatusOr<explain::Url> url = explain::parseUrl("http://My-Service:8080/a?b=1#c");
  REQUIRE(url.ok());
  CHECK(url->host == "my-service");
  CHECK(url->port == 8080);
  CHECK(url->target == "/a?b=1");
  CHECK(url->authority == "my-service:8080");
  const absl::StatusOr<explain::Url> bare = explain::parseUrl("echo.plain");
  REQUIRE(bare.ok());
  CHECK(bare->port == 80);
  CHECK(bare->target == "/");
  CHECK(bare->authority == "echo.plain");
  CHECK(explain::parseUrl("https://x/").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_FALSE(explain::parseUrl("http://x:0/").ok());
  CHECK_FALSE(explain::parseUrl("http:///a").ok());

  const std::vector<config::Object> objects = load({kWaypoint, kNoWaypoint});
  const explain::Inventory inventory(objects);
  const auto resolve = [&](const std::string& host, const std::string& ns) {
    const absl::StatusOr<explain::ResolvedService> r = explain::resolveService(inventory, host, ns);
    return r.ok() ? r->hostname : std::string(r.status().message());
  };
  CHECK(resolve("echo", "plain") == "echo.plain.svc.cluster.local");
  CHECK(resolve("echo.plain", "default") == "echo.plain.svc.cluster.local");
  CHECK(resolve("echo.plain.svc", "default") == "echo.plain.svc.cluster.local");
  CHECK(resolve("echo.plain.svc.cluster.local.", "default") == "echo.plain.svc.cluster.local");
  CHECK(resolve("10.96.0.20", "default") == "echo.plain.svc.cluster.local");
  CHECK(has(resolve("echo", "default"), "is not a Service"));
  CHECK(has(resolve("10.96.0.99", "default"), "not the cluster IP"));
}

TEST_CASE("usage and input errors", "[explain]") {
  CHECK(explainCommand({"GET", "http://my-service/"}).exit == kExitUsage);
  CHECK(explainCommand({"-f", kWaypoint, "http://my-service/"}).exit == kExitUsage);
  CHECK(explainCommand({"-f", kWaypoint, "--from", "client", "GET", "http://a/"}).exit ==
        kExitUsage);
  CHECK(explainCommand({"-f", kWaypoint, "-H", "novalue", "GET", "http://a/"}).exit == kExitUsage);
  CHECK(explainCommand({"-f", kWaypoint, "GET", "ftp://my-service/"}).exit == kExitUsage);
  const Run missing = explainCommand({"-f", source("no/such/dir"), "GET", "http://a/"});
  CHECK(missing.exit == kExitFindings);
  CHECK(has(missing.err, "Error [AMB0001]"));
}

TEST_CASE("help of x and x explain", "[explain]") {
  const Run x = xCommand({"--help"});
  CHECK(x.exit == kExitOk);
  CHECK(has(x.out, "Usage: ambitctl x COMMAND [ARGS]"));
  CHECK(has(x.out, "  explain    explain what one HTTP request meets"));
  CHECK(xCommand({}).exit == kExitUsage);
  const Run unknown = xCommand({"frobnicate"});
  CHECK(unknown.exit == kExitUsage);
  CHECK(has(unknown.err, "unknown command \"frobnicate\""));

  const Run help = xCommand({"explain", "--help"});
  CHECK(help.exit == kExitOk);
  CHECK(has(help.out,
            "Usage: ambitctl x explain -f FILE|DIR [-f FILE|DIR]... "
            "[--from NAMESPACE/WORKLOAD]\n"
            "                         METHOD URL [-H 'name: value']... [-o text|json]"));
  CHECK(has(help.out, "--from NS/WORKLOAD"));
  CHECK(has(help.out, "Exit status: 0 when the request is explained"));
}

}  // namespace
}  // namespace ambit::ctl
