#include "ctl/explain/explain.h"

#include <algorithm>
#include <set>

#include <absl/strings/ascii.h>
#include <absl/strings/match.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_join.h>

#include "istio/networking/v1alpha3/destination_rule.pb.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"
#include "k8s/core.pb.h"
#include "waypoint/route/hosts.h"

namespace ambit::ctl::explain {
namespace {

namespace net = istio::networking::v1alpha3;

// exportTo seen from the waypoint's namespace: empty or "*" is everyone, "." the object's own.
bool exportedTo(const google::protobuf::RepeatedPtrField<std::string>& export_to,
                const std::string& object_namespace, const std::string& viewer) {
  if (export_to.empty()) return true;
  return std::any_of(export_to.begin(), export_to.end(), [&](const std::string& to) {
    return to == "*" || to == viewer || (to == "." && object_namespace == viewer);
  });
}

waypoint::ServiceInfo serviceInfo(const config::Object& service) {
  waypoint::ServiceInfo info;
  info.namespace_ = service.namespace_();
  info.hostname = Inventory::hostnameOf(service);
  info.vips = serviceVips(service);
  for (const auto& port : service.as<k8s::Service>().spec().ports()) {
    info.ports.push_back(static_cast<uint16_t>(port.port()));
  }
  return info;
}

// The waypoint's input: the Services bound to the same waypoint, and the VirtualServices and
// DestinationRules exported to its namespace (RouteConfig keeps those that name its services).
waypoint::RouteConfigInput routeInput(const std::vector<config::Object>& objects,
                                      const Inventory& inventory, const WaypointUse& use) {
  waypoint::RouteConfigInput input;
  input.domain_suffix = kDomainSuffix;
  for (const config::Object* service : inventory.services()) {
    const WaypointUse other = inventory.waypointOf(*service);
    if (other.uses && other.namespace_ == use.namespace_ && other.name == use.name) {
      input.services.push_back(serviceInfo(*service));
    }
  }
  for (const config::Object& o : objects) {
    if (o.kind == nullptr) continue;
    if (o.kind->kind == config::Kind::kVirtualService) {
      const auto& spec = o.as<net::VirtualService>();
      if (!exportedTo(spec.export_to(), o.namespace_(), use.namespace_)) continue;
      input.virtual_services.push_back({o.namespace_(), o.name(), spec});
    } else if (o.kind->kind == config::Kind::kDestinationRule) {
      const auto& spec = o.as<net::DestinationRule>();
      if (!exportedTo(spec.export_to(), o.namespace_(), use.namespace_)) continue;
      input.destination_rules.push_back({o.namespace_(), o.name(), spec});
    }
  }
  return input;
}

// The VirtualServices for the mesh whose hosts name `service`, as "namespace/name".
std::vector<std::string> namingVirtualServices(const std::vector<config::Object>& objects,
                                               const waypoint::ServiceInfo& service) {
  std::set<std::string, std::less<>> namespaces;
  for (const config::Object& o : objects) {
    if (o.kind != nullptr && o.kind->namespaced) namespaces.insert(o.namespace_());
  }
  const waypoint::HostResolver resolver(kDomainSuffix, std::move(namespaces));
  std::vector<std::string> out;
  for (const config::Object& o : objects) {
    if (o.kind == nullptr || o.kind->kind != config::Kind::kVirtualService) continue;
    const auto& spec = o.as<net::VirtualService>();
    const auto& gateways = spec.gateways();
    if (!gateways.empty() &&
        std::find(gateways.begin(), gateways.end(), "mesh") == gateways.end()) {
      continue;
    }
    const bool names = std::any_of(spec.hosts().begin(), spec.hosts().end(), [&](const auto& h) {
      const std::string host = resolver.resolve(h, o.namespace_());
      return waypoint::hostMatches(host, service.hostname) ||
             std::find(service.vips.begin(), service.vips.end(), host) != service.vips.end();
    });
    if (names) out.push_back(absl::StrCat(o.namespace_(), "/", o.name()));
  }
  return out;
}

// Splits the decision's explanation lines among the routes tried before the deciding one, in the
// order decideRoute writes them: one line for a route that never applies, one per match else.
std::vector<RouteStep> routeSteps(const waypoint::ServiceRoutes& routes,
                                  const waypoint::RouteDecision& decision) {
  std::vector<RouteStep> steps;
  size_t line = 0;
  bool decided = false;
  for (const waypoint::HttpRouteRule* rule : routes.http) {
    RouteStep step;
    step.rule = rule;
    if (decided) {
      step.outcome = RouteStep::Outcome::kNotReached;
    } else if (rule == decision.rule) {
      step.outcome = RouteStep::Outcome::kMatched;
      step.match_index = decision.match_index;
      decided = true;
    } else {
      const bool never = !rule->never.empty();
      step.outcome = never ? RouteStep::Outcome::kNeverApplies : RouteStep::Outcome::kNotMatched;
      const size_t count = never ? 1 : rule->matches.size();
      const std::string label = routeLabel(*rule);
      for (size_t i = 0; i < count && line < decision.explain.size(); ++i, ++line) {
        std::string text = decision.explain[line];
        if (absl::StartsWith(text, label)) text.erase(0, label.size());
        if (absl::StartsWith(text, " (")) {
          text.erase(0, 2);
          if (const size_t close = text.find(')'); close != std::string::npos) text.erase(close, 1);
        }
        if (absl::StartsWith(text, ": ")) text.erase(0, 2);
        step.why.push_back(std::move(text));
      }
    }
    steps.push_back(std::move(step));
  }
  return steps;
}

// The random number that draws destination `index` (of non-zero weight): the start of its range.
uint32_t randomFor(const std::vector<waypoint::WeightedTarget>& targets, uint32_t total,
                   size_t index) {
  uint64_t before = 0;
  for (size_t i = 0; i < index; ++i) before += targets[i].weight;
  return static_cast<uint32_t>(((before << 32) + total - 1) / total);
}

void findEndpoints(const Inventory& inventory, const waypoint::RouteConfig& config,
                   Destination& destination) {
  const waypoint::RouteTarget& target = destination.target;
  const config::Object* service = inventory.serviceByHost(target.host);
  if (service == nullptr) {
    destination.endpoints_note = "the host is not a Service of the loaded objects";
    return;
  }
  const auto& selector = service->as<k8s::Service>().spec().selector();
  if (selector.empty()) {
    destination.endpoints_note = "the Service has no selector";
    return;
  }
  Labels subset_labels;
  if (!target.subset.empty()) {
    const net::Subset* subset = config.findSubset(target.host, target.subset);
    if (subset == nullptr) {
      destination.endpoints_note = "the subset is not defined";
      return;
    }
    subset_labels = Labels(subset->labels().begin(), subset->labels().end());
  }
  destination.endpoints = inventory.selected(
      service->namespace_(), Labels(selector.begin(), selector.end()), subset_labels);
  if (destination.endpoints.empty()) {
    destination.endpoints_note =
        absl::StrCat("no Pod or Deployment of the loaded objects has the labels ",
                     formatLabels(Labels(selector.begin(), selector.end())),
                     subset_labels.empty() ? "" : ", ", formatLabels(subset_labels));
  }
}

void addDestinations(const Inventory& inventory, const waypoint::RouteConfig& config,
                     const waypoint::RequestView& view, Explanation& out) {
  const waypoint::HttpRouteRule* rule = out.decision.rule;
  if (out.decision.defaultRoute()) {
    Destination destination;
    destination.target = out.decision.destination;
    destination.weight = out.total_weight = 100;
    destination.decision = out.decision;
    out.destinations.push_back(std::move(destination));
  } else if (rule != nullptr && rule->action == waypoint::HttpRouteRule::Action::kForward) {
    out.total_weight = rule->total_weight;
    for (size_t i = 0; i < rule->targets.size(); ++i) {
      Destination destination;
      destination.target = rule->targets[i].target;
      destination.weight = rule->targets[i].weight;
      if (destination.weight > 0) {
        destination.decision = waypoint::decideRoute(
            config, out.hostname, view, randomFor(rule->targets, rule->total_weight, i), false);
      }
      out.destinations.push_back(std::move(destination));
    }
  }
  for (Destination& destination : out.destinations) {
    // As the waypoint asks: the destination's host and subset, at the port the request came to.
    destination.policy =
        config.trafficPolicy(destination.target.host, destination.target.subset, out.url.port);
    findEndpoints(inventory, config, destination);
  }
}

void addNotes(const waypoint::RouteConfig& config, Explanation& out) {
  std::vector<std::string> about = {out.hostname};
  for (const std::string& vs : out.routes->virtual_services) {
    about.push_back(absl::StrCat("VirtualService ", vs, " "));
  }
  for (const Destination& destination : out.destinations) about.push_back(destination.target.host);
  for (const std::string& note : config.notes()) {
    if (std::any_of(about.begin(), about.end(),
                    [&](const std::string& word) { return absl::StrContains(note, word); })) {
      out.notes.push_back(note);
    }
  }
}

}  // namespace

std::string routeLabel(const waypoint::HttpRouteRule& rule) {
  std::string out = absl::StrCat(rule.virtual_service, " route ", rule.index);
  if (!rule.name.empty()) absl::StrAppend(&out, " \"", rule.name, "\"");
  return out;
}

absl::StatusOr<Explanation> explainRequest(const std::vector<config::Object>& objects,
                                           const Request& request) {
  const Inventory inventory(objects);
  Explanation out;
  out.method = request.method;
  AMBIT_ASSIGN_OR_RETURN(out.url, parseUrl(request.url));
  out.source = Source{request.from_namespace, request.from_workload,
                      inventory.workload(request.from_namespace, request.from_workload)};

  AMBIT_ASSIGN_OR_RETURN(const ResolvedService resolved,
                         resolveService(inventory, out.url.host, request.from_namespace));
  out.service = resolved.service;
  out.hostname = resolved.hostname;
  out.resolved_how = resolved.how;
  const waypoint::ServiceInfo info = serviceInfo(*out.service);
  const std::optional<ServicePortInfo> port = servicePort(*out.service, out.url.port);
  if (!port) {
    return absl::NotFoundError(absl::StrCat("Service ", out.service->namespace_(), "/",
                                            out.service->name(), " has no port ", out.url.port,
                                            " (its ports: ", absl::StrJoin(info.ports, ", "), ")"));
  }
  out.port = *port;
  out.waypoint = inventory.waypointOf(*out.service);
  if (!out.waypoint.uses) {
    out.idle_virtual_services = namingVirtualServices(objects, info);
    return out;
  }
  if (out.port.protocol == PortProtocol::kTcp) return out;  // the waypoint's TCP routes decide

  AMBIT_ASSIGN_OR_RETURN(
      out.config, waypoint::RouteConfig::build(routeInput(objects, inventory, out.waypoint)));
  out.routes = out.config->findService(out.hostname);
  if (out.routes == nullptr) {
    return absl::InternalError(absl::StrCat("the waypoint's config lacks ", out.hostname));
  }

  // The request as the waypoint sees it: curl's Host header unless one is given.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string authority = out.url.authority;
  bool has_host = false;
  for (const auto& [name, value] : request.headers) {
    headers.emplace_back(absl::AsciiStrToLower(name), value);
    if (headers.back().first == "host" && !has_host) {
      has_host = true;
      authority = value;
    }
  }
  if (!has_host) headers.insert(headers.begin(), {"host", authority});
  const Labels no_labels;
  waypoint::RequestView view;
  view.method = out.method;
  view.scheme = "http";
  view.authority = authority;
  view.path = out.url.target;
  view.headers = &headers;
  view.port = out.url.port;
  view.source_namespace = out.source.namespace_;
  view.source_labels = out.source.workload ? &out.source.workload->labels : &no_labels;

  out.decision = waypoint::decideRoute(*out.config, out.hostname, view, 0, true);
  out.steps = routeSteps(*out.routes, out.decision);
  addDestinations(inventory, *out.config, view, out);
  addNotes(*out.config, out);
  return out;
}

}  // namespace ambit::ctl::explain
