#include "core/log.h"

#include <algorithm>
#include <mutex>
#include <string>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace ambit::log {
namespace {

std::mutex& registryMutex() {
  static std::mutex mu;
  return mu;
}

spdlog::level::level_enum& currentLevel() {
  static spdlog::level::level_enum level = spdlog::level::info;
  return level;
}

}  // namespace

absl::StatusOr<spdlog::level::level_enum> parseLevel(std::string_view level) {
  const auto parsed = spdlog::level::from_str(std::string(level));
  // from_str maps anything unknown to "off"; accept "off" only when asked for by name.
  if (parsed == spdlog::level::off && level != "off") {
    return absl::InvalidArgumentError(absl::StrCat(
        "log level \"", std::string(level), "\": expected trace, debug, info, warn, error or off"));
  }
  return parsed;
}

absl::Status setLevel(std::string_view level) {
  const absl::StatusOr<spdlog::level::level_enum> parsed_or = parseLevel(level);
  if (!parsed_or.ok()) return parsed_or.status();
  const spdlog::level::level_enum parsed = *parsed_or;
  std::lock_guard<std::mutex> lock(registryMutex());
  currentLevel() = parsed;
  spdlog::apply_all([parsed](const std::shared_ptr<spdlog::logger>& l) { l->set_level(parsed); });
  return absl::OkStatus();
}

absl::Status setLevel(std::string_view logger, std::string_view level) {
  const absl::StatusOr<spdlog::level::level_enum> parsed = parseLevel(level);
  if (!parsed.ok()) return parsed.status();
  std::lock_guard<std::mutex> lock(registryMutex());
  const std::shared_ptr<spdlog::logger> existing = spdlog::get(std::string(logger));
  if (existing == nullptr || logger.empty()) {
    return absl::NotFoundError(absl::StrCat("no logger \"", std::string(logger), "\""));
  }
  existing->set_level(*parsed);
  return absl::OkStatus();
}

std::vector<std::pair<std::string, std::string>> levels() {
  std::vector<std::pair<std::string, std::string>> out;
  std::lock_guard<std::mutex> lock(registryMutex());
  spdlog::apply_all([&out](const std::shared_ptr<spdlog::logger>& l) {
    // spdlog's own default logger has no name and is not one of Ambit's.
    if (l->name().empty()) return;
    const auto name = spdlog::level::to_string_view(l->level());
    out.emplace_back(l->name(), std::string(name.data(), name.size()));
  });
  std::sort(out.begin(), out.end());
  return out;
}

std::shared_ptr<spdlog::logger> get(std::string_view component) {
  std::lock_guard<std::mutex> lock(registryMutex());
  const std::string name(component);
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = spdlog::stderr_color_mt(name);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %n: %v", spdlog::pattern_time_type::utc);
  logger->set_level(currentLevel());
  return logger;
}

}  // namespace ambit::log
