// Kubernetes Services to workload API Services, as istiod's ambient index builds them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "control/translate/note.h"
#include "control/translate/options.h"
#include "control/translate/waypoints.h"
#include "istio/workload/workload.pb.h"

namespace ambit::control::translate {

// "<name>.<namespace>.svc.<domain suffix>"
std::string serviceHostname(const std::string& name, const std::string& namespace_,
                            const Options& options);

// The Service of a Kubernetes Service object; nullopt for ExternalName services (which istiod
// does not publish) and for a malformed cluster IP (with a note). Headless services are
// published without addresses.
std::optional<istio::workload::Service> buildService(const config::Object& service,
                                                     const MeshObjects& objects,
                                                     const WaypointIndex& waypoints,
                                                     const Options& options,
                                                     std::vector<Note>& notes);

}  // namespace ambit::control::translate
