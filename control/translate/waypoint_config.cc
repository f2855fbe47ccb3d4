#include "control/translate/waypoint_config.h"

#include <algorithm>
#include <map>
#include <set>

#include <absl/strings/match.h>
#include <absl/strings/str_cat.h>

#include "control/translate/mesh_objects.h"
#include "control/translate/service_builder.h"
#include "control/translate/waypoints.h"
#include "core/config/analysis/mesh_index.h"
#include "core/config/local_rate_limit.h"
#include "istio/install/v1alpha1/operator.pb.h"
#include "istio/mesh/v1alpha1/config.pb.h"
#include "istio/networking/v1alpha3/destination_rule.pb.h"
#include "istio/networking/v1alpha3/envoy_filter.pb.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"
#include "istio/security/v1beta1/authorization_policy.pb.h"
#include "istio/security/v1beta1/request_authentication.pb.h"
#include "istio/telemetry/v1alpha1/telemetry.pb.h"

namespace ambit::control::translate {
namespace {

namespace net = istio::networking::v1alpha3;
using TargetRef = istio::type::v1beta1::PolicyTargetReference;
using TargetRefs = google::protobuf::RepeatedPtrField<TargetRef>;

constexpr const char* kGatewayApiGroup = "gateway.networking.k8s.io";

// What the waypoint serves, and how its pods are labelled.
struct Served {
  const Waypoint* waypoint = nullptr;
  std::set<std::pair<std::string, std::string>> services;  // (namespace, name)
  std::set<std::string> hostnames;
  std::set<std::string> namespaces;  // of the served services
  Labels pod_labels;
  // The served services' pod selectors, with their namespaces.
  std::vector<std::pair<std::string, Labels>> endpoint_selectors;
};

// Istio's short-name rule: a host without dots is <host>.<namespace>.svc.<domain>.
std::string resolveHost(const std::string& host, const std::string& ns, const Options& options) {
  if (host == "*" || host.find('.') != std::string::npos) return host;
  return serviceHostname(host, ns, options);
}

bool servesAny(const Served& served, const std::string& pattern) {
  for (const std::string& host : served.hostnames) {
    if (config::analysis::hostMatches(pattern, host)) return true;
  }
  return false;
}

// exportTo seen from `viewer`: empty or "*" is everyone, "." the object's own namespace.
bool exportedTo(const google::protobuf::RepeatedPtrField<std::string>& export_to,
                const std::string& object_namespace, const std::string& viewer) {
  if (export_to.empty()) return true;
  for (const std::string& to : export_to) {
    if (to == "*" || to == viewer || (to == "." && object_namespace == viewer)) return true;
  }
  return false;
}

// istiod's ShouldAttachPolicy for a waypoint: a served Service in the policy's namespace, the
// waypoint's GatewayClass from the root namespace, or its Gateway from its own namespace.
bool targetsWaypoint(const TargetRefs& refs, const std::string& policy_namespace,
                     const Served& served, const Options& options) {
  const Waypoint& w = *served.waypoint;
  for (const TargetRef& ref : refs) {
    const bool core = ref.group().empty() || ref.group() == "core";
    if (core && ref.kind() == "Service" &&
        served.services.count({policy_namespace, ref.name()}) > 0) {
      return true;
    }
    if (ref.group() == kGatewayApiGroup && ref.kind() == "GatewayClass" &&
        policy_namespace == options.root_namespace && ref.name() == w.gateway_class) {
      return true;
    }
    if (policy_namespace != w.namespace_) continue;
    if (!ref.namespace_().empty() && ref.namespace_() != w.namespace_) continue;
    if (ref.group() == kGatewayApiGroup && ref.kind() == "Gateway" && ref.name() == w.name) {
      return true;
    }
  }
  return false;
}

// targetRefs, or the deprecated single targetRef.
template <class Spec>
TargetRefs targetRefsOf(const Spec& spec) {
  TargetRefs refs = spec.targetrefs();
  if (refs.empty() && spec.has_targetref()) *refs.Add() = spec.targetref();
  return refs;
}

bool hasRateLimitPatch(const net::EnvoyFilter& filter) {
  for (const auto& patch : filter.config_patches()) {
    if (config::readLocalRateLimitPatch(patch).ok()) return true;
  }
  return false;
}

bool envoyFilterApplies(const config::Object& o, const Served& served, const Options& options) {
  const auto& spec = o.as<net::EnvoyFilter>();
  if (!spec.targetrefs().empty()) {
    return targetsWaypoint(spec.targetrefs(), o.namespace_(), served, options);
  }
  if (spec.has_workload_selector()) {
    const Labels& selector = spec.workload_selector().labels();
    if (o.namespace_() == served.waypoint->namespace_ &&
        selectorMatches(selector, served.pod_labels)) {
      return true;
    }
    // Selecting every endpoint of a served service (Istio's own example writes it so, for the
    // endpoints' sidecars): the waypoint applies it to requests to those endpoints.
    for (const auto& [ns, endpoints] : served.endpoint_selectors) {
      if (ns == o.namespace_() && !endpoints.empty() && selectorMatches(selector, endpoints)) {
        return true;
      }
    }
    return false;
  }
  return o.namespace_() == options.root_namespace || o.namespace_() == served.waypoint->namespace_;
}

bool older(const config::Object* a, const config::Object* b) {
  return std::tie(a->meta.creation_timestamp(), a->name()) <
         std::tie(b->meta.creation_timestamp(), b->name());
}

}  // namespace

std::string typeUrlOf(const google::protobuf::Message& message) {
  return absl::StrCat("type.googleapis.com/", message.GetDescriptor()->full_name());
}

absl::StatusOr<std::vector<WaypointResource>> waypointResources(
    const std::vector<config::Object>& objects, const Options& options,
    const std::string& namespace_, const std::string& name) {
  const MeshObjects mesh(objects);
  const WaypointIndex waypoints(mesh, options);
  Served served;
  served.waypoint = waypoints.find(namespace_, name);
  if (served.waypoint == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("waypoint ", namespace_, "/", name, " not found or not ready"));
  }
  served.pod_labels[kGatewayNameLabel] = name;
  for (const config::Object* o : mesh.ofKind(config::Kind::kService)) {
    if (waypoints.forService(o->meta).waypoint != served.waypoint) continue;
    served.services.insert({o->namespace_(), o->name()});
    served.hostnames.insert(serviceHostname(o->name(), o->namespace_(), options));
    served.namespaces.insert(o->namespace_());
    served.endpoint_selectors.emplace_back(o->namespace_(),
                                           o->as<k8s::Service>().spec().selector());
  }

