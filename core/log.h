// Logging setup on spdlog: one named logger per component, one format for all binaries.
#pragma once

#include <memory>
#include <string_view>

#include <spdlog/spdlog.h>

#include "core/status.h"

namespace ambit::log {

// Sets the level of every Ambit logger ("trace", "debug", "info", "warn", "error", "off").
absl::Status setLevel(std::string_view level);

// Returns the logger of a component (created on first use), writing to stderr.
std::shared_ptr<spdlog::logger> get(std::string_view component);

}  // namespace ambit::log
