#include "control/translate/translator.h"

#include <algorithm>

#include <absl/strings/str_cat.h>

#include "control/translate/mesh_objects.h"
#include "control/translate/policy_index.h"
#include "control/translate/service_builder.h"
#include "control/translate/waypoints.h"
#include "control/translate/workload_builder.h"

namespace ambit::control::translate {

std::string addressName(const istio::workload::Address& address) {
  if (address.has_workload()) return address.workload().uid();
  return absl::StrCat(address.service().namespace_(), "/", address.service().hostname());
}

std::string authorizationName(const istio::security::Authorization& authorization) {
  return absl::StrCat(authorization.namespace_(), "/", authorization.name());
}

Translation translate(const std::vector<config::Object>& objects, const Options& options) {
  Translation out;
  const MeshObjects mesh(objects);
  for (const config::Object* duplicate : mesh.duplicates()) {
    addNote(out.notes, *duplicate, "Duplicate",
            "ignored: an earlier object has the same kind, namespace and name");
  }
  const WaypointIndex waypoints(mesh, options);
  const PolicyIndex policies(mesh, options, out.notes);

  for (const config::Object* o : mesh.ofKind(config::Kind::kService)) {
    std::optional<istio::workload::Service> service =
        buildService(*o, mesh, waypoints, options, out.notes);
    if (!service) continue;
    NamedAddress& named = out.addresses.emplace_back();
    *named.address.mutable_service() = std::move(*service);
    named.name = addressName(named.address);
  }
  const WorkloadContext context{mesh, waypoints, options, policies};
  for (const config::Object* o : mesh.ofKind(config::Kind::kPod)) {
    std::optional<istio::workload::Workload> workload = buildWorkload(*o, context, out.notes);
    if (!workload) continue;
    NamedAddress& named = out.addresses.emplace_back();
    *named.address.mutable_workload() = std::move(*workload);
    named.name = addressName(named.address);
  }
  for (const istio::security::Authorization& a : policies.authorizations()) {
    out.authorizations.push_back(NamedAuthorization{authorizationName(a), a});
  }

  std::sort(out.addresses.begin(), out.addresses.end(),
            [](const NamedAddress& a, const NamedAddress& b) { return a.name < b.name; });
  std::sort(
      out.authorizations.begin(), out.authorizations.end(),
      [](const NamedAuthorization& a, const NamedAuthorization& b) { return a.name < b.name; });
  std::sort(out.notes.begin(), out.notes.end());
  return out;
}

}  // namespace ambit::control::translate
