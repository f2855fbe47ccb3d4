#include <set>
#include <string>

#include <absl/strings/str_cat.h>
#include <absl/strings/str_join.h>

#include "ctl/explain/explain_format.h"
#include "ctl/explain/explain_text.h"
#include "k8s/core.pb.h"

namespace ambit::ctl::explain {
namespace {

using waypoint::RouteDecision;

// "80 (http): HTTP/1.1"
std::string portText(uint16_t number, const ServicePortInfo& port) {
  const std::string name = port.name.empty() ? std::string() : absl::StrCat(" (", port.name, ")");
  switch (port.protocol) {
    case PortProtocol::kHttp1:
      return absl::StrCat(number, name, ": HTTP/1.1");
    case PortProtocol::kHttp2:
      return absl::StrCat(number, name, ": HTTP/2");
    case PortProtocol::kTcp:
      return absl::StrCat(number, name, ": ", port.protocol_name);
    case PortProtocol::kSniffed:
      break;
  }
  return absl::StrCat(number, name,
                      ": no protocol declared, sniffed; HTTP/1.1 and HTTP/2 are routed");
}

void printHeader(const Explanation& e, std::ostream& out) {
  out << "Request   " << e.method << " http://" << e.url.authority << e.url.target << "\n";
  out << "From      " << e.source.namespace_ << "/" << e.source.name << ": " << sourceText(e.source)
      << "\n";
  out << "Service   " << e.service->namespace_() << "/" << e.service->name() << " (" << e.hostname
      << ")\n"
      << "          " << e.url.host << ": " << e.resolved_how << "\n";
  out << "Port      " << portText(e.url.port, e.port) << "\n";
  if (e.waypoint.uses) {
    out << "Waypoint  " << e.waypoint.display() << " (istio.io/use-waypoint on "
        << e.waypoint.source << ")\n";
    if (!e.waypoint.note.empty()) out << "          note: " << e.waypoint.note << "\n";
  } else {
    out << "Waypoint  none: " << e.waypoint.problem << "\n";
  }
}

void printSteps(const Explanation& e, std::ostream& out) {
  if (e.steps.empty()) {
    out << "\nNo VirtualService names " << e.hostname
        << ":\nthe waypoint's default route sends the request to the Service itself.\n";
    return;
  }
  out << "\nRoutes of " << e.hostname << " (VirtualService "
      << absl::StrJoin(e.routes->virtual_services, ", ") << "), tried in order:\n";
  for (const RouteStep& step : e.steps) {
    out << "  " << routeLabel(*step.rule) << ": ";
    switch (step.outcome) {
      case RouteStep::Outcome::kMatched:
        out << (step.match_index < 0 ? std::string("matched (it has no match conditions)")
                                     : absl::StrCat("matched (match ", step.match_index, ")"))
            << "\n";
        break;
      case RouteStep::Outcome::kNotMatched:
        out << "no match\n";
        break;
      case RouteStep::Outcome::kNeverApplies:
        out << "never applies\n";
        break;
      case RouteStep::Outcome::kNotReached:
        out << "not reached\n";
        break;
    }
    for (const std::string& why : step.why) out << "      " << why << "\n";
  }
}

void printPolicy(const waypoint::TrafficPolicyView& policy, std::ostream& out) {
  if (policy.destination_rule.empty()) {
    out << "    DestinationRule: none (Envoy's defaults: round robin, no limits)\n";
    return;
  }
  out << "    DestinationRule " << policy.destination_rule << "\n";
  const std::vector<std::string> lines = trafficPolicyLines(policy);
  if (lines.empty()) out << "      (no traffic policy)\n";
  for (const std::string& line : lines) out << "      " << line << "\n";
}

// `reason`: whether to repeat a no-route reason here, when not every destination has it.
void printDestination(const Explanation& e, const Destination& d, bool weighted, bool reason,
                      std::ostream& out) {
  out << (weighted ? "  - " : "  Destination: ")
      << targetText(d.target, d.target.port != 0 ? d.target.port : e.url.port);
  if (weighted) {
    out << ", weight " << d.weight << " of " << e.total_weight << " ("
        << percentText(100.0 * d.weight / e.total_weight) << ")";
  }
  out << "\n";
  if (!d.decision) {
    out << "    never drawn (weight 0)\n";
  } else if (d.decision->kind == RouteDecision::Kind::kNoRoute) {
    out << "    no route: status " << d.decision->status << ", flag "
        << RouteDecision::kNoRouteFlag;
    out << (reason ? ": " + d.decision->reason : std::string(" (the reason above)")) << "\n";
    return;
  } else {
    for (const std::string& line : headerLines(*d.decision->headers)) {
      out << "    " << line << "\n";
    }
  }
  printPolicy(d.policy, out);
  if (d.endpoints.empty()) {
    out << "    Endpoints: none (" << d.endpoints_note << ")\n";
    return;
  }
  out << "    Endpoints:\n";
  for (const Workload& w : d.endpoints) out << "      " << workloadText(w) << "\n";
}

// The decision's first lines. Returns whether some destination forwards.
bool printVerdict(const Explanation& e, std::ostream& out) {
  const RouteDecision& d = e.decision;
  const std::string by =
      d.rule == nullptr ? std::string() : absl::StrCat(", by ", routeLabel(*d.rule));
  std::set<std::string> reasons;
  bool forwards = false;
  for (const Destination& destination : e.destinations) {
    if (!destination.decision) continue;
    if (destination.decision->kind == RouteDecision::Kind::kNoRoute) {
      reasons.insert(destination.decision->reason);
    } else {
      forwards = true;
    }
  }
  out << "\nDecision: ";
  if (d.kind == RouteDecision::Kind::kRedirect) {
    out << "redirect" << by << "\n  Redirect: " << d.redirect.status << " to "
        << d.redirect.location() << "\n";
  } else if (d.kind == RouteDecision::Kind::kDirectResponse) {
    out << "direct response" << by << "\n  Response: status " << d.direct_response.status
        << ", body \"" << std::string(d.direct_response.body) << "\"\n";
  } else if (d.kind == RouteDecision::Kind::kNoRoute && (d.rule == nullptr || !forwards)) {
    if (d.rule == nullptr) reasons.insert(d.reason);
    out << "no route: status " << d.status << ", flag " << RouteDecision::kNoRouteFlag << by
        << "\n";
    for (const std::string& reason : reasons) out << "  Reason: " << reason << "\n";
  } else {
    out << "forward" << (d.rule == nullptr ? ", by the default route" : by) << "\n";
  }
  return forwards;
}

void printDecision(const Explanation& e, std::ostream& out) {
  const bool forwards = printVerdict(e, out);
  const RouteDecision& d = e.decision;
  if (d.rule == nullptr && d.kind == RouteDecision::Kind::kNoRoute) return;
  const bool weighted = e.destinations.size() > 1;
  if (weighted) {
    out << "  Destinations, one drawn at random for each request with these weights:\n";
  }
  for (const Destination& destination : e.destinations) {
    printDestination(e, destination, weighted, forwards, out);
  }
  if (d.rule == nullptr || d.rule->action != waypoint::HttpRouteRule::Action::kForward) {
    for (const std::string& line : headerLines(*d.headers)) out << "  " << line << "\n";
  }
  if (d.path) out << "  Rewrite: path " << e.url.target << " -> " << *d.path << "\n";
  if (d.authority) out << "  Rewrite: authority -> " << *d.authority << "\n";
  const bool forward =
      d.rule == nullptr || d.rule->action == waypoint::HttpRouteRule::Action::kForward;
  for (const std::string& line : routePolicyLines(*d.policy, forward)) {
    out << "  " << line << "\n";
  }
}

}  // namespace

void printText(const Explanation& e, std::ostream& out) {
  printHeader(e, out);
  if (!e.waypoint.uses) {
    out << "\nNo waypoint carries this Service: the node agent carries the request at L4 (mTLS in\n"
           "HBONE); no HTTP route is taken and no VirtualService applies.\n";
    if (!e.idle_virtual_services.empty()) {
      out << "VirtualService " << absl::StrJoin(e.idle_virtual_services, ", ")
          << " names this Service but takes effect only through a waypoint.\n";
    }
    return;
  }
  if (e.port.protocol == PortProtocol::kTcp) {
    out << "\nThe waypoint carries port " << e.url.port
        << " as an opaque TCP stream: its TCP routes decide and no HTTP\nroute is taken.\n";
    return;
  }
  printSteps(e, out);
  printDecision(e, out);
  if (!e.notes.empty()) {
    out << "\nNotes from compiling the waypoint's config:\n";
    for (const std::string& note : e.notes) out << "  " << note << "\n";
  }
}

}  // namespace ambit::ctl::explain
