#include "waypoint/admin/config_dump.h"

#include <arpa/inet.h>

#include <string>
#include <utility>
#include <vector>

#include <absl/strings/str_cat.h>
#include <absl/strings/str_join.h>

#include "agent/admin/config_dump.h"
#include "core/json/json_writer.h"

namespace ambit::waypoint {
namespace {

using StringMatches = std::vector<std::pair<std::string, StringMatcher>>;

void addMatchers(std::vector<std::string>& parts, const char* what, const StringMatches& matches) {
  for (const auto& [name, matcher] : matches) {
    parts.push_back(absl::StrCat(what, " ", name, " ", matcher.describe()));
  }
}

void addLabels(std::vector<std::string>& parts,
               const std::vector<std::pair<std::string, std::string>>& labels) {
  if (labels.empty()) return;
  parts.push_back(
      absl::StrCat("sourceLabels ", absl::StrJoin(labels, ",", absl::PairFormatter("="))));
}

// `uri prefix "/api" && header x-user-type exact "beta"`; "*" for a match that sets nothing.
std::string matchSummary(const HttpMatch& match) {
  std::vector<std::string> parts;
  const std::pair<const char*, const std::optional<StringMatcher>*> fields[] = {
      {"uri", &match.uri},
      {"scheme", &match.scheme},
      {"method", &match.method},
      {"authority", &match.authority}};
  for (const auto& [name, matcher] : fields) {
    if (*matcher) parts.push_back(absl::StrCat(name, " ", (*matcher)->describe()));
  }
  addMatchers(parts, "header", match.headers);
  addMatchers(parts, "withoutHeader", match.without_headers);
  addMatchers(parts, "queryParam", match.query_params);
  if (match.port != 0) parts.push_back(absl::StrCat("port ", match.port));
  addLabels(parts, match.source_labels);
  if (!match.source_namespace.empty()) {
    parts.push_back(absl::StrCat("sourceNamespace ", match.source_namespace));
  }
  if (!match.never.empty()) parts.push_back(absl::StrCat("never: ", match.never));
  return parts.empty() ? "*" : absl::StrJoin(parts, " && ");
}

std::string cidrText(const Cidr& cidr) {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(cidr.v6 ? AF_INET6 : AF_INET, cidr.bytes.data(), text, sizeof(text));
  return absl::StrCat(text, "/", cidr.prefix);
}

std::string matchSummary(const L4Match& match) {
  std::vector<std::string> parts;
  if (match.port != 0) parts.push_back(absl::StrCat("port ", match.port));
  if (!match.destination_subnets.empty()) {
    std::vector<std::string> subnets;
    for (const Cidr& cidr : match.destination_subnets) subnets.push_back(cidrText(cidr));
    parts.push_back(absl::StrCat("destinationSubnets ", absl::StrJoin(subnets, ",")));
  }
  if (match.source_subnet) {
    parts.push_back(absl::StrCat("sourceSubnet ", cidrText(*match.source_subnet)));
  }
  addLabels(parts, match.source_labels);
  if (!match.source_namespace.empty()) {
    parts.push_back(absl::StrCat("sourceNamespace ", match.source_namespace));
  }
  if (!match.never.empty()) parts.push_back(absl::StrCat("never: ", match.never));
  return parts.empty() ? "*" : absl::StrJoin(parts, " && ");
}

template <class Match>
void writeMatches(json::Writer& w, const std::vector<Match>& matches) {
  w.key("match").beginArray();
  for (const Match& match : matches) w.value(matchSummary(match));
  w.endArray();
}

void writeDestinations(json::Writer& w, const std::vector<WeightedTarget>& targets) {
  w.key("destinations").beginArray();
  for (const WeightedTarget& t : targets) {
    w.beginObject().field("host", t.target.host).field("subset", t.target.subset);
    w.field("port", static_cast<int>(t.target.port));
    w.field("weight", static_cast<int64_t>(t.weight)).endObject();
  }
  w.endArray();
}

const char* actionName(HttpRouteRule::Action action) {
  switch (action) {
    case HttpRouteRule::Action::kForward:
      return "forward";
    case HttpRouteRule::Action::kRedirect:
      return "redirect";
    case HttpRouteRule::Action::kDirectResponse:
      return "direct_response";
  }
  return "";
}

void writeHttpRoute(json::Writer& w, const HttpRouteRule& rule) {
  w.beginObject().field("virtual_service", rule.virtual_service).field("index", rule.index);
  w.field("name", rule.name);
  writeMatches(w, rule.matches);
  w.field("action", actionName(rule.action));
  if (rule.action == HttpRouteRule::Action::kRedirect && rule.redirect != nullptr) {
    // Istio's default redirect status.
    const uint32_t code = rule.redirect->redirect_code();
    w.field("status", static_cast<int64_t>(code == 0 ? 301 : code));
  }
  if (rule.action == HttpRouteRule::Action::kDirectResponse && rule.direct_response != nullptr) {
    w.field("status", static_cast<int64_t>(rule.direct_response->status()));
  }
  writeDestinations(w, rule.targets);
  if (!rule.never.empty()) w.field("never", rule.never);
  w.endObject();
}

void writeTcpRoute(json::Writer& w, const TcpRouteRule& rule) {
  w.beginObject().field("virtual_service", rule.virtual_service).field("index", rule.index);
  writeMatches(w, rule.matches);
  writeDestinations(w, rule.targets);
  w.endObject();
}

void writeService(json::Writer& w, const ServiceRoutes& routes) {
  const ServiceInfo& service = routes.service;
  w.beginObject().field("hostname", service.hostname).field("namespace", service.namespace_);
  w.key("vips").beginArray();
  for (const std::string& vip : service.vips) w.value(vip);
  w.endArray().key("ports").beginArray();
  for (const uint16_t port : service.ports) w.value(static_cast<int>(port));
  w.endArray().key("virtual_services").beginArray();
  for (const std::string& name : routes.virtual_services) w.value(name);
  w.endArray().key("http").beginArray();
  for (const HttpRouteRule* rule : routes.http) writeHttpRoute(w, *rule);
  w.endArray().key("tcp").beginArray();
  for (const TcpRouteRule* rule : routes.tcp) writeTcpRoute(w, *rule);
  w.endArray().endObject();
}

// `"routes": [...], "notes": [...]`, without the braces around them.
std::string routeSections(const RouteConfig* config) {
  json::Writer w;
  w.beginObject().key("routes").beginArray();
  if (config != nullptr) {
    for (const ServiceRoutes& routes : config->services()) writeService(w, routes);
  }
  w.endArray().key("notes").beginArray();
  if (config != nullptr) {
    for (const std::string& note : config->notes()) w.value(note);
  }
  w.endArray().endObject();
  const std::string& text = w.str();
  return text.substr(1, text.size() - 2);
}

}  // namespace

std::string waypointConfigDump(const WaypointSnapshot& snapshot,
                               const std::string& certificates_json) {
  // The agent's dump is `{"version": <n>, "workloads": ..., "certificates": ...}`: its sections
  // are reused as they are, behind the waypoint's own version and before its routes, so the
  // two dumps cannot drift apart.
  const std::string mesh = agent::configDumpJson(*snapshot.mesh, certificates_json);
  const size_t after_version = mesh.find(", ");
  return absl::StrCat("{\"version\": ", snapshot.version,
                      mesh.substr(after_version, mesh.size() - 1 - after_version), ", ",
                      routeSections(snapshot.routes.get()), "}");
}

}  // namespace ambit::waypoint
