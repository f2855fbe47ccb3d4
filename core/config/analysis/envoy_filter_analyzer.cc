// Analyzer of EnvoyFilters: Ambit carries exactly one kind of patch, the local rate limit; every
// other patch is reported as unsupported, never silently ignored.
#include <absl/strings/str_cat.h>

#include "core/config/analysis/analyzers.h"
#include "core/config/codes.h"
#include "core/config/local_rate_limit.h"

namespace ambit::config::analysis {

namespace net = istio::networking::v1alpha3;

void analyzeEnvoyFilters(const std::vector<Object>& objects, std::vector<Diagnostic>& out) {
  for (const Object& o : objects) {
    if (o.kind->kind != Kind::kEnvoyFilter) continue;
    const auto& filter = o.as<net::EnvoyFilter>();
    for (int i = 0; i < filter.config_patches_size(); ++i) {
      const std::string path = absl::StrCat("spec.configPatches[", i, "]");
      auto limit = readLocalRateLimitPatch(filter.config_patches(i));
      if (!limit.ok()) {
        out.push_back(finding(o, codes::kUnsupportedEnvoyFilter, Severity::kError, path,
                              absl::StrCat("unsupported patch: ", limit.status().message())));
        continue;
      }
      if (limit->enabled_fraction == 0) {
        out.push_back(finding(o, codes::kUnsupportedEnvoyFilter, Severity::kWarning, path,
                              "filter_enabled is not set or 0%: as in Envoy, the rate limit is "
                              "then off for every request"));
      } else if (limit->enforced_fraction == 0) {
        out.push_back(finding(o, codes::kUnsupportedEnvoyFilter, Severity::kWarning, path,
                              "filter_enforced is not set or 0%: as in Envoy, requests over the "
                              "limit are counted but not rejected"));
      }
    }
  }
}

}  // namespace ambit::config::analysis
