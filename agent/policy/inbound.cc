#include "agent/policy/inbound.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <vector>

#include <absl/strings/str_cat.h>

#include "core/tls/spiffe_id.h"

namespace ambit::agent {
namespace {

std::string ipText(const IpBytes& ip) {
  char text[INET6_ADDRSTRLEN] = {};
  const int family = ip.size() == 4 ? AF_INET : ip.size() == 16 ? AF_INET6 : AF_UNSPEC;
  if (family == AF_UNSPEC || inet_ntop(family, ip.data(), text, sizeof(text)) == nullptr) {
    return absl::StrCat("<", ip.size(), "-byte address>");
  }
  return text;
}

std::string peerText(const InboundDecision& d) {
  if (d.malformed_principal) return "malformed peer identity, taken as none";
  if (d.attributes.source_principal) return absl::StrCat("peer ", *d.attributes.source_principal);
  return "no peer identity";
}

}  // namespace

const char* inboundVerdictLabel(InboundDecision::Verdict verdict) {
  using Verdict = InboundDecision::Verdict;
  switch (verdict) {
    case Verdict::kAllow:
      return "allow";
    case Verdict::kNoConfig:
      return "no_config";
    case Verdict::kNotThisPod:
      return "not_this_pod";
    case Verdict::kAgentPort:
      return "agent_port";
    case Verdict::kUnknownDestination:
      return "unknown_destination";
    case Verdict::kDenied:
      return "denied";
    case Verdict::kCount:
      break;
  }
  return "unknown";
}

std::string InboundDecision::describe() const {
  switch (verdict) {
    case Verdict::kAllow:
    case Verdict::kDenied:
      return absl::StrCat(authz.describe(), " [", peerText(*this), "]");
    case Verdict::kNoConfig:
      return "no config from the control plane yet";
    case Verdict::kNotThisPod:
      return absl::StrCat("the destination ", ipText(attributes.destination_ip), " is workload ",
                          destination ? destination->uid() : "?", ", not this pod");
    case Verdict::kAgentPort:
      return absl::StrCat("the destination port ", attributes.destination_port,
                          " is an agent port");
    case Verdict::kUnknownDestination:
      return absl::StrCat("the destination ", ipText(attributes.destination_ip),
                          " is not a known workload");
    case Verdict::kCount:
      break;
  }
  return inboundVerdictLabel(verdict);
}

InboundDecision decideInbound(const Snapshot& snapshot, const InboundConnection& connection,
                              const AgentPorts& ports) {
  InboundDecision out;
  // Addresses are filled in early so every verdict's description can name them.
  out.attributes.source_ip = connection.peer_ip;
  out.attributes.destination_ip = connection.destination_ip;
  out.attributes.destination_port = connection.destination_port;
  // Without config the agent cannot know the pod's policies or mTLS mode: fail closed.
  if (snapshot.version() == 0) {
    out.verdict = InboundDecision::Verdict::kNoConfig;
    return out;
  }
  if (ports.contains(connection.destination_port)) {
    out.verdict = InboundDecision::Verdict::kAgentPort;
    return out;
  }
  out.destination = snapshot.workloadByIp(connection.destination_ip);
  if (out.destination == nullptr) {
    out.verdict = InboundDecision::Verdict::kUnknownDestination;
    return out;
  }
  if (connection.pod != nullptr) {
    const auto& own = connection.pod->addresses();
    if (std::find(own.begin(), own.end(), connection.destination_ip) == own.end()) {
      out.verdict = InboundDecision::Verdict::kNotThisPod;
      return out;
    }
  }
  if (connection.transport == InboundConnection::Transport::kHbone && connection.peer_principal) {
    if (absl::StatusOr<tls::SpiffeId> id = tls::SpiffeId::parse(*connection.peer_principal);
        id.ok()) {
      out.attributes.source_principal = id->principal();
      out.attributes.source_namespace = id->ns;
      out.attributes.source_service_account = id->service_account;
    } else {
      out.malformed_principal = true;
    }
  }
  out.authz = authorize(snapshot.policiesFor(*out.destination), out.attributes);
  out.verdict =
      out.authz.allowed ? InboundDecision::Verdict::kAllow : InboundDecision::Verdict::kDenied;
  return out;
}

}  // namespace ambit::agent
