// PeerAuthentication: workload selection and port-level mTLS.
#include <string>

#include <absl/strings/str_cat.h>

#include "core/config/validate/common.h"
#include "core/config/validate/kinds.h"

namespace ambit::config::validate {

void validatePeerAuthentication(const istio::security::v1beta1::PeerAuthentication& spec,
                                Issues& issues) {
  if (spec.has_selector()) {
    checkWorkloadSelector(issues, "spec.selector.matchLabels", spec.selector().match_labels());
  }
  for (const uint32_t port : sortedKeys(spec.port_level_mtls())) {
    checkPort(issues, key("spec.portLevelMtls", std::to_string(port)), port);
  }
  const bool selects_workloads = spec.has_selector() && !spec.selector().match_labels().empty();
  if (!selects_workloads && !spec.port_level_mtls().empty()) {
    issues.error("spec.portLevelMtls",
                 "portLevelMtls needs a selector with labels; mesh-wide and namespace-wide "
                 "policies cannot set it");
  }
}

}  // namespace ambit::config::validate
