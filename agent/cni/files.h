// Small file system helpers shared by the plugin and the agent side.
#pragma once

#include <sys/types.h>

#include <string>

#include "core/status.h"

namespace ambit::agent::cni {

// Creates `path` and its missing parents with `mode` (like `mkdir -p -m`); existing directories
// are left as they are.
absl::Status makeDirectories(const std::string& path, mode_t mode);

// The text of errno value `err`.
std::string errnoText(int err);

}  // namespace ambit::agent::cni
