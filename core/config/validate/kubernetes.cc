// Object metadata of every kind, and light checks of the Kubernetes kinds (the API server has
// validated those already; these catch hand-written files).
#include <set>

#include <absl/strings/str_cat.h>

#include "core/config/validate/common.h"
#include "core/config/validate/kinds.h"

namespace ambit::config::validate {

void validateMetadata(const Object& object, Issues& issues) {
  const std::string& name = object.name();
  const Kind kind = object.kind->kind;
  if (name.empty()) {
    if (kind != Kind::kIstioOperator) issues.error("metadata.name", "metadata.name is required");
  } else if (kind == Kind::kNamespace || kind == Kind::kGateway) {
    if (!isDns1123Label(name)) {
      issues.error("metadata.name",
                   absl::StrCat("name ", q(name),
                                " is invalid: it must be a DNS label (at most 63 lowercase "
                                "letters, digits and '-', starting and ending with a letter or "
                                "digit)"));
    }
  } else if (kind == Kind::kService) {
    if (!isDns1035Label(name)) {
      issues.error("metadata.name",
                   absl::StrCat("name ", q(name),
                                " is invalid: a service name must be a DNS label starting with a "
                                "letter (at most 63 lowercase letters, digits and '-')"));
    }
  } else if (!isDns1123Subdomain(name)) {
    issues.error("metadata.name",
                 absl::StrCat("name ", q(name),
                              " is invalid: it must be a DNS subdomain (lowercase letters, digits, "
                              "'-' and '.', at most 253 characters)"));
  }
  const std::string& ns = object.meta.namespace_();
  if (!ns.empty() && !isDns1123Label(ns)) {
    issues.error("metadata.namespace", absl::StrCat("namespace ", q(ns),
                                                    " is not a DNS label (at most 63 lowercase "
                                                    "letters, digits and '-')"));
  }
  checkLabels(issues, "metadata.labels", object.meta.labels());
  const auto& annotations = object.meta.annotations();
  if (object.kind->istio && kind != Kind::kAuthorizationPolicy &&
      annotations.count("istio.io/dry-run") > 0) {
    issues.error(key("metadata.annotations", "istio.io/dry-run"),
                 "annotation istio.io/dry-run is supported only on authorization policies");
  }
}

void validateService(const k8s::Service& service, Issues& issues) {
  const auto& ports = service.spec().ports();
  std::set<std::string> names;
  for (int i = 0; i < ports.size(); ++i) {
    const k8s::ServicePort& port = ports[i];
    const std::string pp = item("spec.ports", static_cast<size_t>(i));
    if (port.name().empty()) {
      if (ports.size() > 1) {
        issues.error(field(pp, "name"), "name is required when a service has several ports");
      }
    } else if (!isDns1123Label(port.name())) {
      issues.error(field(pp, "name"),
                   absl::StrCat("port name ", q(port.name()), " is not a DNS label"));
    } else if (!names.insert(port.name()).second) {
      issues.error(field(pp, "name"),
                   absl::StrCat("port name ", q(port.name()), " is already used by another port"));
    }
    checkPort(issues, field(pp, "port"), port.port());
    if (port.has_target_port()) {
      const auto& target = port.target_port();
      if (target.type() == 0) {  // a number; 0 means "the same as port"
        if (target.int_val() != 0) {
          checkPort(issues, field(pp, "targetPort"), target.int_val(), "targetPort");
        }
      } else if (!isIanaServiceName(target.str_val())) {
        issues.error(field(pp, "targetPort"),
                     absl::StrCat("targetPort ", q(target.str_val()),
                                  " is not a port number or a port name (at most 15 lowercase "
                                  "letters, digits and '-', with at least one letter)"));
      }
    }
    if (port.node_port() != 0) {
      checkPort(issues, field(pp, "nodePort"), port.node_port(), "nodePort");
    }
    const std::string& protocol = port.protocol();
    if (!protocol.empty() && protocol != "TCP" && protocol != "UDP" && protocol != "SCTP") {
      issues.error(field(pp, "protocol"),
                   absl::StrCat("protocol must be TCP, UDP or SCTP, got ", q(protocol)));
    }
  }
  checkLabels(issues, "spec.selector", service.spec().selector());
}

}  // namespace ambit::config::validate
