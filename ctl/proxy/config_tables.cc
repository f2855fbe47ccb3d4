#include "ctl/proxy/config_tables.h"

#include <cstdio>
#include <initializer_list>
#include <utility>

#include <absl/strings/str_join.h>

namespace ambit::ctl::proxy {
namespace {

bool selected(const std::string& wanted, std::initializer_list<std::string> candidates) {
  if (wanted.empty()) return true;
  for (const std::string& candidate : candidates) {
    if (candidate == wanted) return true;
  }
  return false;
}

// "my-service" of "my-service.default.svc.cluster.local".
std::string firstLabel(const std::string& hostname) {
  return hostname.substr(0, hostname.find('.'));
}

// The namespace and service account of "spiffe://<trust domain>/ns/<ns>/sa/<sa>".
std::pair<std::string, std::string> identityParts(const std::string& identity) {
  const size_t ns = identity.find("/ns/");
  const size_t sa = identity.find("/sa/");
  if (ns == std::string::npos || sa == std::string::npos || sa < ns) return {};
  return {identity.substr(ns + 4, sa - ns - 4), identity.substr(sa + 4)};
}

bool matches(ConfigKind kind, const Value& item, const ConfigFilter& filter) {
  switch (kind) {
    case ConfigKind::kWorkloads:
      return selected(filter.namespace_, {text(item, "namespace")}) &&
             selected(filter.name, {text(item, "name"), text(item, "workload_name")});
    case ConfigKind::kServices:
      return selected(filter.namespace_, {text(item, "namespace")}) &&
             selected(filter.name, {text(item, "name"), text(item, "hostname")});
    case ConfigKind::kPolicies:
      return selected(filter.namespace_, {text(item, "namespace")}) &&
             selected(filter.name, {text(item, "name")});
    case ConfigKind::kCertificates: {
      const auto [ns, sa] = identityParts(text(item, "identity"));
      return selected(filter.namespace_, {ns}) && selected(filter.name, {sa});
    }
    case ConfigKind::kRoutes: {
      const std::string hostname = text(item, "hostname");
      return selected(filter.namespace_, {text(item, "namespace")}) &&
             selected(filter.name, {firstLabel(hostname), hostname});
    }
  }
  return false;
}

Value filtered(ConfigKind kind, const Value* list, const ConfigFilter& filter) {
  Value out = makeList();
  for (const Value& item : elements(list)) {
    if (item.has_struct_value() && matches(kind, item, filter)) append(out, item);
  }
  return out;
}

bool anyHas(const Value& list, const std::string& key) {
  for (const Value& item : elements(&list)) {
    if (member(item, key) != nullptr) return true;
  }
  return false;
}

std::string portsText(const Value* ports) {
  std::vector<std::string> parts;
  for (const Value& port : elements(ports)) parts.push_back(portText(port));
  return absl::StrJoin(parts, ",");
}

// "healthy/total" of the workloads that list the service.
std::string endpointsText(const Value& service, const Value& dump) {
  const std::string key = text(service, "namespace") + "/" + text(service, "hostname");
  int total = 0;
  int healthy = 0;
  for (const Value& workload : elements(member(dump, "workloads"))) {
    for (const Value& entry : elements(member(workload, "services"))) {
      if (text(entry, "service") != key) continue;
      ++total;
      if (text(workload, "status") == "HEALTHY") ++healthy;
    }
  }
  return absl::StrCat(healthy, "/", total);
}

Table workloadsTable(const Value& list) {
  const bool waypoint = anyHas(list, "waypoint");
  std::vector<std::string> header = {"NAMESPACE", "NAME", "IP", "NODE"};
  if (waypoint) header.emplace_back("WAYPOINT");
  header.insert(header.end(), {"PROTOCOL", "STATUS"});
  Table table(header);
  for (const Value& w : elements(&list)) {
    std::vector<std::string> row = {text(w, "namespace"), text(w, "name"), text(w, "addresses"),
                                    text(w, "node")};
    if (waypoint) row.push_back(text(w, "waypoint"));
    row.insert(row.end(), {text(w, "tunnel_protocol"), text(w, "status")});
    table.add(std::move(row));
  }
  return table;
}

Table servicesTable(const Value& list, const Value& dump) {
  const bool waypoint = anyHas(list, "waypoint");
  std::vector<std::string> header = {"NAMESPACE", "NAME", "VIPS", "PORTS", "ENDPOINTS"};
  if (waypoint) header.emplace_back("WAYPOINT");
  Table table(header);
  for (const Value& s : elements(&list)) {
    std::vector<std::string> row = {text(s, "namespace"), text(s, "name"), text(s, "vips"),
                                    portsText(member(s, "ports")), endpointsText(s, dump)};
    if (waypoint) row.push_back(text(s, "waypoint"));
    table.add(std::move(row));
  }
  return table;
}

Table policiesTable(const Value& list) {
  Table table({"NAMESPACE", "NAME", "ACTION", "SCOPE", "RULES", "DRY-RUN"});
  for (const Value& p : elements(&list)) {
    table.add({text(p, "namespace"), text(p, "name"), text(p, "action"), text(p, "scope"),
               text(p, "groups"), text(p, "dry_run")});
  }
  return table;
}

Table certificatesTable(const Value& section) {
  Table table({"IDENTITY", "STATE", "TYPE", "SERIAL", "NOT-BEFORE", "NOT-AFTER", "RENEW-AT",
               "NEXT-ATTEMPT", "LAST-ERROR"});
  for (const Value& c : elements(member(section, "certificates"))) {
    table.add({text(c, "identity"), text(c, "state"), "Leaf", text(c, "serial"),
               text(c, "not_before"), text(c, "not_after"), text(c, "renew_at"),
               text(c, "next_attempt"), text(c, "last_error")});
  }
  if (const Value* roots = member(section, "trust_bundle_roots")) {
    const std::string count = text(roots);
    table.add(
        {"ROOTCA", count == "0" ? "none" : count + (count == "1" ? " root" : " roots"), "CA"});
  }
  return table;
}

std::string routeMatchText(const Value& route) {
  if (const std::string never = text(route, "never"); !never.empty()) return "never: " + never;
  std::vector<std::string> matches;
  for (const Value& match : elements(member(route, "match"))) matches.push_back(text(&match));
  return matches.empty() ? "*" : absl::StrJoin(matches, " || ");
}

std::string routeActionText(const Value& route) {
  const std::string action = text(route, "action");
  if (action == "redirect") return "redirect " + text(route, "status");
  if (action == "direct_response") return "direct response " + text(route, "status");
  const Value* destinations = member(route, "destinations");
  return destinations != nullptr ? destinationsText(*destinations) : "";
}

Table routesTable(const Value& list) {
  Table table({"SERVICE", "VIRTUALSERVICE", "ROUTE", "MATCH", "DESTINATIONS"});
  for (const Value& service : elements(&list)) {
    const std::string hostname = text(service, "hostname");
    const Values& http = elements(member(service, "http"));
    const Values& tcp = elements(member(service, "tcp"));
    if (http.empty() && tcp.empty()) {
      // No VirtualService: the waypoint sends every request to the service itself.
      table.add({hostname, "", "default", "*", hostname});
      continue;
    }
    for (const Value& route : http) {
      const std::string name = text(route, "name");
      table.add({hostname, text(route, "virtual_service"),
                 absl::StrCat("http[", text(route, "index"), "]", name.empty() ? "" : ":", name),
                 routeMatchText(route), routeActionText(route)});
    }
    for (const Value& route : tcp) {
      table.add({hostname, text(route, "virtual_service"),
                 absl::StrCat("tcp[", text(route, "index"), "]"), routeMatchText(route),
                 routeActionText(route)});
    }
  }
  return table;
}

}  // namespace

std::optional<ConfigKind> parseConfigKind(const std::string& word) {
  for (const ConfigKind kind : kAllConfigKinds) {
    if (word == configKindName(kind)) return kind;
  }
  return std::nullopt;
}

const char* configKindName(ConfigKind kind) {
  switch (kind) {
    case ConfigKind::kWorkloads:
      return "workloads";
    case ConfigKind::kServices:
      return "services";
    case ConfigKind::kPolicies:
      return "policies";
    case ConfigKind::kCertificates:
      return "certificates";
    case ConfigKind::kRoutes:
      return "routes";
  }
  return "";
}

absl::StatusOr<Value> selectSection(const Value& document, ConfigKind kind,
                                    const ConfigFilter& filter) {
  if (!document.has_struct_value()) return absl::InvalidArgumentError("not a JSON object");
  // The dump's keys are the kinds' names; /debug/certificates lists them under "certificates" too.
  const char* key = configKindName(kind);
  const Value* list = member(document, key);
  if (list == nullptr || !list->has_list_value()) {
    return absl::NotFoundError(absl::StrCat("no \"", key, "\" list"));
  }
  if (kind != ConfigKind::kCertificates) return filtered(kind, list, filter);
  Value out = document;
  put(out, "certificates", filtered(kind, list, filter));
  return out;
}

Table sectionTable(ConfigKind kind, const Value& section, const Value& dump) {
  switch (kind) {
    case ConfigKind::kWorkloads:
      return workloadsTable(section);
    case ConfigKind::kServices:
      return servicesTable(section, dump);
    case ConfigKind::kPolicies:
      return policiesTable(section);
    case ConfigKind::kCertificates:
      return certificatesTable(section);
    case ConfigKind::kRoutes:
      return routesTable(section);
  }
  return Table({});
}

std::string portText(const Value& port) {
  const std::string service_port = text(port, "service_port");
  const std::string target_port = text(port, "target_port");
  const std::string protocol = text(port, "app_protocol");
  std::string out = service_port;
  if (!target_port.empty() && target_port != "0" && target_port != service_port) {
    absl::StrAppend(&out, "->", target_port);
  }
  if (!protocol.empty() && protocol != "UNKNOWN") absl::StrAppend(&out, "/", protocol);
  return out;
}

std::string destinationsText(const Value& destinations) {
  const Values& list = elements(&destinations);
  double total = 0;
  for (const Value& d : list) {
    const Value* weight = member(d, "weight");
    if (weight != nullptr && weight->has_number_value()) total += weight->number_value();
  }
  std::vector<std::string> parts;
  for (const Value& d : list) {
    std::string part = text(d, "host");
    if (const std::string subset = text(d, "subset"); !subset.empty()) {
      absl::StrAppend(&part, "/", subset);
    }
    if (const std::string port = text(d, "port"); !port.empty() && port != "0") {
      absl::StrAppend(&part, ":", port);
    }
    const Value* weight = member(d, "weight");
    if (list.size() > 1 && total > 0 && weight != nullptr && weight->has_number_value()) {
      char share[32];
      std::snprintf(share, sizeof(share), " %.3g%%", 100 * weight->number_value() / total);
      part += share;
    }
    parts.push_back(std::move(part));
  }
  return absl::StrJoin(parts, ", ");
}

}  // namespace ambit::ctl::proxy
