// The agent's own counters: denies by reason, TLS handshakes by result, the HBONE pool.
#include "agent/admin/agent_metrics.h"

#include <catch2/catch.hpp>

namespace ambit::agent {
namespace {

using Reason = AuthorizationDecision::Reason;
using Verdict = InboundDecision::Verdict;

// The value of one series in a render, or -1 when it is absent.
long long valueOf(const std::string& text, const std::string& series) {
  const std::string prefix = series + " ";
  size_t at = text.find("\n" + prefix);
  if (at == std::string::npos) return -1;
  at += 1 + prefix.size();
  return std::stoll(text.substr(at, text.find('\n', at) - at));
}

TEST_CASE("denies are counted by direction and the policy decision's reason", "[agent_metrics]") {
  struct Case {
    Reason reason;
    std::string label;  // empty: an allowing reason, which counts nothing
  };
  const Case cases[] = {
      {Reason::kAllowedNoPolicy, ""},
      {Reason::kAllowedNoAllowPolicy, ""},
      {Reason::kAllowedByPolicy, ""},
      {Reason::kDeniedByPolicy, "deny_policy"},
      {Reason::kDeniedUnsupported, "deny_unsupported"},
      {Reason::kDeniedNoAllowMatch, "no_allow_match"},
      {Reason::kDeniedAllowUnsupported, "allow_unsupported"},
  };
  for (const Case& c : cases) {
    INFO(authorizationReasonLabel(c.reason));
    AgentMetrics metrics;
    const std::string before = metrics.registry().render();
    metrics.denied(Direction::kHbone, c.reason);
    const std::string after = metrics.registry().render();
    if (c.label.empty()) {
      CHECK(after == before);
    } else {
      const std::string series =
          "ambit_agent_denied_total{direction=\"hbone\",reason=\"" + c.label + "\"}";
      CHECK(valueOf(before, series) == 0);
      CHECK(valueOf(after, series) == 1);
      CHECK(valueOf(after, "ambit_agent_denied_total{direction=\"inbound\",reason=\"" + c.label +
                               "\"}") == 0);
    }
  }
}

TEST_CASE("an inbound decision counts under its verdict, or its policy reason when denied",
          "[agent_metrics]") {
  struct Case {
    Verdict verdict;
    Reason authz;
    std::string label;  // empty: allowed, counts nothing
  };
  const Case cases[] = {
      {Verdict::kAllow, Reason::kAllowedNoPolicy, ""},
      {Verdict::kNoConfig, Reason::kAllowedNoPolicy, "no_config"},
      {Verdict::kNotThisPod, Reason::kAllowedNoPolicy, "not_this_pod"},
      {Verdict::kAgentPort, Reason::kAllowedNoPolicy, "agent_port"},
      {Verdict::kUnknownDestination, Reason::kAllowedNoPolicy, "unknown_destination"},
      {Verdict::kDenied, Reason::kDeniedNoAllowMatch, "no_allow_match"},
      {Verdict::kDenied, Reason::kDeniedByPolicy, "deny_policy"},
  };
  for (const Case& c : cases) {
    INFO(inboundVerdictLabel(c.verdict));
    AgentMetrics metrics;
    InboundDecision decision;
    decision.verdict = c.verdict;
    decision.authz.reason = c.authz;
    const std::string before = metrics.registry().render();
    metrics.denied(Direction::kInbound, decision);
    const std::string after = metrics.registry().render();
    if (c.label.empty()) {
      CHECK(after == before);
    } else {
      CHECK(valueOf(after, "ambit_agent_denied_total{direction=\"inbound\",reason=\"" + c.label +
                               "\"}") == 1);
    }
    // "denied" is never a reason of its own: the policy's reason says more.
    CHECK(after.find("reason=\"denied\"") == std::string::npos);
  }
}

TEST_CASE("a refusal by the destination's agent has a reason of its own", "[agent_metrics]") {
  AgentMetrics metrics;
  metrics.deniedByDestination(Direction::kOutbound);
  CHECK(valueOf(metrics.registry().render(),
                "ambit_agent_denied_total{direction=\"outbound\",reason=\"destination_denied\"}") ==
        1);
}

TEST_CASE("TLS handshakes are counted by side and result", "[agent_metrics]") {
  struct Case {
    Side side;
    absl::Status status;
    std::string series;
  };
  const Case cases[] = {
      {Side::kClient, absl::OkStatus(),
       "ambit_agent_tls_handshakes_total{result=\"ok\",side=\"client\"}"},
      {Side::kServer, tls::peerRefusal(tls::PeerRejection::kExpired, "expired"),
       "ambit_agent_tls_handshakes_total{result=\"expired\",side=\"server\"}"},
      {Side::kClient, tls::peerRefusal(tls::PeerRejection::kWrongIdentity, "not whom we dialed"),
       "ambit_agent_tls_handshakes_total{result=\"wrong_identity\",side=\"client\"}"},
      {Side::kServer, tls::peerRefusal(tls::PeerRejection::kNoCertificate, "none"),
       "ambit_agent_tls_handshakes_total{result=\"no_certificate\",side=\"server\"}"},
      {Side::kServer, absl::UnavailableError("TLS handshake: connection reset"),
       "ambit_agent_tls_handshakes_total{result=\"error\",side=\"server\"}"},
  };
  for (const Case& c : cases) {
    INFO(c.series);
    AgentMetrics metrics;
    CHECK(valueOf(metrics.registry().render(), c.series) == 0);
    metrics.tlsHandshake(c.side, c.status);
    CHECK(valueOf(metrics.registry().render(), c.series) == 1);
  }
  // Every rejection reason has its series from the start, so rates need no absent series.
  AgentMetrics metrics;
  const std::string text = metrics.registry().render();
  for (size_t r = 0; r < static_cast<size_t>(tls::PeerRejection::kCount); ++r) {
    const std::string label = tls::peerRejectionLabel(static_cast<tls::PeerRejection>(r));
    CHECK(valueOf(text, "ambit_agent_tls_handshakes_total{result=\"" + label +
                            "\",side=\"client\"}") == 0);
  }
}

TEST_CASE("the HBONE pool gauge and stream counter are per side", "[agent_metrics]") {
  AgentMetrics metrics;
  metrics.hboneConnections(Side::kClient).add(2);
  metrics.hboneConnections(Side::kClient).add(-1);
  metrics.hboneConnections(Side::kServer).add(3);
  metrics.hboneStreamOpened(Side::kClient);
  metrics.hboneStreamOpened(Side::kClient);
  const std::string text = metrics.registry().render();
  CHECK(valueOf(text, "ambit_agent_hbone_connections{side=\"client\"}") == 1);
  CHECK(valueOf(text, "ambit_agent_hbone_connections{side=\"server\"}") == 3);
  CHECK(valueOf(text, "ambit_agent_hbone_streams_total{side=\"client\"}") == 2);
  CHECK(valueOf(text, "ambit_agent_hbone_streams_total{side=\"server\"}") == 0);
}

TEST_CASE("the Istio TCP metrics render with the agent's own", "[agent_metrics]") {
  AgentMetrics metrics;
  TcpLabels labels;
  labels.source_workload = "client";
  metrics.tcp().connection(labels).opened->inc();
  const std::string text = metrics.registry().render();
  CHECK(text.find("# TYPE istio_tcp_connections_opened_total counter\n") != std::string::npos);
  CHECK(text.find("source_workload=\"client\",source_workload_namespace=\"unknown\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("ambit_agent_connections_total{") != std::string::npos);
}

}  // namespace
}  // namespace ambit::agent
