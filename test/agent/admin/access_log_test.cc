// The access-log line: fields, their order, the byte counts per direction, and quoting.
#include "agent/admin/access_log.h"

#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

#include <catch2/catch.hpp>

#include "core/log.h"

namespace ambit::agent {
namespace {

using namespace std::chrono_literals;

ConnectionRecord outbound() {
  ConnectionRecord r;
  r.reporter = Reporter::kSource;
  r.source_address = "10.244.1.5:43210";
  r.source_workload = "client-5d8f9-abcde";
  r.source_namespace = "demo";
  r.source_principal = "spiffe://cluster.local/ns/demo/sa/client";
  r.destination_address = "10.244.2.7:15008";
  r.destination_hbone_address = "10.244.2.7:8080";
  r.destination_service = "echo.demo.svc.cluster.local";
  r.destination_workload = "echo-7c9d-xyz12";
  r.destination_namespace = "demo";
  r.destination_principal = "spiffe://cluster.local/ns/demo/sa/echo";
  r.source_to_destination_bytes = 67;
  r.destination_to_source_bytes = 490;
  r.duration = 14ms;
  r.security_policy = SecurityPolicy::kMutualTls;
  return r;
}

TEST_CASE("an access-log line has ztunnel's keys in a fixed order", "[access_log]") {
  struct Case {
    const char* name;
    ConnectionRecord record;
    std::string line;
  };
  ConnectionRecord inbound = outbound();
  inbound.reporter = Reporter::kDestination;
  inbound.source_address = "10.244.1.5:51000";

  ConnectionRecord plaintext = outbound();
  plaintext.security_policy = SecurityPolicy::kUnknown;
  plaintext.destination_address = "10.244.2.7:8080";
  plaintext.destination_hbone_address.clear();

  ConnectionRecord denied = inbound;
  denied.source_to_destination_bytes = 0;
  denied.destination_to_source_bytes = 0;
  denied.duration = 0ms;
  denied.decision = "deny_policy";
  denied.policy = "demo/deny-client";
  denied.group = 0;
  denied.response_flags = ResponseFlags::kDeny;

  ConnectionRecord failed = outbound();
  failed.destination_to_source_bytes = 0;
  failed.source_to_destination_bytes = 0;
  failed.duration = 10000ms;
  failed.response_flags = ResponseFlags::kConnectFailure;
  failed.error = "connect: timed out";

  ConnectionRecord unknown;  // nothing known but the addresses
  unknown.source_address = "192.0.2.1:1234";
  unknown.destination_address = "198.51.100.2:443";

  const Case cases[] = {
      {"outbound through a tunnel", outbound(),
       "src.addr=10.244.1.5:43210 src.workload=client-5d8f9-abcde src.namespace=demo "
       "src.identity=spiffe://cluster.local/ns/demo/sa/client dst.addr=10.244.2.7:15008 "
       "dst.hbone_addr=10.244.2.7:8080 dst.service=echo.demo.svc.cluster.local "
       "dst.workload=echo-7c9d-xyz12 dst.namespace=demo "
       "dst.identity=spiffe://cluster.local/ns/demo/sa/echo direction=outbound bytes_sent=67 "
       "bytes_recv=490 duration=14ms decision=allow response_flags=- "
       "security_policy=mutual_tls"},
      // The server's agent logs what its workload sent: the response.
      {"inbound: bytes from the server's side", inbound,
       "src.addr=10.244.1.5:51000 src.workload=client-5d8f9-abcde src.namespace=demo "
       "src.identity=spiffe://cluster.local/ns/demo/sa/client dst.addr=10.244.2.7:15008 "
       "dst.hbone_addr=10.244.2.7:8080 dst.service=echo.demo.svc.cluster.local "
       "dst.workload=echo-7c9d-xyz12 dst.namespace=demo "
       "dst.identity=spiffe://cluster.local/ns/demo/sa/echo direction=inbound bytes_sent=490 "
       "bytes_recv=67 duration=14ms decision=allow response_flags=- "
       "security_policy=mutual_tls"},
      // Nothing proved an identity, so none is claimed.
      {"plaintext: no identities", plaintext,
       "src.addr=10.244.1.5:43210 src.workload=client-5d8f9-abcde src.namespace=demo "
       "dst.addr=10.244.2.7:8080 dst.service=echo.demo.svc.cluster.local "
       "dst.workload=echo-7c9d-xyz12 dst.namespace=demo direction=outbound bytes_sent=67 "
       "bytes_recv=490 duration=14ms decision=allow response_flags=- security_policy=unknown"},
      {"denied by policy", denied,
       "src.addr=10.244.1.5:51000 src.workload=client-5d8f9-abcde src.namespace=demo "
       "src.identity=spiffe://cluster.local/ns/demo/sa/client dst.addr=10.244.2.7:15008 "
       "dst.hbone_addr=10.244.2.7:8080 dst.service=echo.demo.svc.cluster.local "
       "dst.workload=echo-7c9d-xyz12 dst.namespace=demo "
       "dst.identity=spiffe://cluster.local/ns/demo/sa/echo direction=inbound bytes_sent=0 "
       "bytes_recv=0 duration=0ms decision=deny_policy policy=demo/deny-client group=0 "
       "response_flags=DENY security_policy=mutual_tls"},
      {"a failure with its error", failed,
       "src.addr=10.244.1.5:43210 src.workload=client-5d8f9-abcde src.namespace=demo "
       "src.identity=spiffe://cluster.local/ns/demo/sa/client dst.addr=10.244.2.7:15008 "
       "dst.hbone_addr=10.244.2.7:8080 dst.service=echo.demo.svc.cluster.local "
       "dst.workload=echo-7c9d-xyz12 dst.namespace=demo "
       "dst.identity=spiffe://cluster.local/ns/demo/sa/echo direction=outbound bytes_sent=0 "
       "bytes_recv=0 duration=10000ms decision=allow response_flags=CONNECT "
       "security_policy=mutual_tls error=\"connect: timed out\""},
      {"unknown peers: empty fields left out", unknown,
       "src.addr=192.0.2.1:1234 dst.addr=198.51.100.2:443 direction=outbound bytes_sent=0 "
       "bytes_recv=0 duration=0ms decision=allow response_flags=- security_policy=unknown"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    CHECK(formatAccessLog(c.record) == c.line);
  }
}

TEST_CASE("values that could break the line are quoted and escaped", "[access_log]") {
  struct Case {
    std::string error;
    std::string shown;
  };
  const Case cases[] = {
      {"reset", "error=reset"},
      {"connection reset by peer", "error=\"connection reset by peer\""},
      {"say \"hi\"", "error=\"say \\\"hi\\\"\""},
      {"a=b", "error=\"a=b\""},
      {"back\\slash", "error=\"back\\\\slash\""},
      {"two\nlines", "error=\"two\\nlines\""},
      {"tab\there", "error=\"tab\\there\""},
      {std::string("bell\x07", 5), "error=\"bell\\x07\""},
      {"naïve", "error=naïve"},  // UTF-8 passes through
  };
  for (const Case& c : cases) {
    INFO(c.shown);
    ConnectionRecord r;
    r.error = c.error;
    const std::string line = formatAccessLog(r);
    CHECK(line.find('\n') == std::string::npos);
    const size_t at = line.find(" error=");
    REQUIRE(at != std::string::npos);
    CHECK(line.substr(at + 1) == c.shown);
  }
  // A workload name from the control plane is quoted the same way.
  ConnectionRecord r;
  r.source_workload = "evil decision=allow";
  CHECK(formatAccessLog(r).rfind("src.workload=\"evil decision=allow\" ", 0) == 0);
}

TEST_CASE("an inbound decision fills the record's decision fields", "[access_log]") {
  using Verdict = InboundDecision::Verdict;
  using Reason = AuthorizationDecision::Reason;
  struct Case {
    Verdict verdict;
    Reason reason;
    std::string decision;
    ResponseFlags flags;
    std::string policy;
  };
  const Case cases[] = {
      {Verdict::kAllow, Reason::kAllowedByPolicy, "allow", ResponseFlags::kNone, ""},
      {Verdict::kNoConfig, Reason::kAllowedNoPolicy, "no_config", ResponseFlags::kNone, ""},
      {Verdict::kUnknownDestination, Reason::kAllowedNoPolicy, "unknown_destination",
       ResponseFlags::kNone, ""},
      {Verdict::kDenied, Reason::kDeniedByPolicy, "deny_policy", ResponseFlags::kDeny,
       "demo/deny-client"},
      {Verdict::kDenied, Reason::kDeniedNoAllowMatch, "no_allow_match", ResponseFlags::kDeny, ""},
  };
  for (const Case& c : cases) {
    INFO(c.decision);
    InboundDecision decision;
    decision.verdict = c.verdict;
    decision.authz.reason = c.reason;
    decision.authz.policy = c.policy;
    decision.authz.group = c.policy.empty() ? -1 : 2;
    ConnectionRecord r;
    setDecision(r, decision);
    CHECK(std::string(r.decision) == c.decision);
    CHECK(r.response_flags == c.flags);
    CHECK(r.policy == (c.verdict == Verdict::kDenied ? c.policy : ""));
    const std::string line = formatAccessLog(r);
    CHECK(line.find(" decision=" + c.decision + " ") != std::string::npos);
    CHECK((line.find(" group=2 ") != std::string::npos) ==
          (c.verdict == Verdict::kDenied && !c.policy.empty()));
  }
}

TEST_CASE("logAccess writes the line to the access logger at info", "[access_log]") {
  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  sink->set_pattern("%l %n: %v");
  const std::shared_ptr<spdlog::logger> access = log::get("access");
  access->sinks().push_back(sink);
  const spdlog::level::level_enum level = access->level();

  access->set_level(spdlog::level::info);
  logAccess(outbound());
  CHECK(captured.str() == "info access: " + formatAccessLog(outbound()) + "\n");

  captured.str("");
  access->set_level(spdlog::level::warn);
  logAccess(outbound());
  CHECK(captured.str().empty());

  access->sinks().pop_back();
  access->set_level(level);
}

}  // namespace
}  // namespace ambit::agent
