// The JSON form of an explanation: the same facts as the text, keys in a fixed order.
#include <string>

#include "core/json/json_writer.h"
#include "ctl/explain/explain_format.h"
#include "ctl/explain/explain_text.h"

namespace ambit::ctl::explain {
namespace {

using waypoint::RouteDecision;

void writeLabels(json::Writer& w, const Labels& labels) {
  w.beginObject();
  for (const auto& [key, value] : labels) w.field(key, value);
  w.endObject();
}

void writeStrings(json::Writer& w, const std::vector<std::string>& lines) {
  w.beginArray();
  for (const std::string& line : lines) w.value(line);
  w.endArray();
}

const char* outcomeName(RouteStep::Outcome outcome) {
  switch (outcome) {
    case RouteStep::Outcome::kMatched:
      return "matched";
    case RouteStep::Outcome::kNotMatched:
      return "no match";
    case RouteStep::Outcome::kNeverApplies:
      return "never applies";
    case RouteStep::Outcome::kNotReached:
      return "not reached";
  }
  return "";
}

const char* kindName(RouteDecision::Kind kind) {
  switch (kind) {
    case RouteDecision::Kind::kForward:
      return "forward";
    case RouteDecision::Kind::kRedirect:
      return "redirect";
    case RouteDecision::Kind::kDirectResponse:
      return "directResponse";
    case RouteDecision::Kind::kNoRoute:
      return "noRoute";
  }
  return "";
}

void writeHead(json::Writer& w, const Explanation& e) {
  w.key("request").beginObject();
  w.field("method", e.method).field("authority", e.url.authority).field("path", e.url.target);
  w.field("port", static_cast<int>(e.url.port));
  w.endObject();
  if (!e.idle_virtual_services.empty()) {
    w.key("idleVirtualServices");
    writeStrings(w, e.idle_virtual_services);
  }
  w.key("source").beginObject();
  w.field("namespace", e.source.namespace_).field("workload", e.source.name);
  w.field("found", e.source.workload.has_value());
  if (e.source.workload) {
    w.field("kind", e.source.workload->kind).key("labels");
    writeLabels(w, e.source.workload->labels);
  }
  w.endObject();
  w.key("service").beginObject();
  w.field("namespace", e.service->namespace_()).field("name", e.service->name());
  w.field("host", e.hostname).field("resolvedBy", e.resolved_how);
  w.field("portName", e.port.name);
  w.field("portProtocol", e.port.protocol == PortProtocol::kHttp1   ? "HTTP/1.1"
                          : e.port.protocol == PortProtocol::kHttp2 ? "HTTP/2"
                          : e.port.protocol == PortProtocol::kTcp   ? e.port.protocol_name
                                                                    : "sniffed");
  w.endObject();
  w.key("waypoint").beginObject();
  w.field("uses", e.waypoint.uses);
  if (e.waypoint.uses) w.field("name", e.waypoint.display()).field("labelOn", e.waypoint.source);
  if (!e.waypoint.problem.empty()) w.field("reason", e.waypoint.problem);
  if (!e.waypoint.note.empty()) w.field("note", e.waypoint.note);
  w.endObject();
}

void writeSteps(json::Writer& w, const Explanation& e) {
  w.key("routes").beginArray();
  for (const RouteStep& step : e.steps) {
    w.beginObject();
    w.field("virtualService", step.rule->virtual_service).field("index", step.rule->index);
    if (!step.rule->name.empty()) w.field("name", step.rule->name);
    w.field("outcome", outcomeName(step.outcome));
    if (step.outcome == RouteStep::Outcome::kMatched) w.field("match", step.match_index);
    if (!step.why.empty()) {
      w.key("why");
      writeStrings(w, step.why);
    }
    w.endObject();
  }
  w.endArray();
}

void writeDestination(json::Writer& w, const Explanation& e, const Destination& d) {
  w.beginObject();
  w.field("host", d.target.host).field("subset", d.target.subset);
  w.field("port", static_cast<int>(d.target.port != 0 ? d.target.port : e.url.port));
  w.field("weight", static_cast<int64_t>(d.weight));
  if (d.decision) {
    w.field("outcome", kindName(d.decision->kind));
    if (d.decision->kind == RouteDecision::Kind::kNoRoute) {
      w.field("status", static_cast<int64_t>(d.decision->status)).field("flag", "NR");
      w.field("reason", d.decision->reason);
    } else {
      w.key("headers");
      writeStrings(w, headerLines(*d.decision->headers));
    }
  }
  w.field("destinationRule", d.policy.destination_rule).key("trafficPolicy");
  writeStrings(w, trafficPolicyLines(d.policy));
  w.key("endpoints").beginArray();
  for (const Workload& endpoint : d.endpoints) {
    w.beginObject().field("kind", endpoint.kind).field("name", endpoint.name).key("labels");
    writeLabels(w, endpoint.labels);
    w.endObject();
  }
  w.endArray();
  if (!d.endpoints_note.empty()) w.field("endpointsNote", d.endpoints_note);
  w.endObject();
}

void writeDecision(json::Writer& w, const Explanation& e) {
  const RouteDecision& d = e.decision;
  w.key("decision").beginObject();
  w.field("kind", kindName(d.kind));
  if (d.rule != nullptr) {
    w.field("virtualService", d.rule->virtual_service).field("index", d.rule->index);
  } else {
    w.field("defaultRoute", d.defaultRoute());
  }
  if (d.kind == RouteDecision::Kind::kNoRoute) {
    w.field("status", static_cast<int64_t>(d.status)).field("flag", "NR");
    w.field("reason", d.reason);
  }
  if (d.kind == RouteDecision::Kind::kRedirect) {
    w.field("status", static_cast<int64_t>(d.redirect.status));
    w.field("location", d.redirect.location());
  }
  if (d.kind == RouteDecision::Kind::kDirectResponse) {
    w.field("status", static_cast<int64_t>(d.direct_response.status));
    w.field("body", std::string(d.direct_response.body));
  }
  if (d.path) w.field("rewritePath", *d.path);
  if (d.authority) w.field("rewriteAuthority", *d.authority);
  w.field("totalWeight", static_cast<int64_t>(e.total_weight)).key("destinations").beginArray();
  for (const Destination& destination : e.destinations) writeDestination(w, e, destination);
  w.endArray();
  if (d.kind != RouteDecision::Kind::kNoRoute || d.rule != nullptr) {
    w.key("policy");
    writeStrings(w, routePolicyLines(*d.policy, d.rule == nullptr ||
                                                    d.rule->action ==
                                                        waypoint::HttpRouteRule::Action::kForward));
  }
  w.endObject();
}

}  // namespace

void printJson(const Explanation& e, std::ostream& out) {
  json::Writer w;
  w.beginObject();
  writeHead(w, e);
  if (e.waypoint.uses && e.port.protocol != PortProtocol::kTcp) {
    writeSteps(w, e);
    writeDecision(w, e);
    w.key("notes");
    writeStrings(w, e.notes);
  }
  w.endObject();
  out << w.str() << "\n";
}

}  // namespace ambit::ctl::explain
