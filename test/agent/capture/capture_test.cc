#include <catch2/catch.hpp>

#include "agent/capture/nftables_redirector.h"

namespace ambit::agent {
namespace {

TEST_CASE("makeRedirector knows nftables and names the valid modes otherwise") {
  auto nft = makeRedirector("nftables");
  REQUIRE(nft.ok());
  CHECK((*nft)->name() == "nftables");
  CHECK((*nft)->deliveryMark(CaptureConfig{}) == CaptureConfig{}.mark);
  auto unknown = makeRedirector("iptables");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(
      std::string(unknown.status().message()),
      Catch::Contains("\"iptables\"") && Catch::Contains("valid modes: auto, ebpf, nftables"));
}

TEST_CASE("auto falls back to nftables when eBPF capture cannot start; ebpf says why") {
  RedirectorOptions options;
  options.bpf.cgroup = "/nonexistent/cgroup";  // fails before anything is loaded or attached
  options.bpf.lock_dir = "/tmp";
  auto automatic = makeRedirector("auto", options);
  REQUIRE(automatic.ok());
  CHECK((*automatic)->name() == "nftables");
  auto ebpf = makeRedirector("ebpf", options);
  REQUIRE_FALSE(ebpf.ok());
  CHECK_THAT(std::string(ebpf.status().message()), Catch::Contains("/nonexistent/cgroup"));
}

TEST_CASE("the nftables ruleset replaces the table and follows the config") {
  CaptureConfig config;
  config.outbound_port = 16001;
  config.inbound_plaintext_port = 16006;
  config.hbone_port = 16008;
  config.mark = 0x1234;
  config.route_mark = 0x222;
  const std::string rules = NftablesRedirector::ruleset(config);
  // Re-install is one transaction: create-if-missing, delete, define.
  CHECK(rules.rfind("table inet ambit {}\ndelete table inet ambit\ntable inet ambit {\n", 0) == 0);
  CHECK_THAT(rules, Catch::Contains("type nat hook output priority -100;"));
  CHECK_THAT(rules, Catch::Contains("type nat hook prerouting priority dstnat;"));
  CHECK_THAT(rules, Catch::Contains("type route hook output priority mangle;"));
  CHECK_THAT(rules, Catch::Contains("meta l4proto tcp redirect to :16001"));
  CHECK_THAT(rules, Catch::Contains("meta l4proto tcp redirect to :16006"));
  CHECK_THAT(rules, Catch::Contains("tcp dport { 16008, 16001 } return"));
  CHECK_THAT(rules, Catch::Contains("meta mark 0x1234 return"));
  CHECK_THAT(rules, Catch::Contains("meta mark 0x1234 ct direction original ct mark set 0x1234"));
  CHECK_THAT(rules, Catch::Contains("ct direction reply ct mark 0x1234 meta mark set 0x222"));
  CHECK_THAT(rules, Catch::Contains("tcp dport 53 return"));
  CHECK_THAT(rules, Catch::Contains("ip daddr 127.0.0.0/8 return"));
  // Exclusions come before the redirect in each nat chain.
  CHECK(rules.find("tcp dport 53 return") < rules.find("redirect to :16001"));
  CHECK(rules.find("tcp dport { 16008, 16001 } return") < rules.find("redirect to :16006"));
}

TEST_CASE("install refuses a route mark equal to the capture mark") {
  CaptureConfig config;
  config.route_mark = config.mark;
  NftablesRedirector redirector;
  auto self = Netns::current();
  REQUIRE(self.ok());
  CHECK(redirector.install(*self, config, CaptureTarget{}).code() ==
        absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ambit::agent
