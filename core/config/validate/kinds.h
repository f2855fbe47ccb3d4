// The validator of each kind, following Istio's own validation (pkg/config/validation). Each one
// reports into `issues` with paths relative to the object ("spec.http[0].route[1].weight").
#pragma once

#include <string>

#include "core/config/object.h"
#include "core/config/validate/issues.h"
#include "istio/install/v1alpha1/operator.pb.h"
#include "istio/mesh/v1alpha1/config.pb.h"
#include "istio/networking/v1alpha3/destination_rule.pb.h"
#include "istio/networking/v1alpha3/envoy_filter.pb.h"
#include "istio/networking/v1alpha3/gateway.pb.h"
#include "istio/networking/v1alpha3/service_entry.pb.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"
#include "istio/security/v1beta1/authorization_policy.pb.h"
#include "istio/security/v1beta1/peer_authentication.pb.h"
#include "istio/security/v1beta1/request_authentication.pb.h"
#include "istio/telemetry/v1alpha1/telemetry.pb.h"
#include "k8s/core.pb.h"

namespace ambit::config::validate {

// metadata: the name (required except for IstioOperator; a DNS-1123 subdomain, a DNS label for
// Namespace and Gateway, a DNS-1035 label for Service), the namespace and the labels.
void validateMetadata(const Object& object, Issues& issues);

// Istio kinds: `spec` is the object's spec.
void validateVirtualService(const istio::networking::v1alpha3::VirtualService& spec,
                            Issues& issues);
void validateDestinationRule(const istio::networking::v1alpha3::DestinationRule& spec,
                             Issues& issues);
void validateGateway(const istio::networking::v1alpha3::Gateway& spec, Issues& issues);
void validateServiceEntry(const istio::networking::v1alpha3::ServiceEntry& spec, Issues& issues);
void validateEnvoyFilter(const istio::networking::v1alpha3::EnvoyFilter& spec, Issues& issues);
void validateAuthorizationPolicy(const istio::security::v1beta1::AuthorizationPolicy& spec,
                                 Issues& issues);
void validatePeerAuthentication(const istio::security::v1beta1::PeerAuthentication& spec,
                                Issues& issues);
void validateRequestAuthentication(const istio::security::v1beta1::RequestAuthentication& spec,
                                   Issues& issues);
void validateTelemetry(const istio::telemetry::v1alpha1::Telemetry& spec, Issues& issues);
// Only spec.meshConfig is checked; installation settings are the installer's business.
void validateIstioOperator(const istio::install::v1alpha1::IstioOperatorSpec& spec, Issues& issues);

// Kubernetes kinds: light checks, as the API server has validated them already.
void validateService(const k8s::Service& service, Issues& issues);

// ---- Pieces shared by several kinds (destination rules and the mesh config).
void validateHttpRetry(const istio::networking::v1alpha3::HTTPRetry& retry, const std::string& path,
                       Issues& issues);
void validateConnectionPool(const istio::networking::v1alpha3::ConnectionPoolSettings& pool,
                            const std::string& path, Issues& issues);
void validateOutlierDetection(const istio::networking::v1alpha3::OutlierDetection& outlier,
                              const std::string& path, Issues& issues);
void validateLocalityLb(const istio::networking::v1alpha3::LocalityLoadBalancerSetting& lb,
                        bool has_outlier_detection, const std::string& path, Issues& issues);
void validateClientTls(const istio::networking::v1alpha3::ClientTLSSettings& tls,
                       const std::string& path, Issues& issues);

}  // namespace ambit::config::validate
