// EnvoyFilter: the structure of config patches (applyTo, match, patch operation and value) and
// the workload selection. Whether Ambit supports a patch is for the analyzer to judge.
#include <absl/strings/str_cat.h>

#include "core/config/validate/common.h"
#include "core/config/validate/kinds.h"

namespace ambit::config::validate {
namespace {

namespace net = istio::networking::v1alpha3;
using Filter = net::EnvoyFilter;

void checkListenerMatch(const Filter::EnvoyConfigObjectPatch& patch, const std::string& path,
                        Issues& issues) {
  const auto& listener = patch.match().listener();
  if (!listener.has_filter_chain() || !listener.filter_chain().has_filter()) return;
  const auto& filter = listener.filter_chain().filter();
  const std::string fp =
      field(field(field(field(path, "match"), "listener"), "filterChain"), "filter");
  if (patch.apply_to() == Filter::LISTENER || patch.apply_to() == Filter::FILTER_CHAIN) {
    issues.warning(fp, absl::StrCat("a filter match has no effect with applyTo ",
                                    Filter::ApplyTo_Name(patch.apply_to())));
  }
  if (filter.name().empty()) {
    issues.error(field(fp, "name"), "name is required in a filter match");
    return;
  }
  if (!filter.has_sub_filter()) return;
  if (patch.apply_to() != Filter::HTTP_FILTER) {
    issues.error(field(fp, "subFilter"), "a subFilter match works only with applyTo HTTP_FILTER");
  } else if (filter.name() != "envoy.filters.network.http_connection_manager" &&
             filter.name() != "envoy.http_connection_manager") {
    issues.error(field(fp, "subFilter"),
                 "a subFilter match needs the filter match to name "
                 "envoy.filters.network.http_connection_manager");
  } else if (filter.sub_filter().name().empty()) {
    issues.error(field(field(fp, "subFilter"), "name"), "name is required in a subFilter match");
  }
}

void checkPatch(const Filter::EnvoyConfigObjectPatch& patch, const std::string& path,
                Issues& issues) {
  using Match = Filter::EnvoyConfigObjectMatch;
  if (patch.has_match() && patch.match().context() == Filter::WAYPOINT) return;
  if (patch.apply_to() == Filter::INVALID) {
    issues.error(field(path, "applyTo"), "applyTo is required");
    return;
  }
  if (!patch.has_patch()) {
    issues.error(field(path, "patch"), "patch is required");
    return;
  }
  const std::string pp = field(path, "patch");
  if (patch.patch().operation() == Filter::Patch::INVALID) {
    issues.error(field(pp, "operation"), "operation is required");
    return;
  }
  if (patch.patch().operation() != Filter::Patch::REMOVE && !patch.patch().has_value()) {
    issues.error(field(pp, "value"),
                 absl::StrCat("value is required for operation ",
                              Filter::Patch::Operation_Name(patch.patch().operation())));
    return;
  }
  if (!patch.has_match()) return;
  const Match& match = patch.match();
  if (match.has_proxy() && !match.proxy().proxy_version().empty()) {
    const std::string vp = field(field(field(path, "match"), "proxy"), "proxyVersion");
    if (match.proxy().proxy_version().size() > 1024) {
      issues.warning(vp, "proxyVersion is longer than 1024 characters and is ignored");
    } else {
      checkRegex(issues, vp, match.proxy().proxy_version());
    }
  }
  if (match.object_types_case() == Match::OBJECT_TYPES_NOT_SET) return;
  switch (patch.apply_to()) {
    case Filter::LISTENER:
    case Filter::FILTER_CHAIN:
    case Filter::NETWORK_FILTER:
    case Filter::HTTP_FILTER:
      if (!match.has_listener()) {
        issues.error(field(path, "match"),
                     absl::StrCat("applyTo ", Filter::ApplyTo_Name(patch.apply_to()),
                                  " needs a listener match"));
      } else {
        checkListenerMatch(patch, path, issues);
      }
      break;
    case Filter::ROUTE_CONFIGURATION:
    case Filter::VIRTUAL_HOST:
    case Filter::HTTP_ROUTE:
      if (!match.has_route_configuration()) {
        issues.error(field(path, "match"),
                     absl::StrCat("applyTo ", Filter::ApplyTo_Name(patch.apply_to()),
                                  " needs a routeConfiguration match"));
      }
      break;
    case Filter::CLUSTER:
      if (!match.has_cluster()) {
        issues.error(field(path, "match"), "applyTo CLUSTER needs a cluster match");
      }
      break;
    default:
      break;
  }
}

}  // namespace

void validateEnvoyFilter(const Filter& spec, Issues& issues) {
  if (spec.has_workload_selector()) {
    checkWorkloadSelector(issues, "spec.workloadSelector.labels",
                          spec.workload_selector().labels());
    if (spec.targetrefs_size() > 0) {
      issues.error("spec.targetRefs", "only one of workloadSelector and targetRefs may be set");
    }
  }
  for (int i = 0; i < spec.targetrefs_size(); ++i) {
    checkTargetRef(issues, item("spec.targetRefs", static_cast<size_t>(i)), spec.targetrefs(i));
  }
  for (int i = 0; i < spec.config_patches_size(); ++i) {
    checkPatch(spec.config_patches(i), item("spec.configPatches", static_cast<size_t>(i)), issues);
  }
}

}  // namespace ambit::config::validate
