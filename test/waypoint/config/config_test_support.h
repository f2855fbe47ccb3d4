// Helpers for the waypoint config tests: Istio security specs from JSON (the spec as a manifest
// writes it, in JSON syntax), the served services they are grouped by, and counters read back
// from a metrics registry's text rendering.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/metrics/registry.h"
#include "waypoint/config/security_config.h"

namespace ambit::waypoint::testing {

// An AuthorizationPolicy "namespace/name" with the spec written as JSON; the test fails when the
// JSON does not parse.
AuthorizationPolicyEntry authorizationPolicy(const std::string& namespace_, const std::string& name,
                                             const std::string& spec_json);
// The same for a RequestAuthentication.
RequestAuthnEntry requestAuthentication(const std::string& namespace_, const std::string& name,
                                        const std::string& spec_json);

// The service `name` of `namespace_`, named by its cluster.local FQDN.
SecurityTarget servedService(const std::string& namespace_, const std::string& name);

// The value of the series `series` ("name{label=\"v\"}" as the exposition format writes it) in
// `registry`, or nullopt when it has not been created.
std::optional<uint64_t> counterValue(const metrics::Registry& registry, std::string_view series);

}  // namespace ambit::waypoint::testing
