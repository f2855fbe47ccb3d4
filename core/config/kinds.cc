#include "core/config/kinds.h"

#include <absl/strings/match.h>
#include <absl/strings/str_cat.h>

#include "istio/install/v1alpha1/operator.pb.h"
#include "istio/networking/v1alpha3/destination_rule.pb.h"
#include "istio/networking/v1alpha3/envoy_filter.pb.h"
#include "istio/networking/v1alpha3/gateway.pb.h"
#include "istio/networking/v1alpha3/service_entry.pb.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"
#include "istio/security/v1beta1/authorization_policy.pb.h"
#include "istio/security/v1beta1/peer_authentication.pb.h"
#include "istio/security/v1beta1/request_authentication.pb.h"
#include "istio/telemetry/v1alpha1/telemetry.pb.h"
#include "k8s/apps.pb.h"
#include "k8s/core.pb.h"
#include "k8s/gateway.pb.h"

namespace ambit::config {
namespace {

constexpr const char* kNetworking = "networking.istio.io";
constexpr const char* kSecurity = "security.istio.io";
constexpr const char* kTelemetry = "telemetry.istio.io";
constexpr const char* kGatewayApi = "gateway.networking.k8s.io";

template <class T>
const google::protobuf::Descriptor* descriptorOf() {
  return T::descriptor();
}

}  // namespace

std::string KindInfo::displayName() const {
  if (kind == Kind::kKubernetesGateway) return absl::StrCat(name, ".", group);
  return std::string(name);
}

const std::vector<KindInfo>& allKinds() {
  namespace net = istio::networking::v1alpha3;
  namespace sec = istio::security::v1beta1;
  static const std::vector<KindInfo> kKinds = {
      // Istio: networking v1alpha3/v1beta1/v1 share one schema, as do security and telemetry.
      {Kind::kVirtualService,
       kNetworking,
       "VirtualService",
       {"v1alpha3", "v1beta1", "v1"},
       true,
       true,
       descriptorOf<net::VirtualService>},
      {Kind::kDestinationRule,
       kNetworking,
       "DestinationRule",
       {"v1alpha3", "v1beta1", "v1"},
       true,
       true,
       descriptorOf<net::DestinationRule>},
      {Kind::kGateway,
       kNetworking,
       "Gateway",
       {"v1alpha3", "v1beta1", "v1"},
       true,
       true,
       descriptorOf<net::Gateway>},
      {Kind::kServiceEntry,
       kNetworking,
       "ServiceEntry",
       {"v1alpha3", "v1beta1", "v1"},
       true,
       true,
       descriptorOf<net::ServiceEntry>},
      {Kind::kEnvoyFilter,
       kNetworking,
       "EnvoyFilter",
       {"v1alpha3"},
       true,
       true,
       descriptorOf<net::EnvoyFilter>},
      {Kind::kAuthorizationPolicy,
       kSecurity,
       "AuthorizationPolicy",
       {"v1beta1", "v1"},
       true,
       true,
       descriptorOf<sec::AuthorizationPolicy>},
      {Kind::kPeerAuthentication,
       kSecurity,
       "PeerAuthentication",
       {"v1beta1", "v1"},
       true,
       true,
       descriptorOf<sec::PeerAuthentication>},
      {Kind::kRequestAuthentication,
       kSecurity,
       "RequestAuthentication",
       {"v1beta1", "v1"},
       true,
       true,
       descriptorOf<sec::RequestAuthentication>},
      {Kind::kTelemetry,
       kTelemetry,
       "Telemetry",
       {"v1alpha1", "v1"},
       true,
       true,
       descriptorOf<istio::telemetry::v1alpha1::Telemetry>},
      {Kind::kIstioOperator,
       "install.istio.io",
       "IstioOperator",
       {"v1alpha1"},
       true,
       true,
       descriptorOf<istio::install::v1alpha1::IstioOperatorSpec>},
      // Kubernetes
      {Kind::kNamespace, "", "Namespace", {"v1"}, false, false, descriptorOf<k8s::Namespace>},
      {Kind::kPod, "", "Pod", {"v1"}, false, true, descriptorOf<k8s::Pod>},
      {Kind::kService, "", "Service", {"v1"}, false, true, descriptorOf<k8s::Service>},
      {Kind::kServiceAccount,
       "",
       "ServiceAccount",
       {"v1"},
       false,
       true,
       descriptorOf<k8s::ServiceAccount>},
      {Kind::kSecret, "", "Secret", {"v1"}, false, true, descriptorOf<k8s::Secret>},
      {Kind::kDeployment, "apps", "Deployment", {"v1"}, false, true, descriptorOf<k8s::Deployment>},
      {Kind::kKubernetesGateway,
       kGatewayApi,
       "Gateway",
       {"v1", "v1beta1"},
       false,
       true,
       descriptorOf<k8s::Gateway>},
  };
  return kKinds;
}

const KindInfo& kindInfo(Kind kind) {
  for (const KindInfo& info : allKinds()) {
    if (info.kind == kind) return info;
  }
  return allKinds().front();  // unreachable: every Kind has an entry
}

GroupVersion splitApiVersion(std::string_view api_version) {
  const size_t slash = api_version.rfind('/');
  if (slash == std::string_view::npos) return {"", std::string(api_version)};
  return {std::string(api_version.substr(0, slash)), std::string(api_version.substr(slash + 1))};
}

const KindInfo* findKind(std::string_view group, std::string_view name) {
  for (const KindInfo& info : allKinds()) {
    if (info.group == group && info.name == name) return &info;
  }
  return nullptr;
}

bool isIstioGroup(std::string_view group) {
  return group == "istio.io" || (group.size() > 9 && group.substr(group.size() - 9) == ".istio.io");
}

}  // namespace ambit::config
