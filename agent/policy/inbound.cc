#include "agent/policy/inbound.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <vector>

#include <absl/strings/str_cat.h>

namespace ambit::agent {
namespace {

constexpr std::string_view kSpiffeScheme = "spiffe://";

std::string ipText(const IpBytes& ip) {
  char text[INET6_ADDRSTRLEN] = {};
  const int family = ip.size() == 4 ? AF_INET : ip.size() == 16 ? AF_INET6 : AF_UNSPEC;
  if (family == AF_UNSPEC || inet_ntop(family, ip.data(), text, sizeof(text)) == nullptr) {
    return absl::StrCat("<", ip.size(), "-byte address>");
  }
  return text;
}

constexpr size_t kMaxTrustDomain = 255;  // SPIFFE's limit

bool lowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool trustDomainChar(char c) { return lowerAlnum(c) || c == '.' || c == '-' || c == '_'; }

// Kubernetes names, as the identities the mesh issues carry them.
bool dns1123Label(std::string_view s) {
  return !s.empty() && s.size() <= 63 && lowerAlnum(s.front()) && lowerAlnum(s.back()) &&
         std::all_of(s.begin(), s.end(), [](char c) { return lowerAlnum(c) || c == '-'; });
}

bool dns1123Subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (size_t dot = s.find('.'); dot != std::string_view::npos; dot = s.find('.')) {
    if (!dns1123Label(s.substr(0, dot))) return false;
    s.remove_prefix(dot + 1);
  }
  return dns1123Label(s);
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

std::string SpiffeIdentity::principal() const {
  return absl::StrCat(trust_domain, "/ns/", ns, "/sa/", service_account);
}

std::optional<SpiffeIdentity> parseSpiffeIdentity(std::string_view uri) {
  if (uri.substr(0, kSpiffeScheme.size()) != kSpiffeScheme) return std::nullopt;
  std::vector<std::string_view> parts;
  std::string_view rest = uri.substr(kSpiffeScheme.size());
  for (size_t slash = rest.find('/'); slash != std::string_view::npos; slash = rest.find('/')) {
    parts.push_back(rest.substr(0, slash));
    rest.remove_prefix(slash + 1);
  }
  parts.push_back(rest);
  if (parts.size() != 5 || parts[1] != "ns" || parts[3] != "sa") return std::nullopt;
  const std::string_view td = parts[0];
  if (td.empty() || td.size() > kMaxTrustDomain ||
      !std::all_of(td.begin(), td.end(), trustDomainChar)) {
    return std::nullopt;
  }
  if (!dns1123Label(parts[2]) || !dns1123Subdomain(parts[4])) return std::nullopt;
  return SpiffeIdentity{std::string(td), std::string(parts[2]), std::string(parts[4])};
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
    if (std::optional<SpiffeIdentity> id = parseSpiffeIdentity(*connection.peer_principal)) {
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
