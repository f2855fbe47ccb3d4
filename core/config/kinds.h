// The kinds Ambit reads: their API group, served versions and the message that holds them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/descriptor.h>

namespace ambit::config {

enum class Kind {
  kVirtualService,
  kDestinationRule,
  kGateway,
  kServiceEntry,
  kEnvoyFilter,
  kAuthorizationPolicy,
  kPeerAuthentication,
  kRequestAuthentication,
  kTelemetry,
  kIstioOperator,
  kNamespace,
  kPod,
  kService,
  kServiceAccount,
  kSecret,
  kDeployment,
  kKubernetesGateway,
};

struct KindInfo {
  Kind kind;
  std::string group;  // "" for the Kubernetes core group
  std::string name;   // the `kind:` field
  std::vector<std::string> versions;
  // Istio kinds are parsed strictly and only their `spec` is typed; Kubernetes kinds are parsed
  // whole and leniently.
  bool istio;
  bool namespaced;
  // The message of the spec (Istio) or of the whole object (Kubernetes).
  const google::protobuf::Descriptor* (*descriptor)();

  // How findings name the kind: "VirtualService", or "Gateway.gateway.networking.k8s.io" where
  // the bare name would be ambiguous.
  std::string displayName() const;
};

const std::vector<KindInfo>& allKinds();
const KindInfo& kindInfo(Kind kind);

// Splits "group/version" ("v1" for the core group).
struct GroupVersion {
  std::string group;
  std::string version;
};
GroupVersion splitApiVersion(std::string_view api_version);

// The kind with this group and name regardless of version, or nullptr.
const KindInfo* findKind(std::string_view group, std::string_view name);

// True for API groups owned by Istio (*.istio.io), whose unknown kinds are reported, not ignored.
bool isIstioGroup(std::string_view group);

}  // namespace ambit::config
