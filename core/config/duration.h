// Durations as Istio users write them: Go's time.ParseDuration syntax ("10s", "1.5s", "100ms",
// "1h30m"), which is what Istio accepts for every google.protobuf.Duration field.
#pragma once

#include <string_view>

#include <google/protobuf/duration.pb.h>

#include "core/status.h"

namespace ambit::config {

absl::StatusOr<google::protobuf::Duration> parseDuration(std::string_view text);

// "1.5s", "100ms", "0s": the shortest exact form, for messages and golden output.
std::string formatDuration(const google::protobuf::Duration& duration);

}  // namespace ambit::config
