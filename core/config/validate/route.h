// Route rules shared by the files that validate virtual services.
#pragma once

#include <cstdint>
#include <string>

#include <absl/strings/str_cat.h>
#include <google/protobuf/repeated_field.h>

#include "core/config/validate/common.h"
#include "core/config/validate/issues.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"

namespace ambit::config::validate {

// One HTTP route; `delegate` is true when the virtual service has no hosts (it is a delegate).
void validateHttpRoute(const istio::networking::v1alpha3::HTTPRoute& route, const std::string& path,
                       bool delegate, Issues& issues);

// Policies of an HTTP route (http_policies.cc); paths name the policy ("spec.http[0].fault").
void checkCors(const istio::networking::v1alpha3::CorsPolicy& cors, const std::string& path,
               Issues& issues);
void checkFault(const istio::networking::v1alpha3::HTTPFaultInjection& fault,
                const std::string& path, Issues& issues);
// mirror, mirrors, mirrorPercentage and the deprecated mirrorPercent; `path` is the route's.
void checkMirrors(const istio::networking::v1alpha3::HTTPRoute& route, const std::string& path,
                  Issues& issues);

// A destination: host (not "*"), subset name and port.
void checkDestination(const istio::networking::v1alpha3::Destination& destination,
                      const std::string& path, Issues& issues);

// Gateway references: "mesh", "name", "namespace/name" (and the legacy "name.namespace").
void checkGatewayNames(const google::protobuf::RepeatedPtrField<std::string>& gateways,
                       const std::string& path, Issues& issues);

// The destinations of a route and their weights: each weight 0..100, summing to 100 when there
// are several destinations (a single destination may omit its weight).
template <class Destinations>
void checkRouteDestinations(const Destinations& destinations, const std::string& path,
                            Issues& issues) {
  int64_t total = 0;
  for (int i = 0; i < destinations.size(); ++i) {
    const auto& d = destinations[i];
    const std::string at = item(path, static_cast<size_t>(i));
    if (d.has_destination()) {
      checkDestination(d.destination(), field(at, "destination"), issues);
    } else {
      issues.error(field(at, "destination"), "destination is required");
    }
    if (d.weight() < 0 || d.weight() > 100) {
      issues.error(field(at, "weight"),
                   absl::StrCat("weight must be between 0 and 100, got ", d.weight()));
    }
    total += d.weight();
  }
  if (destinations.size() > 1 && total != 100) {
    issues.error(path, absl::StrCat("weights must sum to 100, got ", total));
  }
}

// A header name used in a match: a token, a pseudo-header or a JWT claim
// ("@request.auth.claims.groups"); lowercase is expected.
void checkMatchHeaderName(const std::string& name, const std::string& path, Issues& issues);

bool isJwtClaimHeader(const std::string& name);

}  // namespace ambit::config::validate
