// Logging setup on spdlog: one named logger per component, one format for all binaries.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "core/status.h"

namespace ambit::log {

// Sets the level of every Ambit logger ("trace", "debug", "info", "warn", "error", "off").
absl::Status setLevel(std::string_view level);

// "trace", "debug", "info", "warn", "error", "critical" or "off" as spdlog's level; anything else
// is an InvalidArgumentError naming the accepted values.
absl::StatusOr<spdlog::level::level_enum> parseLevel(std::string_view level);

// Sets the level of one logger that exists already; NotFoundError for another name, so a typo
// is reported rather than creating a logger nobody writes to.
absl::Status setLevel(std::string_view logger, std::string_view level);

// The loggers created so far and their levels ("info", "warning", ...), in name order.
std::vector<std::pair<std::string, std::string>> levels();

// Returns the logger of a component (created on first use), writing to stderr.
std::shared_ptr<spdlog::logger> get(std::string_view component);

}  // namespace ambit::log
