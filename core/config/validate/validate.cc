// Dispatches each object to the validator of its kind and turns the issues into diagnostics.
#include "core/config/validate/validate.h"

#include <absl/strings/str_cat.h>

#include "core/config/codes.h"
#include "core/config/validate/common.h"
#include "core/config/validate/kinds.h"

namespace ambit::config::validate {
namespace {

namespace net = istio::networking::v1alpha3;
namespace sec = istio::security::v1beta1;

// istio.io/dry-run evaluates an ALLOW or DENY policy without enforcing it.
void checkDryRun(const Object& object, const sec::AuthorizationPolicy& spec, Issues& issues) {
  const auto& annotations = object.meta.annotations();
  const auto it = annotations.find("istio.io/dry-run");
  if (it == annotations.end()) return;
  const std::string path = key("metadata.annotations", "istio.io/dry-run");
  if (spec.action() != sec::AuthorizationPolicy::ALLOW &&
      spec.action() != sec::AuthorizationPolicy::DENY) {
    issues.error(path, absl::StrCat("annotation istio.io/dry-run supports only actions ALLOW and "
                                    "DENY, not ",
                                    sec::AuthorizationPolicy::Action_Name(spec.action())));
    return;
  }
  static const char* const kBools[] = {"1", "t", "T", "TRUE",  "true",  "True",
                                       "0", "f", "F", "FALSE", "false", "False"};
  for (const char* b : kBools) {
    if (it->second == b) return;
  }
  issues.error(
      path, absl::StrCat("annotation istio.io/dry-run must be true or false, got ", q(it->second)));
}

}  // namespace

Issues validateObject(const Object& object) {
  Issues issues;
  if (object.kind == nullptr || object.body == nullptr) return issues;
  validateMetadata(object, issues);
  switch (object.kind->kind) {
    case Kind::kVirtualService:
      validateVirtualService(object.as<net::VirtualService>(), issues);
      break;
    case Kind::kDestinationRule:
      validateDestinationRule(object.as<net::DestinationRule>(), issues);
      break;
    case Kind::kGateway:
      validateGateway(object.as<net::Gateway>(), issues);
      break;
    case Kind::kServiceEntry:
      validateServiceEntry(object.as<net::ServiceEntry>(), issues);
      break;
    case Kind::kEnvoyFilter:
      validateEnvoyFilter(object.as<net::EnvoyFilter>(), issues);
      break;
    case Kind::kAuthorizationPolicy:
      validateAuthorizationPolicy(object.as<sec::AuthorizationPolicy>(), issues);
      checkDryRun(object, object.as<sec::AuthorizationPolicy>(), issues);
      break;
    case Kind::kPeerAuthentication:
      validatePeerAuthentication(object.as<sec::PeerAuthentication>(), issues);
      break;
    case Kind::kRequestAuthentication:
      validateRequestAuthentication(object.as<sec::RequestAuthentication>(), issues);
      break;
    case Kind::kTelemetry:
      validateTelemetry(object.as<istio::telemetry::v1alpha1::Telemetry>(), issues);
      break;
    case Kind::kIstioOperator:
      validateIstioOperator(object.as<istio::install::v1alpha1::IstioOperatorSpec>(), issues);
      break;
    case Kind::kService:
      validateService(object.as<k8s::Service>(), issues);
      break;
    case Kind::kNamespace:
    case Kind::kPod:
    case Kind::kServiceAccount:
    case Kind::kSecret:
    case Kind::kDeployment:
    case Kind::kKubernetesGateway:
      break;  // metadata only
  }
  return issues;
}

bool validateInto(const Object& object, std::vector<Diagnostic>& out) {
  const Issues issues = validateObject(object);
  for (const Issue& issue : issues.items()) {
    Diagnostic d;
    d.code = codes::kInvalidValue;
    d.severity = issue.severity;
    d.object = object.ref();
    d.origin = object.originOf(issue.path);
    d.field = issue.path;
    d.message = issue.message;
    out.push_back(std::move(d));
  }
  return !issues.hasErrors();
}

std::vector<bool> validateAll(const std::vector<Object>& objects, std::vector<Diagnostic>& out) {
  std::vector<bool> valid;
  valid.reserve(objects.size());
  for (const Object& object : objects) valid.push_back(validateInto(object, out));
  return valid;
}

}  // namespace ambit::config::validate