  std::vector<const config::Object*> selected;
  for (const config::Object* o : mesh.ofKind(config::Kind::kVirtualService)) {
    const auto& spec = o->as<net::VirtualService>();
    const bool mesh_bound = spec.gateways().empty() ||
                            std::count(spec.gateways().begin(), spec.gateways().end(), "mesh") > 0;
    if (!mesh_bound || !exportedTo(spec.export_to(), o->namespace_(), namespace_)) continue;
    for (const std::string& host : spec.hosts()) {
      if (servesAny(served, resolveHost(host, o->namespace_(), options))) {
        selected.push_back(o);
        break;
      }
    }
  }
  for (const config::Object* o : mesh.ofKind(config::Kind::kDestinationRule)) {
    const auto& spec = o->as<net::DestinationRule>();
    if (!exportedTo(spec.export_to(), o->namespace_(), namespace_)) continue;
    if (spec.has_workload_selector() &&
        (o->namespace_() != namespace_ ||
         !selectorMatches(spec.workload_selector().match_labels(), served.pod_labels))) {
      continue;
    }
    if (servesAny(served, resolveHost(spec.host(), o->namespace_(), options)))
      selected.push_back(o);
  }
  for (const config::Object* o : mesh.ofKind(config::Kind::kAuthorizationPolicy)) {
    const auto& spec = o->as<istio::security::v1beta1::AuthorizationPolicy>();
    if (targetsWaypoint(targetRefsOf(spec), o->namespace_(), served, options)) {
      selected.push_back(o);
    }
  }
  for (const config::Object* o : mesh.ofKind(config::Kind::kRequestAuthentication)) {
    const auto& spec = o->as<istio::security::v1beta1::RequestAuthentication>();
    if (targetsWaypoint(targetRefsOf(spec), o->namespace_(), served, options)) {
      selected.push_back(o);
    }
  }
  std::set<std::string> telemetry_namespaces = served.namespaces;
  telemetry_namespaces.insert(options.root_namespace);
  telemetry_namespaces.insert(namespace_);
  std::map<std::string, const config::Object*> namespace_wide;
  for (const config::Object* o : mesh.ofKind(config::Kind::kTelemetry)) {
    const auto& spec = o->as<istio::telemetry::v1alpha1::Telemetry>();
    const TargetRefs refs = targetRefsOf(spec);
    if (!refs.empty()) {
      if (targetsWaypoint(refs, o->namespace_(), served, options)) selected.push_back(o);
    } else if (!spec.has_selector() && telemetry_namespaces.count(o->namespace_()) > 0) {
      const config::Object*& current = namespace_wide[o->namespace_()];
      if (current == nullptr || older(o, current)) current = o;
    }
  }
  for (const auto& [ns, o] : namespace_wide) selected.push_back(o);
  for (const config::Object* o : mesh.ofKind(config::Kind::kEnvoyFilter)) {
    if (hasRateLimitPatch(o->as<net::EnvoyFilter>()) && envoyFilterApplies(*o, served, options)) {
      selected.push_back(o);
    }
  }

  std::vector<WaypointResource> out;
  out.reserve(selected.size() + 1);
  // The mesh config of the (oldest) IstioOperator: the waypoint's tracing defaults.
  const config::Object* operator_object = nullptr;
  for (const config::Object* o : mesh.ofKind(config::Kind::kIstioOperator)) {
    if (operator_object == nullptr || older(o, operator_object)) operator_object = o;
  }
  if (operator_object != nullptr) {
    const auto& spec = operator_object->as<istio::install::v1alpha1::IstioOperatorSpec>();
    if (spec.has_meshconfig()) {
      auto mesh_config =
          std::make_shared<const istio::mesh::v1alpha1::MeshConfig>(spec.meshconfig());
      out.push_back(WaypointResource{typeUrlOf(*mesh_config), kMeshConfigName, mesh_config});
    }
  }
  for (const config::Object* o : selected) {
    out.push_back(WaypointResource{typeUrlOf(*o->body),
                                   absl::StrCat(o->namespace_(), "/", o->name()), o->body});
  }
  std::sort(out.begin(), out.end(), [](const WaypointResource& a, const WaypointResource& b) {
    return std::tie(a.type_url, a.name) < std::tie(b.type_url, b.name);
  });
  return out;
}

}  // namespace ambit::control::translate
