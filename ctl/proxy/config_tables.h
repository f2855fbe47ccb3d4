// What `ambitctl proxy-config` makes of a node agent's or waypoint's /config_dump and
// /debug/certificates: the section of one kind, filtered by namespace and name, as a table with
// Istio's column names where Istio has them, or as data for -o json|yaml.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "ctl/proxy/json_value.h"
#include "ctl/proxy/table.h"

namespace ambit::ctl::proxy {

enum class ConfigKind { kWorkloads, kServices, kPolicies, kCertificates, kRoutes };

inline constexpr ConfigKind kAllConfigKinds[] = {ConfigKind::kWorkloads, ConfigKind::kServices,
                                                 ConfigKind::kPolicies, ConfigKind::kCertificates,
                                                 ConfigKind::kRoutes};

// "workloads", "services", "policies", "certificates", "routes"; nullopt for any other word.
std::optional<ConfigKind> parseConfigKind(const std::string& word);
const char* configKindName(ConfigKind kind);

// Empty fields select everything.
struct ConfigFilter {
  std::string namespace_;
  // A workload's pod name or workload (Deployment) name; a service's or route's service name or
  // hostname; a policy's name; a certificate's service account.
  std::string name;
};

// The section of `kind` in `document`, filtered: for certificates `document` is
// /debug/certificates (and the result that object with its "certificates" filtered), for the
// others /config_dump (and the result the section's list). NOT_FOUND when the document has no
// such section, INVALID_ARGUMENT when it is not an object.
absl::StatusOr<Value> selectSection(const Value& document, ConfigKind kind,
                                    const ConfigFilter& filter);

// The table of a section as selectSection gives it. `dump` is the whole /config_dump, where the
// services find their endpoints (the workloads that list them).
//   workloads     NAMESPACE NAME IP NODE [WAYPOINT] PROTOCOL STATUS
//   services      NAMESPACE NAME VIPS PORTS ENDPOINTS [WAYPOINT]
//   policies      NAMESPACE NAME ACTION SCOPE RULES DRY-RUN
//   certificates  IDENTITY STATE TYPE SERIAL NOT-BEFORE NOT-AFTER RENEW-AT NEXT-ATTEMPT LAST-ERROR
//                 (the leaf certificates, then ROOTCA: the trust bundle's roots)
//   routes        SERVICE VIRTUALSERVICE ROUTE MATCH DESTINATIONS
// WAYPOINT appears when the dump's entries carry a "waypoint".
Table sectionTable(ConfigKind kind, const Value& section, const Value& dump);

// "80->8080/HTTP11" for one of the dump's ports; the target port and protocol only when they
// say something.
std::string portText(const Value& port);
// "h.ns.svc.cluster.local/v1:8080 90%" for each destination of a route, ", "-joined; the weight
// (as a share of the route's total) only when there are several.
std::string destinationsText(const Value& destinations);

}  // namespace ambit::ctl::proxy
