// The shared rules on their own: names, addresses, hosts, durations and match values.
#include "core/config/validate/common.h"

#include <catch2/catch.hpp>

namespace ambit::config::validate {
namespace {

std::vector<std::string> lines(const Issues& issues) {
  std::vector<std::string> out;
  for (const Issue& i : issues.items()) {
    out.push_back(std::string(i.severity == Severity::kError ? "error " : "warning ") + i.path +
                  ": " + i.message);
  }
  return out;
}

TEST_CASE("DNS names and labels", "[validate][common]") {
  CHECK(isDns1123Label("reviews-v1"));
  CHECK_FALSE(isDns1123Label("Reviews"));
  CHECK_FALSE(isDns1123Label("-a"));
  CHECK_FALSE(isDns1123Label(std::string(64, 'a')));
  CHECK(isDns1123Label(std::string(63, 'a')));
  CHECK(isDns1123Subdomain("a.b-c.d"));
  CHECK_FALSE(isDns1123Subdomain("a..b"));
  CHECK_FALSE(isDns1123Subdomain("a.-b"));
  CHECK(isDns1035Label("a1"));
  CHECK_FALSE(isDns1035Label("1a"));
  CHECK(isIstioDnsLabel("V1"));
  CHECK(isIanaServiceName("http-web"));
  CHECK_FALSE(isIanaServiceName("http--web"));
  CHECK_FALSE(isIanaServiceName("8080"));
  CHECK_FALSE(isIanaServiceName("a-very-long-port-name"));

  CHECK(dnsNameProblem("reviews", false).empty());
  CHECK(dnsNameProblem("reviews.shop.svc.cluster.local.", false).empty());
  CHECK(dnsNameProblem("*.example.com", true).empty());
  CHECK(dnsNameProblem("*-svc.example.com", true).empty());
  CHECK(dnsNameProblem("*", true).empty());
  CHECK(dnsNameProblem("*.example.com", false) ==
        "\"*\" may appear only at the start of the first label");
  CHECK(dnsNameProblem(std::string(256, 'a'), true) == "it is longer than 255 characters");
  CHECK(dnsNameProblem(std::string(64, 'a') + ".com", false) ==
        "label \"" + std::string(64, 'a') + "\" is longer than 63 characters");
}

TEST_CASE("IP addresses and CIDR blocks", "[validate][common]") {
  CHECK(isIpAddress("10.0.0.1"));
  CHECK(isIpAddress("::1"));
  CHECK(isIpAddress("2001:db8::ff00:42:8329"));
  CHECK_FALSE(isIpAddress("10.0.0"));
  CHECK_FALSE(isIpAddress("10.0.0.01"));
  CHECK_FALSE(isIpAddress("example.com"));
  CHECK(isCidr("10.0.0.0/8"));
  CHECK(isCidr("10.0.0.0/32"));
  CHECK(isCidr("2001:db8::/128"));
  CHECK_FALSE(isCidr("10.0.0.0/33"));
  CHECK_FALSE(isCidr("10.0.0.0/"));
  CHECK_FALSE(isCidr("10.0.0.0/08"));
  CHECK_FALSE(isCidr("2001:db8::/129"));
  CHECK(isIpOrCidr("1.2.3.4"));
  CHECK_FALSE(isIpOrCidr("1.2.3.4/x"));
}

TEST_CASE("host overlap follows Istio's wildcard matching", "[validate][common]") {
  CHECK(hostsOverlap("*.example.com", "a.example.com"));
  CHECK(hostsOverlap("a.example.com", "*.example.com"));
  CHECK(hostsOverlap("*.com", "*.example.com"));
  CHECK(hostsOverlap("*", "anything"));
  CHECK_FALSE(hostsOverlap("a.example.com", "b.example.com"));
  CHECK(hostSubsetOf("a.example.com", "*.example.com"));
  CHECK(hostSubsetOf("*.a.example.com", "*.example.com"));
  CHECK_FALSE(hostSubsetOf("*.example.com", "*.a.example.com"));
  CHECK_FALSE(hostSubsetOf("*.example.com", "a.example.com"));
}

TEST_CASE("shared checks report the offending value", "[validate][common]") {
  Issues issues;
  checkPort(issues, "p", 0);
  checkPort(issues, "p", 65535);
  checkPercent(issues, "v", 100.5);
  checkDuration(issues, "d", google::protobuf::Duration(), "timeout");
  checkRegex(issues, "r", "a(b");
  checkRegex(issues, "r", std::string(1025, 'a'));
  checkMatchValue(issues, "m", "a*b", "principal");
  checkMatchValue(issues, "m", "*", "principal");
  checkMatchValue(issues, "m", "prefix*", "principal");
  checkMatchValue(issues, "m", "*suffix", "principal");
  checkHost(issues, "h", "", "destination host");
  CHECK(lines(issues) ==
        std::vector<std::string>{
            "error p: port must be between 1 and 65535, got 0",
            "error v: percentage must be between 0 and 100, got 100.5",
            "error d: timeout must be at least 1ms, got 0s",
            "error r: regex \"a(b\" does not compile: missing ): a(b",
            "error r: regex is 1025 characters long; at most 1024 are allowed",
            "error m: principal \"a*b\" is invalid: \"*\" may appear only at the start or the end",
            "error h: destination host is required"});
}

TEST_CASE("paths and quoting", "[validate][common]") {
  CHECK(field("spec", "hosts") == "spec.hosts");
  CHECK(field("", "metadata") == "metadata");
  CHECK(item("spec.http", 2) == "spec.http[2]");
  CHECK(key("spec.selector", "app") == "spec.selector.app");
  CHECK(key("spec.selector", "app.kubernetes.io/name") ==
        "spec.selector[\"app.kubernetes.io/name\"]");
  CHECK(q("a\"b\x01") == "\"a\\\"b\\x01\"");
}

}  // namespace
}  // namespace ambit::config::validate
