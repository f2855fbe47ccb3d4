// Failover rules shared by localityLbSetting and zoneAwareLbSetting, whose Failover messages are
// distinct types with the same fields.
#pragma once

#include <string>

#include <absl/strings/str_cat.h>
#include <google/protobuf/repeated_ptr_field.h>

#include "core/config/validate/common.h"

namespace ambit::config::validate {

// Each failover names two different regions (no "/" or "*"); failover or failoverPriority do
// nothing without outlierDetection, which is a warning.
template <typename Failover>
void checkFailover(const google::protobuf::RepeatedPtrField<Failover>& failover, bool has_priority,
                   bool has_outlier_detection, const std::string& path, Issues& issues) {
  if ((!failover.empty() || has_priority) && !has_outlier_detection) {
    issues.warning(path, "failover takes effect only with outlierDetection set");
  }
  for (int i = 0; i < failover.size(); ++i) {
    const Failover& f = failover.Get(i);
    const std::string fp = item(field(path, "failover"), static_cast<size_t>(i));
    if (f.from() == f.to()) {
      issues.error(fp, absl::StrCat("failover from and to must be different regions, both are ",
                                    q(f.from())));
    }
    for (const std::string* region : {&f.from(), &f.to()}) {
      const std::string at = field(fp, region == &f.from() ? "from" : "to");
      if (region->find('/') != std::string::npos) {
        issues.error(at, absl::StrCat("failover names regions only, got ", q(*region)));
      } else if (region->find('*') != std::string::npos) {
        issues.error(at, absl::StrCat("failover regions cannot contain \"*\", got ", q(*region)));
      }
    }
  }
}

}  // namespace ambit::config::validate
